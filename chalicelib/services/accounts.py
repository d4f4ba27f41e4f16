"""Shopper and admin accounts: registration, login with throttling, deletion."""

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import TypeVar

from pynamodb.exceptions import DoesNotExist, PutError, UpdateError
from pynamodb.transactions import TransactWrite

from chalicelib import clock
from chalicelib.config import get_settings
from chalicelib.models import Admin, UniqueClaim, User, dynamo, shared_connection
from chalicelib.services import cart, passwords
from chalicelib.services.errors import ServiceError, ValidationFailed
from chalicelib.services.validation import (
    check_email,
    check_new_password,
    check_username,
    clean_text,
    raise_if,
)

LOGIN_FAILED_MESSAGE = "That username or password is not right, or the account is locked for a while."
IDENTIFIER_MAX = 254


class LoginFailed(ServiceError):
    """One message for unknown account, wrong password and lockout: no account enumeration."""

    def __init__(self) -> None:
        super().__init__(LOGIN_FAILED_MESSAGE)


@dataclass(frozen=True)
class Registration:
    username: str
    email: str
    password: str
    confirm_password: str


def _checked_identity(
    username: str, email: str, password: str, confirm: str, *, admin: bool = False
) -> tuple[str, str]:
    """Cleaned username and email, or ValidationFailed naming every bad field."""
    username, email = clean_text(username), clean_text(email)
    errors = {
        name: error for name, error in (("username", check_username(username)), ("email", check_email(email))) if error
    }
    errors.update(check_new_password(password, confirm, username=username, email=email, admin=admin))
    raise_if(errors)
    return username, email


def register(form: Registration) -> User:
    username, email = _checked_identity(form.username, form.email, form.password, form.confirm_password)

    now = clock.now()
    user_id = uuid.uuid4().hex
    user = User(
        pk=User.key_for(user_id),
        user_id=user_id,
        username=username,
        email=email,
        password_hash=passwords.hash_password(form.password),
        created_at=now,
    )
    username_claim = UniqueClaim(pk=UniqueClaim.username_key(username), user_id=user_id)
    email_claim = UniqueClaim(pk=UniqueClaim.email_key(email), user_id=user_id)

    def build(transaction: dynamo.Transaction) -> None:
        transaction.save("user", user, condition=User.pk.does_not_exist())
        transaction.save("username", username_claim, condition=UniqueClaim.pk.does_not_exist())
        transaction.save("email", email_claim, condition=UniqueClaim.pk.does_not_exist())

    try:
        # The token makes a botocore retry of a committed write succeed, not fail as "username taken";
        # botocore's retries are the only ones (one attempt here).
        dynamo.transact(build, attempts=1, client_request_token=user_id)
    except dynamo.ConditionsFailed as error:
        taken = {}
        if error.failed("username"):
            taken["username"] = "That username is taken. Choose another."
        if error.failed("email"):
            taken["email"] = "An account with that email already exists. Log in instead."
        if taken:
            raise ValidationFailed(taken) from error
        raise
    return user


def get_user(user_id: str) -> User | None:
    try:
        return User.get(User.key_for(user_id))
    except DoesNotExist:
        return None


def _find_user(identifier: str) -> User | None:
    key = UniqueClaim.email_key(identifier) if "@" in identifier else UniqueClaim.username_key(identifier)
    try:
        claim = UniqueClaim.get(key)
    except DoesNotExist:
        return None
    return get_user(claim.user_id)


def _find_admin(username: str) -> Admin | None:
    try:
        return Admin.get(username.casefold())
    except DoesNotExist:
        return None


Principal = TypeVar("Principal", User, Admin)


def _check_password_throttled(principal: Principal | None, password: str) -> Principal:
    """One bcrypt check whatever happens, so timing tells nothing; the principal, or LoginFailed."""
    now = clock.now()
    if principal is None or (principal.locked_until and principal.locked_until > now):
        passwords.burn_equal_time(password)
        raise LoginFailed()
    if not passwords.verify_password(password, principal.password_hash):
        _record_failure(principal)
        raise LoginFailed()
    if principal.failed_logins or principal.locked_until:
        _update_existing(principal, [type(principal).failed_logins.set(0), type(principal).locked_until.remove()])
    return principal


