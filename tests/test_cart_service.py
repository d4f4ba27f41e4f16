"""The cart service: adding, capping, limits, bad input, reading with two calls, guest carts, merging."""

import pytest

from chalicelib.models import CartLine, Shoe
from chalicelib.services import cart, pricing
from chalicelib.services.errors import Conflict, NotFound, ValidationFailed
from tests.cart_fixtures import count_dynamodb_calls
from tests.factories import make_shoe

ALICE = cart.user_owner("alice-id")
BOB = cart.user_owner("bob-id")


def lines_of(owner: str) -> dict[str, int]:
    return {line.line_id: int(line.quantity) for line in CartLine.query(owner)}


def test_adding_the_same_shoe_and_size_again_grows_one_line():
    shoe = make_shoe(stock={"42": 8, "43": 8})
    cart.add_item(ALICE, shoe.shoe_id, "42", "2")
    cart.add_item(ALICE, shoe.shoe_id, "42", 3)
    cart.add_item(ALICE, shoe.shoe_id, "43", "1")
    assert lines_of(ALICE) == {f"{shoe.shoe_id}#42": 5, f"{shoe.shoe_id}#43": 1}


def test_adding_more_than_is_in_stock_caps_and_says_so():
    shoe = make_shoe(name="Court Classic", stock={"42": 3})
    change = cart.add_item(ALICE, shoe.shoe_id, "42", "5")
    assert change.capped
    assert "only 3 left" in change.message
    assert lines_of(ALICE) == {f"{shoe.shoe_id}#42": 3}
    with pytest.raises(Conflict, match="already have 3 pairs"):
        cart.add_item(ALICE, shoe.shoe_id, "42", "1")


def test_a_line_never_exceeds_the_per_line_limit():
    shoe = make_shoe(stock={"42": 50})
    cart.add_item(ALICE, shoe.shoe_id, "42", "8")
    change = cart.add_item(ALICE, shoe.shoe_id, "42", "8")
    assert change.capped and "at most 10 per order" in change.message
    assert lines_of(ALICE) == {f"{shoe.shoe_id}#42": 10}


def test_a_sold_out_size_cannot_be_added():
    shoe = make_shoe(name="Desert Boot", stock={"42": 0})
    with pytest.raises(Conflict, match="Desert Boot \\(EU 42\\) is sold out"):
        cart.add_item(ALICE, shoe.shoe_id, "42", "1")
    assert lines_of(ALICE) == {}


@pytest.mark.parametrize(
    "quantity", [0, -1, 11, "0", "-1", "11", "abc", "", None, True, "1.5", "9" * 1000, "\u0661", 10**30]
)
def test_bad_quantities_are_refused_and_change_nothing(quantity):
    shoe = make_shoe(stock={"42": 5})
    with pytest.raises(ValidationFailed) as raised:
        cart.add_item(ALICE, shoe.shoe_id, "42", quantity)
    assert raised.value.errors == {"quantity": "Choose a quantity from 1 to 10."}
    assert lines_of(ALICE) == {}


def test_unknown_shoe_size_or_archived_shoe_is_refused():
    shoe = make_shoe(stock={"42": 5})
    archived = make_shoe(stock={"42": 5}, status="archived")
    with pytest.raises(NotFound):
        cart.add_item(ALICE, "nosuchshoe", "42", "1")
    with pytest.raises(NotFound):
        cart.add_item(ALICE, archived.shoe_id, "42", "1")
    with pytest.raises(ValidationFailed) as raised:
        cart.add_item(ALICE, shoe.shoe_id, "44", "1")  # a real size this shoe is not made in
    assert "not offered" in raised.value.errors["size"]
    for bad_size in ("99", "", "42; drop", "4" * 500):
        with pytest.raises(ValidationFailed):
            cart.add_item(ALICE, shoe.shoe_id, bad_size, "1")
    with pytest.raises(ValidationFailed):
        cart.add_item(ALICE, "../../etc", "42", "1")
    assert lines_of(ALICE) == {}


def test_a_26th_line_is_refused():
    shoes = [make_shoe(stock={str(size): 5 for size in range(36, 48)}) for _ in range(3)]
    keys = [(shoe.shoe_id, str(size)) for shoe in shoes for size in range(36, 48)][:26]
    for shoe_id, size in keys[:25]:
        cart.add_item(ALICE, shoe_id, size, "1")
    with pytest.raises(ValidationFailed, match="at most 25 different items"):
        cart.add_item(ALICE, *keys[25], "1")
    assert len(lines_of(ALICE)) == 25
    cart.add_item(ALICE, *keys[0], "1")  # an existing line may still grow
    assert lines_of(ALICE)[f"{keys[0][0]}#{keys[0][1]}"] == 2


def test_set_quantity_caps_at_stock_and_refuses_other_carts_and_bad_values():
    shoe = make_shoe(stock={"42": 4})
    line_id = f"{shoe.shoe_id}#42"
    cart.add_item(ALICE, shoe.shoe_id, "42", "1")
    change = cart.set_quantity(ALICE, line_id, "9")
    assert change.capped and "Only 4 left" in change.message
    assert lines_of(ALICE) == {line_id: 4}
    with pytest.raises(NotFound):
        cart.set_quantity(BOB, line_id, "1")  # Bob's cart has no such line: Alice's is never touched
    with pytest.raises(ValidationFailed):
        cart.set_quantity(ALICE, line_id, "0")
    with pytest.raises(NotFound):
        cart.set_quantity(ALICE, "garbage", "1")
    assert lines_of(ALICE) == {line_id: 4}


