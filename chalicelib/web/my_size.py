"""The shopper's "my size" on a request: the account's, or the guest's cookie (services/my_size.py)."""

from chalicelib.services import my_size as my_size_service
from chalicelib.services.my_size import MySizes
from chalicelib.web.context import RequestContext
from chalicelib.web.cookies import build_cookie, cookie_name, expire_cookie

MY_SIZE_COOKIE = "mysize"
MY_SIZE_MAX_AGE = 365 * 24 * 3600


def guest_sizes(ctx: RequestContext) -> MySizes:
    return my_size_service.parse_cookie(ctx.cookies.get(cookie_name(MY_SIZE_COOKIE), ""))


def current_sizes(ctx: RequestContext) -> MySizes:
    user = ctx.user
    return my_size_service.of_user(user) if user is not None else guest_sizes(ctx)


def my_size(ctx: RequestContext, department: str | None = None) -> str:
    return current_sizes(ctx).for_department(department)


def size_cookie(chosen: MySizes) -> str:
    """The Set-Cookie for a guest's sizes (also kept for an account: it is the browser's after logout)."""
    value = my_size_service.cookie_value(chosen)
    name = cookie_name(MY_SIZE_COOKIE)
    return build_cookie(name, value, max_age=MY_SIZE_MAX_AGE) if value else expire_cookie(name)


def adopt_after_login(ctx: RequestContext, _previous_data: dict) -> None:
    """Login hook: the guest's sizes (the cookie) move to the account where it has none."""
    guest = guest_sizes(ctx)
    user = ctx.user
    if guest.is_empty or user is None:
        return
    my_size_service.adopt(user, guest)
