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
ADMIN_PASSWORD_MIN = 12  # admins can change the catalogue and see every order
PASSWORD_MAX = 256
# Words a guesser tries first for this shop: its name, alone or with a year or "123" around it.
SHOP_WORDS = ("strideshoes", "stride", "shoes")
# What may remain around a personal word (username, email, shop name) for a password still to be
# guessable: digits, punctuation, a short tail, or too few distinct characters.
WEAK_REMAINDER_LENGTH = 4


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


def _letters_and_digits(text: str) -> str:
    return "".join(ch for ch in text.casefold() if ch.isalnum())


def _personal_words(username: str, email: str) -> list[str]:
    """The username, the email and its local part, and the shop's name, in comparable form."""
    local_part = email.partition("@")[0]
    words = {_letters_and_digits(w) for w in (username, email, local_part, *SHOP_WORDS)}
    return sorted((w for w in words if len(w) >= 3), key=len, reverse=True)


def _weak_remainder(remainder: str, common: frozenset[str]) -> bool:
    letters = "".join(ch for ch in remainder if ch.isalpha())
    return len(letters) < WEAK_REMAINDER_LENGTH or len(set(remainder)) < 3 or remainder in common


def password_problem(
    password: str, common: frozenset[str], *, username: str = "", email: str = "", admin: bool = False
) -> str | None:
    """Why a new password is too weak, or None. The one rule for registration, admins, reset and
    change: length, not whitespace or one repeated character, not a common password, not built
    from the username, email or the shop's name.
    """
    minimum = ADMIN_PASSWORD_MIN if admin else PASSWORD_MIN
    if len(password) < minimum:
        return f"Use at least {minimum} characters."
    if len(password) > PASSWORD_MAX:
        return f"Use at most {PASSWORD_MAX} characters."
    if not password.strip():
        return "A password cannot be only spaces."
    if len(set(password.casefold())) < 3:
        return "Use more than one or two different characters."
    folded = password.casefold()
    squeezed = _letters_and_digits(password)
    if folded in common or folded.strip() in common or squeezed in common:
        return "That password is too common. Choose another."
    stripped = squeezed
    for word in _personal_words(username, email):
        stripped = stripped.replace(word, "")
    if stripped != squeezed and _weak_remainder(stripped, common):
        return "Do not build your password from your username, email or the shop's name."
    return None


def check_new_password(
    password: str, confirm: str, common: frozenset[str], *, username: str = "", email: str = "", admin: bool = False
) -> dict[str, str]:
    """Field errors for a new password and its confirmation (see password_problem)."""
    errors: dict[str, str] = {}
    problem = password_problem(password, common, username=username, email=email, admin=admin)
    if problem:
        errors["password"] = problem
    if password != confirm:
        errors["confirm_password"] = "The passwords do not match."
    return errors


def raise_if(errors: dict[str, str]) -> None:
    if errors:
        raise ValidationFailed(errors)
