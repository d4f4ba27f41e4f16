"""Guests pay by card too: the Checkout Session sends them back to their order's signed link, the
verified event makes it paid (with the "payment received" email to the guest's address), and a
declined card returns them to the review step with the pair back in stock."""

import json
import urllib.parse

from chalicelib.models import Order, OutboxMessage
from devtools.stripe_standin import DECLINED_CARD, SUCCESS_CARD
from tests.factories import make_shoe
from tests.payment_fixtures import stripe_standin  # noqa: F401 (fixture)
from tests.test_card_payments import deliver, order_of, pay, stock
from tests.test_cart_routes import add, text
from tests.test_guest_checkout_routes import EMAIL, give_details, place, review_form


def _guest_places_a_card_order(web, quantity: int = 1):
    shoe = make_shoe(stock={"42": quantity})
    add(web, shoe.shoe_id, "42", "1")
    assert give_details(web).headers["Location"] == "/checkout/review"
    page = text(web.get("/checkout/review"))
    assert 'value="card" checked' in page  # card is the default for guests too
    response = place(web, {**review_form(web), "payment_method": "card"})
    assert response.status_code == 303
    return shoe, response.headers["Location"]


def test_a_guest_pays_with_4242_and_their_signed_link_shows_paid(web, stripe_standin):  # noqa: F811
    shoe, payment_page = _guest_places_a_card_order(web)
    status, back = pay(payment_page, SUCCESS_CARD)
    assert status == 303
    path = urllib.parse.urlsplit(back).path
    assert path.startswith("/orders/guest/")  # back to the guest's own link, not a login page
    order = order_of(web)
    assert order.status == "pending_payment" and order.guest_email == EMAIL
    page = text(web.get(f"{path}?placed=1"))
    assert "We are confirming your payment" in page and '<meta http-equiv="refresh" content="3">' in page
    assert "You pay on delivery" not in page

    (completed,) = stripe_standin.recorder.of_type("checkout.session.completed")
    assert json.loads(deliver(web, completed).body)["outcome"] == "paid"
    page = text(web.get(f"{path}?placed=1"))
    assert "Paid." in page and 'http-equiv="refresh"' not in page
    assert Order.get(order.order_id).status == "paid" and stock(shoe.shoe_id) == 0
    # The card order's confirmation is the "payment received" email, to the guest, with the link.
    email = OutboxMessage.get(f"payment_received#{order.order_id}")
    assert email.recipient == EMAIL and "/orders/guest/" in json.dumps(email.context)
    assert OutboxMessage.count(f"order_placed#{order.order_id}") == 0  # no "placed" before it is paid


def test_a_guests_declined_card_returns_to_review_with_the_pair_back(web, stripe_standin):  # noqa: F811
    shoe, payment_page = _guest_places_a_card_order(web)
    assert stock(shoe.shoe_id) == 0
    status, back = pay(payment_page, DECLINED_CARD)
    assert status == 303 and "declined=1" in back
    answer = web.get(back.split("127.0.0.1:8000", 1)[1])
    assert answer.headers["Location"] == "/checkout/review"
    page = text(web.get("/checkout/review"))
    assert "Your card was declined. Nothing was charged" in page and "Place order" in page
    assert stock(shoe.shoe_id) == 1
    assert order_of(web).status == "payment_expired"
