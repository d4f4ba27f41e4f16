"""Shipping zones (sets of countries) and their methods (prices: pricing.ShippingMethod). None stored:
a built-in zone covers every country (`manage.py seed-demo` stores it); once zones are stored, a
country in none is not shipped to. One Query, cached ZONES_CACHE_SECONDS per warm Lambda."""

import re
import time
from collections.abc import Callable
from dataclasses import dataclass

from chalicelib import clock
from chalicelib.models.pricing import ZONE_PK, ShippingMethodItem, ShippingZoneItem
from chalicelib.services import pricing
from chalicelib.services.errors import NotFound, ValidationFailed
from chalicelib.services.shoes import format_price, parse_price
from chalicelib.services.validation import COUNTRY_NAMES, clean_text

ZONES_CACHE_SECONDS = 30.0
DEFAULT_ZONE_ID = "everywhere"
METHOD_ROWS = 4  # method rows on the zone form
MAX_SHIPPING_CENTS = 100_000
ZONE_ID_RE = re.compile(r"^[a-z0-9-]{1,40}$")
DAYS_RE = re.compile(r"^\s*([0-9]{1,2})\s*(?:-\s*([0-9]{1,2}))?\s*$")
monotonic: Callable[[], float] = time.monotonic  # tests replace it


@dataclass(frozen=True)
class Zone:
    zone_id: str
    name: str
    countries: frozenset[str]
    methods: tuple[pricing.ShippingMethod, ...]

    @property
    def country_list(self) -> str:
        return ", ".join(sorted(self.countries))


def default_zone() -> Zone:
    return Zone(DEFAULT_ZONE_ID, "Everywhere we ship", frozenset(COUNTRY_NAMES), pricing.default_methods())


def _zone(item: ShippingZoneItem) -> Zone:
    methods = tuple(pricing.ShippingMethod(**method.as_dict()) for method in item.methods or [])
    return Zone(item.sk, item.name, frozenset(item.countries or ()), methods)


_cache: tuple[float, tuple[Zone, ...]] | None = None


def forget_zones() -> None:
    global _cache
    _cache = None


def stored_zones() -> tuple[Zone, ...]:
    return tuple(_zone(item) for item in ShippingZoneItem.query(ZONE_PK, consistent_read=True))


def zones() -> tuple[Zone, ...]:
    global _cache
    if _cache is not None and monotonic() - _cache[0] < ZONES_CACHE_SECONDS:
        return _cache[1]
    found = tuple(_zone(item) for item in ShippingZoneItem.query(ZONE_PK)) or (default_zone(),)
    _cache = (monotonic(), found)
    return found


def zone_for(country: str) -> Zone | None:
    return next((zone for zone in zones() if country in zone.countries), None)


def methods_for(country: str) -> tuple[pricing.ShippingMethod, ...]:
    zone = zone_for(country)
    return zone.methods if zone is not None else ()


def no_shipping_message(country: str) -> str:
    return f"We do not ship to {COUNTRY_NAMES.get(country, country)} at the moment. Choose another address."


def choose(country: str, method_id: str | None) -> pricing.ShippingMethod:
    """The chosen method, else (none, or another zone's) the zone's first; nothing ships there: ValidationFailed."""
    methods = methods_for(country)
    if not methods:
        message = no_shipping_message(country)
        raise ValidationFailed({"shipping_method": message}, message=message)
    return next((method for method in methods if method.method_id == method_id), methods[0])


# -- the back office -------------------------------------------------------------------------------


def get_zone(zone_id: str) -> Zone:
    if not ZONE_ID_RE.match(zone_id or ""):
        raise NotFound("There is no such shipping zone.")
    try:
        return _zone(ShippingZoneItem.get(ZONE_PK, zone_id, consistent_read=True))
    except ShippingZoneItem.DoesNotExist as error:
        raise NotFound("There is no such shipping zone.") from error


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:40]


def form_values(zone: Zone) -> dict[str, str]:
    values = {"name": zone.name, "countries": zone.country_list}
    for n, m in enumerate(zone.methods):
        free = format_price(m.free_over_cents) if m.free_over_cents is not None else ""
        values |= {f"label_{n}": m.label, f"price_{n}": format_price(m.price_cents), f"free_over_{n}": free}
        values[f"days_{n}"] = m.estimate.split(" ")[0]
    return values


