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
# An address the shop sends mail to: ASCII dot-atom local part (no quotes, commas, spaces or line
# breaks, so it cannot add a header or a second recipient), and a domain as EMAIL_RE's.
MAILABLE_LOCAL_RE = re.compile(r"^[A-Za-z0-9!#$%&*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&*+/=?^_`{|}~-]+)*$")
EMAIL_LOCAL_MAX = 64
PASSWORD_MIN = 8
ADMIN_PASSWORD_MIN = 12  # admins can change the catalogue and see every order
PASSWORD_MAX = 256
# Words a guesser tries first for this shop: its name, alone or with a year or "123" around it.
SHOP_WORDS = ("strideshoes", "stride", "shoes")
# What may remain around a personal word (username, email, shop name) for a password still to be
# guessable: digits, punctuation, a short tail, or too few distinct characters.
WEAK_REMAINDER_LENGTH = 4
# zxcvbn scores 0-4 (2: about 10^8 guesses, 3: 10^10). Logins are throttled and bcrypt-slow, so 2
# holds for shoppers online; an admin's password guards the whole shop and needs 3.
SHOPPER_MIN_SCORE = 2
ADMIN_MIN_SCORE = 3
ZXCVBN_MAX = 72


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


def check_mailable_email(raw: object) -> tuple[str, str | None]:
    """The cleaned address and why it cannot receive the shop's mail (or None). Control
    characters are refused rather than stripped: a line break in an address is an injection
    attempt or a paste error, never part of the address."""
    if not isinstance(raw, str):
        return "", "Enter your email address."
    if any(unicodedata.category(ch)[0] == "C" for ch in raw):
        return raw[:EMAIL_MAX].strip(), "Enter an email address like name@example.com, on one line."
    value = clean_text(raw)
    problem = check_email(value)
    local = value.rpartition("@")[0]
    if problem is None and (len(local) > EMAIL_LOCAL_MAX or not MAILABLE_LOCAL_RE.match(local)):
        problem = "Enter an email address like name@example.com."
    return value, problem


def normalised_email(value: str) -> str:
    """One key per mailbox for limits: case folded and a "+tag" dropped (name+1@ and name+2@
    reach the same person at most providers)."""
    local, _, domain = value.casefold().rpartition("@")
    return f"{local.partition('+')[0] or local}@{domain}"


def _letters_and_digits(text: str) -> str:
    return "".join(ch for ch in text.casefold() if ch.isalnum())


def _personal_words(username: str, email: str) -> list[str]:
    """The username, the email and its local part, and the shop's name, in comparable form."""
    local_part = email.partition("@")[0]
    words = {_letters_and_digits(w) for w in (username, email, local_part, *SHOP_WORDS)}
    return sorted((w for w in words if len(w) >= 3), key=len, reverse=True)


def _built_from_personal_words(password: str, words: list[str]) -> bool:
    """True if the password is a personal word with only digits, punctuation or a few letters around."""
    squeezed = _letters_and_digits(password)
    remainder = squeezed
    for word in words:
        remainder = remainder.replace(word, "")
    letters = "".join(ch for ch in remainder if ch.isalpha())
    return remainder != squeezed and (len(letters) < WEAK_REMAINDER_LENGTH or len(set(remainder)) < 3)


def _guessability_score(password: str, words: list[str]) -> int:
    """zxcvbn's 0-4 score (its 30,000 common passwords, names, words, keyboard patterns, dates),
    imported here and only here: about 70 ms once per Lambda, on the routes that set a password."""
    from zxcvbn import zxcvbn  # type: ignore[import-untyped]

    # zxcvbn refuses more than 72 characters; a passphrase that long is judged by its start.
    return int(zxcvbn(password[:ZXCVBN_MAX], user_inputs=words)["score"])


def password_problem(password: str, *, username: str = "", email: str = "", admin: bool = False) -> str | None:
    """Why a new password is too weak, or None. The one rule for registration, admins, reset and
    change: length, not whitespace or one repeated character, not built from the username, email
    or the shop's name, and not easy to guess by zxcvbn's measure (admins need a higher score).
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
    words = _personal_words(username, email)
    if _built_from_personal_words(password, words):
        return "Do not build your password from your username, email or the shop's name."
    if _guessability_score(password, words) < (ADMIN_MIN_SCORE if admin else SHOPPER_MIN_SCORE):
        return "That password is too common or too easy to guess. Add another word or two."
    return None


def check_new_password(
    password: str, confirm: str, *, username: str = "", email: str = "", admin: bool = False
) -> dict[str, str]:
    """Field errors for a new password and its confirmation (see password_problem)."""
    errors: dict[str, str] = {}
    problem = password_problem(password, username=username, email=email, admin=admin)
    if problem:
        errors["password"] = problem
    if password != confirm:
        errors["confirm_password"] = "The passwords do not match."
    return errors


def raise_if(errors: dict[str, str]) -> None:
    if errors:
        raise ValidationFailed(errors)


# The countries the shop ships to (checkout addresses, shipping zones).
COUNTRIES = [
    ("US", "United States"),
    ("CA", "Canada"),
    ("GB", "United Kingdom"),
    ("IE", "Ireland"),
    ("DE", "Germany"),
    ("FR", "France"),
    ("NL", "Netherlands"),
    ("BE", "Belgium"),
    ("ES", "Spain"),
    ("IT", "Italy"),
    ("AT", "Austria"),
    ("DK", "Denmark"),
    ("SE", "Sweden"),
    ("NO", "Norway"),
    ("FI", "Finland"),
    ("PL", "Poland"),
    ("PT", "Portugal"),
    ("CH", "Switzerland"),
    ("AU", "Australia"),
    ("NZ", "New Zealand"),
]
COUNTRY_NAMES = dict(COUNTRIES)
