"""DynamoDB errors in one place: did a condition fail, is AWS busy, and transactions whose actions
carry a role, so a cancellation says which items failed ("stock:<shoe>#<size>", "order") instead
of an index into PynamoDB's action order. Busy answers are retried here with jittered backoff.
"""

import random
import time
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from pynamodb.exceptions import TransactWriteError
from pynamodb.expressions.condition import Condition
from pynamodb.expressions.update import Action
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from chalicelib.models.base import shared_connection

# AWS error codes meaning "busy, try again": retried here, answered with a 503 by the web layer.
AWS_BUSY_CODES = frozenset(
    {
        "TransactionConflict",
        "ThrottlingError",
        "ThrottlingException",
        "ProvisionedThroughputExceededException",
        "RequestLimitExceeded",
        "TransactionInProgressException",
        "InternalServerError",
        "ServiceUnavailable",
    }
)
CONDITION_FAILED = "ConditionalCheckFailed"  # a cancellation reason's code
CONDITION_FAILED_ERROR = "ConditionalCheckFailedException"  # a single write's error code

# Outer retries of a busy answer, on top of botocore's own (chalicelib.aws.MAX_ATTEMPTS per call).
RETRY_ATTEMPTS = 4
BACKOFF_BASE_SECONDS = 0.05
BACKOFF_CAP_SECONDS = 1.0
# No new attempt starts this long after the first: retries ride out a brief spike, and a slow
# attempt (timeouts, botocore's own backoff) is not repeated towards API Gateway's 29 s.
RETRY_BUDGET_SECONDS = 3.0
sleep: Callable[[float], None] = time.sleep  # tests replace it
monotonic: Callable[[], float] = time.monotonic  # tests replace it

T = TypeVar("T")


def _reason_codes(error: BaseException) -> list[str | None]:
    reasons = getattr(error, "cancellation_reasons", None) or []
    return [reason.code if reason is not None else None for reason in reasons]


def condition_failed(error: BaseException) -> bool:
    """A write refused by its condition (someone changed the item): final, never retried."""
    if getattr(error, "cause_response_code", None) == CONDITION_FAILED_ERROR:
        return True
    return CONDITION_FAILED in _reason_codes(error)


def is_busy(error: BaseException) -> bool:
    """Throttling, a conflict with another transaction or a 5xx: nothing was written, try again.
    A failed condition in the same cancellation wins: it would fail again."""
    if condition_failed(error):
        return False
    if AWS_BUSY_CODES.intersection(code for code in _reason_codes(error) if code):
        return True
    return getattr(error, "cause_response_code", None) in AWS_BUSY_CODES


def backoff_seconds(attempt: int) -> float:
    """Full jitter: a random pause up to base * 2**attempt, capped."""
    return random.uniform(0, min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2**attempt))  # noqa: S311 - jitter, not a secret  # nosec B311


def retry_busy(
    operation: Callable[[], T], attempts: int = RETRY_ATTEMPTS, budget_seconds: float = RETRY_BUDGET_SECONDS
) -> T:
    """Run `operation`; on a busy answer try again after a jittered pause, at most `attempts` times
    and never starting an attempt after `budget_seconds`. Anything else is raised at once."""
    started = monotonic()
    for attempt in range(attempts):
        try:
            return operation()
        except Exception as error:
            if not is_busy(error) or attempt == attempts - 1:
                raise
            pause = backoff_seconds(attempt)
            if monotonic() - started + pause > budget_seconds:
                raise
            sleep(pause)
    raise AssertionError("unreachable: the last attempt returns or raises")


class ConditionsFailed(Exception):
    """A transaction was cancelled because conditions failed; nothing was written.
    `roles` names the failed actions, as the caller named them."""

    def __init__(self, roles: Sequence[str], error: TransactWriteError) -> None:
        super().__init__(f"Transaction conditions failed: {', '.join(roles)}")
        self.roles = tuple(roles)
        self.error = error

    def failed(self, role: str) -> bool:
        return role in self.roles

    def with_prefix(self, prefix: str) -> list[str]:
        """The failed roles starting with `prefix`, prefix removed ("stock:" → ["<shoe>#<size>"])."""
        return [role[len(prefix) :] for role in self.roles if role.startswith(prefix)]


class Transaction:
    """A TransactWrite whose every action has a role. PynamoDB sends condition checks, then deletes,
    then puts, then updates (pynamodb/connection/base.py transact_write_items), whatever order they
    were added in; cancellation reasons follow that order, and `roles` follows it too."""

    def __init__(self, client_request_token: str | None = None) -> None:
        self._write = TransactWrite(connection=shared_connection(), client_request_token=client_request_token)
        self._checks: list[str] = []
        self._deletes: list[str] = []
        self._puts: list[str] = []
        self._updates: list[str] = []

    @property
    def roles(self) -> list[str]:
        """Roles in the order DynamoDB receives the actions (the order of cancellation reasons)."""
        return [*self._checks, *self._deletes, *self._puts, *self._updates]

    def _claim(self, role: str, group: list[str]) -> None:
        if role in self.roles:
            raise ValueError(f"Two actions share the role {role!r}")
        group.append(role)

    def condition_check(
        self, role: str, model_cls: type[Model], hash_key: Any, range_key: Any, condition: Condition
    ) -> None:
        self._claim(role, self._checks)
        self._write.condition_check(model_cls, hash_key, range_key=range_key, condition=condition)

    def delete(self, role: str, model: Model, condition: Condition | None = None) -> None:
        self._claim(role, self._deletes)
        self._write.delete(model, condition=condition)

    def save(self, role: str, model: Model, condition: Condition | None = None) -> None:
        self._claim(role, self._puts)
        self._write.save(model, condition=condition)

    def update(self, role: str, model: Model, actions: list[Action], condition: Condition | None = None) -> None:
        self._claim(role, self._updates)
        self._write.update(model, actions=actions, condition=condition)

    def failed_roles(self, error: TransactWriteError) -> list[str]:
        codes = _reason_codes(error)
        return [role for role, code in zip(self.roles, codes, strict=False) if code == CONDITION_FAILED]

    def commit(self) -> None:
        """Send the actions; a failed condition raises ConditionsFailed naming the failed roles."""
        try:
            self._write._commit()  # what `with TransactWrite(...)` calls on a clean exit
        except TransactWriteError as error:
            if condition_failed(error):
                raise ConditionsFailed(self.failed_roles(error), error) from error
            raise


def transact(
    build: Callable[[Transaction], None],
    attempts: int = RETRY_ATTEMPTS,
    client_request_token: str | None = None,
) -> None:
    """Build and commit one transaction, built afresh for each attempt when AWS is busy.
    Raises ConditionsFailed (final) or the busy TransactWriteError once the retries are spent."""

    def attempt() -> None:
        transaction = Transaction(client_request_token=client_request_token)
        build(transaction)
        transaction.commit()

    retry_busy(attempt, attempts=attempts)
