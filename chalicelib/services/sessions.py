"""Server-side sessions: random tokens in the cookie, only their SHA-256 in DynamoDB."""

import hashlib
import re
import secrets
from datetime import datetime, timedelta

from pynamodb.exceptions import DoesNotExist

from chalicelib import clock
from chalicelib.config import get_settings
from chalicelib.models import Session, dynamo
from chalicelib.models.base import plain_dict

GUEST = "guest"
SHOPPER = "shopper"
ADMIN = "admin"

TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{43}$")  # token_urlsafe(32)
# last_seen_at is written at most this often: idle expiry to the minute, not a write per page.
TOUCH_INTERVAL = timedelta(minutes=1)


def session_data(session: Session | None) -> dict:
    """The session's data map as a plain dict (PynamoDB loads a raw map as a MapAttribute)."""
    return plain_dict(session.data if session is not None else None)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def _expiry(role: str, created_at: datetime, last_seen_at: datetime) -> datetime:
    """Idle or absolute expiry, whichever is first; admin sessions idle out sooner than shoppers'."""
    settings = get_settings()
    absolute = created_at + timedelta(seconds=settings.session_absolute_seconds)
    idle_seconds = settings.admin_session_idle_seconds if role == ADMIN else settings.session_idle_seconds
    idle = last_seen_at + timedelta(seconds=idle_seconds)
    return min(absolute, idle)


def start_session(role: str, user_id: str | None = None, data: dict | None = None) -> tuple[str, Session]:
    """A new session: the raw token (for the cookie only) and the stored record."""
    now = clock.now()
    token = secrets.token_urlsafe(32)
    session = Session(
        token_hash=hash_token(token),
        role=role,
        user_id=user_id,
        created_at=now,
        last_seen_at=now,
        expires_at=_expiry(role, now, now),
        data=dict(data or {}),
    )
    session.save(condition=Session.token_hash.does_not_exist())
    return token, session


def load_session(token: str | None) -> Session | None:
    """The live session for a cookie token, or None (missing, malformed, expired or ended)."""
    if not token or not TOKEN_RE.match(token):
        return None
    try:
        session = Session.get(hash_token(token))
    except DoesNotExist:
        return None
    now = clock.now()
    if now >= _expiry(session.role, session.created_at, session.last_seen_at):
        session.delete()
        return None
    if now - session.last_seen_at >= TOUCH_INTERVAL:
        session.update(
            actions=[
                Session.last_seen_at.set(now),
                Session.expires_at.set(_expiry(session.role, session.created_at, now)),
            ],
            condition=Session.token_hash.exists(),
        )
    return session


def replace_session(old: Session | None, role: str, user_id: str | None) -> tuple[str, Session]:
    """A fresh token on login or any privilege change (no fixation); guest data carries over."""
    data = session_data(old)
    if old is not None:
        old.delete()
    return start_session(role, user_id, data)


def end_session(session: Session | None) -> None:
    if session is not None:
        session.delete()


def end_all_sessions(user_id: str) -> int:
    """End every session of a shopper or admin (account deletion); returns how many."""
    keys = [s.token_hash for s in Session.by_user.query(user_id)]
    with Session.batch_write() as batch:
        for token_hash in keys:
            batch.delete(Session(token_hash=token_hash))
    return len(keys)


def _changed_data(session: Session, changes: dict[str, object]) -> dict:
    data = session_data(session)
    for key, value in changes.items():
        if value is None:
            data.pop(key, None)
        else:
            data[key] = value
    return data


def save_session_data(session: Session, **changes: object) -> None:
    """Set keys of the session's small data map (None removes a key)."""
    data = _changed_data(session, changes)
    session.data = data
    session.update(actions=[Session.data.set(data)], condition=Session.token_hash.exists())


def save_session_data_in(transaction: dynamo.Transaction, session: Session, **changes: object) -> None:
    """The same write as one action of the caller's dynamo.Transaction (role "session"); the
    caller sets `session.data` once the transaction has committed (`changed_session_data`)."""
    data = _changed_data(session, changes)
    transaction.update("session", session, actions=[Session.data.set(data)], condition=Session.token_hash.exists())


def changed_session_data(session: Session, **changes: object) -> None:
    """This request's copy of the session after save_session_data_in's transaction committed."""
    session.data = _changed_data(session, changes)
