"""Refunds, full or per line, through the Stripe stand-in: partial amounts, never more than was paid, a
double submit refunds once, restock only when chosen and only once, pay-on-delivery refunds recorded
by hand, the staff limit, the history, the shopper's email, cancelling after a partial refund."""

import os
import re
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from chalicelib.config import get_settings
from chalicelib.models import Order, Stock
from chalicelib.services import card_payments, cart, checkout, emails, fulfilment, outbox, payments, pricing, refunds
from chalicelib.services.errors import Conflict, ValidationFailed
from devtools.stripe_standin import SUCCESS_CARD
from tests.factories import ADDRESS, make_admin, make_shoe, make_user
from tests.payment_fixtures import stripe_standin  # noqa: F401 (fixture)
from tests.test_cart_line_cap import atomic_moto_with_latency  # noqa: F401 (fixture: DynamoDB-atomic calls)

ADMIN = "boss"


@contextmanager
def monkeypatch_env(name: str, value: str) -> Iterator[None]:
    saved = os.environ.get(name)
    os.environ[name] = value
    get_settings.cache_clear()
    try:
        yield
    finally:
        if saved is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = saved
        get_settings.cache_clear()


@pytest.fixture
def shoes():
    return make_shoe(stock={"42": 10}, price_cents=5000), make_shoe(stock={"42": 10}, price_cents=3000, name="Court")


@pytest.fixture
def alice():
    return make_user("alice", "alice@example.com", address=ADDRESS)


def _fill(user, shoes, quantities=(1, 2)) -> None:
    for shoe, quantity in zip(shoes, quantities, strict=True):
        cart.add_item(cart.user_owner(user.user_id), shoe.shoe_id, "42", str(quantity))


def paid_order(user, shoes, stripe) -> Order:
    """A card order for 1 x 50.00 + 2 x 30.00 (free shipping over 75.00), paid through the stand-in."""
    _fill(user, shoes)
    placed = checkout.place_order(user, f"key-{uuid.uuid4().hex}", payment_method=payments.CARD).order
    card_payments.start_checkout(placed, card_payments.ReturnUrls(success="http://shop/ok", cancel="http://shop/no"))
    session_id = str(Order.get(placed.order_id).checkout_session_id)
    assert stripe.standin.pay(session_id, SUCCESS_CARD)[0] == "paid"
    (completed,) = stripe.recorder.of_type("checkout.session.completed")
    card_payments.handle_webhook(completed.payload.encode(), completed.signature)
    order = Order.get(placed.order_id, consistent_read=True)
    assert order.status == "paid" and int(order.total_cents) == 11000
    return order


def delivered_cash_order(user, shoes) -> Order:
    _fill(user, shoes)
    placed = checkout.place_order(user, f"key-{uuid.uuid4().hex}", payment_method=payments.PAY_ON_DELIVERY).order
    fulfilment.transition(placed.order_id, "shipped", ADMIN)
    return fulfilment.transition(placed.order_id, "delivered", ADMIN)


def stock(shoe) -> int:
    return int(Stock.get(shoe.shoe_id, "42", consistent_read=True).quantity)


def stripe_refunds(stripe) -> list[int]:
    return [int(refund["amount"]) for refund in stripe.standin.refunds.values()]


def refund_emails() -> list[int]:
    return [m.context["amount_cents"] for m in outbox.unsent(outbox.PENDING) if m.kind == emails.ORDER_REFUNDED]


def test_a_line_refund_refunds_that_line_at_stripe_and_records_who_and_what(alice, shoes, stripe_standin):  # noqa: F811
    order = paid_order(alice, shoes, stripe_standin)
    done = refunds.refund(order.order_id, ADMIN, refunds.RefundRequest(lines=(1,)), order.version)
    assert stripe_refunds(stripe_standin) == [6000]
    assert int(done.refunded_cents) == 6000 and done.pending_refund is None
    (refund,) = done.refunds
    assert (refund.by, list(refund.lines), refund.method, refund.restock) == (ADMIN, [1], "card", False)
    assert refund.refund_id in stripe_standin.standin.refunds
    assert done.history[-1].by == ADMIN and done.history[-1].note == "Refunded $60.00 (Court size 42)"
    assert done.status == "paid" and refund_emails() == [6000]
    assert stock(shoes[1]) == 8  # not restocked unless asked


def test_a_line_of_a_discounted_order_refunds_what_was_paid_for_it_not_its_full_price(alice, shoes, stripe_standin):  # noqa: F811
    order = paid_order(alice, shoes, stripe_standin)
    # As a 10% code leaves it: 110.00 of shoes, 11.00 off, 99.00 paid (free shipping).
    order.update(actions=[Order.discount_cents.set(1100), Order.total_cents.set(9900)])
    done = refunds.refund(order.order_id, ADMIN, refunds.RefundRequest(lines=(1,)), int(order.version))
    assert stripe_refunds(stripe_standin) == [5400]  # 60.00 less its 6.00 share of the discount
    rest = refunds.refund(order.order_id, ADMIN, refunds.RefundRequest(full=True), int(done.version))
    assert int(rest.refunded_cents) == 9900 and stripe_refunds(stripe_standin) == [5400, 4500]


