"""The back office's orders: the list by status, an order's page and its status moves."""

from chalice import Blueprint, Response

from chalicelib.blueprints.admin import decode_cursor, pager_urls
from chalicelib.services import cursors, fulfilment, products
from chalicelib.services.errors import Conflict, ValidationFailed
from chalicelib.web.context import current
from chalicelib.web.forms import FORM_TYPES
from chalicelib.web.guards import admin_required, current_admin_username
from chalicelib.web.rendering import redirect, render

bp = Blueprint(__name__)


@bp.route("/admin/orders", methods=["GET"])
@admin_required
def order_list() -> Response:
    query = current().query
    status = query.get("status", fulfilment.PLACED)
    status = status if status in fulfilment.STATUSES else fulfilment.PLACED
    page = fulfilment.list_orders(status, decode_cursor(cursors.ADMIN_ORDERS, status=status))
    return render(
        "admin/orders.html",
        orders=page.items,
        order_status=status,
        statuses=fulfilment.STATUSES,
        **pager_urls("/admin/orders", cursors.ADMIN_ORDERS, page.next_key, status=status),
    )


def _render_order(order_id: str, status: int = 200, message: str | None = None, errors: dict | None = None):
    order = fulfilment.get_order(order_id)
    return render(
        "admin/order.html",
        status=status,
        order=order,
        moves=fulfilment.MOVES.get(order.status, ()),
        carriers=fulfilment.CARRIER_CHOICES,
        message=message,
        errors=errors or {},
    )


@bp.route("/admin/orders/{order_id}", methods=["GET"])
@admin_required
def order_detail(order_id: str) -> Response:
    return _render_order(order_id)


@bp.route("/admin/orders/{order_id}/status", methods=["POST"], content_types=FORM_TYPES)
@admin_required
def order_transition(order_id: str) -> Response:
    form = current().form
    version = products.parse_whole_number(form.get("version")[:10])
    try:
        order = fulfilment.transition(
            order_id,
            form.get("to")[:20],
            current_admin_username(),
            form.get("note")[:1000],
            version,
            carrier=form.get("carrier")[:40],
            tracking_number=form.get("tracking_number")[:100],
        )
    except ValidationFailed as error:
        return _render_order(order_id, 400, error.message, error.errors)
    except Conflict as error:
        return _render_order(order_id, 409, error.message)
    current().flash(f"Order {order.order_id} is now {order.status}.", "success")
    return redirect(f"/admin/orders/{order_id}")
