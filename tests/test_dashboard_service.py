"""The dashboard's figures come from maintained counters: exact, idempotent, read in one call."""

import pytest

from chalicelib import streams
from chalicelib.models import Order, Stock
from chalicelib.services import dashboard, fulfilment, products
from tests.factories import ADMIN, make_order, shoe_via_admin
from tests.stream_replay import changes_of, replay

STATUSES = fulfilment.STATUSES


def order_change(order: Order, old: dict | None, sequence: str) -> streams.Change:
    new = {change.keys["order_id"]: change for change in changes_of(Order)}[order.order_id].new
    kind = streams.INSERT if old is None else streams.MODIFY
    return streams.Change("orders", kind, {"order_id": order.order_id}, old, new, sequence)


def test_last_seven_days_count_only_the_orders_whose_revenue_they_show(frozen_clock):
    """Issue 18: "Last 7 days: 4 orders" counted a cancelled order its revenue left out."""
    shoe = shoe_via_admin({"41": 5, "42": 5})
    make_order([(shoe.shoe_id, "42", 1)], minutes_ago=60 * 24 * 8, total=9999)  # too old
    recent = make_order([(shoe.shoe_id, "42", 1)], minutes_ago=60, total=5000)
    make_order([(shoe.shoe_id, "41", 1)], minutes_ago=30, total=2500)
    cancelled = make_order([(shoe.shoe_id, "41", 1)], minutes_ago=10, total=7000)
    fulfilment.transition(recent.order_id, "shipped", ADMIN)
    fulfilment.transition(cancelled.order_id, "cancelled", ADMIN)
    replay()
    figures = dashboard.figures(STATUSES)
    assert figures.order_counts == {
        "placed": 2,
        "paid": 0,
        "shipped": 1,
        "delivered": 0,
        "cancelled": 1,
        "pending_payment": 0,
        "payment_expired": 0,
    }
    assert (figures.recent_orders, figures.recent_revenue_cents) == (2, 7500)


def test_a_batch_delivered_twice_counts_once_and_a_cancel_takes_the_sale_back(frozen_clock):
    shoe = shoe_via_admin({"42": 5})
    order = make_order([(shoe.shoe_id, "42", 1)], total=4000)
    placed_image = changes_of(Order)[0].new
    inserted = order_change(order, None, "100")
    fulfilment.transition(order.order_id, "cancelled", ADMIN)
    cancelled = order_change(order, placed_image, "200")
    streams.dispatch([inserted])
    streams.dispatch([inserted])  # retried batch
    figures = dashboard.figures(STATUSES)
    assert (figures.order_counts["placed"], figures.recent_orders, figures.recent_revenue_cents) == (1, 1, 4000)
    for _ in range(2):
        streams.dispatch([inserted, cancelled])  # the whole batch again, then once more
    figures = dashboard.figures(STATUSES)
    assert figures.order_counts["placed"] == 0 and figures.order_counts["cancelled"] == 1
    assert (figures.recent_orders, figures.recent_revenue_cents) == (0, 0)
    streams.dispatch([inserted])  # an older record replayed after a newer one changes nothing
    assert dashboard.figures(STATUSES).order_counts["cancelled"] == 1


def test_statuses_the_dashboard_does_not_know_are_counted_and_shown_after_the_known_ones(frozen_clock):
    shoe = shoe_via_admin({"42": 5})
    make_order([(shoe.shoe_id, "42", 1)], status="pending_payment", total=3000)
    make_order([(shoe.shoe_id, "42", 1)], status="on_hold", total=2000)  # a status a later change adds
    replay()
    figures = dashboard.figures(STATUSES)
    assert list(figures.order_counts) == [*STATUSES, "on_hold"]
    assert (figures.order_counts["on_hold"], figures.order_counts["pending_payment"]) == (1, 1)
    assert (figures.recent_orders, figures.recent_revenue_cents) == (1, 2000)  # unpaid is not a sale yet


def test_low_and_sold_out_sizes_of_active_shoes_are_counted_and_listed():
    shoe = shoe_via_admin(dict.fromkeys(map(str, range(36, 48)), 5) | {"40": 3, "41": 0}, name="Glide")
    archived = shoe_via_admin({"42": 1})
    products.archive_shoe(archived.shoe_id, ADMIN)
    replay()
    figures = dashboard.figures(STATUSES)
    assert (figures.active_products, figures.low_sizes, figures.sold_out_sizes) == (1, 1, 1)
    alerts, more = dashboard.low_stock()
    assert [(a.name, a.size, a.quantity, a.state) for a in alerts] == [
        ("Glide", "40", 3, "low"),
        ("Glide", "41", 0, "sold_out"),
    ]
    assert more is None
    # Restocked, the size leaves the view; archiving the shoe takes its sizes away; restoring brings them back.
    products.set_stock(shoe.shoe_id, "41", 20, 0, ADMIN)
    streams.dispatch(changes_of(Stock))
    assert [a.size for a in dashboard.low_stock()[0]] == ["40"]
    products.archive_shoe(shoe.shoe_id, ADMIN)
    replay()
    assert dashboard.low_stock()[0] == []
    assert dashboard.figures(STATUSES).active_products == 0
    products.restore_shoe(shoe.shoe_id, ADMIN)
    replay()
    assert [a.size for a in dashboard.low_stock()[0]] == ["40"]
    assert dashboard.figures(STATUSES).low_sizes == 1


