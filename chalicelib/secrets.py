"""Signing key and password pepper: from SSM once per warm Lambda on first use, or locally from
the environment (generated when unset).
"""

import base64
import os
import secrets as _random
from dataclasses import dataclass

from chalicelib.config import get_settings


@dataclass(frozen=True)
class Secrets:
    signing_key: bytes  # sessions, CSRF tokens, cursors, order ids
    password_pepper: bytes  # HMAC key for pre-hashing passwords before bcrypt


_cached: Secrets | None = None

SIGNING_KEY_NAME = "signing-key"
PEPPER_NAME = "password-pepper"


def _decode(value: str) -> bytes:
    return base64.b64decode(value) if value else b""


def _from_ssm(prefix: str) -> Secrets:
    from chalicelib.aws import ssm_client

    names = [f"{prefix}/{SIGNING_KEY_NAME}", f"{prefix}/{PEPPER_NAME}"]
    answer = ssm_client().get_parameters(Names=names, WithDecryption=True)
    values = {p["Name"].rsplit("/", 1)[-1]: p["Value"] for p in answer["Parameters"]}
    missing = [n for n in names if n.rsplit("/", 1)[-1] not in values]
    if missing:
        raise RuntimeError(f"missing SSM parameters: {', '.join(missing)}")
    return Secrets(_decode(values[SIGNING_KEY_NAME]), _decode(values[PEPPER_NAME]))


def _from_environment() -> Secrets:
    signing = _decode(os.environ.get("APP_SIGNING_KEY", ""))
    pepper = _decode(os.environ.get("APP_PASSWORD_PEPPER", ""))
    return Secrets(signing or _random.token_bytes(32), pepper or _random.token_bytes(32))


def get_secrets() -> Secrets:
    global _cached
    if _cached is None:
        prefix = get_settings().ssm_prefix
        _cached = _from_ssm(prefix) if prefix else _from_environment()
    return _cached


def reset_secrets() -> None:
    global _cached
    _cached = None
