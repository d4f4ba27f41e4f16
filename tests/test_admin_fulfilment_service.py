"""Order moves in the back office: placed → shipped → delivered, placed → cancelled with restock."""

import pytest

from chalicelib.models import Order, Stock
from chalicelib.services import fulfilment
from chalicelib.services.errors import Conflict, ValidationFailed
from tests.factories import ADMIN, make_order, shoe_via_admin


@pytest.fixture
def stocked_shoe():
    return shoe_via_admin({"41": 5, "42": 5})


def test_ship_with_a_tracking_note_then_deliver(stocked_shoe, frozen_clock):
    order = make_order([(stocked_shoe.shoe_id, "42", 1)])
    frozen_clock.advance(hours=2)
    shipped = fulfilment.transition(order.order_id, "shipped", ADMIN, "DHL 12345")
    assert shipped.status == "shipped" and shipped.tracking_note == "DHL 12345"
    last = shipped.history[-1]
    assert (last.status, last.by, last.note, last.at) == ("shipped", ADMIN, "DHL 12345", frozen_clock.now)
    delivered = fulfilment.transition(order.order_id, "delivered", "other-admin")
    assert [c.status for c in delivered.history] == ["placed", "shipped", "delivered"]
    assert delivered.history[-1].by == "other-admin"


@pytest.mark.parametrize(
    ("path", "target"),
    [
        ([], "delivered"),
        (["shipped"], "cancelled"),
        (["shipped", "delivered"], "cancelled"),
        (["shipped", "delivered"], "shipped"),
        (["cancelled"], "shipped"),
        (["cancelled"], "cancelled"),
    ],
)
def test_other_transitions_are_refused_with_a_message(stocked_shoe, path, target):
    order = make_order([(stocked_shoe.shoe_id, "42", 1)])
    for step in path:
        fulfilment.transition(order.order_id, step, ADMIN)
    before = Order.get(order.order_id)
    with pytest.raises(Conflict, match="cannot be"):
        fulfilment.transition(order.order_id, target, ADMIN)
    after = Order.get(order.order_id)
    assert (after.status, after.version, len(after.history)) == (before.status, before.version, len(before.history))


def test_unknown_status_and_long_notes_are_validation_errors(stocked_shoe):
    order = make_order([(stocked_shoe.shoe_id, "42", 1)])
    with pytest.raises(ValidationFailed):
        fulfilment.transition(order.order_id, "placed", ADMIN)
    with pytest.raises(ValidationFailed):
        fulfilment.transition(order.order_id, "shipped", ADMIN, "x" * 201)


def test_cancel_restocks_every_line_exactly(stocked_shoe):
    other = shoe_via_admin({"30": 1}, department="kids")
    # Checkout took the stock: 5 - 3 = 2 of size 42, 5 - 1 of 41, 1 - 1 of kids 30.
    for shoe_id, size, qty in [
        (stocked_shoe.shoe_id, "42", 3),
        (stocked_shoe.shoe_id, "41", 1),
        (other.shoe_id, "30", 1),
    ]:
        Stock(shoe_id=shoe_id, size=size).update(actions=[Stock.quantity.add(-qty)])
    order = make_order(
        [
            (stocked_shoe.shoe_id, "42", 2),
            (stocked_shoe.shoe_id, "41", 1),
            (other.shoe_id, "30", 1),
            (stocked_shoe.shoe_id, "42", 1),
        ]
    )
    cancelled = fulfilment.transition(order.order_id, "cancelled", ADMIN, "Customer asked")
    assert cancelled.status == "cancelled"
    assert Stock.get(stocked_shoe.shoe_id, "42").quantity == 5
    assert Stock.get(stocked_shoe.shoe_id, "41").quantity == 5
    assert Stock.get(other.shoe_id, "30").quantity == 1
    assert Stock.get(stocked_shoe.shoe_id, "40").quantity == 0


