"""The browser's side of a card payment: off to Stripe Checkout after "Place order", and back
from it. `card_payments` (and with it the stripe library) is imported only on these paths."""

from typing import Any

from chalice import Response

from chalicelib import tokens
from chalicelib.config import get_settings
from chalicelib.models import Order
from chalicelib.services import cart as cart_service
from chalicelib.services import cart_session
from chalicelib.services.errors import ServiceError
from chalicelib.web.context import RequestContext
from chalicelib.web.rendering import redirect

RETURN_PURPOSE = "payment-return"
RETURN_MAX_AGE = 24 * 3600
DECLINED_MESSAGE = (
    "Your card was declined. Nothing was charged and nothing was ordered: choose how to pay and try again."
)
CANCELLED_MESSAGE = (
    "The card payment was cancelled. Nothing was charged and nothing was ordered: your cart is as it was."
)


def absolute_url(ctx: RequestContext, path: str, **query: Any) -> str:
    scheme = "https" if get_settings().secure_cookies else "http"
    host = ctx.request.headers.get("host", "127.0.0.1")
    return f"{scheme}://{host}{ctx.url(path, **query)}"


def return_token(order_id: str) -> str:
    return tokens.sign(RETURN_PURPOSE, order_id)


def valid_return_token(order_id: str, token: Any) -> bool:
    return isinstance(token, str) and tokens.verify(RETURN_PURPOSE, order_id, token, max_age=RETURN_MAX_AGE)


def send_to_card_payment(ctx: RequestContext, order: Order) -> Response:
    """303 to the order's Checkout Session; if Stripe cannot be reached the order is released at
    once (stock back, cart restored) and the shopper is back on the review step."""
    from chalicelib.services import card_payments

    urls = card_payments.ReturnUrls(
        success=absolute_url(ctx, f"/orders/{order.order_id}", placed="1"),
        cancel=absolute_url(ctx, f"/checkout/payment/{order.order_id}/cancelled", token=return_token(order.order_id)),
    )
    try:
        location = card_payments.start_checkout(order, urls)
    except ServiceError as error:
        released = card_payments.settle_unpaid(order.order_id, "The card payment could not be started")
        restore_cart(ctx, released)
        ctx.flash(f"{error.message} Please try again or choose another way to pay.", "error")
        return redirect("/checkout/review")
    return Response(body="", status_code=303, headers={"Location": location})


def restore_cart(ctx: RequestContext, order: Order | None) -> None:
    """An unpaid order's pairs go back into the shopper's cart (best effort: a size sold out
    meanwhile is left out, and the cart page says so)."""
    if order is None or order.status != "payment_expired":
        return
    owner = cart_session.cart_owner(ctx)
    if owner is None:
        return
    for line in order.lines:
        try:
            cart_service.add_item(owner, line.shoe_id, line.size, str(int(line.quantity)))
        except ServiceError:
            continue
    cart_session.recount(ctx)
