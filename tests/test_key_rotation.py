"""A signing-key rotation (`make rotate-signing-key`) breaks nothing issued a minute earlier, and
never changes an order id: a retried checkout finds its first order instead of placing a second."""

import re

from chalicelib.models import Order
from tests.catalogue_fixtures import seed_catalogue
from tests.factories import make_order, make_shoe
from tests.test_cart_routes import ADDRESS, add, checkout_to_review, text
from tests.test_orders_routes import api


def _next_link(html: str) -> str:
    return re.search(r'href="([^"]+)" rel="next"', html).group(1).replace("&amp;", "&")


def test_an_api_retry_after_a_rotation_returns_the_same_order_and_places_no_second_one(shopper, rotate_signing_key):
    shoe = make_shoe(stock={"42": 5})
    add(shopper, shoe.shoe_id, "42", "1")
    shopper.post_form("/checkout", ADDRESS, csrf_page="/cart")
    headers = {"idempotency-key": "client-retry-0001"}
    response, first = api(shopper, "POST", "/api/v1/orders", {}, headers=headers)
    assert response.status_code == 201, first
    add(shopper, shoe.shoe_id, "42", "2")  # the shopper goes on shopping meanwhile
    rotate_signing_key()
    response, again = api(shopper, "POST", "/api/v1/orders", {}, headers=headers)
    assert response.status_code == 200 and again["order_id"] == first["order_id"]
    assert [order.order_id for order in Order.scan()] == [first["order_id"]]
    _, cart = api(shopper, "GET", "/api/v1/cart")
    assert sum(line["quantity"] for line in cart["lines"]) == 2  # the new cart was not ordered


def test_forms_csrf_tokens_and_checkout_keys_issued_before_a_rotation_still_work(shopper, rotate_signing_key):
    shoe = make_shoe(stock={"42": 5})
    add(shopper, shoe.shoe_id, "42", "1")
    key = checkout_to_review(shopper)
    csrf = shopper.csrf_token("/checkout/review")  # the open review page's form
    rotate_signing_key()
    placed = shopper.post_form("/checkout/place", {"idempotency_key": key}, csrf=csrf)
    assert placed.status_code == 303 and "/orders/" in placed.headers["Location"], placed.body
    order_id = re.search(r"/orders/([A-Z2-7]{16})", placed.headers["Location"]).group(1)
    add(shopper, shoe.shoe_id, "42", "1")  # a double submit, with something new in the cart
    double = shopper.post_form("/checkout/place", {"idempotency_key": key}, csrf=csrf)
    assert double.status_code == 303 and order_id in double.headers["Location"]
    assert [order.order_id for order in Order.scan()] == [order_id]


def test_cursors_issued_before_a_rotation_still_page(web, admin, rotate_signing_key):
    seed_catalogue(30)
    shop_next = _next_link(text(web.get("/")))
    shoe = make_shoe(stock={"42": 50})
    for minutes in range(21):
        make_order([(shoe.shoe_id, "42", 1)], minutes_ago=minutes)
    admin_next = _next_link(text(admin.get("/admin/orders?status=placed")))
    rotate_signing_key()
    shop_page = web.get(shop_next)
    assert shop_page.status_code == 200 and "out of date or damaged" not in text(shop_page)
    admin_page = text(admin.get(admin_next))
    assert len(re.findall(r'href="/admin/orders/[^"/]+"', admin_page)) == 1  # page two of 21
