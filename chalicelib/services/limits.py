"""App rate limits on DynamoDB counters, safe under concurrency.

A slot is taken with ONE conditional UpdateItem (ADD count 1 if the window's count is under the
limit), so N parallel requests in N Lambdas never get more than `limit` slots per window. Windows
are fixed: the item key carries the window's start, so a new window is a new key (no reset step,
no read-modify-write); the TTL attribute only cleans up, and no expired item is ever read back.
Keys are hashed, so the table holds no usernames or client addresses.
"""

import hashlib
import logging
import math
from dataclasses import dataclass
from datetime import UTC, datetime

from pynamodb.exceptions import UpdateError
from pynamodb.expressions.condition import Condition
from pynamodb.expressions.update import Action

from chalicelib import clock
from chalicelib.config import get_settings
from chalicelib.logs import log_event
from chalicelib.models import RateCounter, dynamo
from chalicelib.services.errors import ServiceError

TOO_MANY_MESSAGE = "Too many attempts. Please wait a little and try again."


@dataclass(frozen=True)
class Limit:
    scope: str  # names the counter family in keys and logs: "login-client", "order-account"
    limit: int  # slots per window
    window_seconds: int


class RateLimited(ServiceError):
    """Over a limit: answered with 429 and Retry-After (seconds until the window rolls over)."""

    def __init__(self, scope: str, retry_after: int, message: str = TOO_MANY_MESSAGE) -> None:
        super().__init__(message)
        self.scope = scope
        self.retry_after = retry_after


def _counter_key(scope: str, key: str, window_start: int) -> str:
    digest = hashlib.sha256(f"{scope}\0{key}".encode()).hexdigest()[:32]
    return f"{scope}#{digest}#{window_start}"


@dataclass(frozen=True)
class _Slot:
    """One counter's conditional ADD for the current window."""

    limit: Limit
    counter: RateCounter
    actions: list[Action]
    condition: Condition
    seconds_left: float