def _clean_method(n: int, raw: Callable[[str], str], errors: dict[str, str]) -> pricing.ShippingMethod | None:
    label = clean_text(raw(f"label_{n}"))
    price, free_over, days = raw(f"price_{n}").strip(), raw(f"free_over_{n}").strip(), raw(f"days_{n}").strip()
    if not label:
        if price or free_over or days:
            errors[f"label_{n}"] = "Name this method, or clear its row."
        return None
    if len(label) > 40:
        errors[f"label_{n}"] = "Use at most 40 characters."
    price_cents = parse_price(price)
    if price_cents is None or price_cents > MAX_SHIPPING_CENTS:
        errors[f"price_{n}"] = "Enter a price like 5.95 (0 for free)."
    free_cents = parse_price(free_over) if free_over else None
    if free_over and (free_cents is None or free_cents <= 0):
        errors[f"free_over_{n}"] = "Enter an amount like 75.00, or leave it empty."
    match = DAYS_RE.match(days)
    low, high = (int(match.group(1)), int(match.group(2) or match.group(1))) if match else (0, 0)
    if not match or low < 1 or high < low:
        errors[f"days_{n}"] = "Enter the delivery days, like 3-5 or 2."
    if any(key.endswith(f"_{n}") for key in errors):
        return None
    return pricing.ShippingMethod(_slug(label) or f"method-{n}", label, price_cents or 0, free_cents, low, high)


def clean_zone(
    raw: Callable[[str], str], zone_id: str | None
) -> tuple[str, frozenset[str], tuple[pricing.ShippingMethod, ...]]:
    errors: dict[str, str] = {}
    name = clean_text(raw("name"))
    if not name or len(name) > 60:
        errors["name"] = "Enter a name of at most 60 characters."
    codes = [code.strip().upper() for code in re.split(r"[\s,]+", raw("countries")) if code.strip()]
    unknown = [code for code in codes if code not in COUNTRY_NAMES]
    taken = {
        code: zone.name
        for zone in stored_zones()
        if zone.zone_id != zone_id
        for code in zone.countries
        if code in codes
    }
    if not codes:
        errors["countries"] = "List at least one country code, like DE, FR."
    elif unknown:
        errors["countries"] = f"The shop does not ship to {', '.join(unknown[:5])}: use codes from the list."
    elif taken:
        errors["countries"] = "; ".join(f"{code} is already in {zone}" for code, zone in sorted(taken.items())) + "."
    methods = [method for n in range(METHOD_ROWS) if (method := _clean_method(n, raw, errors)) is not None]
    ids = [method.method_id for method in methods]
    if not methods and not any(key.startswith("label_") for key in errors):
        errors["label_0"] = "Add at least one shipping method."
    elif len(set(ids)) != len(ids):
        errors["label_0"] = "Give every method a different name."
    if errors:
        raise ValidationFailed(errors, message="Check the highlighted fields.")
    return name, frozenset(codes), tuple(methods)


def save_zone(
    zone_id: str | None, name: str, countries: frozenset[str], methods: tuple[pricing.ShippingMethod, ...]
) -> str:
    if zone_id is None:
        zone_id = _slug(name) or "zone"
        taken = {zone.zone_id for zone in stored_zones()}
        base, n = zone_id, 2
        while zone_id in taken:
            zone_id, n = f"{base[:36]}-{n}", n + 1
    ShippingZoneItem(
        sk=zone_id,
        name=name,
        countries=set(countries),
        methods=[ShippingMethodItem(**method.__dict__) for method in methods],
        updated_at=clock.now(),
    ).save()
    forget_zones()
    return zone_id


def delete_zone(zone_id: str) -> None:
    get_zone(zone_id)
    ShippingZoneItem(sk=zone_id).delete()
    forget_zones()


def seed_default_zone() -> bool:
    if stored_zones():
        return False
    zone = default_zone()
    save_zone(zone.zone_id, zone.name, zone.countries, zone.methods)
    return True
