"""Signing keys and password pepper: from SSM once per warm Lambda on first use, or locally from
the environment (generated when unset).

The signing-key value is a comma-separated list of base64 keys, newest first: the newest signs,
every one verifies, so `make rotate-signing-key` keeps the previous key and tokens issued before a
rotation stay valid. The pepper never rotates (bcrypt hashes depend on it), so keys that must
stay stable forever, such as the one order ids derive from, are derived from it.
"""

import base64
import hashlib
import os
import secrets as _random
from dataclasses import dataclass

from chalicelib.config import get_settings


@dataclass(frozen=True)
class Secrets:
    signing_keys: tuple[bytes, ...]  # newest first: CSRF tokens, flash cookies, cursors, checkout keys
    password_pepper: bytes  # HMAC key for pre-hashing passwords before bcrypt; never rotated
    # Stripe (optional: a stage without them offers no card payments)
    stripe_secret_key: str = ""
    stripe_webhook_secret: str = ""

    @property
    def signing_key(self) -> bytes:
        """The key new signatures use."""
        return self.signing_keys[0]

    @property
    def order_id_key(self) -> bytes:
        """Order ids: derived from the never-rotated pepper (a keyed BLAKE2b personalised for this
        use only, so it equals no password pre-hash), so a signing-key rotation cannot give a
        retried checkout a new order id."""
        return hashlib.blake2b(b"", key=self.password_pepper, person=b"order-id-key", digest_size=32).digest()


_cached: Secrets | None = None

SIGNING_KEY_NAME = "signing-key"
PEPPER_NAME = "password-pepper"
STRIPE_SECRET_KEY_NAME = "stripe-secret-key"
STRIPE_WEBHOOK_SECRET_NAME = "stripe-webhook-secret"
KEY_SEPARATOR = ","


def parse_signing_keys(value: str) -> tuple[bytes, ...]:
    """The keys of a signing-key value ("newest,previous"); empty when unset."""
    return tuple(base64.b64decode(part) for part in value.split(KEY_SEPARATOR) if part.strip())


def _decode(value: str) -> bytes:
    return base64.b64decode(value) if value else b""


def _from_ssm(prefix: str) -> Secrets:
    from chalicelib.aws import ssm_client

    names = [f"{prefix}/{SIGNING_KEY_NAME}", f"{prefix}/{PEPPER_NAME}"]
    optional = [f"{prefix}/{STRIPE_SECRET_KEY_NAME}", f"{prefix}/{STRIPE_WEBHOOK_SECRET_NAME}"]
    answer = ssm_client().get_parameters(Names=[*names, *optional], WithDecryption=True)
    values = {p["Name"].rsplit("/", 1)[-1]: p["Value"] for p in answer["Parameters"]}
    missing = [n for n in names if n.rsplit("/", 1)[-1] not in values]
    if missing:
        raise RuntimeError(f"missing SSM parameters: {', '.join(missing)}")
    signing_keys = parse_signing_keys(values[SIGNING_KEY_NAME])
    if not signing_keys:
        raise RuntimeError(f"empty SSM parameter: {prefix}/{SIGNING_KEY_NAME}")
    stripe = values.get(STRIPE_SECRET_KEY_NAME, ""), values.get(STRIPE_WEBHOOK_SECRET_NAME, "")
    return Secrets(signing_keys, _decode(values[PEPPER_NAME]), *stripe)


def _from_environment() -> Secrets:
    signing_keys = parse_signing_keys(os.environ.get("APP_SIGNING_KEY", ""))
    pepper = _decode(os.environ.get("APP_PASSWORD_PEPPER", ""))
    stripe = os.environ.get("STRIPE_SECRET_KEY", ""), os.environ.get("STRIPE_WEBHOOK_SECRET", "")
    return Secrets(signing_keys or (_random.token_bytes(32),), pepper or _random.token_bytes(32), *stripe)


def get_secrets() -> Secrets:
    global _cached
    if _cached is None:
        prefix = get_settings().ssm_prefix
        _cached = _from_ssm(prefix) if prefix else _from_environment()
    return _cached


def set_secrets(value: Secrets | None) -> None:
    """Install secrets (tests rotate keys with it); None reads them again on next use."""
    global _cached
    _cached = value


def reset_secrets() -> None:
    set_secrets(None)
