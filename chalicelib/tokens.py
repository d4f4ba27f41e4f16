"""Signed, timestamped tokens (CSRF tokens, flash cookies, cursors, checkout keys, email links) on
itsdangerous, with the signing-key list from chalicelib.secrets: the newest key signs, every key
verifies, so a rotation does not break a token issued a minute earlier.

Every token carries the time it was signed; `max_age` (seconds) refuses older ones where an age
makes sense. Tokens are tamper-evident, not encrypted: they must hold nothing secret.
"""

import functools
import hashlib
from datetime import datetime
from typing import TYPE_CHECKING, Any

from chalicelib import clock
from chalicelib.secrets import get_secrets

if TYPE_CHECKING:
    from itsdangerous import TimestampSigner, URLSafeTimedSerializer

MAX_LENGTH = 4096  # longer input is refused before any work
CLOCK_SKEW_SECONDS = 60  # a token "signed in the future" by another Lambda's clock still counts
_SEP = "."


class InvalidToken(Exception):
    """Malformed, tampered with, signed for another purpose or with an unknown key, or too old."""


@functools.cache
def _signer_class() -> type["TimestampSigner"]:
    """itsdangerous is imported on the first token, not at `import app` (the cold-start budget)."""
    from itsdangerous import TimestampSigner

    class ClockSigner(TimestampSigner):
        """Timestamps from chalicelib.clock (tests move it), SHA-256 HMAC instead of the SHA-1 default."""

        def __init__(self, secret_key: Any, salt: Any = None, **kwargs: Any) -> None:
            super().__init__(secret_key, salt=salt, key_derivation="hmac", digest_method=hashlib.sha256, **kwargs)

        def get_timestamp(self) -> int:
            return int(clock.now().timestamp())

    return ClockSigner


def _bad_data() -> type[Exception]:
    from itsdangerous import BadData

    return BadData


def _keys_oldest_first() -> list[bytes]:
    # itsdangerous signs with the last key of the list and verifies with each.
    return list(reversed(get_secrets().signing_keys))


def _signer(purpose: str) -> "TimestampSigner":
    return _signer_class()(_keys_oldest_first(), salt=purpose)


def _serializer() -> "URLSafeTimedSerializer":
    from itsdangerous import URLSafeTimedSerializer

    return URLSafeTimedSerializer(_keys_oldest_first(), signer=_signer_class())


def _check_age(signed_at: datetime, max_age: int | None) -> None:
    if max_age is None:
        return
    age = (clock.now() - signed_at).total_seconds()
    if age > max_age or age < -CLOCK_SKEW_SECONDS:
        raise InvalidToken(f"token age {age:.0f} s is outside 0..{max_age} s")


def sign(purpose: str, value: str) -> str:
    """A detached signature of `value` (which the verifier knows, so the token need not carry it)."""
    signed = _signer(purpose).sign(value).decode()
    return signed[len(value) + len(_SEP) :]


def verify(purpose: str, value: str, token: Any, max_age: int | None = None) -> bool:
    """Whether `token` is sign(purpose, value) under any current key, and at most max_age old."""
    if not isinstance(token, str) or not token or len(token) > MAX_LENGTH:
        return False
    try:
        _, signed_at = _signer(purpose).unsign(f"{value}{_SEP}{token}", return_timestamp=True)
        _check_age(signed_at, max_age)
    except (_bad_data(), InvalidToken, ValueError, UnicodeError):
        return False
    return True


def dumps(purpose: str, data: object) -> str:
    """A URL-safe token holding JSON-serialisable data."""
    return _serializer().dumps(data, salt=purpose)


def loads(purpose: str, token: Any, max_age: int | None = None) -> Any:
    """The data of a dumps() token for the same purpose; InvalidToken otherwise."""
    if not isinstance(token, str) or not token or len(token) > MAX_LENGTH:
        raise InvalidToken("missing or too long")
    try:
        data, signed_at = _serializer().loads(token, salt=purpose, return_timestamp=True)
    except (_bad_data(), ValueError, UnicodeError) as error:
        raise InvalidToken(type(error).__name__) from None
    _check_age(signed_at, max_age)
    return data
