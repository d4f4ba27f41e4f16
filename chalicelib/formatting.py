"""How money and times read to a shopper, on pages and in emails alike (no Chalice, no Jinja)."""

from typing import Any

from chalicelib.config import get_settings


def format_money(cents: int | None) -> str:
    """Integer cents to a price label, e.g. 12995 -> "$129.95"."""
    if cents is None:
        return ""
    symbol = {"USD": "$", "EUR": "€", "GBP": "£"}.get(get_settings().currency, "")
    sign = "-" if cents < 0 else ""
    whole, part = divmod(abs(int(cents)), 100)
    return f"{sign}{symbol}{whole:,}.{part:02d}"


def format_date(value: Any) -> str:
    return value.strftime("%d %b %Y") if value else ""


def format_datetime(value: Any) -> str:
    return value.strftime("%d %b %Y, %H:%M UTC") if value else ""
