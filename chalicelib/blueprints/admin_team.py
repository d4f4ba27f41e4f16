"""The owners' pages: the shop's admins (add, change role, disable, enable) and the audit log."""

from chalice import Blueprint, Response

from chalicelib.blueprints.admin import decode_cursor, pager_urls
from chalicelib.models.accounts import ADMIN_ROLES, STAFF
from chalicelib.services import admins, audit, cursors
from chalicelib.services.errors import ServiceError, ValidationFailed
from chalicelib.web.context import current
from chalicelib.web.forms import FORM_TYPES
from chalicelib.web.guards import current_admin_username, owner_required
from chalicelib.web.rendering import redirect, render

bp = Blueprint(__name__)

ROLE_CHOICES = list(ADMIN_ROLES.items())


def _render_team(
    status: int = 200, form: dict | None = None, errors: dict | None = None, message: str = ""
) -> Response:
    return render(
        "admin/admins.html",
        status=status,
        admins=admins.list_admins(),
        me=current_admin_username(),
        roles=ROLE_CHOICES,
        form=form or {"role": STAFF},
        errors=errors or {},
        message=message,
    )


@bp.route("/admin/admins", methods=["GET"])
@owner_required
def admin_team() -> Response:
    return _render_team()


@bp.route("/admin/admins", methods=["POST"], content_types=FORM_TYPES)
@owner_required
def admin_team_add() -> Response:
    form = current().form
    values = {name: form.get(name)[:200] for name in ("username", "email", "role")}
    try:
        added = admins.add_admin(
            values["username"], values["email"], form.get("password")[:500], values["role"], current_admin_username()
        )
    except ValidationFailed as error:
        return _render_team(400, values, error.errors, error.message)
    current().flash(f"{added.username} can now log in as {ADMIN_ROLES[added.access].lower()}.", "success")
    return redirect("/admin/admins")


@bp.route("/admin/admins/{username}", methods=["POST"], content_types=FORM_TYPES)
@owner_required
def admin_team_change(username: str) -> Response:
    """One change per post: `action` is role (with `role`), disable or enable."""
    ctx = current()
    action = ctx.form.get("action")
    me = current_admin_username()
    target = username[:100]
    try:
        if action == "role":
            changed = admins.set_role(target, ctx.form.get("role")[:20], me)
            told = f"{changed.username} is now {ADMIN_ROLES[changed.access].lower()}."
        elif action == "disable":
            if target.casefold() == me:
                raise ValidationFailed({"action": "You cannot disable yourself."}, "You cannot disable yourself.")
            admins.disable_admin(target, me)
            told = f"{target} is disabled and logged out."
        elif action == "enable":
            told = f"{admins.enable_admin(target, me).username_key} can log in again."
        else:
            raise ValidationFailed({"action": "Choose what to change."}, "Choose what to change.")
    except ServiceError as error:
        return _render_team(409 if not isinstance(error, ValidationFailed) else 400, message=error.message)
    ctx.flash(told, "success")
    if target.casefold() == me:  # demoted yourself? then this page is closed to you now
        fresh = admins.get_admin(me)
        if fresh is None or not fresh.is_owner:
            return redirect("/admin")
    return redirect("/admin/admins")


@bp.route("/admin/audit", methods=["GET"])
@owner_required
def audit_log() -> Response:
    query = current().query
    form = {name: query.get(name)[:100].strip() for name in ("admin", "action", "since", "until")}
    errors = {
        name: "Enter a date like 2026-12-01."
        for name in ("since", "until")
        if form[name] and audit.parse_day(form[name]) is None
    }
    wanted = audit.AuditFilter(
        admin=form["admin"].casefold(),
        action=form["action"],
        since=audit.parse_day(form["since"]) if form["since"] else None,
        until=audit.parse_day(form["until"]) if form["until"] else None,
    )
    if wanted.since and wanted.until and wanted.since > wanted.until:
        errors["until"] = "Choose an end date on or after the start date."
    if errors:
        wanted = audit.AuditFilter(admin=wanted.admin, action=wanted.action)
    page = audit.list_entries(wanted, decode_cursor(cursors.ADMIN_AUDIT, **form))
    since, until = wanted.bounds()
    return render(
        "admin/audit.html",
        status=400 if errors else 200,
        entries=[(entry, audit.details_of(entry)) for entry in page.items],
        form=form,
        errors=errors,
        since=since,
        until=until,
        **pager_urls("/admin/audit", cursors.ADMIN_AUDIT, page.next_key, **form),
    )
