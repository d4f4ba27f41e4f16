"""The back office's pricing pages: discount codes (list with usage, create, edit, disable) and
shipping zones with their methods. Owner-only: `owner_only` is the one line to point at the owner
guard once roles exist."""

from chalice import Blueprint, Response

from chalicelib.services import audit, discounts, shipping
from chalicelib.services.errors import Conflict, ValidationFailed
from chalicelib.services.shoes import DEPARTMENTS
from chalicelib.web.context import current
from chalicelib.web.forms import FORM_TYPES
from chalicelib.web.guards import admin_required, current_admin_username
from chalicelib.web.rendering import redirect, render

bp = Blueprint(__name__)
owner_only = admin_required  # owner-only pages: becomes the owner guard with roles


def _field(name: str) -> str:
    return current().form.get(name)[:200]


def _kept(names: tuple[str, ...] | list[str]) -> dict[str, str]:
    return {name: _field(name) for name in names}


# -- discount codes ---------------------------------------------------------------------------------


@bp.route("/admin/discounts", methods=["GET"])
@owner_only
def discount_list() -> Response:
    codes = discounts.list_codes()
    return render(
        "admin/discounts.html",
        codes=codes,
        usage=discounts.usage_words,
        state=discounts.state_words,
    )


def _render_code(form: dict, errors: dict, code: str | None = None, status: int = 200, **extra: object) -> Response:
    return render(
        "admin/discount_form.html",
        status=status,
        form=form,
        errors=errors,
        code=code,
        departments=", ".join(DEPARTMENTS),
        **{"item": None, "usage": None, **extra},
    )


@bp.route("/admin/discounts/new", methods=["GET"])
@owner_only
def discount_new() -> Response:
    return _render_code(discounts.form_values(None), {})


@bp.route("/admin/discounts/new", methods=["POST"], content_types=FORM_TYPES)
@owner_only
def discount_create() -> Response:
    try:
        values = discounts.clean_code_form(_field, creating=True)
        item = discounts.create_code(values)
    except ValidationFailed as error:
        return _render_code(_kept(discounts.FORM_FIELDS), error.errors, status=400)
    except Conflict as error:
        return _render_code(_kept(discounts.FORM_FIELDS), {"code": error.message}, status=409)
    audit.record(current_admin_username(), "discount_created", code=item.sk, kind=item.kind, value=int(item.value))
    current().flash(f"The code {item.sk} is saved.", "success")
    return redirect("/admin/discounts")


@bp.route("/admin/discounts/{code}", methods=["GET"])
@owner_only
def discount_edit(code: str) -> Response:
    item = discounts.get_code(code)
    return _render_code(discounts.form_values(item), {}, code=item.sk, item=item, usage=discounts.usage_words(item))


@bp.route("/admin/discounts/{code}", methods=["POST"], content_types=FORM_TYPES)
@owner_only
def discount_update(code: str) -> Response:
    item = discounts.get_code(code)
    try:
        discounts.update_code(item.sk, discounts.clean_code_form(_field, creating=False))
    except ValidationFailed as error:
        kept = {**_kept(discounts.FORM_FIELDS), "code": item.sk}
        return _render_code(kept, error.errors, item.sk, 400, item=item, usage=discounts.usage_words(item))
    audit.record(current_admin_username(), "discount_updated", code=item.sk)
    current().flash(f"The code {item.sk} is saved.", "success")
    return redirect("/admin/discounts")


@bp.route("/admin/discounts/{code}/active", methods=["POST"], content_types=FORM_TYPES)
@owner_only
def discount_set_active(code: str) -> Response:
    item = discounts.get_code(code)
    active = current().form.get("active") == "1"
    discounts.set_active(item.sk, active)
    audit.record(current_admin_username(), "discount_enabled" if active else "discount_disabled", code=item.sk)
    current().flash(f"The code {item.sk} is {'enabled' if active else 'disabled'}.", "success")
    return redirect("/admin/discounts")


# -- shipping zones ---------------------------------------------------------------------------------

ZONE_FIELDS = ["name", "countries"] + [
    f"{part}_{n}" for n in range(shipping.METHOD_ROWS) for part in ("label", "price", "free_over", "days")
]


@bp.route("/admin/shipping", methods=["GET"])
@owner_only
def zone_list() -> Response:
    stored = shipping.stored_zones()
    return render("admin/shipping.html", zones=stored, default_zone=None if stored else shipping.default_zone())


def _render_zone(form: dict, errors: dict, zone_id: str | None = None, status: int = 200) -> Response:
    return render(
        "admin/zone_form.html",
        status=status,
        form=form,
        errors=errors,
        zone_id=zone_id,
        rows=range(shipping.METHOD_ROWS),
        countries=", ".join(shipping.COUNTRY_NAMES),
    )


@bp.route("/admin/shipping/new", methods=["GET"])
@owner_only
def zone_new() -> Response:
    return _render_zone(shipping.form_values(None), {})


def _save_zone(zone_id: str | None) -> Response:
    try:
        name, countries, methods = shipping.clean_zone(_field, zone_id)
    except ValidationFailed as error:
        return _render_zone(_kept(ZONE_FIELDS), error.errors, zone_id, 400)
    saved = shipping.save_zone(zone_id, name, countries, methods)
    action = "shipping_zone_updated" if zone_id else "shipping_zone_created"
    audit.record(current_admin_username(), action, zone=saved, countries=",".join(sorted(countries)))
    current().flash(f"The shipping zone {name} is saved.", "success")
    return redirect("/admin/shipping")


@bp.route("/admin/shipping/new", methods=["POST"], content_types=FORM_TYPES)
@owner_only
def zone_create() -> Response:
    return _save_zone(None)


@bp.route("/admin/shipping/{zone_id}", methods=["GET"])
@owner_only
def zone_edit(zone_id: str) -> Response:
    zone = shipping.get_zone(zone_id)
    return _render_zone(shipping.form_values(zone), {}, zone.zone_id)


@bp.route("/admin/shipping/{zone_id}", methods=["POST"], content_types=FORM_TYPES)
@owner_only
def zone_update(zone_id: str) -> Response:
    return _save_zone(shipping.get_zone(zone_id).zone_id)


@bp.route("/admin/shipping/{zone_id}/delete", methods=["POST"], content_types=FORM_TYPES)
@owner_only
def zone_delete(zone_id: str) -> Response:
    zone = shipping.get_zone(zone_id)
    ctx = current()
    if ctx.form.get("confirm") != "yes":
        ctx.flash(f"Tick the box to confirm deleting {zone.name}: its countries will not be shipped to.", "error")
        return redirect(f"/admin/shipping/{zone.zone_id}")
    shipping.delete_zone(zone.zone_id)
    audit.record(current_admin_username(), "shipping_zone_deleted", zone=zone.zone_id)
    ctx.flash(f"The shipping zone {zone.name} is deleted.", "success")
    return redirect("/admin/shipping")
