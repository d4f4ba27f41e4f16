"""The review step's discount code and shipping method (blueprints/checkout_pricing.py) and where
they show afterwards: the order, its confirmation and order pages, its email and the API."""

import html
import json
import re

import pytest

from chalicelib.models import Order
from chalicelib.services import discounts, pricing
from tests.factories import ADDRESS, make_shoe
from tests.test_cart_routes import add, checkout_to_review, review_key, text


def new_code(code: str = "SAVE10", **fields) -> None:
    values = {"sk": code, "kind": pricing.PERCENT, "value": 10, "min_spend_cents": 0, **fields}
    for name in ("starts_at", "ends_at", "max_uses", "per_customer", "brands", "departments"):
        values.setdefault(name, None)
    discounts.create_code(values)


def shown(page: str, css_class: str) -> str:
    return re.search(rf'<dd class="{css_class}">([^<]+)</dd>', page).group(1)


def page_text(response) -> str:
    return html.unescape(text(response))


@pytest.fixture
def at_review(shopper):
    shoe = make_shoe(name="Runner", price_cents=6000, stock={"42": 5})
    add(shopper, shoe.shoe_id, "42", "1")
    checkout_to_review(shopper)
    return shopper


def apply(web, code: str):
    response = web.post_form("/checkout/discount", {"discount_code": code}, csrf_page="/cart")
    assert response.status_code == 303 and response.headers["Location"] == "/checkout/review"
    return page_text(web.get("/checkout/review"))


def test_the_review_step_offers_the_zones_methods_with_price_and_estimate(at_review):
    review = page_text(at_review.get("/checkout/review"))
    assert 'id="shipping-standard" name="shipping_method" value="standard" checked' in review
    assert "Standard: $5.95" in review and "Delivered in 3-5 working days; free over $75.00." in review
    assert "Express: $14.95" in review and "Delivered in 1-2 working days." in review
    assert shown(review, "total") == "$65.95"


def test_a_code_applied_at_review_shows_its_discount_and_the_new_total_and_can_be_removed(at_review):
    new_code()
    review = apply(at_review, "save10")
    assert "The code SAVE10 takes $6.00 off your order." in review
    assert "Code SAVE10 (10% off)" in review and shown(review, "discount") == "-$6.00"
    assert shown(review, "total") == "$59.95" and 'name="reviewed_total" value="5995"' in review
    removed = at_review.post_form("/checkout/discount/remove", {}, csrf_page="/cart")
    assert removed.headers["Location"] == "/checkout/review"
    review = page_text(at_review.get("/checkout/review"))
    assert "The discount code was removed." in review and shown(review, "total") == "$65.95"
    assert 'name="discount_code"' in review


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("nope", "We don't know the code NOPE. Check its spelling."),
        ("BIG", "The code BIG needs a spend of $100.00: add $40.00 more."),
        ("10% off!", "Enter a code of at most 32 letters, digits, '-' or '_'."),
    ],
)
def test_a_code_that_does_not_apply_is_refused_with_its_reason_and_not_kept(at_review, code, message):
    new_code("BIG", min_spend_cents=10000)
    review = apply(at_review, code)
    assert message in review and shown(review, "total") == "$65.95" and "applied-code" not in review


def test_express_chosen_at_review_is_priced_stored_and_shown_everywhere(at_review, mailbox):
    new_code()
    apply(at_review, "SAVE10")
    chosen = at_review.post_form("/checkout/shipping", {"shipping_method": "express"}, csrf_page="/cart")
    assert chosen.headers["Location"] == "/checkout/review"
    review = page_text(at_review.get("/checkout/review"))
    assert 'value="express" checked' in review and shown(review, "shipping") == "$14.95"
    assert shown(review, "total") == "$68.95"  # 60.00 - 6.00 + 14.95
    key = review_key(at_review)
    placed = at_review.post_form(
        "/checkout/place", {"idempotency_key": key, "reviewed_total": "6895"}, csrf_page="/cart"
    )
    assert "/orders/" in placed.headers["Location"], placed.body
    (order,) = list(Order.scan())
    assert (order.discount_code, order.discount_cents, order.shipping_method_id, order.shipping_label) == (
        "SAVE10",
        600,
        "express",
        "Express",
    )
    assert (order.shipping_cents, order.total_cents) == (1495, 6895)
    for page in (
        page_text(at_review.get(placed.headers["Location"])),
        page_text(at_review.get(f"/orders/{order.order_id}")),
    ):
        assert "Code SAVE10" in page and shown(page, "discount") == "-$6.00"
        assert "(Express)" in page and shown(page, "total") == "$68.95"
    email = mailbox.to("alice@example.com", "order_placed")[0]
    assert "Code SAVE10: -$6.00" in email.text and "Shipping (Express): $14.95" in email.text
    api = json.loads(at_review.get(f"/api/v1/orders/{order.order_id}").body)
    assert (api["discount_code"], api["discount_cents"], api["shipping_method"], api["total_cents"]) == (
        "SAVE10",
        600,
        {"id": "express", "label": "Express"},
        6895,
    )
    add(at_review, order.lines[0].shoe_id, "42", "1")
    assert "applied-code" not in page_text(at_review.get("/checkout/review"))  # the next order starts without it


def test_a_method_not_offered_for_the_address_is_refused(at_review):
    response = at_review.post_form("/checkout/shipping", {"shipping_method": "teleport"}, csrf_page="/cart")
    assert response.headers["Location"] == "/checkout/review"
    assert "Choose one of the shipping methods listed." in page_text(at_review.get("/checkout/review"))


def test_a_code_used_up_after_review_stops_the_order_with_a_message(at_review):
    new_code(max_uses=1)
    apply(at_review, "SAVE10")
    key = review_key(at_review)
    from chalicelib.models.pricing import DiscountCode

    DiscountCode(sk="SAVE10").update(actions=[DiscountCode.uses.set(1)])  # another shopper took it
    placed = at_review.post_form(
        "/checkout/place", {"idempotency_key": key, "reviewed_total": "5995"}, csrf_page="/cart"
    )
    assert placed.headers["Location"] == "/checkout/review"
    review = page_text(at_review.get("/checkout/review"))
    assert "The code SAVE10 has been used up." in review and list(Order.scan()) == []


def test_the_api_places_an_order_with_a_code_and_express_and_refuses_a_bad_code(shopper):
    new_code()
    shoe = make_shoe(price_cents=6000, stock={"42": 5})
    add(shopper, shoe.shoe_id, "42", "1")
    token = shopper.csrf_token("/cart")
    headers = {"Content-Type": "application/json", "Idempotency-Key": "api-key-0001", "X-CSRF-Token": token}
    refused = shopper.request(
        "POST", "/api/v1/orders", json.dumps({"address": ADDRESS, "discount_code": "nope"}), headers=headers
    )
    assert refused.status_code == 422 and "We don't know the code NOPE" in text(refused)
    body = {"address": ADDRESS, "discount_code": "save10", "shipping_method": "express"}
    placed = shopper.request("POST", "/api/v1/orders", json.dumps(body), headers=headers)
    assert placed.status_code == 201, placed.body
    order = json.loads(placed.body)
    assert (order["discount_code"], order["discount_cents"], order["shipping_cents"], order["total_cents"]) == (
        "SAVE10",
        600,
        1495,
        6895,
    )
