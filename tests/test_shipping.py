"""Shipping zones and methods (services.shipping, pricing.ShippingMethod): the built-in zone, prices
per zone, free-over thresholds, a change of country, the warm Lambda's cache, the zone form."""

import pytest

from chalicelib.config import get_settings
from chalicelib.services import pricing, shipping
from chalicelib.services.errors import ValidationFailed

EUROPE_FORM = {
    "name": "Europe",
    "countries": "de, fr nl",
    "label_0": "Standard",
    "price_0": "4.00",
    "free_over_0": "50",
    "days_0": "2-4",
    "label_1": "Express",
    "price_1": "12.50",
    "days_1": "1",
}


def form(values: dict[str, str]):
    return lambda name: values.get(name, "")


def save(values: dict[str, str], zone_id: str | None = None) -> str:
    return shipping.save_zone(zone_id, *shipping.clean_zone(form(values), zone_id))


def line(cents: int) -> pricing.PricedLine:
    return pricing.PricedLine("s1", "Runner", "Fleet", "42", cents, 1)


def test_without_zones_every_country_gets_standard_at_the_flat_rate_and_express():
    settings = get_settings()
    standard, express = shipping.methods_for("NZ")
    assert (standard.method_id, standard.price_cents, standard.free_over_cents) == (
        "standard",
        settings.shipping_flat_cents,
        settings.free_shipping_over_cents,
    )
    assert express.method_id == "express" and express.free_over_cents is None
    assert shipping.choose("NZ", None) == standard  # the default


def test_shipping_follows_the_zone_of_the_country_and_its_free_over_threshold():
    save(EUROPE_FORM)
    save({**EUROPE_FORM, "name": "Far away", "countries": "AU, NZ", "price_0": "15", "free_over_0": ""})
    de_standard = shipping.choose("DE", "standard")
    assert pricing.quote([line(4999)], shipping=de_standard).shipping_cents == 400
    assert pricing.quote([line(5000)], shipping=de_standard).shipping_cents == 0  # free from 50.00 on
    au_standard = shipping.choose("AU", "standard")
    assert pricing.quote([line(90000)], shipping=au_standard).shipping_cents == 1500  # never free there
    express = shipping.choose("DE", "express")
    assert (express.price_cents, express.estimate) == (1250, "1 working day")
    with pytest.raises(ValidationFailed, match="We do not ship to United States at the moment"):
        shipping.choose("US", "standard")  # zones stored: a country in none is not shipped to


def test_a_change_of_country_reprices_and_falls_back_to_the_new_zones_first_method():
    save(EUROPE_FORM)
    save({"name": "Islands", "countries": "IE", "label_0": "Island post", "price_0": "9", "days_0": "4-6"})
    assert shipping.choose("DE", "express").price_cents == 1250
    moved = shipping.choose("IE", "express")  # no Express in the new zone
    assert (moved.method_id, moved.price_cents, moved.estimate) == ("island-post", 900, "4-6 working days")


def test_zones_are_cached_briefly_and_a_save_is_seen_at_once(monkeypatch):
    now = [1000.0]
    monkeypatch.setattr(shipping, "monotonic", lambda: now[0])
    save(EUROPE_FORM)
    assert shipping.zone_for("DE").name == "Europe"
    shipping.ShippingZoneItem(sk="europe").update(actions=[shipping.ShippingZoneItem.name.set("Elsewhere")])
    assert shipping.zone_for("DE").name == "Europe"  # another Lambda's edit: seen after the cache time
    now[0] += shipping.ZONES_CACHE_SECONDS
    assert shipping.zone_for("DE").name == "Elsewhere"


def test_the_zone_form_names_every_bad_field():
    bad = {
        "name": "",
        "countries": "DE, XX",
        "label_0": "Standard",
        "price_0": "cheap",
        "free_over_0": "-1",
        "days_0": "5-2",
        "price_1": "3",
    }
    with pytest.raises(ValidationFailed) as caught:
        shipping.clean_zone(form(bad), None)
    assert caught.value.errors == {
        "name": "Enter a name of at most 60 characters.",
        "countries": "The shop does not ship to XX: use codes from the list.",
        "price_0": "Enter a price like 5.95 (0 for free).",
        "free_over_0": "Enter an amount like 75.00, or leave it empty.",
        "days_0": "Enter the delivery days, like 3-5 or 2.",
        "label_1": "Name this method, or clear its row.",
    }


def test_a_country_belongs_to_one_zone_and_a_zone_needs_a_method():
    save(EUROPE_FORM)
    with pytest.raises(ValidationFailed) as caught:
        shipping.clean_zone(form({"name": "West", "countries": "FR, ES"}), None)
    assert caught.value.errors == {
        "countries": "FR is already in Europe.",
        "label_0": "Add at least one shipping method.",
    }
    shipping.clean_zone(form(EUROPE_FORM), "europe")  # the zone itself may keep its countries


def test_seeding_stores_the_built_in_zone_once():
    assert shipping.seed_default_zone() is True
    assert shipping.seed_default_zone() is False
    (zone,) = shipping.stored_zones()
    assert zone == shipping.default_zone()
