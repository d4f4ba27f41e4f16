"""Card payments through the real `stripe` library against the local stand-in (devtools/stripe_standin.py):
the review step, Checkout Sessions, signed webhooks, the state machine, expiry, refunds, overselling."""

import json
import re
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from datetime import timedelta

import pytest

from chalicelib import clock
from chalicelib.models import Order, Stock
from chalicelib.services import card_payments, cart, checkout, payments
from devtools.stripe_standin import DECLINED_CARD, SUCCESS_CARD, sign
from tests.factories import ADDRESS, make_shoe, make_user
from tests.payment_fixtures import WEBHOOK_SECRET, stripe_standin  # noqa: F401 (fixture)
from tests.test_cart_line_cap import atomic_moto_with_latency  # noqa: F401 (fixture: DynamoDB-atomic calls)
from tests.test_cart_routes import add, checkout_to_review, text

ORDER_LOCATION = re.compile(r"/orders/([A-Z2-7]{16})")


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def _open(request) -> tuple[int, dict, str]:
    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(request, timeout=10) as answer:
            return answer.status, dict(answer.headers), answer.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read().decode()


def pay(url: str, card_number: str) -> tuple[int, str]:
    """What the shopper does on the payment page: fill in the labelled inputs and press Pay."""
    status, _, page = _open(urllib.request.Request(url))
    assert status == 200
    for label in ("Card number", "Expiry", "CVC"):
        assert f">{label}</label>" in page
    assert ">Pay</button>" in page
    form = urllib.parse.urlencode({"card_number": card_number, "expiry": "12 / 34", "cvc": "123"}).encode()
    status, headers, _ = _open(urllib.request.Request(url, data=form, method="POST"))
    return status, headers.get("Location", "")


def deliver(web, delivery, payload: str | None = None, signature: str | None = None):
    return web.request(
        "POST",
        "/webhooks/stripe",
        body=payload if payload is not None else delivery.payload,
        headers={
            "content-type": "application/json",
            "stripe-signature": delivery.signature if signature is None else signature,
        },
    )


def place_card_order(web, shoe_id: str, quantity: str = "1", size: str = "42"):
    add(web, shoe_id, size, quantity)
    key = checkout_to_review(web)
    response = web.post_form("/checkout/place", {"idempotency_key": key, "payment_method": "card"}, csrf_page="/cart")
    assert response.status_code == 303, text(response)
    return response, key


def order_of(web) -> Order:
    orders = list(Order.scan())  # test inspection only
    assert len(orders) == 1
    return orders[0]


def stock(shoe_id: str, size: str = "42") -> int:
    return int(Stock.get(shoe_id, size, consistent_read=True).quantity)


# -- the review step -------------------------------------------------------------------------------


def test_review_offers_card_by_default_and_pay_on_delivery_as_radio_buttons(shopper, stripe_standin):  # noqa: F811
    shoe = make_shoe(stock={"42": 5})
    add(shopper, shoe.shoe_id)
    checkout_to_review(shopper)
    page = text(shopper.get("/checkout/review"))
    assert re.search(r'type="radio" id="payment-card" name="payment_method" value="card" checked', page)
    assert 'value="pay_on_delivery"' in page and '<label for="payment-card">Card</label>' in page


def test_without_stripe_keys_only_pay_on_delivery_is_offered_and_card_is_refused(shopper):
    shoe = make_shoe(stock={"42": 5})
    add(shopper, shoe.shoe_id)
    key = checkout_to_review(shopper)
    page = text(shopper.get("/checkout/review"))
    assert 'value="card"' not in page and 'value="pay_on_delivery" checked' in page
    response = shopper.post_form(
        "/checkout/place", {"idempotency_key": key, "payment_method": "card"}, csrf_page="/cart"
    )
    assert response.status_code == 400  # the review page again, the message next to the choice
    assert 'id="field-payment_method-error">Choose how to pay: Pay on delivery.</p>' in text(response)
    assert list(Order.scan()) == [] and stock(shoe.shoe_id) == 5


# -- paying ----------------------------------------------------------------------------------------


