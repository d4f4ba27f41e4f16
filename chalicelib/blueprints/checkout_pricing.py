"""The review step's pricing forms: apply or remove a discount code, choose a shipping method. Each
keeps the choice in the session and shows the review again (cart.checkout_review prices it)."""

from chalice import Blueprint, Response

from chalicelib.formatting import format_money
from chalicelib.services import cart_session, checkout, checkout_choices, discounts, shipping
from chalicelib.services.errors import ValidationFailed
from chalicelib.web.context import current
from chalicelib.web.forms import FORM_TYPES
from chalicelib.web.guards import public
from chalicelib.web.rendering import redirect

bp = Blueprint(__name__)
REVIEW = "/checkout/review"


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
    chosen = checkout_choices.choices(ctx)
    summary = checkout.review_cart(
        buyer.cart_owner, buyer.address.get("country", ""), code, chosen.method_id, buyer.owner_key
    )
    if summary.quote.code_problem:
        ctx.flash(summary.quote.code_problem, "error")
        return redirect(REVIEW)
    checkout_choices.keep_code(ctx, code)
    ctx.flash(f"The code {code} takes {format_money(summary.quote.discount_cents)} off your order.", "success")
    return redirect(REVIEW)


@bp.route("/checkout/discount/remove", methods=["POST"], content_types=FORM_TYPES)
@public
def remove_discount_code() -> Response:
    ctx = current()
    checkout_choices.keep_code(ctx, None)
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
    checkout_choices.keep_method(ctx, method_id)
    return redirect(REVIEW)
