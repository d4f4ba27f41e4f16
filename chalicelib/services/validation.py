"""Field rules shared by forms and the JSON API."""

import re
import unicodedata

from chalicelib.services.errors import ValidationFailed

USERNAME_RE = re.compile(r"^[A-Za-z0-9_.-]{3,30}$")
# A practical email shape: one @, a dot in the domain, no spaces or angle brackets.
EMAIL_RE = re.compile(
    r"^[^@\s<>\"']{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$"
)
EMAIL_MAX = 254
PASSWORD_MIN = 8
PASSWORD_MAX = 256


def clean_text(value: str | None) -> str:
    """Trim and normalise user text (NFC), dropping control characters."""
    if not value:
        return ""
    value = unicodedata.normalize("NFC", value)
    return "".join(ch for ch in value if ch in "\n\t" or unicodedata.category(ch)[0] != "C").strip()


def check_username(value: str) -> str | None:
    if not value:
        return "Enter a username."
    if not USERNAME_RE.match(value):
        return "Use 3 to 30 letters, digits, dots, dashes or underscores."
    return None


def check_email(value: str) -> str | None:
    if not value:
        return "Enter your email address."
    if len(value) > EMAIL_MAX or not EMAIL_RE.match(value):
        return "Enter an email address like name@example.com."
    return None


def check_new_password(password: str, confirm: str, common: frozenset[str]) -> dict[str, str]:
    errors: dict[str, str] = {}
    if len(password) < PASSWORD_MIN:
        errors["password"] = f"Use at least {PASSWORD_MIN} characters."
    elif len(password) > PASSWORD_MAX:
        errors["password"] = f"Use at most {PASSWORD_MAX} characters."
    elif password.casefold() in common:
        errors["password"] = "That password is too common. Choose another."
    if password != confirm:
        errors["confirm_password"] = "The passwords do not match."
    return errors


def raise_if(errors: dict[str, str]) -> None:
    if errors:
        raise ValidationFailed(errors)
