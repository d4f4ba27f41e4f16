"""Shopper and admin accounts: registration, login with attempt limits, deletion."""

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from pynamodb.exceptions import DoesNotExist, PutError, UpdateError

from chalicelib import clock
from chalicelib.logs import log_event
from chalicelib.models import Admin, UniqueClaim, User, dynamo
from chalicelib.models.accounts import ADMIN_ROLES, OWNER
from chalicelib.services import account_emails, cart, limits, passwords
from chalicelib.services.errors import ServiceError, ValidationFailed
from chalicelib.services.validation import (
    check_email,
    check_new_password,
    check_username,
    clean_text,
    raise_if,
)

LOGIN_FAILED_MESSAGE = "That username or password is not right."
IDENTIFIER_MAX = 254


class LoginFailed(ServiceError):
    """One message for unknown account and wrong password: no account enumeration."""

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


def register(form: Registration, client_ip: str = "") -> User:
    username, email = _checked_identity(form.username, form.email, form.password, form.confirm_password)
    limits.take(limits.configured(limits.REGISTER_CLIENT), client_ip)  # after validation: a typo costs no slot

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


@dataclass(frozen=True)
class LoginClient:
    """Who is trying to log in: the client address, and what a signed device cookie says (the
    account this browser logged in to before, and the device's random id), if it sent one."""

    ip: str = ""
    device_account: str | None = None
    device_id: str | None = None


def account_key(principal: User | Admin) -> str:
    """The name limits and device cookies use for an account (admins apart from shoppers)."""
    return principal.user_id if isinstance(principal, User) else f"admin:{principal.username_key}"


def _take_login_attempt(key: str, client: LoginClient) -> bool:
    """Take this login's attempt slots, or raise RateLimited. A remembered device is judged by its
    own counter only, so strangers' failures (whatever their number or address) never keep the
    owner's browser out. True when the (account, client) backoff was taken (reset on success)."""
    limits.take(limits.configured(limits.LOGIN_CLIENT), client.ip)
    if client.device_id and client.device_account == key:
        limits.take(limits.configured(limits.LOGIN_DEVICE), f"{key}\0{client.device_id}")
        return False
    limits.take(limits.configured(limits.LOGIN_ACCOUNT), key)
    limits.take_backoff(limits.login_backoff(), f"{key}\0{client.ip}")
    return True


def _check_password_throttled(
    principal: Principal | None, identifier: str, password: str, client: LoginClient, kind: str
) -> Principal:
    """Attempt slots are taken (one conditional update each) BEFORE the bcrypt check, so parallel
    guesses never get more checks than the limits; then one bcrypt check whatever happens, so
    timing tells nothing. The principal, LoginFailed, or RateLimited (a 429)."""
    key = account_key(principal) if principal is not None else f"unknown:{identifier.casefold()}"
    known = key if principal is not None else "unknown"
    try:
        backed_off = _take_login_attempt(key, client)
    except limits.RateLimited as error:
        log_event("login_throttled", logging.WARNING, kind=kind, account=known, client_ip=client.ip, scope=error.scope)
        raise
    if principal is None:
        passwords.burn_equal_time(password)
    elif passwords.verify_password(password, principal.password_hash):
        if backed_off:
            limits.reset_backoff(limits.login_backoff(), f"{key}\0{client.ip}")
        log_event(f"{kind}_login", account=known, client_ip=client.ip, remembered_device=client.device_account == key)
        return principal
    log_event("login_failed", logging.WARNING, kind=kind, account=known, client_ip=client.ip)
    raise LoginFailed()


def authenticate(identifier: str, password: str, client: LoginClient | None = None) -> User:
    """The shopper for a username or email and password, or LoginFailed (or RateLimited)."""
    identifier = clean_text(identifier)
    user = _find_user(identifier) if identifier and len(identifier) <= IDENTIFIER_MAX else None
    user = _check_password_throttled(user, identifier[:IDENTIFIER_MAX], password, client or LoginClient(), "shopper")
    if user.reset_token_hash:  # a successful login invalidates a pending reset link
        user.update(
            actions=[User.reset_token_hash.remove(), User.reset_expires_at.remove()], condition=User.pk.exists()
        )
    return user


def clear_login_lockout(user: User, client_ip: str) -> None:
    """After a password reset: lift the growing delays of this (account, client) pair and the
    account's login ceiling for the current window. Other clients' delays stay: they belong to
    whoever was guessing there, and never slowed the owner's browser."""
    key = account_key(user)
    limits.reset_backoff(limits.login_backoff(), f"{key}\0{client_ip}")
    limits.clear_window(limits.configured(limits.LOGIN_ACCOUNT), key)


def authenticate_admin(username: str, password: str, client: LoginClient | None = None) -> Admin:
    username = clean_text(username)
    admin = _find_admin(username) if username and len(username) <= IDENTIFIER_MAX else None
    admin = _check_password_throttled(
        admin, f"admin:{username[:IDENTIFIER_MAX]}", password, client or LoginClient(), "admin"
    )
    if admin.disabled:  # after the bcrypt check: same answer and timing as a wrong password
        raise LoginFailed()
    if admin.role is None:  # stored before roles: record it as the owner it always was
        try:
            admin.update(actions=[Admin.role.set(OWNER)], condition=Admin.role.does_not_exist())
        except UpdateError as error:
            if not dynamo.condition_failed(error):  # else a parallel login stored it first
                raise
    return admin


def create_admin(username: str, email: str, password: str, role: str = OWNER) -> Admin:
    """For manage.py and the owners' admin page (services/admins.py add_admin)."""
    if role not in ADMIN_ROLES:
        raise ValidationFailed({"role": "Choose owner or staff."})
    username, email = _checked_identity(username, email, password, password, admin=True)
    now = clock.now()
    admin = Admin(
        username_key=username.casefold(),
        username=username,
        email=email,
        password_hash=passwords.hash_password(password),
        created_at=now,
        password_changed_at=now,
        role=role,
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


def delete_account(user: User, password: str, client_ip: str = "") -> None:
    """Confirm the password, then erase the shopper; sessions are ended by the caller's layer."""
    from chalicelib.services.sessions import end_all_sessions

    limits.take(limits.configured(limits.DELETE_CHECK), user.user_id)  # a stolen session must not guess the password
    if not passwords.verify_password(password, user.password_hash):
        log_event("delete_check_failed", logging.WARNING, account=user.user_id, client_ip=client_ip)
        raise ValidationFailed({"password": "That password is not right."})
    for step in _deletion_steps:
        step(user)
    end_all_sessions(user.user_id)

    def build(transaction: dynamo.Transaction) -> None:
        transaction.delete("user", User(pk=user.pk))
        transaction.delete("username", UniqueClaim(pk=UniqueClaim.username_key(user.username)))
        transaction.delete("email", UniqueClaim(pk=UniqueClaim.email_key(user.email)))
        account_emails.queue(transaction, account_emails.account_deleted(user.email, user.username, user.user_id))

    dynamo.transact(build)
