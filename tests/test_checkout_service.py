"""Checkout: address rules, placing orders in one transaction, idempotency, no overselling, retries."""

import pytest

from chalicelib import streams
from chalicelib.models import CartLine, Order, Stock, dynamo
from chalicelib.services import cart, checkout, payments
from chalicelib.services.errors import ValidationFailed
from tests.cart_fixtures import count_dynamodb_calls, fail_operation, throttled, transaction_conflict
from tests.factories import ADDRESS, make_shoe, make_user


@pytest.fixture
def alice():
    return make_user("alice", address=ADDRESS)


@pytest.fixture
def bob():
    return make_user("bob", address=ADDRESS)


def owner(user) -> str:
    return cart.user_owner(user.user_id)


def orders_of(user) -> list[Order]:
    return list(Order.by_user.query(user.user_id))


def test_address_requires_the_main_fields_and_names_each_problem():
    with pytest.raises(ValidationFailed) as raised:
        checkout.clean_address({"full_name": " ", "country": "XX", "postal_code": "<script>", "phone": "call me"})
    errors = raised.value.errors
    assert errors["full_name"] == "Enter your full name."
    assert errors["line1"] == "Enter your address line 1."
    assert errors["city"] == "Enter your city."
    assert errors["country"] == "Choose a country from the list."
    assert "postal code" in errors["postal_code"]
    assert "phone number" in errors["phone"]
    assert "line2" not in errors and "region" not in errors  # optional
    with pytest.raises(ValidationFailed) as raised:
        checkout.clean_address({**ADDRESS, "city": "x" * 61})
    assert raised.value.errors == {"city": "Use at most 60 characters."}
    assert checkout.clean_address({**ADDRESS, "country": "ie", "phone": "+353 1 234 5678"})["country"] == "IE"


def test_placing_an_order_is_one_transaction_that_moves_stock_into_the_order(alice, drain_streams):
    shoe = make_shoe(name="Runner", brand="Fleet", price_cents=3000, stock={"42": 5, "43": 2})
    cart.add_item(owner(alice), shoe.shoe_id, "42", "2")
    cart.add_item(owner(alice), shoe.shoe_id, "43", "1")
    drain_streams.read()  # what the set-up wrote

    with count_dynamodb_calls() as calls:
        placed = checkout.place_order(alice, "key-00000001")

    assert calls["TransactWriteItems"] == 1
    assert calls["PutItem"] == calls["UpdateItem"] == calls["DeleteItem"] == 0
    order = Order.get(placed.order.order_id)
    assert placed.created and order.status == "placed" and order.payment_method == "pay_on_delivery"
    assert [(line.name, line.brand, line.size, line.unit_price_cents, line.quantity) for line in order.lines] == [
        ("Runner", "Fleet", "42", 3000, 2),
        ("Runner", "Fleet", "43", 3000, 1),
    ]
    assert (order.subtotal_cents, order.shipping_cents, order.total_cents) == (9000, 0, 9000)
    assert order.address.as_dict()["full_name"] == "Alice Example"
    assert order.user_id == alice.user_id
    assert (Stock.get(shoe.shoe_id, "42").quantity, Stock.get(shoe.shoe_id, "42").sold) == (3, 2)
    assert (Stock.get(shoe.shoe_id, "43").quantity, Stock.get(shoe.shoe_id, "43").sold) == (1, 1)
    assert list(CartLine.query(owner(alice))) == []
    # The stock rows' changes are on the stock stream, where the catalogue's read model picks them up.
    stock_changes = [
        streams.decode(record, "shoeshop-test-")
        for record in drain_streams.read()
        if "-stock/" in record["eventSourceARN"]
    ]
    assert sorted((c.keys["size"], c.old["quantity"], c.new["quantity"]) for c in stock_changes) == [
        ("42", 5, 3),
        ("43", 2, 1),
    ]


def test_small_orders_pay_the_flat_shipping(alice):
    shoe = make_shoe(price_cents=2000, stock={"42": 5})
    cart.add_item(owner(alice), shoe.shoe_id, "42", "1")
    order = checkout.place_order(alice, "key-small-1").order
    assert (order.subtotal_cents, order.shipping_cents, order.total_cents) == (2000, 595, 2595)


