"""Returns and exchanges (services/returns.py): the window, only delivered orders, a line returned
once, an exchange's reservation that never oversells (threads against atomic DynamoDB calls), the
deadline sweep releasing once (also racing a "received"), a refund once under a double submit,
restock once, the emails of each step, the history and the open-returns index."""

import functools
import threading
import uuid

import pytest

from chalicelib.models import Order, Stock
from chalicelib.services import cart, checkout, emails, fulfilment, payments, refunds, returns
from chalicelib.services.errors import Conflict, ValidationFailed
from tests.factories import ADDRESS, make_admin, make_shoe, make_user
from tests.queued_mail import mailbox  # noqa: F401 (fixture)
from tests.test_cart_line_cap import atomic_moto_with_latency  # noqa: F401 (fixture: DynamoDB-atomic calls)

ADMIN = "boss"


@pytest.fixture
def alice():
    return make_user("alice", "alice@example.com", address=ADDRESS)


@pytest.fixture
def shoe():
    return make_shoe(stock={"42": 5, "43": 3, "44": 0}, price_cents=6000, name="Glide")


def stock(shoe, size: str) -> int:
    return int(Stock.get(shoe.shoe_id, size, consistent_read=True).quantity)


def delivered_order(user, shoe, quantity: int = 1, size: str = "42") -> Order:
    cart.add_item(cart.user_owner(user.user_id), shoe.shoe_id, size, str(quantity))
    placed = checkout.place_order(user, f"key-{uuid.uuid4().hex}", payment_method=payments.PAY_ON_DELIVERY).order
    fulfilment.transition(placed.order_id, "shipped", ADMIN)
    return fulfilment.transition(placed.order_id, "delivered", ADMIN)


def exchange(index: int = 0, size: str = "43", reason: str = "too_small") -> returns.ReturnForm:
    return returns.ReturnForm(resolution=returns.EXCHANGE, lines=(index,), reasons={index: reason}, sizes={index: size})


def refund_form(index: int = 0, reason: str = "changed_mind") -> returns.ReturnForm:
    return returns.ReturnForm(resolution=returns.REFUND, lines=(index,), reasons={index: reason})