def test_card_order_is_pending_with_stock_taken_and_the_session_charges_its_total(shopper, stripe_standin):  # noqa: F811
    shoe = make_shoe(price_cents=4250, stock={"42": 3})
    response, _ = place_card_order(shopper, shoe.shoe_id, "2")
    order = order_of(shopper)
    assert order.status == "pending_payment" and order.payment_method == "card"
    assert stock(shoe.shoe_id) == 1  # taken by the same transaction that wrote the order
    session = stripe_standin.standin.sessions[order.checkout_session_id]
    assert response.headers["Location"] == session["url"]
    # The amount is the stored order's total (shipping included), in the stage's currency, lower-case.
    assert session["amount_total"] == int(order.total_cents) == 2 * 4250 + order.shipping_cents
    assert session["currency"] == "usd" and session["client_reference_id"] == order.order_id
    assert session["expires_at"] == int((order.created_at + timedelta(minutes=30)).timestamp())
    assert order.payment_due_sort.startswith((order.created_at + timedelta(minutes=45)).strftime("%Y-%m-%dT%H:%M"))


def test_paying_with_4242_makes_the_order_paid_once_the_signed_event_arrives(shopper, stripe_standin):  # noqa: F811
    shoe = make_shoe(stock={"42": 3})
    response, _ = place_card_order(shopper, shoe.shoe_id)
    order_id = ORDER_LOCATION.search(pay(response.headers["Location"], SUCCESS_CARD)[1]).group(1)
    # Back on the shop before the webhook: being confirmed, refreshing itself without script.
    page = text(shopper.get(f"/orders/{order_id}?placed=1"))
    assert "We are confirming your payment" in page and '<meta http-equiv="refresh" content="3">' in page
    assert "<script>" not in page
    assert Order.get(order_id).status == "pending_payment"  # the browser's return proves nothing
    (completed,) = stripe_standin.recorder.of_type("checkout.session.completed")
    answer = deliver(shopper, completed)
    assert answer.status_code == 200 and json.loads(answer.body)["outcome"] == "paid"
    page = text(shopper.get(f"/orders/{order_id}?placed=1"))
    assert "Paid." in page and 'http-equiv="refresh"' not in page
    order = Order.get(order_id)
    assert order.status == "paid" and order.payment_intent_id.startswith("pi_test_")
    assert order.payment_due_sort is None  # out of the sweep's index
    assert stock(shoe.shoe_id) == 2


def test_webhook_before_the_browser_return_and_duplicates_change_nothing(shopper, stripe_standin):  # noqa: F811
    shoe = make_shoe(stock={"42": 3})
    response, _ = place_card_order(shopper, shoe.shoe_id)
    _, back = pay(response.headers["Location"], SUCCESS_CARD)
    (completed,) = stripe_standin.recorder.of_type("checkout.session.completed")
    assert json.loads(deliver(shopper, completed).body)["outcome"] == "paid"
    assert json.loads(deliver(shopper, completed).body)["outcome"] == "duplicate"
    page = text(shopper.get(urllib.parse.urlsplit(back).path + "?placed=1"))
    assert "Paid." in page
    order = order_of(shopper)
    assert [change.status for change in order.history] == ["pending_payment", "paid"]


def test_declined_card_returns_to_review_with_the_stock_back_exactly_once(shopper, stripe_standin):  # noqa: F811
    shoe = make_shoe(stock={"42": 1})
    response, _ = place_card_order(shopper, shoe.shoe_id)
    assert stock(shoe.shoe_id) == 0
    status, back = pay(response.headers["Location"], DECLINED_CARD)
    assert status == 303 and "declined=1" in back
    answer = shopper.get(back.split("127.0.0.1:8000", 1)[1])
    assert answer.headers["Location"] == "/checkout/review"
    page = text(shopper.get("/checkout/review"))
    assert "Your card was declined. Nothing was charged" in page
    assert stock(shoe.shoe_id) == 1  # back at once, and the cart holds the pair again
    assert "Place order" in page
    order = order_of(shopper)
    assert order.status == "payment_expired"
    # Stripe then reports the expired session: the stock is not returned a second time.
    (expired,) = stripe_standin.recorder.of_type("checkout.session.expired")
    assert json.loads(deliver(shopper, expired).body)["outcome"] == "expired"
    assert stock(shoe.shoe_id) == 1
    # Opening the cancel link again changes nothing either.
    shopper.get(back.split("127.0.0.1:8000", 1)[1])
    assert stock(shoe.shoe_id) == 1


