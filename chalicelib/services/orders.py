"""A shopper's orders: history, detail, a guest's order by its signed link and claiming it into an
account, detaching on account deletion, the data export."""

from typing import Any

from pynamodb.exceptions import DoesNotExist, UpdateError

from chalicelib import clock, tokens
from chalicelib.models import Order, OrderNumberClaim, User
from chalicelib.models.base import plain_dict
from chalicelib.models.dynamo import condition_failed
from chalicelib.serializers import cart_json, iso, order_json
from chalicelib.services import cart as cart_service
from chalicelib.services import cursors, fulfilment, order_numbers
from chalicelib.services.checkout import address_of, is_order_id
from chalicelib.services.errors import Conflict, NotFound, ValidationFailed
from chalicelib.services.order_links import ORDER_LINK_MAX_AGE, ORDER_LINK_PURPOSE

PAGE_SIZE = 10
# Who placed an order (services/customers.py): gone with the address when the account is deleted.
CUSTOMER_ATTRIBUTES = (Order.customer_email, Order.customer_name, Order.customer_username, Order.email_key)
BAD_CURSOR = "That page link is not valid."
LINK_NOT_VALID = "This order link is not valid or has expired. The link in your confirmation email opens your order."
OTHER_EMAIL = "This order was placed with another email address, so it cannot join this account."
CLAIM_ATTEMPTS = 3


def get_order(user_id: str, order_id: Any) -> Order:
    """The shopper's own order; any other id (someone else's, malformed, unknown) is NotFound."""
    if not is_order_id(order_id):
        raise NotFound(fulfilment.NO_SUCH_ORDER)
    order = fulfilment.get_order(order_id)
    if order.user_id is None or order.user_id != user_id:
        raise NotFound(fulfilment.NO_SUCH_ORDER)
    return order


def find_by_number(number: Any) -> Order | None:
    """The back office's lookup of what a shopper reads out ("ss-4f7k-2q", "4F7K2Q"): the number's
    claim, then its order (two GetItems); None for an unknown or malformed number."""
    canonical = order_numbers.normalise(number)
    if canonical is None:
        return None
    try:
        claim = OrderNumberClaim.get(OrderNumberClaim.key_for(canonical))
        return Order.get(claim.order_id)
    except DoesNotExist:
        return None


def order_from_link(token: Any) -> Order:
    """The order a guest link was signed for; a forged, expired or malformed link, or one for an
    order that is not a guest's, is NotFound (the same answer as an unknown order)."""
    if not isinstance(token, str) or len(token) > 200:
        raise NotFound(LINK_NOT_VALID)
    order_id, _, signature = token.partition(".")
    if not is_order_id(order_id) or not tokens.verify(
        ORDER_LINK_PURPOSE, order_id, signature, max_age=ORDER_LINK_MAX_AGE
    ):
        raise NotFound(LINK_NOT_VALID)
    try:
        order = fulfilment.get_order(order_id)
    except NotFound as error:
        raise NotFound(LINK_NOT_VALID) from error
    if order.guest_email is None:
        raise NotFound(LINK_NOT_VALID)
    return order


def same_email(first: str | None, second: str | None) -> bool:
    return bool(first) and bool(second) and str(first).casefold() == str(second).casefold()


def claim_guest_order(order: Order, user: User) -> Order:
    """A guest's order joins the account with its email: user_id set in one UpdateItem conditioned
    on the order having no owner yet (and on the version read), so it can join one account only;
    the by-user index then lists it. Claiming it again into the same account changes nothing."""
    for _attempt in range(CLAIM_ATTEMPTS):
        if order.user_id == user.user_id:
            return order
        if order.user_id is not None:
            raise Conflict("This order already belongs to an account.")
        if not same_email(order.guest_email, user.email):
            raise ValidationFailed({"email": OTHER_EMAIL}, message=OTHER_EMAIL)
        try:
            order.update(
                actions=[Order.user_id.set(user.user_id), Order.updated_at.set(clock.now())],
                condition=Order.user_id.does_not_exist() & (Order.guest_email == order.guest_email),
            )
            return order
        except UpdateError as error:
            if not condition_failed(error):
                raise
            order.refresh(consistent_read=True)  # an admin moved it on, or a parallel claim won
    raise Conflict("This order changed while we were adding it to your account. Please try again.")


def _index_key(order: Order) -> dict[str, dict[str, str]]:
    return {
        "order_id": {"S": order.order_id},
        "user_id": {"S": order.user_id},
        "created_sort": {"S": order.created_sort},
    }


def list_orders(user_id: str, cursor: str | None = None, page_size: int = PAGE_SIZE) -> tuple[list[Order], str | None]:
    """One page, newest first, and a cursor signed for this shopper (page_size + 1 are read so the
    last page offers no empty "Next")."""
    start_key = cursors.decode(cursors.ORDERS, cursor, {"user": user_id}, BAD_CURSOR)
    results = Order.by_user.query(
        user_id, scan_index_forward=False, limit=page_size + 1, last_evaluated_key=start_key, page_size=page_size + 1
    )
    orders = list(results)
    next_cursor = None
    if len(orders) > page_size:
        orders = orders[:page_size]
        next_cursor = cursors.encode(cursors.ORDERS, _index_key(orders[-1]), {"user": user_id})
    return orders, next_cursor


def orders_of(user_id: str) -> list[Order]:
    """Every order of the shopper, newest first (account deletion only: it reads them all)."""
    return list(Order.by_user.query(user_id, scan_index_forward=False))


def detach_orders(user: User) -> None:
    """Account deletion: orders stay for the books without who and where (so leave the by-user
    index); a concurrent admin change makes us re-read."""
    for order in orders_of(user.user_id):
        for _attempt in range(3):
            try:
                order.update(
                    actions=[
                        Order.user_id.remove(),
                        Order.address.remove(),
                        Order.guest_email.remove(),
                        *(attribute.remove() for attribute in CUSTOMER_ATTRIBUTES),
                        Order.updated_at.set(clock.now()),
                    ]
                )
                break
            except UpdateError as error:
                if not condition_failed(error):
                    raise  # throttled: the deletion stops with its busy page, nothing half-said
                order.refresh()


def export_data(user: User) -> dict[str, Any]:
    """Everything the shop holds about the shopper (/account/export)."""
    address = address_of(user)
    return {
        "exported_at": iso(clock.now()),
        "profile": {
            "user_id": user.user_id,
            "username": user.username,
            "email": user.email,
            "created_at": iso(user.created_at),
            "preferred_size": user.preferred_size,
            "department_sizes": plain_dict(user.department_sizes),
        },
        "addresses": [address] if address else [],
        "cart": cart_json(cart_service.load_cart(cart_service.user_owner(user.user_id))),
        "orders": [order_json(order) for order in orders_of(user.user_id)],
    }