def test_discount_shares_follow_the_line_totals_and_add_up_to_the_discount():
    assert pricing.discount_shares([5000, 6000], 1100) == [500, 600]
    assert pricing.discount_shares([1000, 1000, 1000], 100) == [34, 33, 33]
    assert sum(pricing.discount_shares([333, 667, 1], 250)) == 250
    assert pricing.discount_shares([500], 900) == [500]  # never more than the line
    assert pricing.discount_shares([500, 500], 0) == [0, 0]


def test_lines_then_the_rest_never_refund_more_than_was_paid(alice, shoes, stripe_standin):  # noqa: F811
    order = paid_order(alice, shoes, stripe_standin)
    order = refunds.refund(order.order_id, ADMIN, refunds.RefundRequest(lines=(0,)))
    with pytest.raises(Conflict, match="refunded already"):
        refunds.refund(order.order_id, ADMIN, refunds.RefundRequest(lines=(0,)))
    order = refunds.refund(order.order_id, ADMIN, refunds.RefundRequest(full=True))
    assert stripe_refunds(stripe_standin) == [5000, 6000] and int(order.refunded_cents) == 11000
    with pytest.raises(Conflict, match="refunded already"):
        refunds.refund(order.order_id, ADMIN, refunds.RefundRequest(full=True))
    assert sum(stripe_refunds(stripe_standin)) == int(order.total_cents)


def test_a_line_worth_more_than_what_is_left_refunds_only_what_is_left(alice, shoes, stripe_standin):  # noqa: F811
    order = paid_order(alice, shoes, stripe_standin)
    # As if an earlier, manual adjustment had paid back 80.00: 30.00 is left, the line costs 60.00.
    order.update(actions=[Order.refunded_cents.set(8000)])
    done = refunds.refund(order.order_id, ADMIN, refunds.RefundRequest(lines=(1,)))
    assert stripe_refunds(stripe_standin) == [3000] and int(done.refunded_cents) == 11000


def test_the_stand_in_refuses_more_than_the_charge_as_stripe_does(alice, shoes, stripe_standin):  # noqa: F811
    order = paid_order(alice, shoes, stripe_standin)
    intent = str(order.payment_intent_id)
    with pytest.raises(card_payments.PaymentUnavailable):
        card_payments.create_refund(order.order_id, intent, 11001, "too-much")
    assert card_payments.create_refund(order.order_id, intent, 1000, "part")
    with pytest.raises(card_payments.PaymentUnavailable):
        card_payments.create_refund(order.order_id, intent, 10001, "rest-plus-one")
    card_payments.create_refund(order.order_id, intent, None, "rest")
    assert stripe_refunds(stripe_standin) == [1000, 10000]