def test_remove_line_only_in_your_own_cart():
    shoe = make_shoe(stock={"42": 4})
    line_id = f"{shoe.shoe_id}#42"
    cart.add_item(ALICE, shoe.shoe_id, "42", "1")
    with pytest.raises(NotFound):
        cart.remove_line(BOB, line_id)
    assert lines_of(ALICE) == {line_id: 1}
    cart.remove_line(ALICE, line_id)
    assert lines_of(ALICE) == {}
    with pytest.raises(NotFound):
        cart.remove_line(ALICE, line_id)


def test_cart_view_reads_current_prices_and_flags_short_lines():
    cheap = make_shoe(name="Runner", price_cents=5000, stock={"42": 5})
    short = make_shoe(name="Loafer", price_cents=7000, stock={"40": 3})
    cart.add_item(ALICE, cheap.shoe_id, "42", "2")
    cart.add_item(ALICE, short.shoe_id, "40", "3")
    # The catalogue changes after the shopper added: the cart shows today's price and stock.
    Shoe.get(cheap.shoe_id).update(actions=[Shoe.price_cents.set(4500)])
    from chalicelib.models import Stock

    Stock.get(short.shoe_id, "40").update(actions=[Stock.quantity.set(1)])
    view = cart.load_cart(ALICE)
    by_name = {item.name: item for item in view.items}
    assert by_name["Runner"].unit_price_cents == 4500
    assert by_name["Runner"].line_total_cents == 9000
    assert by_name["Loafer"].problem == "Only 1 left"
    assert pricing.quote_cart(view).subtotal_cents == 9000  # a line that cannot be ordered is not counted
    assert view.units == 5
    Stock.get(short.shoe_id, "40").update(actions=[Stock.quantity.set(0)])
    assert {i.name: i.problem for i in cart.load_cart(ALICE).items}["Loafer"] == "Sold out"


def test_reading_a_full_cart_costs_one_query_and_one_batch_read():
    shoes = [make_shoe(stock={str(size): 5 for size in range(36, 48)}) for _ in range(3)]
    keys = [(shoe.shoe_id, str(size)) for shoe in shoes for size in range(36, 48)][:25]
    for shoe_id, size in keys:
        cart.add_item(ALICE, shoe_id, size, "1")
    with count_dynamodb_calls() as calls:
        view = cart.load_cart(ALICE)
    assert len(view.items) == 25
    assert calls["Query"] == 1
    assert calls["BatchGetItem"] == 1
    assert sum(v for k, v in calls.items() if ":" not in k) == 2


def test_guest_lines_expire_and_are_then_ignored(frozen_clock):
    shoe = make_shoe(stock={"42": 5})
    guest = cart.guest_owner("g1")
    cart.add_item(guest, shoe.shoe_id, "42", "2")
    line = CartLine.get(guest, f"{shoe.shoe_id}#42")
    assert line.expires_at > frozen_clock.now
    assert cart.load_cart(guest).units == 2
    frozen_clock.advance(days=8)  # DynamoDB's TTL deletes late; reads check expiry themselves
    assert cart.load_cart(guest).is_empty
    cart.add_item(guest, shoe.shoe_id, "42", "1")  # an expired leftover counts as absent
    assert cart.load_cart(guest).units == 1


def test_merging_a_guest_cart_sums_and_caps_and_empties_the_guest_cart():
    roomy = make_shoe(name="Runner", stock={"42": 20})
    scarce = make_shoe(name="Boot", stock={"41": 3})
    sold_out = make_shoe(name="Sandal", stock={"39": 1})
    guest = cart.guest_owner("g2")
    cart.add_item(guest, roomy.shoe_id, "42", "4")
    cart.add_item(guest, scarce.shoe_id, "41", "2")
    cart.add_item(guest, sold_out.shoe_id, "39", "1")
    cart.add_item(ALICE, roomy.shoe_id, "42", "8")
    cart.add_item(ALICE, scarce.shoe_id, "41", "2")
    from chalicelib.models import Stock

    Stock.get(sold_out.shoe_id, "39").update(actions=[Stock.quantity.set(0)])

    result = cart.merge_guest_cart("g2", "alice-id")

    assert lines_of(ALICE) == {f"{roomy.shoe_id}#42": 10, f"{scarce.shoe_id}#41": 3}
    assert lines_of(guest) == {}
    assert result.moved_units == 3
    assert result.units == 13
    text = " ".join(result.notes)
    assert "Runner (EU 42): only 10 could go in your cart" in text
    assert "Boot (EU 41): only 3 could go in your cart" in text
    assert "Sandal (EU 39) is sold out" in text


def test_unprocessed_batch_keys_are_asked_for_again(monkeypatch):
    """DynamoDB may return some keys unprocessed when busy: the cart still shows every line."""
    import json

    from chalicelib.aws import dynamodb_client

    shoe = make_shoe(name="Runner", stock={"42": 5})
    cart.add_item(ALICE, shoe.shoe_id, "42", "1")
    from chalicelib.models import base

    monkeypatch.setattr(base.time, "sleep", lambda _seconds: None)
    answered = []

    class Ok:
        status_code = 200

    def busy_once(params, **_kwargs):
        if answered:
            return None
        answered.append(True)
        request = json.loads(params["body"])["RequestItems"]
        return Ok(), {"Responses": {}, "UnprocessedKeys": request}

    events = dynamodb_client().meta.events
    events.register("before-call.dynamodb.BatchGetItem", busy_once, unique_id="busy-once")
    try:
        with count_dynamodb_calls() as calls:
            view = cart.load_cart(ALICE)
    finally:
        events.unregister("before-call.dynamodb.BatchGetItem", unique_id="busy-once")
    assert answered and calls["BatchGetItem"] == 2
    assert [(item.name, item.in_stock, item.problem) for item in view.items] == [("Runner", 5, None)]
