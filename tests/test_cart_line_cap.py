"""The 25-line cart cap holds when many requests add at once (Lambda runs them in parallel)."""

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from moto.dynamodb.responses import DynamoHandler

from chalicelib.aws import dynamodb_client
from chalicelib.config import get_settings
from chalicelib.models import CartLine, CartLineCount
from chalicelib.services import cart, checkout
from chalicelib.services.errors import Conflict, ValidationFailed
from tests.factories import ADDRESS, make_shoe, make_user

ALICE = cart.user_owner("alice-id")
ADDERS = 40


@pytest.fixture
def atomic_moto_with_latency(monkeypatch):
    """Each DynamoDB call atomic, as DynamoDB's are (moto itself does not lock), and a few
    milliseconds of network after each, so parallel requests interleave between their calls."""
    lock = threading.Lock()
    call_action = DynamoHandler.call_action

    def atomic(self):
        with lock:
            return call_action(self)

    monkeypatch.setattr(DynamoHandler, "call_action", atomic)

    def network(**_kwargs):
        time.sleep(0.003)

    events = dynamodb_client().meta.events
    events.register("after-call.dynamodb", network)
    yield
    events.unregister("after-call.dynamodb", network)


def _stored_lines(owner: str) -> int:
    return sum(1 for _ in CartLine.query(owner, consistent_read=True))


def _counted(owner: str) -> int:
    return int(CartLineCount.get(CartLineCount.key_for(owner), CartLineCount.KEY, consistent_read=True).line_count)


def _add_all_at_once(owner: str, shoe_ids: list[str]) -> list[str]:
    start = threading.Barrier(len(shoe_ids))

    def add(shoe_id: str) -> str:
        start.wait()
        try:
            cart.add_item(owner, shoe_id, "42", 1)
        except ValidationFailed:
            return "full"
        except Conflict:
            return "busy"
        return "added"

    with ThreadPoolExecutor(max_workers=len(shoe_ids)) as pool:
        return list(pool.map(add, shoe_ids))


def test_40_parallel_adds_of_distinct_shoes_leave_at_most_25_lines(atomic_moto_with_latency):
    cap = get_settings().cart_max_lines
    shoe_ids = [make_shoe(stock={"42": 5}).shoe_id for _ in range(ADDERS)]
    outcomes = _add_all_at_once(ALICE, shoe_ids)
    lines = _stored_lines(ALICE)
    assert lines <= cap
    assert outcomes.count("added") == lines
    assert _counted(ALICE) == lines
    assert outcomes.count("full") >= ADDERS - cap


def test_after_checkout_and_removals_the_cart_can_fill_up_again_exactly_to_the_cap():
    alice = make_user("alice", address=ADDRESS)
    owner = cart.user_owner(alice.user_id)
    cap = get_settings().cart_max_lines
    shoes = [make_shoe(stock={"42": 5}) for _ in range(cap + 1)]
    for shoe in shoes[:cap]:
        cart.add_item(owner, shoe.shoe_id, "42", 1)
    with pytest.raises(ValidationFailed, match=f"at most {cap} different items"):
        cart.add_item(owner, shoes[cap].shoe_id, "42", 1)
    cart.remove_line(owner, CartLine.line_key(shoes[0].shoe_id, "42"))
    assert _counted(owner) == cap - 1
    cart.add_item(owner, shoes[cap].shoe_id, "42", 1)  # the freed slot
    assert checkout.place_order(alice, "key-cap-0001").created
    assert _stored_lines(owner) == 0
    for shoe in shoes[:cap]:
        cart.add_item(owner, shoe.shoe_id, "42", 1)
    assert _stored_lines(owner) == cap == _counted(owner)


def test_a_cart_from_before_the_counter_is_counted_before_it_grows():
    cap = get_settings().cart_max_lines
    shoes = [make_shoe(stock={"42": 5}) for _ in range(cap)]
    for shoe in shoes[: cap - 1]:
        cart.add_item(ALICE, shoe.shoe_id, "42", 1)
    CartLineCount(owner=CartLineCount.key_for(ALICE), line_id=CartLineCount.KEY).delete()  # an old cart
    cart.add_item(ALICE, shoes[-1].shoe_id, "42", 1)
    assert _counted(ALICE) == cap
    with pytest.raises(ValidationFailed):
        cart.add_item(ALICE, make_shoe(stock={"42": 5}).shoe_id, "42", 1)
