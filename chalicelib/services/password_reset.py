"""Forgotten passwords: a one-time link by email, valid 30 minutes.

No account enumeration: a request for an unknown address gets the same answer after the same
work (the same reads, one token, one rendered email, one transaction of two actions), so neither
the page nor its timing says whether the address has an account.
"""

import contextlib
from datetime import datetime, timedelta

from pynamodb.expressions.update import Action

from chalicelib import clock
from chalicelib.logs import log_event
from chalicelib.models import OutboxMessage, UniqueClaim, User, dynamo
from chalicelib.services import account_changes, account_emails, account_tokens, accounts, limits
from chalicelib.services.errors import ServiceError, ValidationFailed
from chalicelib.services.outbox import Message
from chalicelib.services.sessions import end_all_sessions
from chalicelib.services.validation import check_email, clean_text

RESET_TTL = timedelta(minutes=30)
SENT_MESSAGE = (
    "If an account uses that email address, we have sent it a link to set a new password. "
    "The link works for 30 minutes; check your spam folder if it does not arrive."
)
# Unknown addresses read and condition-check this key instead of a real user (no user_id is all zeros).
NO_USER_ID = "0" * 32


class InvalidResetLink(ServiceError):
    def __init__(self, expired: bool = False) -> None:
        super().__init__(
            "This password reset link has expired. Ask for a new one below."
            if expired
            else "This password reset link is not valid: it was already used, a newer one was sent, "
            "or it was copied incompletely. Ask for a new one below."
        )
        self.expired = expired


def _user_for_email(email: str) -> User | None:
    """Two GetItems whether or not the address has an account."""
    try:
        user_id = UniqueClaim.get(UniqueClaim.email_key(email)).user_id
    except UniqueClaim.DoesNotExist:
        user_id = NO_USER_ID
    try:
        return User.get(User.key_for(user_id))
    except User.DoesNotExist:
        return None


def request_reset(email: str, client_ip: str) -> None:
    """Email a reset link if the address has an account; the same outcome for the caller either way."""
    email = clean_text(email)
    problem = check_email(email)
    if problem:
        raise ValidationFailed({"email": problem})
    limits.take_all(
        (limits.configured(limits.RESET_CLIENT), client_ip), (limits.configured(limits.RESET_EMAIL), email.casefold())
    )
    user = _user_for_email(email)
    token, token_hash = account_tokens.new_link_token(user.user_id if user else NO_USER_ID)
    expires_at = clock.now() + RESET_TTL
    recipient, username = (user.email, user.username) if user else (email, "")
    message = account_emails.password_reset(recipient, username, token, token_hash, expires_at)
    if user is not None:
        _store_reset(user, token_hash, expires_at, message)
    else:
        _same_work_for_nobody(email, message)
    log_event("password_reset_requested", account=user.user_id if user else "unknown", client_ip=client_ip)


def _store_reset(user: User, token_hash: str, expires_at: datetime, message: Message) -> None:
    actions: list[Action] = [User.reset_token_hash.set(token_hash), User.reset_expires_at.set(expires_at)]

    def build(transaction: dynamo.Transaction) -> None:
        # Overwriting the hash is what invalidates any older link.
        transaction.update("user", user, actions, condition=User.pk.exists())
        account_emails.queue(transaction, message)

    dynamo.transact(build)


def _same_work_for_nobody(email: str, message: Message) -> None:
    """A transaction of two condition checks that write nothing, on the outbox and users tables,
    in place of the email and the user update: one TransactWriteItems round trip, as for a known
    address. The email was rendered into a message all the same, and is dropped here."""

    def build(transaction: dynamo.Transaction) -> None:
        absent = OutboxMessage.message_id.does_not_exist()
        transaction.condition_check("outbox", OutboxMessage, message.dedupe_key, None, absent)
        claim_key = UniqueClaim.email_key(email)
        transaction.condition_check("claim", UniqueClaim, claim_key, None, UniqueClaim.pk.does_not_exist())

    with contextlib.suppress(dynamo.ConditionsFailed):  # registered a moment ago: it asked before
        dynamo.transact(build)


def user_for_reset_token(token: str) -> User:
    """The user a live reset link belongs to, or InvalidResetLink (malformed, forged, used,
    superseded or expired)."""
    parsed = account_tokens.parse_link_token(token)
    user = accounts.get_user(parsed[0]) if parsed and parsed[0] != NO_USER_ID else None
    if parsed is None or user is None or not account_tokens.same_hash(user.reset_token_hash, parsed[1]):
        raise InvalidResetLink()
    if user.reset_expires_at is None or user.reset_expires_at <= clock.now():
        raise InvalidResetLink(expired=True)
    return user


def reset_password(token: str, password: str, confirm: str, client_ip: str) -> User:
    """Set the new password, end every session of the account, lift its login lockout."""
    user = user_for_reset_token(token)
    account_changes.checked_new_password(user, password, confirm)
    actions = account_changes.new_password_actions(password)
    token_hash = str(user.reset_token_hash)

    def build(transaction: dynamo.Transaction) -> None:
        # Single use even when two tabs submit at once: only one finds the hash still there.
        transaction.update("user", user, actions, condition=User.reset_token_hash == token_hash)
        account_emails.queue(transaction, account_emails.password_changed(user.email, user.username))

    try:
        dynamo.transact(build)
    except dynamo.ConditionsFailed as error:
        raise InvalidResetLink() from error
    ended = end_all_sessions(user.user_id)
    accounts.clear_login_lockout(user, client_ip)
    log_event("password_reset", account=user.user_id, client_ip=client_ip, sessions_ended=ended)
    return user
