"""The review step's discount code and shipping method, kept in the session's data (cart.py's
review prices them, its place order uses them)."""

from dataclasses import dataclass

from chalice import Blueprint, Response

from chalicelib.formatting import format_money
from chalicelib.services import cart_session, checkout, discounts, shipping
from chalicelib.services.errors import ValidationFailed
from chalicelib.services.sessions import save_session_data, session_data
from chalicelib.web.context import RequestContext, current
from chalicelib.web.forms import FORM_TYPES
from chalicelib.web.guards import public
from chalicelib.web.rendering import redirect

bp = Blueprint(__name__)
REVIEW = "/checkout/review"
CODE_KEY, METHOD_KEY = "checkout_code", "checkout_shipping"


@dataclass(frozen=True)
class Choices:
    code: str | None = None
    method_id: str | None = None


def choices(ctx: RequestContext) -> Choices:
    data = session_data(ctx.session)
    code, method_id = data.get(CODE_KEY), data.get(METHOD_KEY)
    return Choices(code if isinstance(code, str) else None, method_id if isinstance(method_id, str) else None)


def keep(ctx: RequestContext, key: str, value: str | None) -> None:
    if ctx.session is not None or value is not None:
        save_session_data(ctx.ensure_session(), **{key: value})


@bp.route("/checkout/discount", methods=["POST"], content_types=FORM_TYPES)
@public
def apply_discount_code() -> Response:
    ctx = current()
    buyer = cart_session.checkout_buyer(ctx)
    if buyer is None or not buyer.address:
        return redirect("/checkout")
    try:
        code = discounts.check_code_text(ctx.form.get("discount_code"))
    except ValidationFailed as error:
        ctx.flash(error.message, "error")
        return redirect(REVIEW)
    chosen = choices(ctx)
    summary = checkout.review_cart(
        buyer.cart_owner, buyer.address.get("country", ""), code, chosen.method_id, buyer.owner_key
    )
    if summary.quote.code_problem:
        ctx.flash(summary.quote.code_problem, "error")
        return redirect(REVIEW)
    keep(ctx, CODE_KEY, code)
    ctx.flash(f"The code {code} takes {format_money(summary.quote.discount_cents)} off your order.", "success")
    return redirect(REVIEW)


@bp.route("/checkout/discount/remove", methods=["POST"], content_types=FORM_TYPES)
@public
def remove_discount_code() -> Response:
    ctx = current()
    keep(ctx, CODE_KEY, None)
    ctx.flash("The discount code was removed.", "info")
    return redirect(REVIEW)


@bp.route("/checkout/shipping", methods=["POST"], content_types=FORM_TYPES)
@public
def choose_shipping_method() -> Response:
    ctx = current()
    buyer = cart_session.checkout_buyer(ctx)
    if buyer is None or not buyer.address:
        return redirect("/checkout")
    method_id = ctx.form.get("shipping_method")
    offered = shipping.methods_for(buyer.address.get("country", ""))
    if method_id not in {method.method_id for method in offered}:
        ctx.flash("Choose one of the shipping methods listed.", "error")
        return redirect(REVIEW)
    keep(ctx, METHOD_KEY, method_id)
    return redirect(REVIEW)
