"""Card payments: off to Stripe Checkout and back, the webhook, the sweep (stripe loads lazily)."""

import logging
from typing import Any

from chalice import Blueprint, Response

from chalicelib import tokens
from chalicelib.config import get_settings
from chalicelib.logs import log_event
from chalicelib.models import Order
from chalicelib.services import cart as cart_service
from chalicelib.services import cart_session, fulfilment, order_links
from chalicelib.services.errors import NotFound, ServiceError
from chalicelib.web.context import RequestContext, current
from chalicelib.web.guards import public
from chalicelib.web.rendering import json_response, redirect

bp = Blueprint(__name__)
RETURN_PURPOSE = "payment-return"
NOTHING = "Nothing was charged and nothing was ordered: your cart is as it was."
DECLINED, CANCELLED = f"Your card was declined. {NOTHING}", f"The card payment was cancelled. {NOTHING}"


def _absolute(ctx: RequestContext, path: str, **query: Any) -> str:
    scheme = "https" if get_settings().secure_cookies else "http"
    return f"{scheme}://{ctx.request.headers.get('host', '127.0.0.1')}{ctx.url(path, **query)}"


def send_to_card_payment(ctx: RequestContext, order: Order) -> Response:
    from chalicelib.services import card_payments

    token = tokens.sign(RETURN_PURPOSE, order.order_id)
    urls = card_payments.ReturnUrls(
        success=_absolute(ctx, order_links.order_link(order), placed="1"),  # a guest's: the signed link
        cancel=_absolute(ctx, f"/checkout/payment/{order.order_id}/cancelled", token=token),
    )
    try:
        return Response(body="", status_code=303, headers={"Location": card_payments.start_checkout(order, urls)})
    except ServiceError as error:
        _restore_cart(ctx, card_payments.settle_unpaid(order.order_id, "The card payment could not be started"))
        ctx.flash(f"{error.message} Please try again or choose another way to pay.", "error")
        return redirect("/checkout/review")


def _restore_cart(ctx: RequestContext, order: Order | None) -> None:
    owner = cart_session.cart_owner(ctx)
    if order is None or order.status != "payment_expired" or owner is None:
        return
    for line in order.lines:
        try:
            cart_service.add_item(owner, line.shoe_id, line.size, str(int(line.quantity)))
        except ServiceError:
            continue
    cart_session.recount(ctx)


@bp.route("/checkout/payment/{order_id}/cancelled", methods=["GET"])
@public
def payment_cancelled(order_id: str) -> Response:
    """Stripe's cancel_url, for shoppers and guests alike: the signed token makes this GET safe and
    names the order (only Stripe and the shopper who placed it know it)."""
    from chalicelib.services import card_payments

    ctx = current()
    token = ctx.query.get("token")
    if not isinstance(token, str) or not tokens.verify(RETURN_PURPOSE, order_id, token, max_age=86400):
        raise NotFound("We could not find that payment.")
    try:
        order = fulfilment.get_order(order_id)
        released = card_payments.abandon(order, "Payment cancelled")
    except card_payments.PaymentUnavailable as error:
        ctx.flash(error.message, "error")
        return redirect(order_links.order_link(order))
    if released is None or released.status != card_payments.EXPIRED:
        return redirect(order_links.order_link(released or order), placed="1")  # paid after all
    _restore_cart(ctx, released)
    ctx.flash(DECLINED if ctx.query.get("declined") == "1" else CANCELLED, "error")
    return redirect("/checkout/review")


@bp.route("/webhooks/stripe", methods=["POST"], content_types=["application/json"])
@public
def stripe_webhook() -> Response:
    """CSRF-exempt (middleware.CSRF_EXEMPT_ROUTES): the signature on the raw body replaces it."""
    from chalicelib.services import card_payments

    request = current().request
    try:
        outcome = card_payments.handle_webhook(request.raw_body, request.headers.get("stripe-signature"))
    except card_payments.BadSignature as error:
        log_event("webhook_refused", logging.WARNING, reason=str(error))
        return json_response({"error": {"code": "BadSignature", "message": "Invalid signature."}}, status=400)
    return json_response({"received": True, "outcome": outcome})


@bp.schedule("rate(5 minutes)", name="payment_sweep")
def sweep_unpaid_orders(event: Any) -> dict[str, int]:
    from chalicelib.services import card_payments

    return {"expired": len(card_payments.sweep_expired())}