def test_the_same_key_places_one_order_and_decrements_once(alice):
    shoe = make_shoe(stock={"42": 5})
    cart.add_item(owner(alice), shoe.shoe_id, "42", "2")
    first = checkout.place_order(alice, "key-double-1")
    again = checkout.place_order(alice, "key-double-1")  # double submit: the cart is now empty
    assert again.order.order_id == first.order.order_id and not again.created
    # A retry arriving after the shopper filled the cart again: the order put's condition fails,
    # nothing is written and the first order is the answer.
    cart.add_item(owner(alice), shoe.shoe_id, "42", "1")
    retry = checkout.place_order(alice, "key-double-1")
    assert retry.order.order_id == first.order.order_id and not retry.created
    assert len(orders_of(alice)) == 1
    assert Stock.get(shoe.shoe_id, "42").quantity == 3
    assert sum(int(line.quantity) for line in CartLine.query(owner(alice))) == 1


def test_two_shoppers_one_pair_left_exactly_one_order(alice, bob):
    shoe = make_shoe(name="Last Pair", stock={"42": 1})
    cart.add_item(owner(alice), shoe.shoe_id, "42", "1")
    cart.add_item(owner(bob), shoe.shoe_id, "42", "1")
    # Interleaved: both carts are read and reviewed before either places its order.
    assert checkout.review(alice.user_id).can_place and checkout.review(bob.user_id).can_place
    winner = checkout.place_order(bob, "bob-key-1")
    with pytest.raises(checkout.OutOfStock) as raised:
        checkout.place_order(alice, "alice-key-1")
    assert [line.words for line in raised.value.lines] == ["Last Pair (EU 42): sold out, removed from your cart."]
    assert "Nothing was ordered" in raised.value.message
    stock = Stock.get(shoe.shoe_id, "42")
    assert (stock.quantity, stock.sold) == (0, 1)
    assert [o.order_id for o in orders_of(bob)] == [winner.order.order_id]
    assert orders_of(alice) == []
    assert list(CartLine.query(owner(alice))) == []  # the cart was adjusted


def test_a_short_size_leaves_everything_unchanged_and_lowers_the_line(alice, bob):
    plenty = make_shoe(name="Plenty", stock={"40": 9})
    scarce = make_shoe(name="Scarce", stock={"42": 3})
    cart.add_item(owner(alice), plenty.shoe_id, "40", "2")
    cart.add_item(owner(alice), scarce.shoe_id, "42", "3")
    cart.add_item(owner(bob), scarce.shoe_id, "42", "2")
    checkout.place_order(bob, "bob-key-2")
    with pytest.raises(checkout.OutOfStock) as raised:
        checkout.place_order(alice, "alice-key-2")
    assert [line.words for line in raised.value.lines] == ["Scarce (EU 42): only 1 left, your cart now has 1."]
    assert Stock.get(plenty.shoe_id, "40").quantity == 9  # the other line's decrement was rolled back
    assert Stock.get(scarce.shoe_id, "42").quantity == 1
    assert {line.line_id: int(line.quantity) for line in CartLine.query(owner(alice))} == {
        f"{plenty.shoe_id}#40": 2,
        f"{scarce.shoe_id}#42": 1,
    }
    placed = checkout.place_order(alice, "alice-key-3")  # after the adjustment it goes through
    assert [int(line.quantity) for line in placed.order.lines] == [2, 1]


def test_checkout_form_keys_are_signed_per_shopper(alice, bob):
    key = checkout.new_checkout_key(alice.user_id)
    nonce = checkout.nonce_from_checkout_key(alice.user_id, key)
    assert key.startswith(nonce + ".")
    tampered = ("A" if key[0] != "A" else "B") + key[1:]
    for bad in (tampered, key + "x", "", None, "no-dot", key.replace(".", "..")):
        with pytest.raises(ValidationFailed, match="no longer valid"):
            checkout.nonce_from_checkout_key(alice.user_id, bad)
    with pytest.raises(ValidationFailed):
        checkout.nonce_from_checkout_key(bob.user_id, key)  # issued to Alice
    assert checkout.order_id_for(alice.user_id, nonce) != checkout.order_id_for(bob.user_id, nonce)