def test_cancelling_on_the_payment_page_releases_the_order(shopper, stripe_standin):  # noqa: F811
    shoe = make_shoe(stock={"42": 2})
    _response, _ = place_card_order(shopper, shoe.shoe_id)
    session = stripe_standin.standin.sessions[order_of(shopper).checkout_session_id]
    answer = shopper.get(session["cancel_url"].split("127.0.0.1:8000", 1)[1])
    assert answer.headers["Location"] == "/checkout/review"
    assert "The card payment was cancelled" in text(shopper.get("/checkout/review"))
    assert stock(shoe.shoe_id) == 2 and session["status"] == "expired"
    # The cancel link is signed for its order: a made-up token does nothing.
    forged = shopper.get(f"/checkout/payment/{order_of(shopper).order_id}/cancelled?token=forged")
    assert forged.status_code == 404


def test_a_repeated_place_order_submit_reuses_the_order_and_its_session(shopper, stripe_standin):  # noqa: F811
    shoe = make_shoe(stock={"42": 3})
    response, key = place_card_order(shopper, shoe.shoe_id)
    again = shopper.post_form("/checkout/place", {"idempotency_key": key, "payment_method": "card"}, csrf_page="/cart")
    assert again.headers["Location"] == response.headers["Location"]
    assert len(stripe_standin.standin.sessions) == 1 and stock(shoe.shoe_id) == 2


# -- webhooks --------------------------------------------------------------------------------------


def test_forged_stale_and_replayed_signatures_are_refused_with_400(shopper, stripe_standin, caplog):  # noqa: F811
    shoe = make_shoe(stock={"42": 3})
    response, _ = place_card_order(shopper, shoe.shoe_id)
    pay(response.headers["Location"], SUCCESS_CARD)
    (completed,) = stripe_standin.recorder.of_type("checkout.session.completed")
    forged = sign(completed.payload, "whsec_someone_else")
    assert deliver(shopper, completed, signature=forged).status_code == 400
    stale = sign(completed.payload, WEBHOOK_SECRET, timestamp=int(time.time()) - 301)
    assert deliver(shopper, completed, signature=stale).status_code == 400
    # A valid signature replayed on another body (amount or order changed) does not verify.
    tampered = completed.payload.replace('"paid"', '"unpaid"')
    assert deliver(shopper, completed, payload=tampered).status_code == 400
    assert deliver(shopper, completed, signature="").status_code == 400
    assert order_of(shopper).status == "pending_payment"  # no order becomes paid without a verified event
    assert "webhook_refused" in caplog.text and WEBHOOK_SECRET not in caplog.text
    assert deliver(shopper, completed).status_code == 200
    assert order_of(shopper).status == "paid"


def test_the_webhook_needs_no_csrf_token_but_every_other_post_still_does(web):
    from chalicelib.web import middleware

    assert frozenset({"/webhooks/stripe"}) == middleware.CSRF_EXEMPT_ROUTES
    answer = web.request("POST", "/webhooks/stripe", body="{}", headers={"content-type": "application/json"})
    assert answer.status_code == 400 and b"BadSignature" in answer.body  # refused by signature, not CSRF
    assert web.post_form("/logout", {}, csrf=False).status_code == 403


def test_expired_after_paid_changes_nothing(shopper, stripe_standin):  # noqa: F811
    shoe = make_shoe(stock={"42": 3})
    response, _ = place_card_order(shopper, shoe.shoe_id)
    pay(response.headers["Location"], SUCCESS_CARD)
    (completed,) = stripe_standin.recorder.of_type("checkout.session.completed")
    session = dict(completed.event["data"]["object"], status="expired")
    expired = stripe_standin.standin.event_for("checkout.session.expired", session)
    payload = json.dumps(expired)
    deliver(shopper, completed)
    assert deliver(shopper, None, payload=payload, signature=sign(payload, WEBHOOK_SECRET)).status_code == 200
    assert order_of(shopper).status == "paid" and stock(shoe.shoe_id) == 2


