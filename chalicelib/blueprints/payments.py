"""Stripe's side of card payments: the signed webhook, the cancel/decline return, the expiry sweep."""

import logging
from typing import Any

from chalice import Blueprint, Response

from chalicelib.logs import log_event
from chalicelib.services import orders as order_service
from chalicelib.services.errors import NotFound
from chalicelib.web.context import current
from chalicelib.web.guards import login_required, public
from chalicelib.web.payment_pages import (
    CANCELLED_MESSAGE,
    DECLINED_MESSAGE,
    restore_cart,
    valid_return_token,
)
from chalicelib.web.rendering import json_response, redirect

bp = Blueprint(__name__)

WEBHOOK_PATH = "/webhooks/stripe"
SWEEP_RATE_MINUTES = 5


@bp.route(WEBHOOK_PATH, methods=["POST"], content_types=["application/json"])
@public
def stripe_webhook() -> Response:
    """Exempt from CSRF (web/middleware.py CSRF_EXEMPT_ROUTES): the signature on the raw body
    replaces the token. 2xx once applied or a duplicate; 400 for a bad or stale signature."""
    from chalicelib.services import card_payments

    request = current().request
    try:
        outcome = card_payments.handle_webhook(request.raw_body, request.headers.get("stripe-signature"))
    except card_payments.BadSignature as error:
        log_event("webhook_refused", logging.WARNING, reason=str(error))
        return json_response({"error": {"code": "BadSignature", "message": "Invalid signature."}}, status=400)
    return json_response({"received": True, "outcome": outcome})


@bp.route("/checkout/payment/{order_id}/cancelled", methods=["GET"])
@login_required
def payment_cancelled(order_id: str) -> Response:
    """Stripe's cancel_url (the stand-in's decline too): the session is expired at Stripe, the
    order released with its stock, the cart restored. The signed token makes this GET safe: only
    Stripe and the shopper have the link."""
    from chalicelib.services import card_payments

    ctx = current()
    if not valid_return_token(order_id, ctx.query.get("token")):
        raise NotFound("We could not find that payment.")
    order = order_service.get_order(ctx.user.user_id, order_id)
    try:
        released = card_payments.abandon(order, "The shopper cancelled the card payment")
    except card_payments.PaymentUnavailable as error:
        ctx.flash(error.message, "error")
        return redirect(f"/orders/{order_id}")
    if released is None or released.status != card_payments.PAYMENT_EXPIRED:
        return redirect(f"/orders/{order_id}", placed="1")  # it was paid after all
    restore_cart(ctx, released)
    ctx.flash(DECLINED_MESSAGE if ctx.query.get("declined") == "1" else CANCELLED_MESSAGE, "error")
    return redirect("/checkout/review")


@bp.schedule(f"rate({SWEEP_RATE_MINUTES} minutes)", name="payment_sweep")
def sweep_unpaid_orders(event: Any) -> dict[str, int]:
    """Orders past their session's lifetime plus a margin with no event: expired, stock back."""
    from chalicelib.services import card_payments

    return {"expired": len(card_payments.sweep_expired())}
