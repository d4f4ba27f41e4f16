"""The link that opens an order for whoever it belongs to, on its own so the confirmation email
(services/emails) can build it without importing the order history's services."""

from chalicelib import tokens
from chalicelib.models import Order

ORDER_LINK_PURPOSE = "guest-order"
# Every page under it is opened by the signed link (web/middleware.py keeps it out of Referers).
GUEST_LINK_PREFIX = "/orders/guest/"
# The confirmation email carries the link: it must outlive delivery and returns. Signed with the
# rotating signing keys, so it survives one rotation (docs/operations.md).
ORDER_LINK_MAX_AGE = 90 * 24 * 3600


def is_guest_order(order: Order) -> bool:
    """Placed by a guest and not yet in an account."""
    return order.user_id is None and order.guest_email is not None


def order_link(order: Order) -> str:
    """The path that opens this order for whoever it belongs to (pages and confirmation emails):
    a guest's order opens from a signed link, for 90 days, and only that order; an account's
    order from its page behind the login."""
    if is_guest_order(order):
        return f"{GUEST_LINK_PREFIX}{order.order_id}.{tokens.sign(ORDER_LINK_PURPOSE, order.order_id)}"
    return f"/orders/{order.order_id}"


def held_link(token: str) -> str:
    """The guest link a visitor came in on (verified by orders.order_from_link): pages link back to
    the very link the shopper holds, not a newly signed one that differs by its signing time."""
    return f"{GUEST_LINK_PREFIX}{token}"