def test_empty_cart_and_missing_address_are_clear_errors(alice):
    with pytest.raises(checkout.EmptyCart, match="Your cart is empty"):
        checkout.place_order(alice, "key-empty-1")
    shoe = make_shoe(stock={"42": 5})
    user = make_user("carol")
    cart.add_item(owner(user), shoe.shoe_id, "42", "1")
    with pytest.raises(ValidationFailed, match="shipping address"):
        checkout.place_order(user, "key-noaddr-1")
    assert Stock.get(shoe.shoe_id, "42").quantity == 5


def test_a_transaction_conflict_is_retried_with_backoff(alice, monkeypatch):
    shoe = make_shoe(stock={"42": 5})
    cart.add_item(owner(alice), shoe.shoe_id, "42", "2")
    pauses = []
    monkeypatch.setattr(dynamo, "sleep", pauses.append)
    with fail_operation("TransactWriteItems", [transaction_conflict(3), throttled()]) as injected:
        placed = checkout.place_order(alice, "key-retry-1")
    assert len(injected) == 2 and len(pauses) == 2
    assert all(0 <= pause <= dynamo.BACKOFF_CAP_SECONDS for pause in pauses)
    assert placed.created
    assert Stock.get(shoe.shoe_id, "42").quantity == 3
    assert len(orders_of(alice)) == 1


def test_a_failed_condition_is_final_and_not_retried(alice, bob, monkeypatch):
    shoe = make_shoe(stock={"42": 1})
    cart.add_item(owner(alice), shoe.shoe_id, "42", "1")
    cart.add_item(owner(bob), shoe.shoe_id, "42", "1")
    checkout.place_order(bob, "bob-key-4")
    pauses = []
    monkeypatch.setattr(dynamo, "sleep", pauses.append)
    with count_dynamodb_calls() as calls, pytest.raises(checkout.OutOfStock):
        checkout.place_order(alice, "alice-key-4")
    assert calls["TransactWriteItems"] == 1 and pauses == []


def test_conflicts_that_never_clear_give_up_without_writing(alice, monkeypatch):
    from pynamodb.exceptions import TransactWriteError

    shoe = make_shoe(stock={"42": 5})
    cart.add_item(owner(alice), shoe.shoe_id, "42", "1")
    monkeypatch.setattr(dynamo, "sleep", lambda _seconds: None)
    with fail_operation("TransactWriteItems", [transaction_conflict(3)] * 10), pytest.raises(TransactWriteError):
        checkout.place_order(alice, "key-stuck-1")
    assert Stock.get(shoe.shoe_id, "42").quantity == 5
    assert orders_of(alice) == []


def test_a_cart_changed_between_review_and_place_is_refused(alice, monkeypatch):
    shoe = make_shoe(stock={"42": 5})
    cart.add_item(owner(alice), shoe.shoe_id, "42", "1")
    real_load = cart.load_cart

    def load_then_change(owner_key):
        view = real_load(owner_key)
        cart.set_quantity(owner_key, f"{shoe.shoe_id}#42", "3")  # another tab changes the line
        return view

    monkeypatch.setattr(cart, "load_cart", load_then_change)
    with pytest.raises(checkout.CartChanged):
        checkout.place_order(alice, "key-changed-1")
    assert Stock.get(shoe.shoe_id, "42").quantity == 5
    assert orders_of(alice) == []


def test_the_payment_provider_decides_the_first_status(alice):
    class Recorder:
        method = "test_card"

        def __init__(self):
            self.requests = []

        def prepare(self, request):
            self.requests.append(request)
            return payments.PaymentDecision(method=self.method, status="placed", note="Test card")

    recorder = Recorder()
    payments.set_provider(recorder)
    try:
        shoe = make_shoe(price_cents=10000, stock={"42": 5})
        cart.add_item(owner(alice), shoe.shoe_id, "42", "1")
        order = checkout.place_order(alice, "key-pay-1").order
    finally:
        payments.set_provider(None)
    assert recorder.requests[0].amount_cents == 10000 and recorder.requests[0].order_id == order.order_id
    assert order.payment_method == "test_card"
    assert isinstance(payments.provider(), payments.PayOnDelivery)
