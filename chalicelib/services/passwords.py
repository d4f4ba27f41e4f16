"""Passwords: an HMAC-SHA-256 pre-hash with a pepper (no 72-byte bcrypt limit), then bcrypt."""

import base64
import hashlib
import hmac
from functools import lru_cache

import bcrypt

from chalicelib.config import get_settings
from chalicelib.secrets import get_secrets


def _prehash(password: str) -> bytes:
    digest = hmac.new(get_secrets().password_pepper, password.encode("utf-8"), hashlib.sha256).digest()
    return base64.b64encode(digest)


def hash_password(password: str) -> str:
    salt = bcrypt.gensalt(rounds=get_settings().bcrypt_rounds)
    return bcrypt.hashpw(_prehash(password), salt).decode("ascii")


def verify_password(password: str, stored_hash: str) -> bool:
    try:
        return bcrypt.checkpw(_prehash(password), stored_hash.encode("ascii"))
    except ValueError:
        return False


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    return hash_password("not-a-real-password: equalises timing for unknown accounts")


def burn_equal_time(password: str) -> None:
    """Spend one bcrypt check, as a real login would, when there is no account to check against."""
    verify_password(password, _dummy_hash())
