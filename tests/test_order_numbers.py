"""Readable order numbers: format, uniqueness through the claim in the placing transaction (also
under concurrent placement), the back office's find_by_number, and old orders without a number."""

import itertools
import re
import threading

from chalicelib.models import Order, OrderNumberClaim
from chalicelib.services import cart, checkout, order_numbers, orders
from tests.cart_fixtures import count_dynamodb_calls
from tests.factories import ADDRESS, make_shoe, make_user
from tests.test_cart_line_cap import atomic_moto_with_latency  # noqa: F401 (a fixture)
from tests.test_orders_routes import place_via_pages

NUMBER_RE = re.compile(r"^SS-[2-9A-HJ-NP-Z]{4}-[2-9A-HJ-NP-Z]{2}$")


def place(user, key: str = "key-00000001", shoe=None) -> Order:
    shoe = shoe or make_shoe(stock={"42": 50})
    cart.add_item(cart.user_owner(user.user_id), shoe.shoe_id, "42", "1")
    return checkout.place_order(user, key).order


def test_numbers_read_out_on_the_phone_have_no_0_o_1_or_i():
    numbers = {order_numbers.new_number() for _ in range(2000)}
    assert len(numbers) > 1990  # random, not a counter
    assert all(NUMBER_RE.match(number) for number in numbers)
    assert not any(char in "0O1I" for number in numbers for char in number[3:])


def test_normalise_forgives_case_dashes_spaces_and_the_prefix():
    for typed in ("SS-4F7K-2Q", "ss-4f7k-2q", "4F7K2Q", " ss 4f7k 2q ", "SS4F7K2Q", "4f7k-2q"):
        assert order_numbers.normalise(typed) == "SS-4F7K-2Q", typed
    for typed in ("SS-4F7K-20", "SS-4F7K", "OOOOOO", "", None, 42, "SS-4F7K-2Q-XX", "x" * 100):
        assert order_numbers.normalise(typed) is None, typed


def test_a_placed_order_has_a_number_and_its_claim_in_the_same_transaction():
    alice = make_user("alice", address=ADDRESS)
    shoe = make_shoe(stock={"42": 5})
    cart.add_item(cart.user_owner(alice.user_id), shoe.shoe_id, "42", "1")
    with count_dynamodb_calls() as calls:
        placed = checkout.place_order(alice, "key-00000001")
    assert calls["TransactWriteItems"] == 1 and calls["PutItem"] == 0
    stored = Order.get(placed.order.order_id)
    assert NUMBER_RE.match(stored.order_number) and stored.reference == stored.order_number
    assert OrderNumberClaim.get(OrderNumberClaim.key_for(stored.order_number)).order_id == stored.order_id
    # A double submit finds the first order, number and all; no second claim is made.
    again = checkout.place_order(alice, "key-00000001")
    assert not again.created and again.order.order_number == stored.order_number


def test_a_number_already_taken_is_replaced_by_another(monkeypatch):
    alice, bob = make_user("alice", address=ADDRESS), make_user("bob", address=ADDRESS)
    numbers = iter(["SS-2222-22", "SS-2222-22", "SS-3333-33"])
    monkeypatch.setattr(order_numbers, "new_number", lambda: next(numbers))
    first, second = place(alice), place(bob)
    assert (first.order_number, second.order_number) == ("SS-2222-22", "SS-3333-33")
    assert orders.find_by_number("ss 3333 33").order_id == second.order_id


def test_numbers_stay_unique_when_orders_collide_under_concurrent_placement(monkeypatch, atomic_moto_with_latency):  # noqa: F811
    shoppers = [make_user(f"buyer{n}", address=ADDRESS) for n in range(8)]
    shoe = make_shoe(stock={"42": 50})
    for user in shoppers:
        cart.add_item(cart.user_owner(user.user_id), shoe.shoe_id, "42", "1")
    # Every shopper's first pick is the same number: all but one transaction must pick again.
    counter = itertools.count()
    lock = threading.Lock()

    def colliding() -> str:
        with lock:
            n = next(counter)
        return "SS-2222-22" if n < len(shoppers) else f"SS-{'ABCDEFGH'[n % 8]}{'JKLMNPQR'[n // 8 % 8]}22-22"

    monkeypatch.setattr(order_numbers, "new_number", colliding)
    barrier = threading.Barrier(len(shoppers))
    results: dict[str, Order] = {}

    def buy(user) -> None:
        barrier.wait()
        results[user.username] = checkout.place_order(user, "key-race-0001").order

    threads = [threading.Thread(target=buy, args=(user,)) for user in shoppers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == len(shoppers)
    numbers = [Order.get(order.order_id).order_number for order in results.values()]
    assert len(set(numbers)) == len(shoppers) and numbers.count("SS-2222-22") == 1
    for order in results.values():
        assert orders.find_by_number(order.order_number).order_id == order.order_id


def test_find_by_number_is_none_for_unknown_or_malformed_numbers():
    order = place(make_user("alice", address=ADDRESS))
    assert orders.find_by_number(order.order_number.lower().replace("-", "")).order_id == order.order_id
    unknown = "SS-ZZZZ-ZZ" if order.order_number != "SS-ZZZZ-ZZ" else "SS-YYYY-YY"
    assert orders.find_by_number(unknown) is None
    assert orders.find_by_number("not a number") is None and orders.find_by_number(None) is None


def test_an_old_order_without_a_number_still_renders_with_its_id(shopper):
    shoe = make_shoe(stock={"42": 5})
    order_id = place_via_pages(shopper, shoe.shoe_id)
    Order.get(order_id).update(actions=[Order.order_number.remove()])
    for path in (f"/orders/{order_id}", "/orders", f"/orders/{order_id}?placed=1"):
        page = shopper.get(path)
        assert page.status_code == 200 and order_id in page.body.decode(), path
    assert checkout.ORDER_ID_RE.match(order_id)
