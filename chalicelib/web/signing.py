"""HMAC signing of small values (CSRF tokens, flash cookies, pagination cursors)."""

import base64
import hashlib
import hmac
import json

from chalicelib.secrets import get_secrets


def _mac(purpose: str, payload: bytes) -> str:
    key = get_secrets().signing_key
    digest = hmac.new(key, purpose.encode() + b"\x00" + payload, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def sign(purpose: str, value: str) -> str:
    return _mac(purpose, value.encode("utf-8"))


def verify(purpose: str, value: str, signature: str) -> bool:
    return hmac.compare_digest(sign(purpose, value), signature or "")


def dumps(purpose: str, data: object) -> str:
    """Opaque, tamper-evident token holding JSON data (not encrypted: hold nothing secret)."""
    raw = json.dumps(data, separators=(",", ":"), sort_keys=True).encode()
    body = base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
    return f"{body}.{_mac(purpose, raw)}"


def loads(purpose: str, token: str, max_length: int = 4096) -> object | None:
    """The data in a token from dumps(), or None if it is malformed or was tampered with."""
    if not token or len(token) > max_length or "." not in token:
        return None
    body, _, signature = token.partition(".")
    try:
        raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
    except (ValueError, TypeError):
        return None
    if not hmac.compare_digest(_mac(purpose, raw), signature):
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return None
