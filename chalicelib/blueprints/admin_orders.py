"""The back office's orders: the list by status, an order's page and its status moves."""

from typing import Any

from chalice import Blueprint, Response

from chalicelib.blueprints.admin import decode_cursor, pager_urls
from chalicelib.formatting import format_money
from chalicelib.services import audit, cursors, exports, fulfilment, order_search, products, refunds
from chalicelib.services.errors import Conflict, ValidationFailed
from chalicelib.web.context import current
from chalicelib.web.forms import FORM_TYPES
from chalicelib.web.guards import admin_required, current_admin_username
from chalicelib.web.rendering import redirect, render

bp = Blueprint(__name__)


ORDER_STATUS_CHOICES = [(value, label) for value, label in fulfilment.STATUS_LABELS.items()]


def _filters() -> tuple[str, str, str, str]:
    query = current().query
    return query.get("q")[:254].strip(), query.get("status"), query.get("from")[:10], query.get("to")[:10]


@bp.route("/admin/orders", methods=["GET"])
@admin_required
def order_list() -> Response:
    """Orders of one status or any (newest first), optionally in a date range; the search box takes
    an order id (straight to its page) or the email an order was placed with (any status unless chosen)."""
    term, asked, from_text, to_text = _filters()
    by_email = "@" in term
    chosen = asked if asked in fulfilment.STATUSES else order_search.ANY_STATUS
    # The tabs show one status (placed by default); "any" merges them all; an email search is any unless chosen.
    status = (
        chosen if by_email or asked == order_search.ANY_STATUS or asked in fulfilment.STATUSES else fulfilment.PLACED
    )
    values: dict[str, Any] = {
        "search": term,
        "order_status": status,
        "chosen_status": chosen if asked else order_search.ANY_STATUS,
        "date_from": from_text,
        "date_to": to_text,
        "statuses": fulfilment.STATUSES,
        "status_choices": ORDER_STATUS_CHOICES,
        "by_email": by_email,
        "errors": {},
        "not_found": False,
        "orders": [],
        "first_url": None,
        "next_url": None,
    }
    if term and not by_email:
        found = order_search.find_order(term)
        if found is not None:
            return redirect(f"/admin/orders/{found.order_id}")
        return render("admin/orders.html", status=404, **{**values, "not_found": True})
    try:
        start_date, end_date = order_search.date_range(from_text, to_text)
    except ValidationFailed as error:
        return render("admin/orders.html", status=400, **{**values, "errors": error.errors})
    bound = {"status": status, "q": term, "from": from_text, "to": to_text}
    listing = cursors.ADMIN_ORDER_SEARCH if by_email else cursors.ADMIN_ORDERS
    start = decode_cursor(listing, **bound)
    if by_email:
        page = order_search.orders_by_email(term, status, start_date, end_date, start)
    else:
        page = order_search.list_orders(status, start_date, end_date, start)
    values.update(orders=page.items, **pager_urls("/admin/orders", listing, page.next_key, **bound))
    return render("admin/orders.html", **values)


def _render_export(status: int = 200, form: dict | None = None, errors: dict | None = None, export=None) -> Response:
    return render(
        "admin/export.html",
        status=status,
        form=form or {},
        errors=errors or {},
        status_choices=[("", "All statuses"), *ORDER_STATUS_CHOICES],
        export=export,
        link_minutes=exports.LINK_SECONDS // 60,
    )


@bp.route("/admin/orders/export", methods=["GET"])
@admin_required
def export_form() -> Response:
    return _render_export()


@bp.route("/admin/orders/export", methods=["POST"], content_types=FORM_TYPES)
@admin_required
def export_orders() -> Response:
    """A small export downloads at once; a large one is written to S3 and offered as a link."""
    form = current().form
    values = {name: form.get(name)[:20] for name in ("from", "to", "status")}
    try:
        start_date, end_date = order_search.date_range(values["from"], values["to"])
        export = exports.export_orders(start_date, end_date, values["status"] or None)
    except ValidationFailed as error:
        return _render_export(400, values, error.errors)
    audit.record(current_admin_username(), "orders.export", rows=export.rows, **values)
    if export.body is not None:
        headers: dict[str, str | list[str]] = {
            "Content-Type": "text/csv; charset=utf-8",
            "Content-Disposition": f'attachment; filename="{export.filename}"',
        }
        return Response(body=export.body, status_code=200, headers=headers)
    return _render_export(200, values, export=export)


def refund_method(order) -> str | None:
    try:
        return refunds.refund_method(order) if fulfilment.remaining_cents(order) > 0 else None
    except Conflict:
        return None


