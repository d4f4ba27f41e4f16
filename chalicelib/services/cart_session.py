"""Which cart a request uses and how many pairs it holds, kept in the session's data: the
account's cart for a shopper, a guest cart id for a visitor (created on the first change), and
the guest cart folded into the account's after login. No Chalice here: the web layer passes its
request context, which only needs the few members of `CartRequest`.
"""

import secrets
from collections.abc import Callable
from typing import Any, Protocol

from chalicelib.models import Session, dynamo
from chalicelib.services import cart as cart_service
from chalicelib.services.errors import NotFound
from chalicelib.services.sessions import changed_session_data, save_session_data, save_session_data_in, session_data

GUEST_CART_KEY = "guest_cart_id"
CART_COUNT_KEY = "cart_count"
MERGE_NOTES_SHOWN = 3


class CartRequest(Protocol):
    """What the cart needs of a request (chalicelib.web.context.RequestContext has it)."""

    @property
    def session(self) -> Session | None: ...

    @property
    def user(self) -> Any: ...  # the logged-in User, or None

    def ensure_session(self) -> Session: ...

    def flash(self, message: str, kind: str = "info") -> None: ...


def cart_owner(ctx: CartRequest) -> str | None:
    """The cart this request reads: the shopper's, a guest session's, or none yet."""
    if ctx.user is not None:
        return cart_service.user_owner(ctx.user.user_id)
    guest_id = session_data(ctx.session).get(GUEST_CART_KEY)
    return cart_service.guest_owner(guest_id) if guest_id else None


def owner_for_change(ctx: CartRequest) -> str:
    """Like cart_owner, but a guest without a cart gets a session and a cart id now."""
    owner = cart_owner(ctx)
    if owner is not None:
        return owner
    session = ctx.ensure_session()
    guest_id = secrets.token_urlsafe(18)
    save_session_data(session, **{GUEST_CART_KEY: guest_id})
    return cart_service.guest_owner(guest_id)


def existing_owner(ctx: CartRequest) -> str:
    """The cart a line change applies to; a visitor without a cart has no such line."""
    owner = cart_owner(ctx)
    if owner is None:
        raise NotFound(cart_service.NOT_IN_CART)
    return owner


def item_count(session: Session | None) -> int:
    """Pairs in the cart as last recorded in the session (the header shows it without a read)."""
    try:
        return int(session_data(session).get(CART_COUNT_KEY, 0))
    except (TypeError, ValueError):
        return 0


def record_count(ctx: CartRequest, units: int) -> None:
    """Keep the header's count in the session; written only when it changed."""
    if ctx.session is None:
        return
    if session_data(ctx.session).get(CART_COUNT_KEY) != units:
        save_session_data(ctx.session, **{CART_COUNT_KEY: units})


def record_count_in(ctx: CartRequest, units: int) -> Callable[[dynamo.Transaction], None] | None:
    """record_count as part of the caller's transaction (placing an order: one write, not two);
    call remember_count once it has committed."""
    session = ctx.session
    if session is None or session_data(session).get(CART_COUNT_KEY) == units:
        return None
    return lambda transaction: save_session_data_in(transaction, session, **{CART_COUNT_KEY: units})


def remember_count(ctx: CartRequest, units: int) -> None:
    if ctx.session is not None:
        changed_session_data(ctx.session, **{CART_COUNT_KEY: units})


def recount(ctx: CartRequest) -> None:
    """Count the request's cart again (after a change) and record it."""
    record_count(ctx, cart_service.count_units(cart_owner(ctx)))


def merge_after_login(ctx: CartRequest, previous_data: dict) -> None:
    """After login or registration: fold the guest cart into the account's cart and say so."""
    session = ctx.session
    if session is None or not session.user_id:
        return
    guest_id = previous_data.get(GUEST_CART_KEY)
    if not guest_id:
        record_count(ctx, cart_service.count_units(cart_service.user_owner(session.user_id)))
        return
    result = cart_service.merge_guest_cart(guest_id, session.user_id)
    save_session_data(session, **{GUEST_CART_KEY: None, CART_COUNT_KEY: result.units})
    if result.moved_units:
        noun = "item" if result.moved_units == 1 else "items"
        ctx.flash(f"We moved {result.moved_units} {noun} from your guest cart into your cart.", "info")
    for note in result.notes[:MERGE_NOTES_SHOWN]:
        ctx.flash(note, "warning")
