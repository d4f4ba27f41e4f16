"""The outbox: an email belongs to the state change it tells about, so it is written in the same
DynamoDB transaction as that change (`add`), or alone where there is no other change (`enqueue`).
Nothing here talks to SES: the table's stream feeds the sender (chalicelib.services.mailer), so a
request never waits on mail, and a failed transaction enqueues nothing.

A message's key is the caller's dedupe key ("order-placed#<order id>"), and every put is
conditioned on attribute_not_exists: a retried transaction or a second enqueue cannot queue it
twice. Status: pending -> sending -> sent, or failed (kept, with attempts and the last error, for
the operator) or suppressed (the address bounced or complained).
"""

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from pynamodb.exceptions import PutError, UpdateError

from chalicelib import clock
from chalicelib.models import EmailSuppression, OutboxMessage, dynamo

PENDING, SENDING, SENT, FAILED, SUPPRESSED = "pending", "sending", "sent", "failed", "suppressed"
UNSENT = (PENDING, SENDING, FAILED)  # what the `unsent` index holds
DEDUPE_KEY_MAX = 500
KEEP_DONE_FOR = timedelta(days=90)  # sent and suppressed messages, then DynamoDB's TTL deletes them
ROLE_PREFIX = "outbox:"


@dataclass(frozen=True)
class Message:
    """An email to send: `kind` names its templates (chalicelib.services.emails), `context` holds the
    plain JSON values they render, `dedupe_key` makes it one email however often it is queued."""

    kind: str
    recipient: str
    context: dict[str, Any] = field(default_factory=dict)
    dedupe_key: str = ""


def _plain_context(context: dict[str, Any]) -> dict[str, Any]:
    """The context as JSON would give it back (tuples become lists); anything else is refused now,
    at the change, rather than when the sender reads it."""
    try:
        plain = json.loads(json.dumps(context, allow_nan=False))
    except (TypeError, ValueError) as error:
        raise ValueError(f"An outbox context holds plain JSON values only: {error}") from error
    if not isinstance(plain, dict):
        raise ValueError("An outbox context is a mapping")
    return plain


def _check(message: Message) -> None:
    if not message.kind:
        raise ValueError("An outbox message needs a kind (its template)")
    key = message.dedupe_key
    if not key or len(key) > DEDUPE_KEY_MAX or key.startswith(EmailSuppression.PREFIX):
        raise ValueError(f"An outbox message needs a dedupe key of 1 to {DEDUPE_KEY_MAX} characters")


def to_item(message: Message) -> OutboxMessage:
    _check(message)
    now = clock.now()
    return OutboxMessage(
        message_id=message.dedupe_key,
        kind=message.kind,
        recipient=message.recipient.strip(),
        context=_plain_context(message.context),
        status=PENDING,
        queue=PENDING,
        created_at=now,
        created_sort=f"{clock.sortable(now)}#{message.dedupe_key}",
        attempts=0,
    )


def role(message: Message) -> str:
    """The message's role in a transaction (dynamo.ConditionsFailed names it if it was queued before)."""
    return f"{ROLE_PREFIX}{message.dedupe_key}"


def add(transaction: dynamo.Transaction, message: Message) -> None:
    """Queue `message` in `transaction`: it is written exactly when the transaction commits. If a
    message with the same dedupe key exists, the whole transaction is cancelled (role `role(message)`)."""
    transaction.save(role(message), to_item(message), condition=OutboxMessage.message_id.does_not_exist())


def enqueue(message: Message) -> bool:
    """Queue `message` alone (no other change to join); False when its dedupe key was queued before."""
    item = to_item(message)
    try:
        dynamo.retry_busy(lambda: item.save(condition=OutboxMessage.message_id.does_not_exist()))
    except PutError as error:
        if dynamo.condition_failed(error):
            return False
        raise
    return True


# -- what the operator sees (manage.py outbox --unsent, retry-email) ---------------------------------
def unsent(queue: str) -> Iterator[OutboxMessage]:
    """Messages in one of the UNSENT queues, oldest first: failed ones, and pending or sending ones
    that stayed there (the sender is not being called, or died mid-send)."""
    if queue not in UNSENT:
        raise ValueError(f"queue is one of {', '.join(UNSENT)}")
    return OutboxMessage.unsent.query(queue)


def get(message_id: str) -> OutboxMessage | None:
    try:
        return OutboxMessage.get(message_id, consistent_read=True)
    except OutboxMessage.DoesNotExist:
        return None


def retry(message_id: str) -> bool:
    """A failed message back to pending (attempts kept): the stream brings it to the sender again.
    False when there is no failed message of that id."""
    item = OutboxMessage(message_id=message_id)
    try:
        item.update(
            actions=[OutboxMessage.status.set(PENDING), OutboxMessage.queue.set(PENDING)],
            condition=OutboxMessage.status == FAILED,
        )
    except UpdateError as error:
        if dynamo.condition_failed(error):
            return False
        raise
    return True


def done_expiry() -> Any:
    return clock.now() + KEEP_DONE_FOR
