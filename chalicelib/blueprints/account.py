"""Shopper accounts: register, log in, log out, account page, delete account."""

from collections.abc import Callable
from typing import Any

from chalice import Blueprint, Response

from chalicelib.models import Order
from chalicelib.services import account_changes, accounts, order_links
from chalicelib.services import orders as order_service
from chalicelib.services.errors import ServiceError, ValidationFailed
from chalicelib.services.limits import RateLimited
from chalicelib.services.sessions import SHOPPER, session_data
from chalicelib.services.validation import clean_text
from chalicelib.web.context import RequestContext, current
from chalicelib.web.forms import FORM_TYPES
from chalicelib.web.guards import login_required, public
from chalicelib.web.rendering import redirect, render, too_many_requests
from chalicelib.web.urls import safe_next

bp = Blueprint(__name__)

# fn(ctx, previous_session_data), run after a login or registration (the cart merges guest
# carts); chalicelib.wiring registers them.
LoginHook = Callable[[RequestContext, dict], None]
after_login_hooks: list[LoginHook] = []


def register_login_hook(hook: LoginHook) -> None:
    if hook not in after_login_hooks:
        after_login_hooks.append(hook)


def _log_in(user, message: str) -> None:
    ctx = current()
    previous_data = session_data(ctx.session)
    ctx.begin_session(SHOPPER, user.user_id)
    ctx.remember_device(accounts.account_key(user))
    for hook in after_login_hooks:
        hook(ctx, previous_data)
    ctx.flash(message, "success")


@bp.route("/register", methods=["GET"])
@public
def register_page() -> Response:
    ctx = current()
    if ctx.user is not None:
        return redirect("/account")
    return render("account/register.html", next=safe_next(ctx.query.get("next"), ""))


def _registration(form) -> accounts.Registration:
    return accounts.Registration(
        username=form.get("username"),
        email=form.get("email"),
        password=form.get("password"),
        confirm_password=form.get("confirm_password"),
    )


def _register_again(registration: accounts.Registration, errors: dict, **values: Any) -> Response:
    kept = {"username": registration.username[:100], "email": registration.email[:300]}
    return render("account/register.html", status=400, form=kept, errors=errors, **values)


def _welcome(user) -> None:
    _log_in(user, f"Welcome, {user.username}! Your account is ready.")


@bp.route("/register", methods=["POST"], content_types=FORM_TYPES)
@public
def register_submit() -> Response:
    form = current().form
    next_path = safe_next(form.get("next"), "/")
    registration = _registration(form)
    try:
        user = accounts.register(registration, client_ip=current().client_ip)
    except ValidationFailed as error:
        return _register_again(registration, error.errors, next=next_path)
    _welcome(user)
    return redirect(next_path)


def _guest_order_or_redirect(token: str) -> tuple[Order, Response | None]:
    """The guest order a link opens, or where to go instead (claimed already, or logged in)."""
    order = order_service.order_from_link(token)
    if not order_links.is_guest_order(order) or current().user is not None:
        return order, redirect(order_links.order_link(order))
    return order, None


@bp.route("/orders/guest/{token}/account", methods=["GET"])
@public
def guest_order_account_page(token: str) -> Response:
    """Create an account from a guest order's page: the order's email is filled in."""
    order, elsewhere = _guest_order_or_redirect(token)
    if elsewhere is not None:
        return elsewhere
    link = order_links.held_link(token)
    return render("account/register.html", form={"email": order.guest_email}, next=link, action=f"{link}/account")


@bp.route("/orders/guest/{token}/account", methods=["POST"], content_types=FORM_TYPES)
@public
def guest_order_account_submit(token: str) -> Response:
    """Register with the order's email, log in, and the order joins the new account's history."""
    ctx = current()
    order, elsewhere = _guest_order_or_redirect(token)
    if elsewhere is not None:
        return elsewhere
    link = order_links.held_link(token)
    registration = _registration(ctx.form)
    if not order_service.same_email(clean_text(registration.email), order.guest_email):
        message = f"Use the email this order was placed with, {order.guest_email}, so the order can join your account."
        return _register_again(registration, {"email": message}, next=link, action=f"{link}/account")
    try:
        user = accounts.register(registration, client_ip=ctx.client_ip)
    except ValidationFailed as error:
        return _register_again(registration, error.errors, next=link, action=f"{link}/account")
    _welcome(user)
    try:
        order_service.claim_guest_order(order, user)
    except ServiceError as error:  # the account is made; the order stays reachable by its link
        ctx.flash(error.message, "error")
        return redirect(link)
    ctx.flash("Your order is now in your order history.", "success")
    return redirect(f"/orders/{order.order_id}")