def test_two_admins_on_one_order_cannot_both_succeed(stocked_shoe, monkeypatch):
    """Deterministic interleaving: both read the placed order; A ships; B's cancel must fail and
    must not restock."""
    order = make_order([(stocked_shoe.shoe_id, "42", 2)])
    real_get = fulfilment.get_order
    state = {"first": True}

    def read_then_other_admin_ships(order_id):
        loaded = real_get(order_id)
        if state["first"]:
            state["first"] = False
            monkeypatch.setattr(fulfilment, "get_order", real_get)
            fulfilment.transition(order_id, "shipped", "admin-a")
        return loaded

    monkeypatch.setattr(fulfilment, "get_order", read_then_other_admin_ships)
    with pytest.raises(Conflict, match="shipped by admin-a"):
        fulfilment.transition(order.order_id, "cancelled", "admin-b")
    stored = Order.get(order.order_id)
    assert stored.status == "shipped" and [c.by for c in stored.history] == ["shopper", "admin-a"]
    assert Stock.get(stocked_shoe.shoe_id, "42").quantity == 5  # not restocked


def test_the_same_move_twice_at_once_succeeds_once(stocked_shoe, monkeypatch):
    order = make_order([(stocked_shoe.shoe_id, "42", 1)])
    real_get = fulfilment.get_order
    state = {"first": True}

    def read_then_other_admin_cancels(order_id):
        loaded = real_get(order_id)
        if state["first"]:
            state["first"] = False
            monkeypatch.setattr(fulfilment, "get_order", real_get)
            fulfilment.transition(order_id, "cancelled", "admin-a")
        return loaded

    monkeypatch.setattr(fulfilment, "get_order", read_then_other_admin_cancels)
    with pytest.raises(Conflict):
        fulfilment.transition(order.order_id, "cancelled", "admin-b")
    assert Stock.get(stocked_shoe.shoe_id, "42").quantity == 6  # 5 + 1 restocked once, not twice
    assert len(Order.get(order.order_id).history) == 2


def test_a_button_on_an_out_of_date_page_is_refused(stocked_shoe):
    order = make_order([(stocked_shoe.shoe_id, "42", 1)])
    seen = Order.get(order.order_id).version
    fulfilment.transition(order.order_id, "shipped", ADMIN)
    with pytest.raises(Conflict, match="changed since"):
        fulfilment.transition(order.order_id, "delivered", ADMIN, seen_version=seen)


def test_lists_are_newest_first_per_status_and_paginated(stocked_shoe):
    ids = [make_order([(stocked_shoe.shoe_id, "42", 1)], minutes_ago=100 - n).order_id for n in range(25)]
    fulfilment.transition(ids[0], "shipped", ADMIN)
    first = fulfilment.list_orders("placed")
    second = fulfilment.list_orders("placed", first.next_key)
    listed = [o.order_id for o in first.items + second.items]
    assert listed == list(reversed(ids[1:]))
    assert second.next_key is None
    assert [o.order_id for o in fulfilment.list_orders("shipped").items] == [ids[0]]


def test_dashboard_counts_and_last_seven_days(stocked_shoe, frozen_clock):
    make_order([(stocked_shoe.shoe_id, "42", 1)], minutes_ago=60 * 24 * 8, total=9999)  # too old
    recent = make_order([(stocked_shoe.shoe_id, "42", 1)], minutes_ago=60, total=5000)
    make_order([(stocked_shoe.shoe_id, "41", 1)], minutes_ago=30, total=2500)
    cancelled = make_order([(stocked_shoe.shoe_id, "41", 1)], minutes_ago=10, total=7000)
    fulfilment.transition(recent.order_id, "shipped", ADMIN)
    fulfilment.transition(cancelled.order_id, "cancelled", ADMIN)
    assert fulfilment.status_counts() == {
        "placed": 2,
        "paid": 0,
        "shipped": 1,
        "delivered": 0,
        "cancelled": 1,
        "pending_payment": 0,
        "payment_expired": 0,
    }
    assert fulfilment.recent_totals(7) == {"orders": 3, "revenue_cents": 7500}
