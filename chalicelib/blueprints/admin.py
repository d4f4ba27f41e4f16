"""The back office: admin login at /admin, the dashboard, and (later) products and orders."""

from chalice import Blueprint, Response

from chalicelib.services import accounts
from chalicelib.services.sessions import ADMIN
from chalicelib.web.context import current
from chalicelib.web.forms import FORM_TYPES
from chalicelib.web.guards import admin_required, public
from chalicelib.web.rendering import redirect, render
from chalicelib.web.urls import safe_next

bp = Blueprint(__name__)


@bp.route("/admin", methods=["GET"])
@public
def admin_home() -> Response:
    """The dashboard for admins; the admin login form for everyone else."""
    ctx = current()
    if ctx.is_admin:
        return dashboard()
    return render("admin/login.html", next=safe_next(ctx.query.get("next"), ""))


@admin_required
def dashboard() -> Response:
    return render("admin/dashboard.html", admin_username=current().session.user_id)


@bp.route("/admin", methods=["POST"], content_types=FORM_TYPES)
@public
def admin_login() -> Response:
    ctx = current()
    form = ctx.form
    username = form.get("username")
    try:
        admin = accounts.authenticate_admin(username, form.get("password"))
    except accounts.LoginFailed as error:
        return render(
            "admin/login.html",
            status=401,
            form={"username": username[:100]},
            login_error=error.message,
            next=safe_next(form.get("next"), ""),
        )
    # A new token with the admin role: a shopper session never becomes an admin session.
    ctx.begin_session(ADMIN, admin.username_key)
    ctx.flash(f"Logged in as {admin.username}.", "success")
    return redirect(safe_next(form.get("next"), "/admin"))


@bp.route("/admin/logout", methods=["POST"], content_types=FORM_TYPES)
@admin_required
def admin_logout() -> Response:
    ctx = current()
    ctx.end_session()
    ctx.flash("You are logged out of the back office.", "info")
    return redirect("/admin")