@bp.route("/login", methods=["GET"])
@public
def login_page() -> Response:
    ctx = current()
    if ctx.user is not None:
        return redirect(safe_next(ctx.query.get("next"), "/account"))
    return render("account/login.html", next=safe_next(ctx.query.get("next"), ""))


@bp.route("/login", methods=["POST"], content_types=FORM_TYPES)
@public
def login_submit() -> Response:
    ctx = current()
    form = ctx.form
    next_path = safe_next(form.get("next"), "/")
    identifier = form.get("identifier")
    try:
        user = accounts.authenticate(identifier, form.get("password"), ctx.login_client())
    except (accounts.LoginFailed, RateLimited) as error:
        response = render(
            "account/login.html",
            status=429 if isinstance(error, RateLimited) else 401,
            form={"identifier": identifier[:254]},
            login_error=error.message,
            next=next_path,
        )
        return too_many_requests(response, error) if isinstance(error, RateLimited) else response
    _log_in(user, f"Welcome back, {user.username}.")
    return redirect(next_path)


@bp.route("/logout", methods=["POST"], content_types=FORM_TYPES)
@public
def logout() -> Response:
    ctx = current()
    ctx.end_session()
    ctx.flash("You are logged out.", "info")
    return redirect("/")


@bp.route("/account", methods=["GET"])
@login_required
def account_page() -> Response:
    return render("account/account.html", user=current().user)


@bp.route("/account/delete", methods=["GET"])
@login_required
def delete_page() -> Response:
    return render("account/delete.html", user=current().user)


@bp.route("/account/delete", methods=["POST"], content_types=FORM_TYPES)
@login_required
def delete_submit() -> Response:
    ctx = current()
    user = ctx.user
    try:
        accounts.delete_account(user, ctx.form.get("password"), client_ip=ctx.client_ip)
    except ValidationFailed as error:
        return render("account/delete.html", status=400, user=user, errors=error.errors)
    ctx.end_session()
    ctx.flash("Your account and its personal data are deleted. Goodbye!", "success")
    return redirect("/")


PASSWORD_FORM = "account/change_password.html"
EMAIL_FORM = "account/change_email.html"
EMAIL_CONFIRM = "account/confirm_email.html"


@bp.route("/account/password", methods=["GET"])
@login_required
def password_page() -> Response:
    return render(PASSWORD_FORM)


@bp.route("/account/password", methods=["POST"], content_types=FORM_TYPES)
@login_required
def password_submit() -> Response:
    ctx = current()
    form = ctx.form
    user = ctx.user
    try:
        account_changes.change_password(
            user, form.get("current_password"), form.get("password"), form.get("confirm_password")
        )
    except ValidationFailed as error:
        return render(PASSWORD_FORM, status=400, errors=error.errors)
    except ServiceError as error:
        return render(PASSWORD_FORM, status=409, message=error.message)
    # Every session of the account has ended; this browser continues on a new one (new token).
    ctx.begin_session(SHOPPER, user.user_id)
    ctx.flash("Your password is changed. Other devices were logged out.", "success")
    return redirect("/account")


@bp.route("/account/email", methods=["GET"])
@login_required
def email_page() -> Response:
    return render(EMAIL_FORM, user=current().user)


@bp.route("/account/email", methods=["POST"], content_types=FORM_TYPES)
@login_required
def email_submit() -> Response:
    ctx = current()
    user = ctx.user
    new_email = ctx.form.get("new_email")
    try:
        sent_to = account_changes.request_email_change(user, new_email, ctx.form.get("current_password"))
    except ValidationFailed as error:
        return render(EMAIL_FORM, status=400, user=user, form={"new_email": new_email[:300]}, errors=error.errors)
    ctx.flash(f"We sent a link to {sent_to}. Your email address changes when you follow it.", "success")
    return redirect("/account")


@bp.route("/account/email/confirm/{token}", methods=["GET"])
@public
def email_confirm_page(token: str) -> Response:
    try:
        user = account_changes.pending_email_user(token)
    except account_changes.InvalidEmailLink as error:
        return render(EMAIL_CONFIRM, status=400, message=error.message)
    return render(EMAIL_CONFIRM, token=token, new_email=user.pending_email)


@bp.route("/account/email/confirm/{token}", methods=["POST"], content_types=FORM_TYPES)
@public
def email_confirm_submit(token: str) -> Response:
    ctx = current()
    try:
        user = account_changes.confirm_email_change(token)
    except ServiceError as error:  # InvalidEmailLink, or the address was taken meanwhile
        return render(EMAIL_CONFIRM, status=400, message=error.message)
    ctx.flash(f"Your email address is now {user.email}.", "success")
    return redirect("/account" if ctx.user is not None else "/login")
