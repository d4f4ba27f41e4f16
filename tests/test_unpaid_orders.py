"""Pay on delivery cannot hoard stock: at most N open unpaid orders per owner, N pairs of one shoe
per order, the counter changed only inside the order transactions."""

import threading

import pytest

from chalicelib.config import get_settings
from chalicelib.models import Order, Stock
from chalicelib.services import cart, checkout, fulfilment, unpaid_orders
from chalicelib.services.errors import ValidationFailed
from tests.factories import ADDRESS, make_shoe, make_user
from tests.test_cart_line_cap import atomic_moto_with_latency  # noqa: F401 (fixture: DynamoDB-atomic calls)


@pytest.fixture
def deployed_limits(monkeypatch):
    """The limits as a deployed stage has them (tests/conftest.py raises them for other areas)."""
    monkeypatch.delenv("UNPAID_ORDER_LIMIT")
    monkeypatch.delenv("UNPAID_PAIRS_PER_SHOE")
    get_settings.cache_clear()
    yield get_settings()
    monkeypatch.undo()
    get_settings.cache_clear()


def test_the_deployed_defaults(deployed_limits):
    assert deployed_limits.unpaid_order_limit == 2 and deployed_limits.unpaid_pairs_per_shoe == 4


def _order(user, shoe, quantity: int, key: str):
    cart.add_item(cart.user_owner(user.user_id), shoe.shoe_id, "42", str(quantity))
    return checkout.place_order(user, key)


def test_at_most_two_open_unpaid_orders_and_delivery_or_cancel_gives_a_slot_back(deployed_limits):
    shoe = make_shoe(stock={"42": 50})
    alice = make_user("alice", address=ADDRESS)
    owner_key = unpaid_orders.owner_key_for_user(alice.user_id)
    first = _order(alice, shoe, 1, "key-unpaid-1").order
    second = _order(alice, shoe, 1, "key-unpaid-2").order
    assert unpaid_orders.open_orders(owner_key) == 2
    with pytest.raises(unpaid_orders.TooManyUnpaidOrders, match="already have 2 pay-on-delivery orders"):
        _order(alice, shoe, 1, "key-unpaid-3")
    assert int(Stock.get(shoe.shoe_id, "42").quantity) == 48  # the refused order took nothing
    assert len(list(Order.by_user.query(alice.user_id))) == 2
    fulfilment.transition(first.order_id, "cancelled", "boss")
    assert unpaid_orders.open_orders(owner_key) == 1
    third = checkout.place_order(alice, "key-unpaid-3").order  # the cart line is still there
    fulfilment.transition(second.order_id, "shipped", "boss")
    fulfilment.transition(second.order_id, "delivered", "boss")
    assert unpaid_orders.open_orders(owner_key) == 1  # only the third is still open
    assert third.status == "placed"


def test_a_pay_on_delivery_order_takes_at_most_four_pairs_of_one_shoe(deployed_limits):
    shoe = make_shoe(name="Runner", stock={"42": 50, "43": 50})
    alice = make_user("alice", address=ADDRESS)
    owner = cart.user_owner(alice.user_id)
    cart.add_item(owner, shoe.shoe_id, "42", "3")
    cart.add_item(owner, shoe.shoe_id, "43", "2")  # 5 pairs of one shoe across two sizes
    with pytest.raises(ValidationFailed, match="at most 4 pairs of one shoe per order"):
        checkout.place_order(alice, "key-pairs-1")
    assert list(Order.by_user.query(alice.user_id)) == []
    cart.set_quantity(owner, f"{shoe.shoe_id}#43", "1")
    assert checkout.place_order(alice, "key-pairs-1").created


def test_parallel_orders_never_pass_the_open_order_limit(atomic_moto_with_latency, deployed_limits):  # noqa: F811
    shoe = make_shoe(stock={"42": 50})
    alice = make_user("alice", address=ADDRESS)
    outcomes: list[str] = []
    barrier = threading.Barrier(6)

    def place(n: int) -> None:
        owner = cart.user_owner(alice.user_id)
        barrier.wait()
        try:
            cart.add_item(owner, shoe.shoe_id, "42", "1")
            checkout.place_order(alice, f"key-parallel-{n}")
            outcomes.append("placed")
        except Exception as error:
            outcomes.append(type(error).__name__)

    threads = [threading.Thread(target=place, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    placed = list(Order.by_user.query(alice.user_id))
    assert len(placed) <= 2 and outcomes.count("placed") == len(placed)
    assert unpaid_orders.open_orders(unpaid_orders.owner_key_for_user(alice.user_id)) == len(placed)
