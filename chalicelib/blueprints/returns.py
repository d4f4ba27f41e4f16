"""Returns and exchanges, the shopper's side (an account's order, or a guest's by its signed link),
and the scheduled sweep that closes returns whose parcel never came."""

from typing import Any

from chalice import Blueprint, Response

from chalicelib.config import get_settings
from chalicelib.formatting import format_date
from chalicelib.models import Order
from chalicelib.services import order_links
from chalicelib.services import orders as order_service
from chalicelib.services import returns as return_service
from chalicelib.services.errors import Conflict, ValidationFailed
from chalicelib.web.context import current
from chalicelib.web.forms import FORM_TYPES
from chalicelib.web.guards import login_required, public
from chalicelib.web.rendering import redirect, render

bp = Blueprint(__name__)
MAX_LINES = 100


def _form(order: Order) -> return_service.ReturnForm:
    form = current().form
    count = len(order.lines)
    lines = tuple(int(value) for value in form.getlist("line")[:MAX_LINES] if value.isdigit() and int(value) < count)
    return return_service.ReturnForm(
        resolution=form.get("resolution")[:20],
        lines=lines,
        reasons={index: form.get(f"reason-{index}")[:20] for index in range(min(count, MAX_LINES))},
        sizes={index: form.get(f"size-{index}")[:10] for index in range(min(count, MAX_LINES))},
    )


def _typed(form: return_service.ReturnForm) -> dict[str, Any]:
    typed: dict[str, Any] = {"resolution": form.resolution}
    typed.update({f"reason-{index}": reason for index, reason in form.reasons.items()})
    typed.update({f"size-{index}": size for index, size in form.sizes.items()})
    return typed


def _size_options(sizes: list[str]) -> list[tuple[str, str]]:
    first = ("", "Choose the size you want" if sizes else "No other size in stock")
    return [first, *((size, f"EU {size}") for size in sizes)]


def _render_form(
    order: Order, back: str, action: str, status: int = 200, errors: dict | None = None, form=None
) -> Response:
    sizes = return_service.exchange_sizes(order)
    lines = [
        (index, order.lines[index], _size_options(sizes.get(index, [])))
        for index in return_service.returnable_lines(order)
    ]
    chosen = set(form.lines) if form is not None else set()
    return render(
        "orders/return.html",
        status=status,
        order=order,
        back_url=back,
        action=action,
        lines=lines,
        chosen=chosen,
        reasons=[("", "Choose a reason"), *return_service.REASONS.items()],
        resolutions=return_service.RESOLUTIONS,
        errors=errors or {},
        form=_typed(form) if form is not None else {},
        why_not=return_service.why_not_returnable(order),
        window_ends=return_service.window_ends(order),
        hold_days=get_settings().exchange_hold_days,
        address_lines=return_service.return_address_lines(),
    )


def _submit(order: Order, back: str, action: str) -> Response:
    ctx = current()
    form = _form(order)
    try:
        done = return_service.request_return(order, form)
    except ValidationFailed as error:
        return _render_form(order, back, action, 400, error.errors, form)
    except Conflict as error:
        ctx.flash(error.message, "error")
        return redirect(back)
    request = done.returns[-1]
    ctx.flash(
        f"Return {int(request.number)} is asked for: send the parcel so it reaches us by "
        f"{format_date(request.deadline)}. We emailed you how.",
        "success",
    )
    return redirect(back)


@bp.route("/orders/{order_id}/return", methods=["GET"])
@login_required
def return_page(order_id: str) -> Response:
    order = order_service.get_order(current().user.user_id, order_id)
    return _render_form(order, f"/orders/{order.order_id}", f"/orders/{order.order_id}/return")


@bp.route("/orders/{order_id}/return", methods=["POST"], content_types=FORM_TYPES)
@login_required
def return_submit(order_id: str) -> Response:
    order = order_service.get_order(current().user.user_id, order_id)  # another shopper's: 404
    return _submit(order, f"/orders/{order.order_id}", f"/orders/{order.order_id}/return")


def _guest_order(token: str) -> tuple[Order, str]:
    order = order_service.order_from_link(token)  # forged, expired or foreign: 404
    return order, order_links.held_link(token)


@bp.route("/orders/guest/{token}/return", methods=["GET"])
@public
def guest_return_page(token: str) -> Response:
    order, link = _guest_order(token)
    if not order_links.is_guest_order(order):
        return redirect(f"{order_links.order_link(order)}/return")
    return _render_form(order, link, f"{link}/return")


@bp.route("/orders/guest/{token}/return", methods=["POST"], content_types=FORM_TYPES)
@public
def guest_return_submit(token: str) -> Response:
    order, link = _guest_order(token)
    if not order_links.is_guest_order(order):
        return redirect(order_links.order_link(order))
    return _submit(order, link, f"{link}/return")


@bp.schedule("rate(1 hour)", name="return_sweep")
def sweep_returns(event: Any) -> dict[str, int]:
    """Requested returns past their deadline: closed, reserved sizes back on sale."""
    return {"released": len(return_service.sweep())}
