"""How money and times read to a shopper, on pages and in emails alike (no Chalice, no Jinja)."""

from datetime import UTC, datetime, tzinfo
from functools import lru_cache

from chalicelib.config import get_settings


def format_money(cents: int | None) -> str:
    """Integer cents to a price label, e.g. 12995 -> "$129.95"."""
    if cents is None:
        return ""
    symbol = {"USD": "$", "EUR": "€", "GBP": "£"}.get(get_settings().currency, "")
    sign = "-" if cents < 0 else ""
    whole, part = divmod(abs(int(cents)), 100)
    return f"{sign}{symbol}{whole:,}.{part:02d}"


@lru_cache(maxsize=4)
def _zone(name: str) -> tzinfo:
    """The named zone; UTC where the zone database lacks it (the rendered time still names its zone)."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError  # only where a time is shown

    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return UTC


def shop_time(value: datetime) -> datetime:
    """A stored time (UTC; a naive one is taken as UTC) in the shop's timezone (SHOP_TIMEZONE)."""
    aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    return aware.astimezone(_zone(get_settings().shop_timezone))


def format_date(value: datetime | None) -> str:
    """The day in the shop's timezone, e.g. "2 Dec 2026"."""
    if not value:
        return ""
    local = shop_time(value)
    return f"{local.day} {local:%b %Y}"


def format_datetime(value: datetime | None) -> str:
    """Date and time in the shop's timezone with the zone named, e.g. "2 Dec 2026, 14:05 EST"."""
    if not value:
        return ""
    local = shop_time(value)
    return f"{local.day} {local:%b %Y, %H:%M} {local.tzname() or 'UTC'}"


def plural(count: int, singular: str, plural_form: str | None = None) -> str:
    """ "1 size", "2 sizes", "0 pairs": the count with the word that agrees with it."""
    word = singular if count == 1 else (plural_form or singular + "s")
    return f"{count} {word}"


def join_words(items: list[str]) -> str:
    """ "42", "42 and 43", "41, 42 and 43"."""
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} and {items[-1]}"
