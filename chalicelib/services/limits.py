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


def take(limit: Limit, key: str) -> None:
    """Take one slot of `limit` for `key` in the current window, or raise RateLimited."""
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
    try:
        dynamo.retry_busy(lambda: counter.update(actions=actions, condition=condition))
    except UpdateError as error:
        if not dynamo.condition_failed(error):
            raise
        retry_after = max(1, math.ceil(window_end - now))
        log_event("rate_limited", logging.WARNING, scope=limit.scope, retry_after=retry_after)
        raise RateLimited(limit.scope, retry_after) from error


def take_all(*slots: tuple[Limit, str]) -> None:
    """Take a slot of each (limit, key) in order; the first one over its limit raises."""
    for limit, key in slots:
        take(limit, key)


ORDER_WINDOW_SECONDS = 600
REGISTER_WINDOW_SECONDS = 3600

LOGIN_PAIR = "login-pair"  # guesses at one account from one client address
LOGIN_DEVICE = "login-device"  # one account from a browser that logged in to it before
LOGIN_ACCOUNT = "login-account"  # one account from every browser it has not seen: the ceiling
LOGIN_CLIENT = "login-client"  # one client address across accounts (password spraying)
DELETE_CHECK = "delete-check"  # account-deletion password checks per account
REGISTER_CLIENT = "register-client"
ORDER_ACCOUNT = "order-account"
ORDER_CLIENT = "order-client"

# scope -> (the Settings field with its slots per window, its window: seconds or a Settings field)
_CONFIGURED: dict[str, tuple[str, str | int]] = {
    LOGIN_PAIR: ("login_max_failures", "login_window_seconds"),
    LOGIN_DEVICE: ("login_max_failures", "login_window_seconds"),
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


def check_place_order(account: str, client_ip: str) -> None:
    """A slot to place an order, per account and per client address (pages and API alike)."""
    take_all((configured(ORDER_CLIENT), client_ip), (configured(ORDER_ACCOUNT), account))
