"""The back office's pricing pages: discount codes (with usage) and shipping zones, owner-only."""

from chalice import Blueprint, Response

from chalicelib.services import audit, discounts, shipping
from chalicelib.services.errors import Conflict, ValidationFailed
from chalicelib.services.shoes import DEPARTMENTS
from chalicelib.web.context import current
from chalicelib.web.forms import FORM_TYPES
from chalicelib.web.guards import current_admin_username, owner_required
from chalicelib.web.rendering import redirect, render

bp = Blueprint(__name__)
owner_only = owner_required  # discounts and shipping are the owner's (staff: 403)
CODES, ZONES = "/admin/discounts", "/admin/shipping"


def _field(name: str) -> str:
    return current().form.get(name)[:200]


def _done(action: str, message: str, to: str, **details: object) -> Response:
    audit.record(current_admin_username(), action, **details)
    current().flash(message, "success")
    return redirect(to)


@bp.route(CODES, methods=["GET"])
@owner_only
def discount_list() -> Response:
    return render(
        "admin/discounts.html", codes=discounts.list_codes(), usage=discounts.usage_words, state=discounts.state_words
    )


def _code_page(form: dict, errors: dict, item: discounts.DiscountCode | None = None, status: int = 200) -> Response:
    usage = discounts.usage_words(item) if item else None
    return render(
        "admin/discount_form.html",
        status=status,
        form=form,
        errors=errors,
        item=item,
        usage=usage,
        departments=", ".join(DEPARTMENTS),
    )


@bp.route(CODES + "/new", methods=["GET"])
@owner_only
def discount_new() -> Response:
    return _code_page(discounts.form_values(None), {})


@bp.route(CODES + "/new", methods=["POST"], content_types=FORM_TYPES)
@owner_only
def discount_create() -> Response:
    kept = {name: _field(name) for name in discounts.FORM_FIELDS}
    try:
        item = discounts.create_code(discounts.clean_code_form(_field, creating=True))
    except ValidationFailed as error:
        return _code_page(kept, error.errors, status=400)
    except Conflict as error:
        return _code_page(kept, {"code": error.message}, status=409)
    return _done(
        "discount_created", f"The code {item.sk} is saved.", CODES, code=item.sk, kind=item.kind, value=int(item.value)
    )


@bp.route(CODES + "/{code}", methods=["GET"])
@owner_only
def discount_edit(code: str) -> Response:
    item = discounts.get_code(code)
    return _code_page(discounts.form_values(item), {}, item)


@bp.route(CODES + "/{code}", methods=["POST"], content_types=FORM_TYPES)
@owner_only
def discount_update(code: str) -> Response:
    item = discounts.get_code(code)
    try:
        discounts.update_code(item.sk, discounts.clean_code_form(_field, creating=False))
    except ValidationFailed as error:
        return _code_page({name: _field(name) for name in discounts.FORM_FIELDS}, error.errors, item, 400)
    return _done("discount_updated", f"The code {item.sk} is saved.", CODES, code=item.sk)


@bp.route(CODES + "/{code}/active", methods=["POST"], content_types=FORM_TYPES)
@owner_only
def discount_set_active(code: str) -> Response:
    item = discounts.get_code(code)
    active = current().form.get("active") == "1"
    discounts.set_active(item.sk, active)
    state = "enabled" if active else "disabled"
    return _done(f"discount_{state}", f"The code {item.sk} is {state}.", CODES, code=item.sk)


ZONE_FIELDS = ["name", "countries"] + [
    f"{part}_{n}" for n in range(shipping.METHOD_ROWS) for part in ("label", "price", "free_over", "days")
]


@bp.route(ZONES, methods=["GET"])
@owner_only
def zone_list() -> Response:
    stored = shipping.stored_zones()
    return render("admin/shipping.html", zones=stored, default_zone=None if stored else shipping.default_zone())


def _zone_page(form: dict, errors: dict, zone_id: str | None = None, status: int = 200) -> Response:
    rows = range(shipping.METHOD_ROWS)
    countries = ", ".join(shipping.COUNTRY_NAMES)
    return render(
        "admin/zone_form.html", status=status, form=form, errors=errors, zone_id=zone_id, rows=rows, countries=countries
    )


@bp.route(ZONES + "/new", methods=["GET"])
@owner_only
def zone_new() -> Response:
    return _zone_page({}, {})


def _save_zone(zone_id: str | None) -> Response:
    try:
        name, countries, methods = shipping.clean_zone(_field, zone_id)
    except ValidationFailed as error:
        return _zone_page({name: _field(name) for name in ZONE_FIELDS}, error.errors, zone_id, 400)
    saved = shipping.save_zone(zone_id, name, countries, methods)
    action = "shipping_zone_updated" if zone_id else "shipping_zone_created"
    return _done(
        action, f"The shipping zone {name} is saved.", ZONES, zone=saved, countries=",".join(sorted(countries))
    )


@bp.route(ZONES + "/new", methods=["POST"], content_types=FORM_TYPES)
@owner_only
def zone_create() -> Response:
    return _save_zone(None)


@bp.route(ZONES + "/{zone_id}", methods=["GET"])
@owner_only
def zone_edit(zone_id: str) -> Response:
    zone = shipping.get_zone(zone_id)
    return _zone_page(shipping.form_values(zone), {}, zone.zone_id)


@bp.route(ZONES + "/{zone_id}", methods=["POST"], content_types=FORM_TYPES)
@owner_only
def zone_update(zone_id: str) -> Response:
    return _save_zone(shipping.get_zone(zone_id).zone_id)


@bp.route(ZONES + "/{zone_id}/delete", methods=["POST"], content_types=FORM_TYPES)
@owner_only
def zone_delete(zone_id: str) -> Response:
    zone = shipping.get_zone(zone_id)
    if current().form.get("confirm") != "yes":
        current().flash(f"Tick the box to confirm deleting {zone.name}: its countries will not be shipped to.", "error")
        return redirect(f"{ZONES}/{zone.zone_id}")
    shipping.delete_zone(zone.zone_id)
    return _done("shipping_zone_deleted", f"The shipping zone {zone.name} is deleted.", ZONES, zone=zone.zone_id)
