"""models.dynamo: failed conditions named by role (real moto transactions), busy answers retried
with bounded jittered backoff, failed conditions never retried."""

from types import SimpleNamespace

import pytest
from pynamodb.exceptions import PutError, TransactWriteError

from chalicelib import clock
from chalicelib.models import CartLine, Stock, dynamo
from chalicelib.services import products
from chalicelib.services.errors import Conflict
from tests.cart_fixtures import count_dynamodb_calls, fail_operation, throttled, transaction_conflict
from tests.factories import ADMIN, make_order, make_shoe
from tests.factories import shoe_via_admin as make_admin_shoe
from tests.fault_injection import no_backoff  # noqa: F401 (fixture)


def _line(owner: str, shoe_id: str, quantity: int) -> CartLine:
    return CartLine(
        owner=owner,
        line_id=CartLine.line_key(shoe_id, "42"),
        shoe_id=shoe_id,
        size="42",
        quantity=quantity,
        added_at=clock.now(),
    )


def _take(transaction: dynamo.Transaction, shoe_id: str, size: str, n: int) -> None:
    transaction.update(
        f"stock:{shoe_id}#{size}",
        Stock(shoe_id=shoe_id, size=size),
        actions=[Stock.quantity.set(Stock.quantity - n)],
        condition=Stock.quantity >= n,
    )


def test_failed_conditions_are_named_by_role_whatever_order_the_actions_were_added(no_backoff):  # noqa: F811
    plenty = make_shoe(stock={"42": 5, "43": 1})
    scarce = make_shoe(stock={"42": 1})
    kept = _line("USER#a", plenty.shoe_id, 2)
    kept.save()

    def build(transaction: dynamo.Transaction) -> None:
        # Added update, put, update, delete, check: PynamoDB sends check, delete, put, update.
        _take(transaction, plenty.shoe_id, "42", 2)
        transaction.save("cart:new", _line("USER#a", scarce.shoe_id, 1), condition=CartLine.line_id.exists())
        _take(transaction, scarce.shoe_id, "42", 3)
        transaction.delete("cart:kept", kept, condition=CartLine.quantity == 2)
        transaction.condition_check("other size", Stock, plenty.shoe_id, "43", condition=Stock.quantity >= 1)

    with count_dynamodb_calls() as calls, pytest.raises(dynamo.ConditionsFailed) as failed:
        dynamo.transact(build)
    assert failed.value.roles == ("cart:new", f"stock:{scarce.shoe_id}#42")
    assert failed.value.failed("cart:new") and not failed.value.failed("cart:kept")
    assert failed.value.with_prefix("stock:") == [f"{scarce.shoe_id}#42"]
    assert isinstance(failed.value.error, TransactWriteError)
    assert calls["TransactWriteItems"] == 1 and no_backoff == []  # a failed condition is final
    # Nothing was written.
    assert Stock.get(plenty.shoe_id, "42").quantity == 5 and Stock.get(scarce.shoe_id, "42").quantity == 1
    assert CartLine.get("USER#a", kept.line_id).quantity == 2


def test_roles_follow_the_order_dynamodb_receives_the_actions():
    shoe = make_shoe(stock={"42": 5})
    transaction = dynamo.Transaction()
    _take(transaction, shoe.shoe_id, "42", 1)
    transaction.save("order", _line("USER#a", shoe.shoe_id, 1))
    transaction.delete("cart:1", _line("USER#b", shoe.shoe_id, 1))
    transaction.condition_check("check", Stock, shoe.shoe_id, "42", condition=Stock.quantity >= 1)
    assert transaction.roles == ["check", "cart:1", "order", f"stock:{shoe.shoe_id}#42"]
    with pytest.raises(ValueError, match="share the role"):
        transaction.delete("order", _line("USER#c", shoe.shoe_id, 1))


def test_a_transaction_rides_out_throttling_and_conflicts_with_bounded_jittered_pauses(no_backoff):  # noqa: F811
    shoe = make_shoe(stock={"42": 5})
    injected = [throttled(), transaction_conflict(1), throttled()]
    with fail_operation("TransactWriteItems", injected) as seen:
        dynamo.transact(lambda transaction: _take(transaction, shoe.shoe_id, "42", 2))
    assert len(seen) == 3 and len(no_backoff) == 3
    assert all(
        0 <= pause <= min(dynamo.BACKOFF_CAP_SECONDS, dynamo.BACKOFF_BASE_SECONDS * 2**n)
        for n, pause in enumerate(no_backoff)
    )
    assert Stock.get(shoe.shoe_id, "42").quantity == 3  # applied once


def test_busy_answers_that_never_clear_give_up_after_the_attempts(no_backoff):  # noqa: F811
    shoe = make_shoe(stock={"42": 5})
    with fail_operation("TransactWriteItems", [throttled()] * 10) as seen, pytest.raises(TransactWriteError):
        dynamo.transact(lambda transaction: _take(transaction, shoe.shoe_id, "42", 2), attempts=3)
    assert len(seen) == 3 and len(no_backoff) == 2
    assert Stock.get(shoe.shoe_id, "42").quantity == 5


