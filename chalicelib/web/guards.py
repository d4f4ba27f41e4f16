"""Access guards. Each marks its view with `access` so tests can walk the route table."""

import functools
from collections.abc import Callable
from typing import Any, Protocol, cast

from chalicelib.web.context import current
from chalicelib.web.errors import HTTPError
from chalicelib.web.rendering import redirect

PUBLIC = "public"
SHOPPER = "shopper"
ADMIN = "admin"
OWNER = "owner"  # admins whose role is owner; staff get a 403
OWNERS_ONLY = "Only the shop's owners can do that. Ask an owner."


class GuardedView(Protocol):
    access: str

    def __call__(self, *args: Any, **kwargs: Any) -> Any: ...


def _mark(view: Callable, access: str) -> GuardedView:
    guarded = cast(GuardedView, view)
    guarded.access = access
    return guarded


def public(view: Callable) -> Callable:
    """Anyone may call this view."""
    return _mark(view, PUBLIC)


def _to_login(ctx: Any, login_path: str, api_message: str) -> Any:
    """API callers get a 401; pages go to the login form (and come back after a GET)."""
    if ctx.is_api:
        raise HTTPError(401, api_message, code="NotAuthenticated")
    return redirect(login_path, next=ctx.path if ctx.method == "GET" else None)


def login_required(view: Callable) -> Callable:
    """Shoppers only: guests go to the login page (and come back), API callers get 401."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        ctx = current()
        if ctx.user is None:
            return _to_login(ctx, "/login", "Log in to do that.")
        return view(*args, **kwargs)

    return _mark(wrapper, SHOPPER)


def _admin_guard(view: Callable, owners_only: bool) -> GuardedView:
    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        ctx = current()
        if ctx.refused_admin_session:
            ctx.end_session()  # removed, disabled or re-passworded: this session is over
        if not ctx.is_admin:
            if ctx.session is not None and ctx.role != "guest":
                raise HTTPError(403, "This page is for the shop's staff only.")
            return _to_login(ctx, "/admin", "Log in as an admin to do that.")
        if owners_only and not ctx.admin.is_owner:
            raise HTTPError(403, OWNERS_ONLY)
        return view(*args, **kwargs)

    return _mark(wrapper, OWNER if owners_only else ADMIN)


def admin_required(view: Callable) -> Callable:
    """Admins only (owners and staff): anonymous visitors go to the admin login, shoppers get 403.
    The admin record is re-read on every request; a refused admin session is ended and sent to
    the login."""
    return _admin_guard(view, owners_only=False)


def owner_required(view: Callable) -> Callable:
    """Owners only: as admin_required, and staff get a 403 page (403 JSON under /api/). The role is
    read from the admin record on every request, so a change of role holds at once."""
    return _admin_guard(view, owners_only=True)


def current_admin_is_owner() -> bool:
    admin = current().admin
    return admin is not None and admin.is_owner


def current_admin_username() -> str:
    """The admin behind this request; only admin_required views ask."""
    session = current().session
    if session is None or not session.user_id:
        raise HTTPError(401, "Log in as an admin to do that.", code="NotAuthenticated")
    return session.user_id
