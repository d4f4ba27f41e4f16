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


def plural(count: int, singular: str, plural_form: str | None = None) -> str:
    """ "1 size", "2 sizes", "0 pairs": the count with the word that agrees with it."""
    word = singular if count == 1 else (plural_form or singular + "s")
    return f"{count} {word}"


def join_words(items: list[str]) -> str:
    """ "42", "42 and 43", "41, 42 and 43"."""
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} and {items[-1]}"