def test_a_double_submit_from_two_threads_refunds_once(alice, shoes, stripe_standin, atomic_moto_with_latency):  # noqa: F811
    order = paid_order(alice, shoes, stripe_standin)
    results: list[str] = []
    barrier = threading.Barrier(2)

    def submit() -> None:
        barrier.wait()
        try:
            refunds.refund(order.order_id, ADMIN, refunds.RefundRequest(lines=(1,), restock=True), order.version)
            results.append("refunded")
        except Conflict:
            results.append("refused")

    threads = [threading.Thread(target=submit) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == ["refunded", "refused"]
    assert stripe_refunds(stripe_standin) == [6000]
    final = Order.get(order.order_id, consistent_read=True)
    assert int(final.refunded_cents) == 6000 and len(final.refunds) == 1
    assert stock(shoes[1]) == 10  # the two pairs back once


def test_restock_happens_only_when_chosen_and_a_cancel_later_skips_those_pairs(alice, shoes, stripe_standin):  # noqa: F811
    order = paid_order(alice, shoes, stripe_standin)
    assert (stock(shoes[0]), stock(shoes[1])) == (9, 8)
    refunds.refund(order.order_id, ADMIN, refunds.RefundRequest(lines=(1,), restock=True))
    assert (stock(shoes[0]), stock(shoes[1])) == (9, 10)
    cancelled = fulfilment.cancel(order.order_id, ADMIN, "customer_request")
    assert cancelled.status == "cancelled"
    assert (stock(shoes[0]), stock(shoes[1])) == (10, 10)  # the refunded pairs are not put back twice
    assert stripe_refunds(stripe_standin) == [6000, 5000]  # the cancel refunds only what was left
    assert int(cancelled.refunded_cents) == 11000
    assert refund_emails() == [6000, 5000]


def test_when_stripe_fails_nothing_is_refunded_and_the_reservation_is_undone(alice, shoes, stripe_standin):  # noqa: F811
    order = paid_order(alice, shoes, stripe_standin)
    stripe_standin.standin.stop()
    with pytest.raises(Conflict, match="nothing was refunded"):
        refunds.refund(order.order_id, ADMIN, refunds.RefundRequest(lines=(0,), restock=True))
    after = Order.get(order.order_id, consistent_read=True)
    assert int(after.refunded_cents or 0) == 0 and after.pending_refund is None and not after.refunds
    assert stock(shoes[0]) == 9 and refund_emails() == []


def test_pay_on_delivery_is_refunded_by_hand_once_delivered(alice, shoes, stripe_standin):  # noqa: F811
    _fill(alice, shoes)
    placed = checkout.place_order(alice, "key-cash", payment_method=payments.PAY_ON_DELIVERY).order
    with pytest.raises(Conflict, match="paid when it is delivered"):
        refunds.refund(placed.order_id, ADMIN, refunds.RefundRequest(lines=(0,)))
    fulfilment.transition(placed.order_id, "shipped", ADMIN)
    fulfilment.transition(placed.order_id, "delivered", ADMIN)
    done = refunds.refund(placed.order_id, ADMIN, refunds.RefundRequest(lines=(0,), note="Paid back in the shop"))
    assert done.refunds[0].method == "manual" and done.refunds[0].refund_id is None
    assert "paid back by hand. Paid back in the shop" in done.history[-1].note
    assert stripe_refunds(stripe_standin) == [] and refund_emails() == [5000]


def test_refunds_over_the_staff_limit_are_for_owners(alice, shoes, stripe_standin):  # noqa: F811
    make_admin("owner", role="owner")
    make_admin("clerk", role="staff")
    order = paid_order(alice, shoes, stripe_standin)
    with monkeypatch_env("ADMIN_STAFF_REFUND_LIMIT_CENTS", "5500"):
        with pytest.raises(Conflict, match=r"Refunds over \$55.00 are for an owner"):
            refunds.refund(order.order_id, "clerk", refunds.RefundRequest(lines=(1,)))
        assert stripe_refunds(stripe_standin) == []
        refunds.refund(order.order_id, "clerk", refunds.RefundRequest(lines=(0,)))  # 50.00: within the limit
        refunds.refund(order.order_id, "owner", refunds.RefundRequest(lines=(1,)))
        assert stripe_refunds(stripe_standin) == [5000, 6000]


def test_staff_are_refused_a_refund_over_the_limit_on_the_page(web, alice, shoes, stripe_standin):  # noqa: F811
    make_admin("clerk", password="staff password 1", role="staff")
    order = paid_order(alice, shoes, stripe_standin)  # 110.00 in all; the default limit is 200.00
    assert web.admin_login("clerk", "staff password 1").status_code == 303
    page = f"/admin/orders/{order.order_id}"
    version = str(order.version)
    small = web.post_form(f"{page}/refund", {"line": "0", "version": version}, csrf_page=page)
    assert small.status_code == 303 and stripe_refunds(stripe_standin) == [5000]
    with monkeypatch_env("ADMIN_STAFF_REFUND_LIMIT_CENTS", "1000"):
        version = re.search(r'name="version" value="(\d+)"', web.get(page).body.decode()).group(1)
        refused = web.post_form(f"{page}/refund", {"full": "1", "version": version}, csrf_page=page)
        assert refused.status_code == 409 and "are for an owner" in refused.body.decode()
    assert stripe_refunds(stripe_standin) == [5000]


def test_bad_requests_are_refused_with_a_message(alice, shoes, stripe_standin):  # noqa: F811
    order = paid_order(alice, shoes, stripe_standin)
    with pytest.raises(ValidationFailed, match="Choose the lines"):
        refunds.refund(order.order_id, ADMIN, refunds.RefundRequest())
    with pytest.raises(ValidationFailed):
        refunds.refund(order.order_id, ADMIN, refunds.RefundRequest(lines=(7,)))
    with pytest.raises(ValidationFailed):
        refunds.refund(order.order_id, ADMIN, refunds.RefundRequest(lines=(0,), note="x" * 201))
    with pytest.raises(Conflict, match="changed since you loaded"):
        refunds.refund(order.order_id, ADMIN, refunds.RefundRequest(lines=(0,)), seen_version=int(order.version) - 1)
    assert stripe_refunds(stripe_standin) == []


# -- the page -----------------------------------------------------------------------------------


def test_the_order_page_refunds_a_line_and_a_resubmit_is_refused(admin, alice, shoes, stripe_standin):  # noqa: F811
    order = paid_order(alice, shoes, stripe_standin)
    page = f"/admin/orders/{order.order_id}"
    html = admin.get(page).body.decode()
    assert 'id="refund-line-1"' in html and "Put the refunded pairs back in stock" in html
    form = {"line": "1", "restock": "1", "version": re.search(r'name="version" value="(\d+)"', html).group(1)}
    first = admin.post_form(f"{page}/refund", form, csrf_page=page)
    assert first.status_code == 303
    assert "Refunded $60.00 of order" in admin.get(page).body.decode()
    again = admin.post_form(f"{page}/refund", form, csrf_page=page)
    assert again.status_code == 409
    assert stripe_refunds(stripe_standin) == [6000] and stock(shoes[1]) == 10
    after = admin.get(page).body.decode()
    assert "$60.00 refunded" in after and "(refunded)" in after
    none = admin.post_form(f"{page}/refund", {"version": form["version"]}, csrf_page=page)
    assert none.status_code in (400, 409)
    assert admin.post_form(f"{page}/refund", form, csrf=False).status_code == 403
