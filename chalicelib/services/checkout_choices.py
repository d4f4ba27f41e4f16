"""The shopper's pricing choices at checkout, the discount code and the shipping method, kept in
the session's data beside the cart (both go when the session does). No Chalice here."""

from dataclasses import dataclass

from chalicelib.services.cart_session import CartRequest
from chalicelib.services.sessions import save_session_data, session_data

CODE_KEY = "checkout_code"
METHOD_KEY = "checkout_shipping"


@dataclass(frozen=True)
class Choices:
    code: str | None = None
    method_id: str | None = None


def choices(ctx: CartRequest) -> Choices:
    data = session_data(ctx.session)
    code, method_id = data.get(CODE_KEY), data.get(METHOD_KEY)
    return Choices(code if isinstance(code, str) else None, method_id if isinstance(method_id, str) else None)


def keep_code(ctx: CartRequest, code: str | None) -> None:
    if ctx.session is not None or code is not None:
        save_session_data(ctx.ensure_session(), **{CODE_KEY: code})


def keep_method(ctx: CartRequest, method_id: str) -> None:
    save_session_data(ctx.ensure_session(), **{METHOD_KEY: method_id})
