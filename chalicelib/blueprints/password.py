"""Forgotten passwords: ask for a link, then set a new password from it."""

from chalice import Blueprint, Response

from chalicelib.services import password_reset
from chalicelib.services.errors import ValidationFailed
from chalicelib.services.limits import RateLimited
from chalicelib.web.context import current
from chalicelib.web.forms import FORM_TYPES
from chalicelib.web.guards import public
from chalicelib.web.rendering import redirect, render, too_many_requests

bp = Blueprint(__name__)

FORGOT = "account/password_forgot.html"
RESET = "account/password_reset.html"
BAD_LINK = "account/password_reset_invalid.html"


@bp.route("/password/forgot", methods=["GET"])
@public
def forgot_page() -> Response:
    return render(FORGOT)


@bp.route("/password/forgot", methods=["POST"], content_types=FORM_TYPES)
@public
def forgot_submit() -> Response:
    ctx = current()
    email = ctx.form.get("email")
    kept = {"email": email[:300]}
    try:
        password_reset.request_reset(email, ctx.client_ip)
    except ValidationFailed as error:
        return render(FORGOT, status=400, form=kept, errors=error.errors)
    except RateLimited as error:
        return too_many_requests(render(FORGOT, status=429, form=kept, limit_error=error.message), error)
    return render(FORGOT, sent=password_reset.SENT_MESSAGE)


def _bad_link(error: password_reset.InvalidResetLink) -> Response:
    return render(BAD_LINK, status=400, message=error.message)


@bp.route("/password/reset/{token}", methods=["GET"])
@public
def reset_page(token: str) -> Response:
    try:
        user = password_reset.user_for_reset_token(token)
    except password_reset.InvalidResetLink as error:
        return _bad_link(error)
    return render(RESET, token=token, username=user.username)


@bp.route("/password/reset/{token}", methods=["POST"], content_types=FORM_TYPES)
@public
def reset_submit(token: str) -> Response:
    ctx = current()
    form = ctx.form
    try:
        user = password_reset.reset_password(token, form.get("password"), form.get("confirm_password"), ctx.client_ip)
    except password_reset.InvalidResetLink as error:
        return _bad_link(error)
    except ValidationFailed as error:
        username = password_reset.user_for_reset_token(token).username
        return render(RESET, status=400, token=token, username=username, errors=error.errors)
    if ctx.session is not None and ctx.session.user_id == user.user_id:
        ctx.end_session()  # ended with every other session of the account: forget its cookie
    ctx.flash("Your new password is set, and every device was logged out. Log in with it now.", "success")
    return redirect("/login")