def test_replaying_stock_twice_or_out_of_order_converges_to_the_table():
    shoe = shoe_via_admin({"42": 2})
    old = changes_of(Stock)
    products.set_stock(shoe.shoe_id, "42", 9, 2, ADMIN)
    newer = changes_of(Stock)
    streams.dispatch(newer)
    streams.dispatch(old)  # stale images: the tally reads the row itself
    streams.dispatch(newer)
    assert dashboard.figures(STATUSES).low_sizes == 0
    assert "42" not in [a.size for a in dashboard.low_stock()[0]]


def test_the_low_stock_view_pages_with_a_cursor():
    shoe = shoe_via_admin({str(size): 1 for size in range(36, 48)})  # men's 36 to 47, all low
    replay()
    seen, pages, position = [], 0, None
    while True:
        alerts, position = dashboard.low_stock(position, page_size=5)
        seen += [a.size for a in alerts]
        pages += 1
        if position is None:
            break
    assert seen == sorted(shoe.sizes) and pages == 3


def test_the_figures_are_one_call_whatever_the_number_of_orders(count_dynamodb_calls, frozen_clock):
    shoe = shoe_via_admin({"42": 50})
    for n in range(30):
        make_order([(shoe.shoe_id, "42", 1)], minutes_ago=n * 60)
    replay()
    with count_dynamodb_calls() as calls:
        dashboard.figures(STATUSES)
    assert calls == ["BatchGetItem"]


@pytest.fixture
def count_dynamodb_calls():
    from contextlib import contextmanager

    from chalicelib import aws

    @contextmanager
    def counting():
        seen: list[str] = []
        client = aws.dynamodb_client()

        def record(model, **_):
            seen.append(model.name)

        client.meta.events.register("before-call.dynamodb", record)
        try:
            yield seen
        finally:
            client.meta.events.unregister("before-call.dynamodb", record)

    return counting


def test_the_backfill_shards_old_orders_and_tallies_once_however_often_it_runs():
    from chalicelib import aws
    from devtools.counters import replay as backfill_counters
    from devtools.counters import shard_orders

    shoe = shoe_via_admin({"42": 5})
    old = make_order([(shoe.shoe_id, "42", 1)], total=3000)
    aws.dynamodb_client().update_item(  # as orders saved before the shards were
        TableName=Order.Meta.table_name,
        Key={"order_id": {"S": old.order_id}},
        UpdateExpression="REMOVE status_shard",
    )
    assert fulfilment.list_orders("placed").items == []
    assert shard_orders() == 1 and shard_orders() == 0
    assert [o.order_id for o in fulfilment.list_orders("placed").items] == [old.order_id]
    for _ in range(2):
        backfill_counters()
    figures = dashboard.figures(STATUSES)
    assert (figures.order_counts["placed"], figures.recent_revenue_cents, figures.active_products) == (1, 3000, 1)


def test_end_to_end_orders_placed_and_cancelled_reach_the_dashboard_through_the_stream(drain_streams):
    """Checkout writes, moto's streams carry the records, the stream handler runs the consumers."""
    from chalicelib.services import cart, checkout
    from tests.factories import ADDRESS, make_user

    alice = make_user("alice", address=ADDRESS)
    shoe = shoe_via_admin({"41": 3, "42": 9})
    cart.add_item(cart.user_owner(alice.user_id), shoe.shoe_id, "42", "2")
    first = checkout.place_order(alice, "key-e2e-0001").order
    cart.add_item(cart.user_owner(alice.user_id), shoe.shoe_id, "41", "3")
    second = checkout.place_order(alice, "key-e2e-0002").order
    delivered = drain_streams()
    assert dashboard.figures(STATUSES).sold_out_sizes == 11  # 41 sold out with 10 never stocked
    fulfilment.transition(second.order_id, "cancelled", ADMIN)  # 41 back to 3: low
    delivered += drain_streams()
    drain_streams.deliver(delivered)  # every record again: at least once, counted once
    assert drain_streams.dead_letters == []
    figures = dashboard.figures(STATUSES)
    assert (figures.order_counts["placed"], figures.order_counts["cancelled"]) == (1, 1)
    assert (figures.recent_orders, figures.recent_revenue_cents) == (1, first.total_cents)
    assert (figures.active_products, figures.low_sizes, figures.sold_out_sizes) == (1, 1, 10)
    assert [(a.size, a.quantity) for a in dashboard.low_stock()[0] if a.state == "low"] == [("41", 3)]