def refund_lines(order) -> list[tuple[int, object, bool]]:
    """(index, line, refunded already) for the refund form."""
    done = refunds.refunded_lines(order)
    return [(index, line, index in done) for index, line in enumerate(order.lines)]


def render_order(order_id: str, status: int = 200, message: str | None = None, errors: dict | None = None):
    """The order's page (also after a failed return step, blueprints/admin_returns.py)."""
    order = fulfilment.get_order(order_id)
    return render(
        "admin/order.html",
        status=status,
        order=order,
        moves=[move for move in fulfilment.MOVES.get(order.status, ()) if move != fulfilment.CANCELLED],
        can_cancel=fulfilment.CANCELLED in fulfilment.MOVES.get(order.status, ()),
        refund_lines=refund_lines(order),
        refund_method=refund_method(order),
        carriers=fulfilment.CARRIER_CHOICES,
        message=message,
        errors=errors or {},
    )


@bp.route("/admin/orders/{order_id}", methods=["GET"])
@admin_required
def order_detail(order_id: str) -> Response:
    return render_order(order_id)


@bp.route("/admin/orders/{order_id}/status", methods=["POST"], content_types=FORM_TYPES)
@admin_required
def order_transition(order_id: str) -> Response:
    form = current().form
    if form.get("to") == fulfilment.CANCELLED:  # cancelling asks for a reason on its own page first
        return redirect(f"/admin/orders/{order_id}/cancel")
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
        return render_order(order_id, 400, error.message, error.errors)
    except Conflict as error:
        return render_order(order_id, 409, error.message)
    current().flash(f"Order {order.order_id} is now {order.status}.", "success")
    return redirect(f"/admin/orders/{order_id}")


@bp.route("/admin/orders/{order_id}/slip", methods=["GET"])
@admin_required
def packing_slip(order_id: str) -> Response:
    """A page to print and put in the box: order number, ship-to, lines with size and quantity."""
    return render("admin/packing_slip.html", order=fulfilment.get_order(order_id))


def _render_cancel(order_id: str, status: int = 200, message: str | None = None, errors: dict | None = None, form=None):
    order = fulfilment.get_order(order_id)
    return render(
        "admin/order_cancel.html",
        status=status,
        order=order,
        can_cancel=fulfilment.CANCELLED in fulfilment.MOVES.get(order.status, ()),
        reasons=[("", "Choose a reason"), *((code, label) for code, (label, _) in fulfilment.CANCEL_REASONS.items())],
        reason_max=fulfilment.CANCEL_REASON_MAX,
        message=message,
        errors=errors or {},
        form=form or {},
    )


@bp.route("/admin/orders/{order_id}/cancel", methods=["GET"])
@admin_required
def cancel_confirm(order_id: str) -> Response:
    """The confirmation step: what cancelling does, and why (no script needed)."""
    return _render_cancel(order_id)


@bp.route("/admin/orders/{order_id}/cancel", methods=["POST"], content_types=FORM_TYPES)
@admin_required
def cancel_order(order_id: str) -> Response:
    form = current().form
    values = {"reason": form.get("reason")[:40], "reason_other": form.get("reason_other")[:1000]}
    version = products.parse_whole_number(form.get("version")[:10])
    try:
        order = fulfilment.cancel(order_id, current_admin_username(), values["reason"], values["reason_other"], version)
    except ValidationFailed as error:
        return _render_cancel(order_id, 400, error.message, error.errors, values)
    except Conflict as error:
        return _render_cancel(order_id, 409, error.message, form=values)
    current().flash(f"Order {order.reference} is cancelled; the shopper is emailed the reason.", "success")
    return redirect(f"/admin/orders/{order_id}")


@bp.route("/admin/orders/{order_id}/refund", methods=["POST"], content_types=FORM_TYPES)
@admin_required
def refund_order(order_id: str) -> Response:
    """A refund of the chosen lines (or in full), through the payment provider."""
    form = current().form
    full = form.get("full") == "1"
    lines = tuple(int(value) for value in form.getlist("line")[:100] if value.isdigit() and len(value) < 4)
    request = refunds.RefundRequest(
        lines=lines, full=full, restock=form.get("restock") == "1", note=form.get("note")[:1000]
    )
    version = products.parse_whole_number(form.get("version")[:10])
    try:
        order = refunds.refund(order_id, current_admin_username(), request, version)
    except ValidationFailed as error:
        return render_order(order_id, 400, error.message or next(iter(error.errors.values())), error.errors)
    except Conflict as error:
        return render_order(order_id, 409, error.message)
    last = order.refunds[-1]
    current().flash(f"Refunded {format_money(int(last.amount_cents))} of order {order.reference}.", "success")
    return redirect(f"/admin/orders/{order_id}")