def _update_existing(principal: User | Admin, actions: list) -> bool:
    """Update only if the item still exists (a deleted account must not be re-created)."""
    model = type(principal)
    try:
        principal.update(actions=actions, condition=model._hash_key_attribute().exists())
        return True
    except UpdateError:
        return False


def _record_failure(principal: User | Admin) -> None:
    """Count a failure in a fixed window with atomic updates; lock the account at the limit."""
    settings = get_settings()
    model = type(principal)
    now = clock.now()
    window = timedelta(seconds=settings.login_window_seconds)
    started = principal.failed_window_start
    if started is None or now - started >= window:
        _update_existing(principal, [model.failed_logins.set(1), model.failed_window_start.set(now)])
    else:
        _update_existing(principal, [model.failed_logins.add(1)])
    if principal.failed_logins >= settings.login_max_failures:
        lock_until = now + timedelta(seconds=settings.login_lockout_seconds)
        _update_existing(
            principal,
            [model.locked_until.set(lock_until), model.failed_logins.set(0), model.failed_window_start.remove()],
        )


def authenticate(identifier: str, password: str) -> User:
    """The shopper for a username or email and password, or LoginFailed."""
    identifier = clean_text(identifier)
    user = _find_user(identifier) if identifier and len(identifier) <= IDENTIFIER_MAX else None
    return _check_password_throttled(user, password)


def authenticate_admin(username: str, password: str) -> Admin:
    username = clean_text(username)
    admin = _find_admin(username) if username and len(username) <= IDENTIFIER_MAX else None
    admin = _check_password_throttled(admin, password)
    if admin.disabled:  # after the bcrypt check: same answer and timing as a wrong password
        raise LoginFailed()
    return admin


def create_admin(username: str, email: str, password: str) -> Admin:
    """Only manage.py calls this: no route creates admins."""
    username, email = _checked_identity(username, email, password, password, admin=True)
    now = clock.now()
    admin = Admin(
        username_key=username.casefold(),
        username=username,
        email=email,
        password_hash=passwords.hash_password(password),
        created_at=now,
        password_changed_at=now,
    )
    try:
        admin.save(condition=Admin.username_key.does_not_exist())
    except PutError as error:
        # Only a failed condition means the name is taken; anything else (no connection, throttling,
        # a missing table) is the caller's to report as what it is.
        if error.cause_response_code != "ConditionalCheckFailedException":
            raise
        raise ValidationFailed({"username": "An admin with that username exists."}) from error
    return admin


# fn(user) run on account deletion before the user record goes; chalicelib.wiring adds them.
_deletion_steps: list[Callable[[User], None]] = []


def register_deletion_step(step: Callable[[User], None]) -> None:
    if step not in _deletion_steps:
        _deletion_steps.append(step)


def deletion_steps() -> tuple[Callable[[User], None], ...]:
    return tuple(_deletion_steps)


def discard_cart(user: User) -> None:
    """Account deletion step: the shopper's cart goes with the account."""
    cart.empty_cart(cart.user_owner(user.user_id))


def delete_account(user: User, password: str) -> None:
    """Confirm the password, then erase the shopper; sessions are ended by the caller's layer."""
    from chalicelib.services.sessions import end_all_sessions

    if not passwords.verify_password(password, user.password_hash):
        raise ValidationFailed({"password": "That password is not right."})
    for step in _deletion_steps:
        step(user)
    end_all_sessions(user.user_id)
    with TransactWrite(connection=shared_connection()) as transaction:
        transaction.delete(User(pk=user.pk))
        transaction.delete(UniqueClaim(pk=UniqueClaim.username_key(user.username)))
        transaction.delete(UniqueClaim(pk=UniqueClaim.email_key(user.email)))