def test_no_attempt_starts_after_the_time_budget(monkeypatch, no_backoff):  # noqa: F811
    shoe = make_shoe(stock={"42": 5})
    readings = iter([100.0, 100.0 + dynamo.RETRY_BUDGET_SECONDS])  # the first attempt took it all

    def slow_clock() -> float:
        return next(readings)

    monkeypatch.setattr(dynamo, "monotonic", slow_clock)
    with fail_operation("TransactWriteItems", [throttled()] * 10) as seen, pytest.raises(TransactWriteError):
        dynamo.transact(lambda transaction: _take(transaction, shoe.shoe_id, "42", 1))
    assert len(seen) == 1 and no_backoff == []


def test_a_failed_condition_wins_over_a_conflict_in_the_same_cancellation(no_backoff):  # noqa: F811
    shoe = make_shoe(stock={"42": 1})
    mixed = {
        "Error": {"Code": "TransactionCanceledException", "Message": "Transaction cancelled"},
        "CancellationReasons": [{"Code": "TransactionConflict"}, {"Code": "ConditionalCheckFailed"}],
    }

    def build(transaction: dynamo.Transaction) -> None:
        transaction.update("first", Stock(shoe_id=shoe.shoe_id, size="42"), actions=[Stock.sold.add(0)])
        _take(transaction, shoe.shoe_id, "43", 1)

    with fail_operation("TransactWriteItems", [mixed]), pytest.raises(dynamo.ConditionsFailed) as failed:
        dynamo.transact(build)
    assert failed.value.roles == (f"stock:{shoe.shoe_id}#43",) and no_backoff == []


def test_single_writes_tell_a_failed_condition_from_a_busy_table():
    shoe = make_shoe(stock={"42": 1})
    line = _line("USER#a", shoe.shoe_id, 1)
    line.save()
    with pytest.raises(PutError) as refused:
        line.save(condition=CartLine.line_id.does_not_exist())
    assert dynamo.condition_failed(refused.value) and not dynamo.is_busy(refused.value)
    with fail_operation("PutItem", [throttled()]), pytest.raises(PutError) as busy:
        line.save()
    assert dynamo.is_busy(busy.value) and not dynamo.condition_failed(busy.value)


def test_retry_busy_raises_anything_else_at_once(no_backoff):  # noqa: F811
    calls = []

    def broken() -> None:
        calls.append(1)
        raise ValueError("a bug, not a busy table")

    with pytest.raises(ValueError):
        dynamo.retry_busy(broken)
    assert calls == [1] and no_backoff == []


def test_deleting_a_shoe_while_dynamodb_is_throttled_is_busy_not_a_conflict(no_backoff):  # noqa: F811
    """It used to answer "ordered or changed just now" to any failure, throttling included."""
    shoe = make_admin_shoe({"42": 3})
    with fail_operation("TransactWriteItems", [throttled()] * 10), pytest.raises(TransactWriteError) as busy:
        products.delete_shoe(shoe.shoe_id, ADMIN)
    assert not isinstance(busy.value, Conflict) and dynamo.is_busy(busy.value)
    assert products.get_shoe(shoe.shoe_id).shoe_id == shoe.shoe_id


def test_detaching_orders_while_dynamodb_is_throttled_stops_the_deletion_instead_of_skipping_orders(no_backoff):  # noqa: F811
    """It used to take throttling for a concurrent change, re-read three times and go on: the
    account was deleted while its orders kept the shopper's id and address."""
    from pynamodb.exceptions import UpdateError

    from chalicelib.models import Order
    from chalicelib.services import orders

    shoe = make_admin_shoe({"42": 3})
    order = make_order([(shoe.shoe_id, "42", 1)])
    user = SimpleNamespace(user_id=order.user_id)
    with fail_operation("UpdateItem", [throttled()] * 10), pytest.raises(UpdateError) as busy:
        orders.detach_orders(user)
    assert dynamo.is_busy(busy.value)
    assert Order.get(order.order_id).user_id == order.user_id  # nothing claimed to be detached
    orders.detach_orders(user)  # once DynamoDB answers, the step completes
    assert Order.get(order.order_id).user_id is None


def test_a_throttled_catalogue_index_save_is_busy_not_too_many_writers(no_backoff):  # noqa: F811
    """It used to take throttling for a concurrent writer and end in a RuntimeError (a 500 page)."""
    from chalicelib.services import catalogue_index

    make_shoe(stock={"42": 2})
    with fail_operation("PutItem", [throttled()] * 20), pytest.raises(PutError) as busy:
        catalogue_index.rebuild()
    assert dynamo.is_busy(busy.value) and len(no_backoff) == dynamo.RETRY_ATTEMPTS - 1
    with fail_operation("PutItem", [throttled()]):
        assert len(catalogue_index.rebuild().cards) == 1  # one busy answer is ridden out
