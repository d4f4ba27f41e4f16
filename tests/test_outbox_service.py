"""The outbox API: a message is written with the change it belongs to, or not at all, and once."""

import pytest

from chalicelib.models import OutboxMessage, Stock, dynamo
from chalicelib.services import outbox
from tests.factories import make_shoe


def _message(key: str = "order-placed#A1", **context: object) -> outbox.Message:
    return outbox.Message(
        kind="order_placed", recipient=" alice@example.com ", context={"n": 1, **context}, dedupe_key=key
    )


def _stock_change(transaction: dynamo.Transaction, shoe_id: str, n: int) -> None:
    transaction.update(
        f"stock:{shoe_id}",
        Stock(shoe_id=shoe_id, size="42"),
        actions=[Stock.quantity.set(Stock.quantity - n)],
        condition=Stock.quantity >= n,
    )


def test_a_message_added_to_a_transaction_is_written_with_the_change():
    shoe = make_shoe({"42": 5})

    def build(transaction: dynamo.Transaction) -> None:
        _stock_change(transaction, shoe.shoe_id, 2)
        outbox.add(transaction, _message(lines=[("Trail", "42")]))

    dynamo.transact(build)
    item = OutboxMessage.get("order-placed#A1")
    assert (item.kind, item.recipient, item.status, item.queue, item.attempts) == (
        "order_placed",
        "alice@example.com",
        "pending",
        "pending",
        0,
    )
    assert item.context == {"n": 1, "lines": [["Trail", "42"]]}
    assert Stock.get(shoe.shoe_id, "42").quantity == 3


def test_a_failing_transaction_enqueues_nothing():
    shoe = make_shoe({"42": 1})

    def build(transaction: dynamo.Transaction) -> None:
        _stock_change(transaction, shoe.shoe_id, 2)  # only 1 on hand: the condition fails
        outbox.add(transaction, _message())

    with pytest.raises(dynamo.ConditionsFailed) as failed:
        dynamo.transact(build)
    assert failed.value.roles == (f"stock:{shoe.shoe_id}",)
    assert outbox.get("order-placed#A1") is None
    assert Stock.get(shoe.shoe_id, "42").quantity == 1


def test_a_retried_transaction_cannot_enqueue_twice():
    shoe = make_shoe({"42": 5})

    def build(transaction: dynamo.Transaction) -> None:
        _stock_change(transaction, shoe.shoe_id, 1)
        outbox.add(transaction, _message())

    dynamo.transact(build)
    with pytest.raises(dynamo.ConditionsFailed) as failed:
        dynamo.transact(build)
    assert failed.value.roles == (outbox.role(_message()),)
    assert Stock.get(shoe.shoe_id, "42").quantity == 4  # the repeat changed nothing


def test_enqueue_writes_a_lone_message_once():
    assert outbox.enqueue(_message("reset#1")) is True
    assert outbox.enqueue(_message("reset#1", n=2)) is False
    assert OutboxMessage.get("reset#1").context == {"n": 1}


@pytest.mark.parametrize(
    "message",
    [
        outbox.Message(kind="", recipient="a@example.com", dedupe_key="k"),
        outbox.Message(kind="x", recipient="a@example.com", dedupe_key=""),
        outbox.Message(kind="x", recipient="a@example.com", dedupe_key="SUPPRESS#a@example.com"),
        outbox.Message(kind="x", recipient="a@example.com", dedupe_key="k" * 501),
        outbox.Message(kind="x", recipient="a@example.com", context={"when": object()}, dedupe_key="k"),
    ],
)
def test_a_malformed_message_is_refused_before_anything_is_written(message):
    with pytest.raises(ValueError):
        outbox.enqueue(message)
    assert list(OutboxMessage.scan()) == []