def at_once(*targets) -> None:
    """Start every target together (a barrier) and wait for all."""
    barrier = threading.Barrier(len(targets))

    def run(target) -> None:
        barrier.wait()
        target()

    threads = [threading.Thread(target=run, args=(target,)) for target in targets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def fresh(order: Order) -> Order:
    return Order.get(order.order_id, consistent_read=True)


def open_index(shard: str) -> list[str]:
    return [o.order_id for o in Order.by_return_due.query(shard)]


def test_an_exchange_reserves_the_new_size_at_once_and_is_listed_for_the_back_office(alice, shoe, mailbox):  # noqa: F811
    order = delivered_order(alice, shoe)
    done = returns.request_return(order, exchange())
    (request,) = done.returns
    assert (request.status, request.resolution, request.lines[0].exchange_size) == ("requested", "exchange", "43")
    assert stock(shoe, "43") == 2  # held for the shopper while the parcel travels
    assert request.deadline == request.created_at + __import__("datetime").timedelta(days=21)
    assert open_index(returns.REQUESTED_SHARD) == [order.order_id]
    assert done.history[-1].status == "return_requested" and "size 43" in done.history[-1].note
    (mail,) = mailbox.to("alice@example.com", returns.RETURN_REQUESTED)
    assert "Stride Shoes Returns" in mail.text and "must reach us by" in mail.text and "for size EU 43" in mail.text


def test_only_a_delivered_order_within_the_window_can_be_returned(alice, shoe, frozen_clock):
    cart.add_item(cart.user_owner(alice.user_id), shoe.shoe_id, "42", "1")
    placed = checkout.place_order(alice, "key-undelivered", payment_method=payments.PAY_ON_DELIVERY).order
    with pytest.raises(Conflict, match="once the order is delivered"):
        returns.request_return(placed, refund_form())
    fulfilment.transition(placed.order_id, "shipped", ADMIN)
    order = fulfilment.transition(placed.order_id, "delivered", ADMIN)
    frozen_clock.advance(days=30, minutes=1)
    with pytest.raises(Conflict, match="return window of this order closed"):
        returns.request_return(order, refund_form())
    assert not returns.can_return(order)
    frozen_clock.advance(days=-1)
    assert returns.can_return(order)


def test_a_line_is_returned_once_and_a_double_submit_makes_one_return(alice, shoe):
    order = delivered_order(alice, shoe)
    returns.request_return(order, refund_form())
    with pytest.raises(Conflict):
        returns.request_return(order, refund_form())  # the page read before the first submit: stale version
    with pytest.raises(Conflict):
        returns.request_return(fresh(order), refund_form())  # read after: the line is in a return
    assert len(fresh(order).returns) == 1 and returns.returnable_lines(fresh(order)) == []


def test_the_form_is_checked_field_by_field(alice, shoe):
    order = delivered_order(alice, shoe)
    with pytest.raises(ValidationFailed) as failed:
        returns.request_return(order, returns.ReturnForm(resolution="gift", lines=()))
    assert set(failed.value.errors) == {"resolution", "lines"}
    with pytest.raises(ValidationFailed) as failed:
        returns.request_return(order, exchange(size="42", reason=""))
    assert failed.value.errors == {
        "reason-0": "Choose why you send this pair back.",
        "size-0": "Choose another size than the one you have.",
    }
    with pytest.raises(ValidationFailed) as failed:
        returns.request_return(order, exchange(size="44"))  # sold out
    assert "not in stock" in failed.value.errors["size-0"]
    assert fresh(order).returns == [] and stock(shoe, "43") == 3


def test_an_exchange_never_oversells_against_shoppers_buying_the_last_pairs(alice, shoe, atomic_moto_with_latency):  # noqa: F811
    order = delivered_order(alice, shoe)
    Stock(shoe_id=shoe.shoe_id, size="43").update(actions=[Stock.quantity.set(1)])  # the last pair
    buyers = [make_user(f"buyer{n}", address=ADDRESS) for n in range(4)]
    for buyer in buyers:
        cart.add_item(cart.user_owner(buyer.user_id), shoe.shoe_id, "43", "1")
    outcomes: list[str] = []

    def buy(buyer) -> None:
        try:
            checkout.place_order(buyer, f"key-{buyer.username}", payment_method=payments.PAY_ON_DELIVERY)
            outcomes.append("sold")
        except Exception:
            outcomes.append("refused")

    def reserve() -> None:
        try:
            returns.request_return(order, exchange())
            outcomes.append("reserved")
        except (ValidationFailed, Conflict):
            outcomes.append("refused")

    at_once(*(functools.partial(buy, buyer) for buyer in buyers), reserve)
    assert sorted(outcomes).count("refused") == len(buyers)  # one pair: exactly one taker
    assert stock(shoe, "43") == 0
    assert ("reserved" in outcomes) == bool(fresh(order).returns)


def test_the_sweep_releases_an_unreceived_exchange_once_and_its_size_is_back_on_sale(
    alice,
    shoe,
    frozen_clock,
    mailbox,  # noqa: F811
):
    order = delivered_order(alice, shoe)
    returns.request_return(order, exchange())
    assert returns.sweep() == [] and stock(shoe, "43") == 2  # not due yet
    frozen_clock.advance(days=21, seconds=1)
    assert returns.sweep() == [f"{order.order_id}#1"]
    assert returns.sweep() == [] and stock(shoe, "43") == 3  # exactly once
    (request,) = fresh(order).returns
    assert (request.status, request.reservation_released) == ("released", True)
    assert open_index(returns.REQUESTED_SHARD) == [] and open_index(returns.RECEIVED_SHARD) == []
    assert [m.kind for m in mailbox.to("alice@example.com") if m.kind.startswith("return_")] == [
        "return_requested",
        "return_released",
    ]
    # Still within the 30 days of the window: a released return's line can be asked for again.
    assert returns.returnable_lines(fresh(order)) == [0] and returns.can_return(fresh(order))


def _race_received_and_release(order_id: str) -> dict[str, object]:
    outcome: dict[str, object] = {}

    def receive() -> None:
        try:
            returns.mark_received(order_id, 1, ADMIN)
            outcome["received"] = True
        except Conflict as error:
            outcome["received"] = error.message

    def sweep() -> None:
        outcome["released"] = returns.release(order_id, 1)

    at_once(receive, sweep)
    return outcome


def test_a_late_received_click_and_the_sweep_race_and_one_wins(alice, shoe, frozen_clock, atomic_moto_with_latency):  # noqa: F811
    for _round in range(3):
        order = delivered_order(alice, shoe)
        returns.request_return(order, exchange())
        frozen_clock.advance(days=21, seconds=1)
        outcome = _race_received_and_release(order.order_id)
        (request,) = fresh(order).returns
        if request.status == "received":
            assert outcome == {"received": True, "released": False}
            assert stock(shoe, "43") == 2  # still held for the shopper
        else:
            assert request.status == "released" and outcome["released"] is True
            assert "closed" in str(outcome["received"]).lower()
            assert stock(shoe, "43") == 3  # back on sale, once
        frozen_clock.advance(days=-21)
        Stock(shoe_id=shoe.shoe_id, size="43").update(actions=[Stock.quantity.set(3)])


def test_a_refund_return_refunds_and_restocks_once_under_a_double_submit(
    alice,
    shoe,
    mailbox,  # noqa: F811
    atomic_moto_with_latency,  # noqa: F811
):
    make_admin(ADMIN)
    order = delivered_order(alice, shoe, quantity=2)
    assert stock(shoe, "42") == 3
    returns.request_return(order, refund_form(reason="too_big"))
    returns.mark_received(order.order_id, 1, ADMIN)
    version = int(fresh(order).version)
    results: list[str] = []

    def submit() -> None:
        try:
            returns.refund_return(order.order_id, 1, ADMIN, version)
            results.append("refunded")
        except Conflict:
            results.append("refused")

    at_once(submit, submit)
    assert sorted(results) == ["refunded", "refused"]
    final = fresh(order)
    assert int(final.refunded_cents) == 12000 and len(final.refunds) == 1 and final.refunds[0].method == "manual"
    assert stock(shoe, "42") == 5  # both pairs back, once
    (request,) = final.returns
    assert (request.status, request.refund_key, request.restocked) == ("refunded", final.refunds[0].key, True)
    assert final.return_due_shard is None
    with pytest.raises(Conflict, match="refunded"):
        returns.refund_return(order.order_id, 1, ADMIN)
    assert [m.kind for m in mailbox.to("alice@example.com")][-3:] == [
        "return_requested",
        "return_received",
        emails.ORDER_REFUNDED,
    ]


def test_an_open_returns_lines_are_not_refunded_around_it(alice, shoe):
    make_admin(ADMIN)
    order = delivered_order(alice, shoe)
    returns.request_return(order, refund_form())
    with pytest.raises(Conflict, match="open return"):
        refunds.refund(order.order_id, ADMIN, refunds.RefundRequest(lines=(0,)))
    with pytest.raises(Conflict, match="open return"):  # nor by a full refund, which takes every line
        refunds.refund(order.order_id, ADMIN, refunds.RefundRequest(full=True))
    assert fulfilment.get_order(order.order_id).refunded_cents == 0
    with pytest.raises(Conflict, match=r"waiting|no longer applies"):
        returns.refund_return(order.order_id, 1, ADMIN)  # not received yet


def test_shipping_the_new_size_restocks_the_returned_one_once_and_tells_the_shopper(alice, shoe, mailbox):  # noqa: F811
    order = delivered_order(alice, shoe)
    returns.request_return(order, exchange())
    with pytest.raises(Conflict):
        returns.ship_exchange(order.order_id, 1, ADMIN, "dhl", "JD0001234")  # the parcel is not in yet
    returns.mark_received(order.order_id, 1, ADMIN)
    assert open_index(returns.RECEIVED_SHARD) == [order.order_id]
    with pytest.raises(ValidationFailed) as failed:
        returns.ship_exchange(order.order_id, 1, ADMIN, "", "")
    assert set(failed.value.errors) == {"carrier", "tracking_number"}
    done = returns.ship_exchange(order.order_id, 1, ADMIN, "dhl", "JD0001234")
    assert stock(shoe, "42") == 5 and stock(shoe, "43") == 2  # returned pair back; the new one left
    with pytest.raises(Conflict):
        returns.ship_exchange(order.order_id, 1, ADMIN, "dhl", "JD0001234")
    assert stock(shoe, "42") == 5
    (request,) = done.returns
    assert (request.status, request.carrier, request.tracking_number) == ("exchange_shipped", "dhl", "JD0001234")
    assert (
        int(done.total_cents) == int(order.total_cents) and int(done.refunded_cents or 0) == 0
    )  # no second payment, no refund
    assert 0 in done.restocked_lines and done.return_due_shard is None
    refunds.refund(order.order_id, ADMIN, refunds.RefundRequest(lines=(0,), restock=True))  # a goodwill refund later
    assert stock(shoe, "42") == 5  # ... does not put the returned pair back a second time
    (shipped,) = mailbox.to("alice@example.com", returns.EXCHANGE_SHIPPED_EMAIL)
    assert "Tracking number: JD0001234" in shipped.text and "dhl.com" in shipped.text
    assert [c.status for c in done.history][-3:] == ["return_requested", "return_received", "exchange_shipped"]


def test_the_back_office_list_is_the_earliest_deadline_first_and_pages(alice, shoe, frozen_clock):
    ids = []
    for _ in range(3):
        ids.append(returns.request_return(delivered_order(alice, shoe), refund_form()).order_id)
        frozen_clock.advance(hours=1)
    returns.mark_received(ids[0], 1, ADMIN)
    page = returns.open_returns()
    assert [o.order_id for o in page.items] == ids and page.next_key is None


def test_return_emails_render_without_their_return_keys():
    for kind in (
        returns.RETURN_REQUESTED,
        returns.RETURN_RECEIVED,
        returns.EXCHANGE_SHIPPED_EMAIL,
        returns.RETURN_RELEASED,
    ):
        rendered = emails.render(
            kind,
            {
                "order_id": "X1",
                "lines": [],
                "subtotal_cents": 0,
                "shipping_cents": 0,
                "total_cents": 0,
                "discount_cents": 0,
                "address_lines": [],
                "order_url": "http://shop/o",
            },
        )
        assert "X1" in rendered.subject and rendered.text.strip()


def test_return_reasons_are_tallied_per_size_once_however_often_the_stream_delivers(
    alice, shoe, drain_streams, frozen_clock
):
    from chalicelib.services import return_reasons

    first = delivered_order(alice, shoe, quantity=2)
    second = delivered_order(alice, shoe, size="43")
    returns.request_return(first, exchange(size="43", reason="too_small"))
    returns.request_return(second, refund_form(reason="too_big"))
    records = drain_streams.read()
    for _ in range(3):  # the batch delivered, then redelivered whole twice
        drain_streams.deliver(records)
    reasons = return_reasons.for_shoe(shoe.shoe_id)
    assert reasons.by_size == {"42": {"too_small": 2}, "43": {"too_big": 1}}
    assert (reasons.too_small, reasons.too_big) == (2, 1)
    both = return_reasons.for_shoes([shoe.shoe_id, "nope"])
    assert {shoe_id: (r.too_small, r.too_big) for shoe_id, r in both.items()} == {shoe.shoe_id: (2, 1), "nope": (0, 0)}
    returns.mark_received(second.order_id, 1, ADMIN)
    frozen_clock.advance(days=22)
    assert returns.sweep() == [f"{first.order_id}#1"]  # the exchange's parcel never came: out of the tally
    drain_streams()
    drain_streams.deliver(records)  # older records replayed after newer ones change nothing
    assert return_reasons.for_shoe(shoe.shoe_id).by_size == {"43": {"too_big": 1}}
    released = return_reasons.for_shoe(shoe.shoe_id)
    assert (released.too_small, released.too_big) == (0, 1)


def test_the_scheduled_lambda_and_manage_py_run_the_sweep(chalice_app, alice, shoe, frozen_clock, capsys):
    from chalice.test import Client

    import manage

    first = returns.request_return(delivered_order(alice, shoe), exchange())
    second = returns.request_return(delivered_order(alice, shoe), refund_form())
    frozen_clock.advance(days=21, seconds=1)
    with Client(chalice_app) as client:
        event = client.events.generate_cw_event(
            source="aws.events", detail_type="Scheduled Event", detail={}, resources=[]
        )
        answer = client.lambda_.invoke("return_sweep", event)
    assert answer.payload == {"released": 2}
    assert [r.status for r in fresh(first).returns + fresh(second).returns] == ["released", "released"]
    assert stock(shoe, "43") == 3
    third = returns.request_return(delivered_order(alice, shoe), refund_form())
    frozen_clock.advance(days=21, seconds=1)
    assert manage.main(["sweep-returns"]) == 0
    assert f"1 return(s) closed past their deadline: {third.order_id}#1" in capsys.readouterr().out


def test_no_return_step_runs_while_a_refund_of_the_order_is_under_way(alice, shoe, frozen_clock):
    order = delivered_order(alice, shoe)
    returns.request_return(order, exchange())
    pending = refunds.Refund(key="x-1", amount_cents=1, lines=[], method="manual", by=ADMIN, at=frozen_clock.now)
    fresh(order).update(actions=[Order.pending_refund.set(pending)])
    with pytest.raises(Conflict, match="refund of this order is being made"):
        returns.mark_received(order.order_id, 1, ADMIN)
    frozen_clock.advance(days=22)
    assert returns.sweep() == [] and fresh(order).returns[0].status == "requested"  # the next run releases it
