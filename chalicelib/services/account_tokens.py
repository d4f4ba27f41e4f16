"""One-time links for an account (password reset, email confirmation): `<user_id>.<secret>`.

The secret is 32 random bytes; only its SHA-256 is stored, on the user's own item, so a link is
checked with one GetItem and no index, and a newer link overwrites (invalidates) the older one.
"""

import hashlib
import hmac
import re
import secrets

LINK_TOKEN_RE = re.compile(r"^([0-9a-f]{32})\.([A-Za-z0-9_-]{43})$")


def new_link_token(user_id: str) -> tuple[str, str]:
    """(the token for the link, the hash to store)."""
    secret = secrets.token_urlsafe(32)
    return f"{user_id}.{secret}", _hash(secret)


def parse_link_token(token: object) -> tuple[str, str] | None:
    """(user_id, hash of the secret) of a well-formed token, else None."""
    match = LINK_TOKEN_RE.match(token) if isinstance(token, str) and len(token) < 100 else None
    if match is None:
        return None
    return match.group(1), _hash(match.group(2))


def same_hash(stored: str | None, presented: str) -> bool:
    return bool(stored) and hmac.compare_digest(str(stored), presented)


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode("ascii")).hexdigest()