def _slot(limit: Limit, key: str) -> _Slot:
    now = clock.now().timestamp()
    window_start = int(now // limit.window_seconds) * limit.window_seconds
    window_end = window_start + limit.window_seconds
    counter = RateCounter(pk=_counter_key(limit.scope, key, window_start))
    condition = RateCounter.pk.does_not_exist() | (RateCounter.taken < limit.limit)
    actions: list[Action] = [
        RateCounter.taken.add(1),
        # Kept one window past its end: DynamoDB's TTL deletes late anyway, and nothing reads it then.
        RateCounter.expires_at.set(datetime.fromtimestamp(window_end + limit.window_seconds, UTC)),
    ]
    return _Slot(limit, counter, actions, condition, window_end - now)


def take(limit: Limit, key: str) -> None:
    """Take one slot of `limit` for `key` in the current window, or raise RateLimited."""
    slot = _slot(limit, key)
    try:
        dynamo.retry_busy(lambda: slot.counter.update(actions=slot.actions, condition=slot.condition))
    except UpdateError as error:
        if not dynamo.condition_failed(error):
            raise
        try:
            _refuse(limit.scope, slot.seconds_left)
        except RateLimited as refused:
            raise refused from error


@dataclass(frozen=True)
class Backoff:
    """Growing delays instead of a hard lock: `free` attempts, then a wait of base_seconds that
    doubles with each further attempt, capped; forgotten `forget_seconds` after the last wait ends."""

    scope: str
    free: int
    base_seconds: int
    cap_seconds: int
    forget_seconds: int

    def wait_after(self, attempts: int) -> int:
        if attempts < self.free:
            return 0
        return int(min(self.cap_seconds, self.base_seconds * 2 ** min(attempts - self.free, 30)))


def take_backoff(backoff: Backoff, key: str) -> None:
    """Take the next attempt for `key`, or RateLimited while its wait runs. The read only chooses
    the condition: the slot itself is one UpdateItem conditioned on the values read, so of N
    parallel attempts exactly one gets it. Each attempt counts as a failure until `reset`."""
    now = clock.now().timestamp()
    counter = RateCounter(pk=_counter_key(backoff.scope, key, 0))
    try:
        seen: RateCounter | None = dynamo.retry_busy(lambda: RateCounter.get(counter.pk, consistent_read=True))
    except RateCounter.DoesNotExist:
        seen = None
    # TTL deletes late: an item past its expiry is read as no item (its values still guard the write).
    live = seen is not None and seen.expires_at.timestamp() > now
    not_before = float(seen.not_before or 0) if seen is not None and live else 0.0
    if not_before > now:
        _refuse(backoff.scope, not_before - now)
    attempts = int(seen.taken) + 1 if seen is not None and live else 1
    wait = backoff.wait_after(attempts)
    if seen is None:
        condition = RateCounter.pk.does_not_exist()
    else:
        condition = (RateCounter.taken == seen.taken) & (RateCounter.not_before == seen.not_before)
    actions: list[Action] = [
        RateCounter.taken.set(attempts),
        RateCounter.not_before.set(now + wait),
        RateCounter.expires_at.set(datetime.fromtimestamp(now + wait + backoff.forget_seconds, UTC)),
    ]
    try:
        dynamo.retry_busy(lambda: counter.update(actions=actions, condition=condition))
    except UpdateError as error:
        if not dynamo.condition_failed(error):
            raise
        _refuse(backoff.scope, max(1, wait))  # a parallel attempt took this slot


def reset_backoff(backoff: Backoff, key: str) -> None:
    """A success: the next attempt starts free again."""
    counter = RateCounter(pk=_counter_key(backoff.scope, key, 0))
    dynamo.retry_busy(counter.delete)


def _refuse(scope: str, seconds: float) -> None:
    retry_after = max(1, math.ceil(seconds))
    log_event("rate_limited", logging.WARNING, scope=scope, retry_after=retry_after)
    raise RateLimited(scope, retry_after)


def take_all(*slots: tuple[Limit, str]) -> None:
    """Take a slot of each (limit, key) in one transaction (one call on a hot path such as placing
    an order): all or none, so a refusal takes no slot; the first one, in the order given, that is
    over its limit raises."""
    taken = [_slot(limit, key) for limit, key in slots]

    def build(transaction: dynamo.Transaction) -> None:
        for number, slot in enumerate(taken):
            transaction.update(f"{number}", slot.counter, actions=slot.actions, condition=slot.condition)

    try:
        dynamo.transact(build)
    except dynamo.ConditionsFailed as failed:
        for number, slot in enumerate(taken):
            if failed.failed(f"{number}"):
                try:
                    _refuse(slot.limit.scope, slot.seconds_left)
                except RateLimited as refused:
                    raise refused from failed
        raise


ORDER_WINDOW_SECONDS = 600
REGISTER_WINDOW_SECONDS = 3600

LOGIN_PAIR = "login-pair"  # guesses at one account from one client address: growing delays
LOGIN_DEVICE = "login-device"  # one account from a browser that logged in to it before
LOGIN_ACCOUNT = "login-account"  # one account from every browser it has not seen: the ceiling
LOGIN_CLIENT = "login-client"  # one client address across accounts (password spraying)
DELETE_CHECK = "delete-check"  # account-deletion password checks per account
REGISTER_CLIENT = "register-client"
ORDER_ACCOUNT = "order-account"
ORDER_CLIENT = "order-client"

# scope -> (the Settings field with its slots per window, its window: seconds or a Settings field)
_CONFIGURED: dict[str, tuple[str, str | int]] = {
    LOGIN_DEVICE: ("login_device_limit", "login_window_seconds"),
    LOGIN_ACCOUNT: ("login_account_ceiling", "login_window_seconds"),
    LOGIN_CLIENT: ("login_client_limit", "login_window_seconds"),
    DELETE_CHECK: ("delete_check_limit", "login_window_seconds"),
    REGISTER_CLIENT: ("register_client_limit", REGISTER_WINDOW_SECONDS),
    ORDER_ACCOUNT: ("order_account_limit", ORDER_WINDOW_SECONDS),
    ORDER_CLIENT: ("order_client_limit", ORDER_WINDOW_SECONDS),
}


def configured(scope: str) -> Limit:
    """The stage's limit for `scope` (docs/operations.md, "App limits")."""
    settings = get_settings()
    slots_field, window = _CONFIGURED[scope]
    window_seconds = window if isinstance(window, int) else int(getattr(settings, window))
    return Limit(scope, int(getattr(settings, slots_field)), window_seconds)


def login_backoff() -> Backoff:
    """Per (account, client address): LOGIN_MAX_FAILURES attempts free, then 2 s doubling per
    attempt up to LOGIN_BACKOFF_CAP_SECONDS; forgotten a login window after the last wait."""
    settings = get_settings()
    return Backoff(
        LOGIN_PAIR, settings.login_max_failures, 2, settings.login_backoff_cap_seconds, settings.login_window_seconds
    )


def check_place_order(account: str, client_ip: str) -> None:
    """A slot to place an order, per account and per client address (pages and API alike)."""
    take_all((configured(ORDER_CLIENT), client_ip), (configured(ORDER_ACCOUNT), account))
