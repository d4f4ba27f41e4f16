""" "Email me when it's back": subscriptions per (shoe, size, email), and the stream consumer that
emails everyone waiting when a size comes back.

Every subscription change moves the size's waiting count in the same transaction (subscribe +1,
unsubscribe -1, send -1 together with the outbox email and the subscription's delete), so the
count is exact without counting, and a redelivered stream batch finds nobody left to email.
"""

import logging
from collections.abc import Sequence

from pynamodb.exceptions import DoesNotExist

from chalicelib import clock, sizes, streams, tokens
from chalicelib.logs import log_event
from chalicelib.models import RestockSubscription, RestockWaitCount, Stock, dynamo
from chalicelib.models.base import batch_get_raw
from chalicelib.models.catalogue import ACTIVE, Shoe
from chalicelib.models.restock import COUNT_KEY, SUBSCRIPTION_PREFIX, size_key
from chalicelib.services import account_emails, limits
from chalicelib.services.errors import ServiceError, ValidationFailed
from chalicelib.services.outbox import Message
from chalicelib.services.shoes import get_shoe
from chalicelib.services.validation import check_email, clean_text

UNSUBSCRIBE_PURPOSE = "restock-unsubscribe"
STOCK_TABLE = "stock"


class InvalidUnsubscribeLink(ServiceError):
    def __init__(self) -> None:
        super().__init__("This unsubscribe link is damaged. Copy the whole link from the email and try again.")


def subscribed_message(size_label: str, email: str) -> str:
    return f"We will email {email} once when {size_label} is back in stock."


def _offered_sold_out_size(shoe_id: str, size: str) -> Shoe:
    shoe = get_shoe(shoe_id, consistent_read=False)
    if shoe.status != ACTIVE or size not in (shoe.sizes or []):
        raise ValidationFailed({"size": "Choose a size this shoe is offered in."}, "Choose a size this shoe comes in.")
    try:
        on_hand = int(Stock.get(shoe_id, size).quantity)
    except DoesNotExist:
        on_hand = 0
    if on_hand > 0:
        raise ServiceError(f"{sizes.label(size, shoe.department)} is in stock now: add it to your cart.")
    return shoe


def subscribe(shoe_id: str, size: str, email: str, client_ip: str, user_id: str | None = None) -> str:
    """Put `email` on the list for a sold-out size; subscribing twice is one subscription (and the
    same answer). Returns the message to show."""
    email = clean_text(email)
    problem = check_email(email)
    if problem:
        raise ValidationFailed({"email": problem})
    shoe = _offered_sold_out_size(shoe_id, size)
    limits.take(limits.configured(limits.RESTOCK_CLIENT), client_ip)
    key = size_key(shoe_id, size)
    subscription = RestockSubscription(
        size_key=key,
        subscriber=RestockSubscription.subscriber_key(email),
        shoe_id=shoe_id,
        size=size,
        email=email,
        user_id=user_id,
        created_at=clock.now(),
    )

    def build(transaction: dynamo.Transaction) -> None:
        transaction.save("subscription", subscription, condition=RestockSubscription.subscriber.does_not_exist())
        transaction.update("count", RestockWaitCount(size_key=key), [RestockWaitCount.waiting.add(1)])

    try:
        dynamo.transact(build)
        log_event("restock_subscribed", shoe_id=shoe_id, size=size)
    except dynamo.ConditionsFailed:
        pass  # already waiting for this size: one subscription, same answer
    return subscribed_message(sizes.label(size, shoe.department), email)


def unsubscribe_token(shoe_id: str, size: str, email: str) -> str:
    return tokens.dumps(UNSUBSCRIBE_PURPOSE, [shoe_id, size, email])


def read_unsubscribe_token(token: str) -> tuple[str, str, str]:
    """(shoe_id, size, email) of a signed unsubscribe link, or InvalidUnsubscribeLink. No age
    limit: an alert may wait months, and the link must keep working."""
    try:
        data = tokens.loads(UNSUBSCRIBE_PURPOSE, token)
    except tokens.InvalidToken as error:
        raise InvalidUnsubscribeLink() from error
    if not (isinstance(data, list) and len(data) == 3 and all(isinstance(part, str) for part in data)):
        raise InvalidUnsubscribeLink()
    return data[0], data[1], data[2]