def test_a_late_paid_event_for_an_expired_order_is_refunded(shopper, stripe_standin):  # noqa: F811
    """Out of order: expired first (stock returned), then paid. The money goes back, not the stock."""
    shoe = make_shoe(stock={"42": 1})
    _response, _ = place_card_order(shopper, shoe.shoe_id)
    order = order_of(shopper)
    session = stripe_standin.standin.sessions[order.checkout_session_id]
    paid = dict(session, status="complete", payment_status="paid", payment_intent="pi_test_late")
    session.update(paid)  # the stand-in knows the payment, so it can refund it
    expired_payload = json.dumps(stripe_standin.standin.event_for("checkout.session.expired", dict(session)))
    paid_payload = json.dumps(stripe_standin.standin.event_for("checkout.session.completed", paid))
    deliver(shopper, None, payload=expired_payload, signature=sign(expired_payload, WEBHOOK_SECRET))
    assert order_of(shopper).status == "payment_expired" and stock(shoe.shoe_id) == 1
    deliver(shopper, None, payload=paid_payload, signature=sign(paid_payload, WEBHOOK_SECRET))
    order = order_of(shopper)
    assert order.status == "payment_expired" and order.refund_id.startswith("re_test_")
    assert [r["payment_intent"] for r in stripe_standin.standin.refunds.values()] == ["pi_test_late"]
    assert stock(shoe.shoe_id) == 1
    assert "refunded in full" in text(shopper.get(f"/orders/{order.order_id}"))


def test_an_event_with_another_amount_never_marks_the_order_paid(shopper, stripe_standin):  # noqa: F811
    shoe = make_shoe(stock={"42": 3})
    response, _ = place_card_order(shopper, shoe.shoe_id)
    pay(response.headers["Location"], SUCCESS_CARD)
    (completed,) = stripe_standin.recorder.of_type("checkout.session.completed")
    session = dict(completed.event["data"]["object"], amount_total=1)
    payload = json.dumps(stripe_standin.standin.event_for("checkout.session.completed", session))
    deliver(shopper, None, payload=payload, signature=sign(payload, WEBHOOK_SECRET))
    assert order_of(shopper).status == "pending_payment"


# -- expiry ----------------------------------------------------------------------------------------


def test_the_sweep_expires_orders_past_their_deadline_through_the_index(shopper, stripe_standin, frozen_clock):  # noqa: F811
    from tests.cart_fixtures import count_dynamodb_calls

    shoe = make_shoe(stock={"42": 2})
    place_card_order(shopper, shoe.shoe_id)
    order = order_of(shopper)
    frozen_clock.advance(minutes=44)
    assert card_payments.sweep_expired() == []  # session lifetime (30) + margin (15) not over yet
    frozen_clock.advance(minutes=2)
    with count_dynamodb_calls() as calls:
        assert card_payments.sweep_expired() == [order.order_id]
    assert calls["Scan"] == 0 and calls["Query"] == 1
    assert order_of(shopper).status == "payment_expired" and stock(shoe.shoe_id) == 2
    assert card_payments.sweep_expired() == [] and stock(shoe.shoe_id) == 2  # exactly once
    # Stripe's own expired event afterwards (its session was expired by the sweep) changes nothing.
    (expired,) = stripe_standin.recorder.of_type("checkout.session.expired")
    deliver(shopper, expired)
    assert stock(shoe.shoe_id) == 2


def test_the_expired_webhook_releases_the_stock(shopper, stripe_standin):  # noqa: F811
    shoe = make_shoe(stock={"42": 2})
    place_card_order(shopper, shoe.shoe_id, "2")
    order = order_of(shopper)
    stripe_standin.standin.sessions[order.checkout_session_id]["expires_at"] = 0  # Stripe's clock ran out
    stripe_standin.standin.session(order.checkout_session_id)
    (expired,) = stripe_standin.recorder.of_type("checkout.session.expired")
    assert json.loads(deliver(shopper, expired).body)["outcome"] == "expired"
    assert order_of(shopper).status == "payment_expired" and stock(shoe.shoe_id) == 2


def test_the_scheduled_lambda_runs_the_sweep(chalice_app, shopper, stripe_standin, frozen_clock):  # noqa: F811
    from chalice.test import Client

    shoe = make_shoe(stock={"42": 1})
    place_card_order(shopper, shoe.shoe_id)
    frozen_clock.advance(minutes=46)
    with Client(chalice_app) as client:
        event = client.events.generate_cw_event(
            source="aws.events", detail_type="Scheduled Event", detail={}, resources=[]
        )
        answer = client.lambda_.invoke("payment_sweep", event)
    assert answer.payload == {"expired": 1}
    assert order_of(shopper).status == "payment_expired" and stock(shoe.shoe_id) == 1


# -- refunds ---------------------------------------------------------------------------------------


