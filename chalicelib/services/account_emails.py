"""The emails of accounts and back-in-stock alerts, one small function each. Each returns the
message; callers add it to the transaction of the change it belongs to (outbox pattern)."""

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from chalicelib.config import get_settings
from chalicelib.models import dynamo


@dataclass(frozen=True)
class Email:
    to: str
    subject: str
    template: str
    values: dict[str, Any] = field(default_factory=dict)


_queued: list[Email] = []  # placeholder until the outbox lands


def queue(transaction: dynamo.Transaction, email: Email) -> None:
    _queued.append(email)


def link(path: str) -> str:
    """An absolute link for an email, from the stage's configured site address, never from the
    request's Host header (a forged Host must not put an attacker's site in a reset email)."""
    return get_settings().site_url.rstrip("/") + path


def password_reset(to: str, username: str, token: str, expires_at: datetime) -> Email:
    return Email(
        to,
        "Reset your password",
        "password_reset",
        {"username": username, "link": link(f"/password/reset/{token}"), "expires_at": expires_at},
    )


def password_changed(to: str, username: str) -> Email:
    return Email(
        to, "Your password was changed", "password_changed", {"username": username, "link": link("/password/forgot")}
    )


def email_change_confirm(to: str, username: str, token: str) -> Email:
    return Email(
        to,
        "Confirm your new email address",
        "email_change_confirm",
        {"username": username, "link": link(f"/account/email/confirm/{token}")},
    )


def email_changed(old_address: str, username: str, new_address: str) -> Email:
    return Email(
        old_address,
        "Your email address was changed",
        "email_changed",
        {"username": username, "new_address": new_address, "link": link("/password/forgot")},
    )


def account_deleted(to: str, username: str) -> Email:
    return Email(to, "Your account is deleted", "account_deleted", {"username": username})


def back_in_stock(to: str, shoe_name: str, size_label: str, shoe_path: str, unsubscribe_token: str) -> Email:
    return Email(
        to,
        f"Back in stock: {shoe_name} in {size_label}",
        "back_in_stock",
        {
            "shoe_name": shoe_name,
            "size_label": size_label,
            "link": link(shoe_path),
            "unsubscribe_link": link(f"/restock/unsubscribe?token={unsubscribe_token}"),
        },
    )