def _remove(subscription: RestockSubscription, email: Message | None = None) -> bool:
    """Delete one subscription and count it out (and queue its email) in one transaction; False
    when it was gone already (unsubscribed, or sent by an earlier delivery of the batch)."""

    def build(transaction: dynamo.Transaction) -> None:
        transaction.delete("subscription", subscription, condition=RestockSubscription.subscriber.exists())
        transaction.update(
            "count", RestockWaitCount(size_key=subscription.size_key), [RestockWaitCount.waiting.add(-1)]
        )
        if email is not None:
            account_emails.queue(transaction, email)

    try:
        dynamo.transact(build)
    except dynamo.ConditionsFailed:
        return False
    return True


def unsubscribe(token: str) -> tuple[str, str, str]:
    """Take the address off the list (again is fine); returns (shoe_id, size, email)."""
    shoe_id, size, email = read_unsubscribe_token(token)
    key = size_key(shoe_id, size)
    if _remove(RestockSubscription(size_key=key, subscriber=RestockSubscription.subscriber_key(email))):
        log_event("restock_unsubscribed", shoe_id=shoe_id, size=size)
    return shoe_id, size, email


def waiting_counts(shoe_id: str, offered: Sequence[str]) -> dict[str, int]:
    """People waiting per size, for the admin stock grid: one BatchGetItem of the counters."""
    counts = waiting_for([(shoe_id, size) for size in offered])
    return {size: counts[(shoe_id, size)] for size in offered}


def waiting_for(pairs: Sequence[tuple[str, str]]) -> dict[tuple[str, str], int]:
    """People waiting per (shoe, size), from the maintained counters: one BatchGetItem per 100
    pairs, so a page of the product list costs what its own sizes cost, whatever the catalogue."""
    found = dict.fromkeys(pairs, 0)
    table = RestockWaitCount.Meta.table_name
    wanted = list(found)
    for start in range(0, len(wanted), 100):
        keys = [
            {"size_key": {"S": size_key(shoe_id, size)}, "subscriber": {"S": COUNT_KEY}}
            for shoe_id, size in wanted[start : start + 100]
        ]
        request = {table: {"Keys": keys, "ProjectionExpression": "size_key, waiting"}}
        for item in batch_get_raw(request)[table]:
            shoe_id, _, size = item["size_key"]["S"].partition("#")
            found[(shoe_id, size)] = max(0, int(item.get("waiting", {}).get("N", "0")))
    return found


def send_alerts(shoe_id: str, size: str) -> int:
    """Email everyone waiting for this size, once each, removing their subscription; how many."""
    try:
        shoe = get_shoe(shoe_id)
    except ServiceError:
        return 0
    if shoe.status != ACTIVE:
        return 0  # an archived shoe cannot be bought: keep the list for when it returns
    name = f"{shoe.brand} {shoe.name}"
    size_label = sizes.label(size, shoe.department)
    condition = RestockSubscription.subscriber.startswith(SUBSCRIPTION_PREFIX)
    sent = 0
    for subscription in RestockSubscription.query(size_key(shoe_id, size), condition, consistent_read=True):
        token = unsubscribe_token(shoe_id, size, subscription.email)
        email = account_emails.back_in_stock(
            subscription.email, name, size_label, shoe_id, size, token, subscription.created_at
        )
        sent += _remove(subscription, email)
    if sent:
        log_event("restock_alerts_sent", shoe_id=shoe_id, size=size, count=sent)
    return sent


def _quantity(image: dict | None) -> int:
    value = (image or {}).get("quantity", 0)
    return int(value) if isinstance(value, int | float) else 0


def restocked_sizes(changes: Sequence[streams.Change]) -> list[tuple[str, str]]:
    """(shoe_id, size) of each stock row that went from none to some, in stream order."""
    found: dict[tuple[str, str], None] = {}
    for change in changes:
        if change.table != STOCK_TABLE or change.new is None:
            continue
        if _quantity(change.old) <= 0 < _quantity(change.new):
            found[(str(change.keys.get("shoe_id")), str(change.keys.get("size")))] = None
    return list(found)


def on_stock_changes(changes: Sequence[streams.Change]) -> None:
    """Stream consumer of the stock table (chalicelib.wiring): a size back from 0 (a restock, a
    cancelled or expired order) emails its subscribers. Idempotent: sending deletes each
    subscription in the email's own transaction, so a redelivered batch finds nobody left."""
    for shoe_id, size in restocked_sizes(changes):
        try:
            send_alerts(shoe_id, size)
        except Exception:
            log_event("restock_alerts_failed", logging.ERROR, shoe_id=shoe_id, size=size)
            raise  # the batch is retried; subscribers already emailed are gone, so none twice
