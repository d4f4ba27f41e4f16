"""A shopper's orders: history, detail, detaching on account deletion, the data export."""

from typing import Any

from pynamodb.exceptions import UpdateError

from chalicelib import clock
from chalicelib.models import Order, User
from chalicelib.models.dynamo import condition_failed
from chalicelib.serializers import cart_json, iso, order_json
from chalicelib.services import cart as cart_service
from chalicelib.services import cursors, fulfilment
from chalicelib.services.checkout import address_of, is_order_id
from chalicelib.services.errors import NotFound

PAGE_SIZE = 10
BAD_CURSOR = "That page link is not valid."


def get_order(user_id: str, order_id: Any) -> Order:
    """The shopper's own order; any other id (someone else's, malformed, unknown) is NotFound."""
    if not is_order_id(order_id):
        raise NotFound(fulfilment.NO_SUCH_ORDER)
    order = fulfilment.get_order(order_id)
    if order.user_id is None or order.user_id != user_id:
        raise NotFound(fulfilment.NO_SUCH_ORDER)
    return order


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


def _all_orders(user_id: str) -> list[Order]:
    return list(Order.by_user.query(user_id, scan_index_forward=False))


def detach_orders(user: User) -> None:
    """Account deletion: orders stay for the books without who and where (so leave the by-user
    index); a concurrent admin change makes us re-read."""
    for order in _all_orders(user.user_id):
        for _attempt in range(3):
            try:
                order.update(
                    actions=[Order.user_id.remove(), Order.address.remove(), Order.updated_at.set(clock.now())]
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
        },
        "addresses": [address] if address else [],
        "cart": cart_json(cart_service.load_cart(cart_service.user_owner(user.user_id))),
        "orders": [order_json(order) for order in _all_orders(user.user_id)],
    }
