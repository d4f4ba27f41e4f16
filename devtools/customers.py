"""`manage.py backfill-customers`: search keys on accounts and the customer on orders made before
they existed. Scans, so it is operator tooling, never shipped to Lambda. Idempotent."""

from chalicelib.models import Order, User
from chalicelib.models.base import plain_dict
from chalicelib.services.accounts import get_user
from chalicelib.services.customers import order_fields


def backfill() -> tuple[int, int]:
    """(accounts updated, orders updated)."""
    users = 0
    for user in User.scan(User.pk.startswith("USER#")):
        if any(getattr(user, name) != value for name, value in user.search_values().items()):
            user.update(actions=user.search_actions(), condition=User.pk.exists())
            users += 1
    orders = 0
    for order in Order.scan(Order.customer_email.does_not_exist()):
        owner = get_user(order.user_id) if order.user_id else None
        if owner is None and not order.guest_email:
            continue  # detached: its account is deleted
        values = order_fields(owner, order.guest_email, plain_dict(order.address))
        order.update(actions=[getattr(Order, name).set(value) for name, value in values.items() if value is not None])
        orders += 1
    return users, orders
