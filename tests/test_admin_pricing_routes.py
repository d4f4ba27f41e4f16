"""The owner's pricing pages (blueprints/admin_pricing.py): discount codes and shipping zones, every
form validated, every change audited, shoppers refused."""

import html
import json

import pytest

from chalicelib.services import discounts, shipping

CODE_FORM = {"code": "spring-10", "kind": "percent", "value": "10", "max_uses": "100", "per_customer": "1"}
ZONE_FORM = {"name": "Europe", "countries": "DE, FR", "label_0": "Standard", "price_0": "4", "days_0": "2-4"}


def body(response) -> str:
    return html.unescape(response.body.decode())


def audited(caplog) -> list[dict]:
    return [json.loads(r.getMessage()) for r in caplog.records if '"admin_action"' in r.getMessage()]


def test_an_owner_creates_lists_edits_and_disables_a_code_with_its_usage_shown(admin, caplog):
    created = admin.post_form("/admin/discounts/new", CODE_FORM, csrf_page="/admin/discounts/new")
    assert created.status_code == 303 and created.headers["Location"] == "/admin/discounts"
    listing = body(admin.get("/admin/discounts"))
    assert "SPRING-10" in listing and "0 of 100 used" in listing and "1 per customer" in listing
    assert "Active" in listing
    edited = admin.post_form(
        "/admin/discounts/SPRING-10",
        {"kind": "fixed", "value": "15.00", "min_spend": "80", "ends": "2027-01-01"},
        csrf_page="/admin/discounts/SPRING-10",
    )
    assert edited.status_code == 303
    item = discounts.get_code("spring-10")
    assert (item.kind, int(item.value), int(item.min_spend_cents), item.max_uses) == ("fixed", 1500, 8000, None)
    assert item.ends_at.isoformat() == "2027-01-01T00:00:00+00:00"
    admin.post_form("/admin/discounts/SPRING-10/active", {"active": "0"}, csrf_page="/admin/discounts")
    assert not discounts.get_code("SPRING-10").active and "Disabled" in body(admin.get("/admin/discounts"))
    actions = [(entry["action"], entry["code"]) for entry in audited(caplog)]
    assert actions == [
        ("discount_created", "SPRING-10"),
        ("discount_updated", "SPRING-10"),
        ("discount_disabled", "SPRING-10"),
    ]


def test_the_code_form_answers_bad_input_with_a_message_per_field(admin):
    bad = {
        "code": "10% off",
        "kind": "percent",
        "value": "150",
        "min_spend": "lots",
        "starts": "2026-02-01",
        "ends": "2026-01-01",
        "max_uses": "0",
        "departments": "shoes",
    }
    response = admin.post_form("/admin/discounts/new", bad, csrf_page="/admin/discounts/new")
    page = body(response)
    assert response.status_code == 400
    for message in (
        "Enter a code of at most 32 letters, digits, '-' or '_'.",
        "Enter a whole percent from 1 to 100.",
        "Enter an amount like 50.00, or leave it empty.",
        "End after the start.",
        "Enter a whole number from 1 to 1,000,000, or leave it empty for no limit.",
        "Use departments from: men, women, kids.",
    ):
        assert message in page
    assert 'value="10% off"' in page  # what was typed is kept
    assert discounts.list_codes() == []


def test_a_code_that_exists_already_is_refused(admin):
    admin.post_form("/admin/discounts/new", CODE_FORM, csrf_page="/admin/discounts/new")
    again = admin.post_form(
        "/admin/discounts/new", {**CODE_FORM, "code": "Spring-10"}, csrf_page="/admin/discounts/new"
    )
    assert again.status_code == 409 and "The code SPRING-10 exists already: edit it instead." in body(again)


def test_an_owner_manages_shipping_zones(admin, caplog):
    listing = body(admin.get("/admin/shipping"))
    assert "No zone is set up" in listing and "Everywhere we ship" in listing
    created = admin.post_form("/admin/shipping/new", ZONE_FORM, csrf_page="/admin/shipping/new")
    assert created.headers["Location"] == "/admin/shipping"
    assert shipping.choose("DE", None).price_cents == 400
    edited = admin.post_form(
        "/admin/shipping/europe", {**ZONE_FORM, "price_0": "4.50"}, csrf_page="/admin/shipping/europe"
    )
    assert edited.status_code == 303 and shipping.choose("FR", None).price_cents == 450
    unconfirmed = admin.post_form("/admin/shipping/europe/delete", {}, csrf_page="/admin/shipping/europe")
    assert unconfirmed.headers["Location"] == "/admin/shipping/europe" and shipping.stored_zones()
    admin.post_form("/admin/shipping/europe/delete", {"confirm": "yes"}, csrf_page="/admin/shipping/europe")
    assert shipping.stored_zones() == ()
    assert [entry["action"] for entry in audited(caplog)] == [
        "shipping_zone_created",
        "shipping_zone_updated",
        "shipping_zone_deleted",
    ]


def test_the_zone_form_answers_bad_input_with_messages(admin):
    response = admin.post_form(
        "/admin/shipping/new", {"name": "", "countries": "ZZ", "label_0": "Post"}, csrf_page="/admin/shipping/new"
    )
    page = body(response)
    assert response.status_code == 400
    assert "Enter a name of at most 60 characters." in page
    assert "The shop does not ship to ZZ: use codes from the list." in page
    assert "Enter a price like 5.95 (0 for free)." in page and shipping.stored_zones() == ()


@pytest.mark.parametrize("path", ["/admin/discounts", "/admin/discounts/new", "/admin/shipping", "/admin/shipping/new"])
def test_shoppers_and_visitors_are_refused(shopper, path):
    response = shopper.get(path)
    assert response.status_code in (302, 303, 403) and "Discount codes" not in body(response)


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/admin/discounts"),
        ("POST", "/admin/discounts/new"),
        ("GET", "/admin/shipping"),
        ("POST", "/admin/shipping/new"),
    ],
)
def test_staff_are_refused_the_owners_pricing_pages(web, method, path):
    from tests.factories import make_admin

    make_admin("clerk", "clerk@example.com", "admin password 1", role="staff")
    assert web.admin_login("clerk").status_code == 303
    form = {**CODE_FORM, **ZONE_FORM}
    response = web.get(path) if method == "GET" else web.post_form(path, form, csrf_page="/admin")
    assert response.status_code == 403
    assert discounts.list_codes() == [] and shipping.stored_zones() == ()
