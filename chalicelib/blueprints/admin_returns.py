"""The back office's returns: the list of open returns and each return's steps on its order's page
(parcel received, refund and restock, ship the new size), audited by the services."""

from collections.abc import Callable

from chalice import Blueprint, Response

from chalicelib.blueprints.admin import decode_cursor, pager_urls
from chalicelib.blueprints.admin_orders import render_order
from chalicelib.services import cursors, products
from chalicelib.services import returns as return_service
from chalicelib.services.errors import Conflict, ValidationFailed
from chalicelib.web.context import current
from chalicelib.web.forms import FORM_TYPES
from chalicelib.web.guards import admin_required, current_admin_username
from chalicelib.web.rendering import redirect, render

bp = Blueprint(__name__)


@bp.route("/admin/returns", methods=["GET"])
@admin_required
def return_list() -> Response:
    """Orders with an open return, the earliest deadline first (the sparse by-return-due index)."""
    page = return_service.open_returns(decode_cursor(cursors.ADMIN_RETURNS))
    rows = [
        (order, [view for view in return_service.views(order) if view.request.status in return_service.OPEN])
        for order in page.items
    ]
    return render("admin/returns.html", rows=rows, **pager_urls("/admin/returns", cursors.ADMIN_RETURNS, page.next_key))


def _number(text: str) -> int:
    number = products.parse_whole_number(text[:6])
    return number if number is not None else -1


def _run(order_id: str, step: Callable[[], object], done: str, suffix: str = "") -> Response:
    """A return step, then the order page: its message on success, or the refusal beside the form
    (field names carry the return's number: each return has its own form)."""
    try:
        step()
    except ValidationFailed as error:
        errors = {f"{name}-{suffix}": message for name, message in error.errors.items()} if suffix else error.errors
        return render_order(order_id, 400, error.message, errors)
    except Conflict as error:
        return render_order(order_id, 409, error.message)
    current().flash(done, "success")
    return redirect(f"/admin/orders/{order_id}")


@bp.route("/admin/orders/{order_id}/returns/{number}/received", methods=["POST"], content_types=FORM_TYPES)
@admin_required
def return_received(order_id: str, number: str) -> Response:
    return _run(
        order_id,
        lambda: return_service.mark_received(order_id, _number(number), current_admin_username()),
        f"Return {_number(number)}: parcel marked received; the shopper is emailed.",
    )


@bp.route("/admin/orders/{order_id}/returns/{number}/refund", methods=["POST"], content_types=FORM_TYPES)
@admin_required
def return_refund(order_id: str, number: str) -> Response:
    form = current().form
    if form.get("confirm") != "1":
        message = "Tick the box to confirm the pairs are back and fit to sell."
        return render_order(order_id, 400, message, {f"confirm-{_number(number)}": message})
    version = products.parse_whole_number(form.get("version")[:10])
    return _run(
        order_id,
        lambda: return_service.refund_return(order_id, _number(number), current_admin_username(), version),
        f"Return {_number(number)}: refunded and back in stock; the shopper is emailed.",
    )


@bp.route("/admin/orders/{order_id}/returns/{number}/ship", methods=["POST"], content_types=FORM_TYPES)
@admin_required
def return_ship(order_id: str, number: str) -> Response:
    form = current().form
    n = _number(number)
    return _run(
        order_id,
        lambda: return_service.ship_exchange(
            order_id, n, current_admin_username(), form.get(f"carrier-{n}")[:40], form.get(f"tracking_number-{n}")[:100]
        ),
        f"Return {n}: new size shipped and the returned pairs back in stock.",
        suffix=str(n),
    )