def paid_order(shopper, stripe_standin, shoe) -> Order:  # noqa: F811
    response, _ = place_card_order(shopper, shoe.shoe_id)
    pay(response.headers["Location"], SUCCESS_CARD)
    (completed,) = stripe_standin.recorder.of_type("checkout.session.completed")
    deliver(shopper, completed)
    return order_of(shopper)


def test_admin_cancel_of_a_paid_order_refunds_once_under_a_double_submit(
    shopper,
    other_web,
    stripe_standin,  # noqa: F811
    admin_account,
):
    shoe = make_shoe(stock={"42": 2})
    order = paid_order(shopper, stripe_standin, shoe)
    assert stock(shoe.shoe_id) == 1
    other_web.admin_login()
    page = text(other_web.get(f"/admin/orders/{order.order_id}/cancel"))
    assert "Cancelling refunds what is left of the card payment, then puts the pairs back in stock." in page
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    form = {"reason": "customer_request", "version": str(order.version), "csrf_token": token}
    body = urllib.parse.urlencode(form)
    first = other_web.request(
        "POST",
        f"/admin/orders/{order.order_id}/cancel",
        body=body,
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    second = other_web.request(
        "POST",
        f"/admin/orders/{order.order_id}/cancel",
        body=body,
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert first.status_code == 303 and second.status_code in (303, 409)
    refunds = list(stripe_standin.standin.refunds.values())
    assert len(refunds) == 1 and refunds[0]["amount"] == int(order.total_cents)
    cancelled = order_of(shopper)
    assert cancelled.status == "cancelled" and cancelled.refund_id == refunds[0]["id"]
    assert stock(shoe.shoe_id) == 2  # restocked once


def test_no_restock_without_the_refund_recorded(shopper, stripe_standin, admin_account):  # noqa: F811
    from chalicelib.services import fulfilment
    from chalicelib.services.errors import Conflict

    shoe = make_shoe(stock={"42": 2})
    order = paid_order(shopper, stripe_standin, shoe)
    stripe_standin.standin.stop()  # Stripe unreachable
    with pytest.raises(Conflict, match="refund could not be made"):
        fulfilment.transition(order.order_id, "cancelled", "boss")
    assert order_of(shopper).status == "paid" and order_of(shopper).refund_id is None
    assert stock(shoe.shoe_id) == 1


# -- concurrency -----------------------------------------------------------------------------------


def test_many_shoppers_paying_by_card_for_the_last_pairs_never_oversell(atomic_moto_with_latency, stripe_standin):  # noqa: F811
    shoe = make_shoe(stock={"42": 3})
    shoppers = [make_user(f"buyer{n}", address=ADDRESS) for n in range(10)]
    for user in shoppers:
        cart.add_item(cart.user_owner(user.user_id), shoe.shoe_id, "42", "1")
    results: list[str] = []
    barrier = threading.Barrier(len(shoppers))

    def buy(user) -> None:
        barrier.wait()
        try:
            placed = checkout.place_order(user, f"key-race-{user.username}", payment_method=payments.CARD)
            urls = card_payments.ReturnUrls(success="http://shop/ok", cancel="http://shop/cancel")
            card_payments.start_checkout(placed.order, urls)
            results.append("placed")
        except checkout.OutOfStock:
            results.append("sold out")
        except Exception as error:  # busy answers under the race count as not placed
            results.append(type(error).__name__)

    threads = [threading.Thread(target=buy, args=(user,)) for user in shoppers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    pending = [o for o in Order.scan() if o.status == "pending_payment"]
    assert results.count("placed") == len(pending) <= 3
    assert stock(shoe.shoe_id) == 3 - len(pending) >= 0
    assert len(stripe_standin.standin.sessions) == len(pending)


# -- the library stays off the import path ---------------------------------------------------------


def test_import_app_does_not_load_stripe():
    code = "import sys, app; assert 'stripe' not in sys.modules, 'stripe imported'; print('ok')"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and result.stdout.strip() == "ok", result.stderr[-2000:]


def test_the_deployed_session_lifetime_and_margin(monkeypatch):
    from chalicelib.config import get_settings

    for name in ("CARD_SESSION_MINUTES", "PAYMENT_SWEEP_MARGIN_MINUTES"):
        monkeypatch.delenv(name, raising=False)
    get_settings.cache_clear()
    try:
        created = clock.now()
        assert payments.session_expires_at(created) == created + timedelta(minutes=30)  # Stripe's minimum
        assert get_settings().payment_sweep_margin_minutes == 15
    finally:
        get_settings.cache_clear()
