"""A shopper changes their password or email address; both need the current password."""

import logging
from datetime import timedelta

from pynamodb.expressions.update import Action

from chalicelib import clock
from chalicelib.logs import log_event
from chalicelib.models import UniqueClaim, User, dynamo
from chalicelib.services import account_emails, account_tokens, limits, passwords
from chalicelib.services.errors import ServiceError, ValidationFailed
from chalicelib.services.sessions import end_all_sessions
from chalicelib.services.validation import check_email, check_new_password, clean_text, raise_if

EMAIL_LINK_TTL = timedelta(hours=24)
WRONG_PASSWORD = "That password is not right."
CHANGED_MEANWHILE = "Your account changed while you were on this page. Reload it and try again."


class InvalidEmailLink(ServiceError):
    def __init__(self) -> None:
        super().__init__(
            "This confirmation link is not valid: it has expired, was already used, or a newer one was sent. "
            "Ask for the change again from your account page."
        )


def check_current_password(user: User, password: str, field: str = "current_password") -> None:
    """The current password, on the per-account counter account deletion shares (a stolen session
    gets a few guesses in all, not a few per form)."""
    limits.take(limits.configured(limits.DELETE_CHECK), user.user_id)
    if not passwords.verify_password(password, user.password_hash):
        log_event("password_check_failed", logging.WARNING, account=user.user_id)
        raise ValidationFailed({field: WRONG_PASSWORD})


def email_claimed(email: str) -> bool:
    try:
        UniqueClaim.get(UniqueClaim.email_key(email))
    except UniqueClaim.DoesNotExist:
        return False
    return True


def new_password_actions(password: str) -> list[Action]:
    """Set a new password hash; any pending reset link dies with the old password."""
    return [
        User.password_hash.set(passwords.hash_password(password)),
        User.reset_token_hash.remove(),
        User.reset_expires_at.remove(),
    ]


def checked_new_password(user: User, password: str, confirm: str) -> None:
    raise_if(check_new_password(password, confirm, username=user.username, email=user.email))


def change_password(user: User, current_password: str, password: str, confirm: str) -> None:
    """Set a new password and end every session of the account (the caller starts a new one for
    the browser that asked); the account's address is told."""
    check_current_password(user, current_password)
    checked_new_password(user, password, confirm)
    actions = new_password_actions(password)

    def build(transaction: dynamo.Transaction) -> None:
        # Conditioned on the hash just checked: a parallel change or reset wins, this one stops.
        transaction.update("user", user, actions, condition=User.password_hash == user.password_hash)
        account_emails.queue(transaction, account_emails.password_changed(user.email, user.username))

    try:
        dynamo.transact(build)
    except dynamo.ConditionsFailed as error:
        raise ServiceError(CHANGED_MEANWHILE) from error
    end_all_sessions(user.user_id)
    log_event("password_changed", account=user.user_id)


def request_email_change(user: User, new_email: str, current_password: str) -> str:
    """Send a confirmation link to the new address; nothing changes until it is followed."""
    new_email = clean_text(new_email)
    problem = check_email(new_email)
    if not problem and new_email.casefold() == user.email.casefold():
        problem = "That is already your email address."
    raise_if({"new_email": problem} if problem else {})
    check_current_password(user, current_password)
    if email_claimed(new_email):
        raise ValidationFailed({"new_email": "An account with that email already exists."})
    token, token_hash = account_tokens.new_link_token(user.user_id)
    actions: list[Action] = [
        User.pending_email.set(new_email),
        User.email_token_hash.set(token_hash),
        User.email_token_expires_at.set(clock.now() + EMAIL_LINK_TTL),
    ]

    def build(transaction: dynamo.Transaction) -> None:
        transaction.update("user", user, actions, condition=User.pk.exists())
        account_emails.queue(
            transaction, account_emails.email_change_confirm(new_email, user.username, token, token_hash)
        )

    dynamo.transact(build)
    log_event("email_change_requested", account=user.user_id)
    return new_email


def pending_email_user(token: str) -> User:
    """The user whose email change this link confirms, or InvalidEmailLink."""
    from chalicelib.services.accounts import get_user

    parsed = account_tokens.parse_link_token(token)
    user = get_user(parsed[0]) if parsed else None
    if parsed is None or user is None or not user.pending_email:
        raise InvalidEmailLink()
    if not account_tokens.same_hash(user.email_token_hash, parsed[1]):
        raise InvalidEmailLink()
    if user.email_token_expires_at is None or user.email_token_expires_at <= clock.now():
        raise InvalidEmailLink()
    return user


def confirm_email_change(token: str) -> User:
    """Move the unique-email claim and the address in one transaction; the old address is told."""
    user = pending_email_user(token)
    old_email, new_email = user.email, str(user.pending_email)
    token_hash = str(user.email_token_hash)
    old_claim = UniqueClaim(pk=UniqueClaim.email_key(old_email))
    new_claim = UniqueClaim(pk=UniqueClaim.email_key(new_email), user_id=user.user_id)
    actions: list[Action] = [
        User.email.set(new_email),
        User.pending_email.remove(),
        User.email_token_hash.remove(),
        User.email_token_expires_at.remove(),
        *user.search_actions(email=new_email),
    ]

    def build(transaction: dynamo.Transaction) -> None:
        transaction.delete("old-claim", old_claim, condition=UniqueClaim.user_id == user.user_id)
        transaction.save("new-claim", new_claim, condition=UniqueClaim.pk.does_not_exist())
        transaction.update("user", user, actions, condition=User.email_token_hash == token_hash)
        account_emails.queue(transaction, account_emails.email_changed(old_email, user.username, new_email, token_hash))

    try:
        dynamo.transact(build)
    except dynamo.ConditionsFailed as error:
        if error.failed("new-claim"):
            raise ServiceError(
                "That email address now belongs to another account. Your address is unchanged."
            ) from error
        raise InvalidEmailLink() from error
    log_event("email_changed", account=user.user_id)
    user.email = new_email
    return user
