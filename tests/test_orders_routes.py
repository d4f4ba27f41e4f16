"""Order history, order detail, export, account deletion, and the cart and orders JSON API."""

import json
import re

import pytest

from chalicelib.models import Order, Stock
from chalicelib.services import accounts, cart, checkout
from tests.cart_fixtures import stored_lines
from tests.factories import make_shoe
from tests.test_cart_routes import ADDRESS, add, checkout_to_review, text


def place_via_pages(web, shoe_id: str, quantity: str = "1") -> str:
    add(web, shoe_id, "42", quantity)
    key = checkout_to_review(web)
    response = web.post_form("/checkout/place", {"idempotency_key": key}, csrf_page="/cart")
    return re.search(r"/orders/([A-Z2-7]{16})", response.headers["Location"]).group(1)


def user_named(name: str):
    from chalicelib.models import UniqueClaim

    return accounts.get_user(UniqueClaim.get(UniqueClaim.username_key(name)).user_id)


def test_orders_are_listed_newest_first_and_paginated(shopper, frozen_clock):
    shoe = make_shoe(price_cents=1000, stock={"42": 50})
    alice = user_named("alice")
    checkout.save_address(alice, checkout.clean_address(ADDRESS))
    ids = []
    for n in range(12):
        cart.add_item(cart.user_owner(alice.user_id), shoe.shoe_id, "42", "1")
        ids.append(checkout.place_order(alice, f"key-page-{n:04d}").order.order_id)
        frozen_clock.advance(minutes=1)
    first = text(shopper.get("/orders"))
    shown = re.findall(r'href="/orders/([A-Z2-7]{16})"', first)
    assert shown == list(reversed(ids))[:10]
    next_url = re.search(r'href="([^"]+)" rel="next"', first).group(1).replace("&amp;", "&")
    second = text(shopper.get(next_url))
    assert re.findall(r'href="/orders/([A-Z2-7]{16})"', second) == list(reversed(ids))[10:]
    assert 'rel="next"' not in second and 'rel="prev"' in second
    tampered = shopper.get(next_url[:-3] + "xyz")
    assert tampered.status_code == 400 and "That page link is not valid." in text(tampered)


def test_another_shoppers_order_is_not_found(shopper, other_web):
    shoe = make_shoe(stock={"42": 5})
    order_id = place_via_pages(shopper, shoe.shoe_id)
    assert shopper.get(f"/orders/{order_id}").status_code == 200
    other_web.register("bob")
    assert other_web.get(f"/orders/{order_id}").status_code == 404
    assert other_web.get("/orders/not-an-id").status_code == 404
    assert order_id not in text(other_web.get("/orders"))


def test_export_downloads_the_shoppers_data(shopper):
    shoe = make_shoe(name="Runner", stock={"42": 5})
    order_id = place_via_pages(shopper, shoe.shoe_id)
    add(shopper, shoe.shoe_id, "42", "2")
    response = shopper.get("/account/export")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].startswith("attachment;")
    data = json.loads(response.body)
    assert data["profile"]["username"] == "alice" and data["profile"]["email"] == "alice@example.com"
    assert data["addresses"][0]["full_name"] == "Alice Example"
    assert [line["quantity"] for line in data["cart"]["lines"]] == [2]
    assert [order["order_id"] for order in data["orders"]] == [order_id]
    assert "password_hash" not in response.body.decode()


def test_deleting_an_account_keeps_orders_without_personal_data(shopper):
    shoe = make_shoe(stock={"42": 5})
    order_id = place_via_pages(shopper, shoe.shoe_id)
    add(shopper, shoe.shoe_id, "42", "1")
    page = text(shopper.get("/account/delete"))
    assert "name, address and phone removed" in page
    response = shopper.post_form("/account/delete", {"password": "correct horse battery"}, csrf_page="/cart")
    assert response.status_code == 303
    order = Order.get(order_id)
    assert order.user_id is None and order.address is None
    assert order.total_cents > 0 and len(order.lines) == 1  # kept for the books
    assert list(stored_lines()) == []


# -- JSON API ----------------------------------------------------------------------------------------


def api(web, method: str, path: str, body: object = None, headers: dict | None = None, csrf: bool = True):
    all_headers = {"content-type": "application/json"}
    if csrf and method != "GET":
        all_headers["x-csrf-token"] = web.csrf_token("/cart")
    all_headers.update(headers or {})
    payload = json.dumps(body) if body is not None else ""
    response = web.request(method, path, body=payload, headers=all_headers)
    return response, (json.loads(response.body) if response.body else None)


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/v1/cart"),
        ("POST", "/api/v1/cart"),
        ("PATCH", "/api/v1/cart"),
        ("DELETE", "/api/v1/cart"),
        ("GET", "/api/v1/orders"),
        ("POST", "/api/v1/orders"),
        ("GET", "/api/v1/orders/AAAAAAAAAAAAAAAA"),
    ],
)
def test_the_api_needs_a_logged_in_shopper(web, method, path):
    token = web.csrf_token("/login")
    response = web.request(method, path, body="{}", headers={"content-type": "application/json", "x-csrf-token": token})
    assert response.status_code == 401
    assert json.loads(response.body)["error"]["code"] == "NotAuthenticated"


def test_api_mutations_need_the_csrf_header(shopper):
    shoe = make_shoe(stock={"42": 5})
    response, body = api(shopper, "POST", "/api/v1/cart", {"shoe_id": shoe.shoe_id, "size": "42"}, csrf=False)
    assert response.status_code == 403 and body["error"]["code"] == "CSRFFailed"
    assert list(stored_lines()) == []


def test_api_cart_add_update_remove(shopper):
    shoe = make_shoe(name="Runner", price_cents=4000, stock={"42": 3})
    response, body = api(shopper, "POST", "/api/v1/cart", {"shoe_id": shoe.shoe_id, "size": "42", "quantity": 2})
    assert response.status_code == 201
    assert body["lines"][0]["quantity"] == 2 and body["subtotal_cents"] == 8000 and body["units"] == 2
    response, body = api(shopper, "PATCH", "/api/v1/cart", {"shoe_id": shoe.shoe_id, "size": "42", "quantity": 9})
    assert response.status_code == 200 and body["lines"][0]["quantity"] == 3 and "Only 3 left" in body["message"]
    response, body = api(shopper, "GET", "/api/v1/cart")
    assert body["units"] == 3
    assert re.search(r'class="badge">3</span><span class="visually-hidden"> items in cart<', text(shopper.get("/cart")))
    response, body = api(shopper, "DELETE", f"/api/v1/cart?shoe_id={shoe.shoe_id}&size=42")
    assert response.status_code == 200 and body["lines"] == []


@pytest.mark.parametrize("quantity", [0, -1, 11, "abc", 10**20, None, 1.5, True])
def test_api_bad_quantities_are_422_with_the_field(shopper, quantity):
    shoe = make_shoe(stock={"42": 3})
    response, body = api(shopper, "POST", "/api/v1/cart", {"shoe_id": shoe.shoe_id, "size": "42", "quantity": quantity})
    assert response.status_code == 422
    assert body["error"]["fields"] == {"quantity": "Choose a quantity from 1 to 10."}
    assert list(stored_lines()) == []


def test_api_bad_bodies_and_unknown_things(shopper):
    shoe = make_shoe(stock={"42": 3})
    response, _ = api(shopper, "POST", "/api/v1/cart", None, csrf=True)
    assert response.status_code == 422  # no shoe, no size
    token = shopper.csrf_token("/cart")
    raw = shopper.request(
        "POST", "/api/v1/cart", body="{not json", headers={"content-type": "application/json", "x-csrf-token": token}
    )
    assert raw.status_code == 400 and json.loads(raw.body)["error"]["message"] == "Send a JSON object."
    response, body = api(shopper, "POST", "/api/v1/cart", {"shoe_id": "nosuchshoe", "size": "42"})
    assert response.status_code == 404 and body["error"]["message"] == "We could not find that shoe."
    response, body = api(shopper, "PATCH", "/api/v1/cart", {"shoe_id": shoe.shoe_id, "size": "42", "quantity": 1})
    assert response.status_code == 404  # not in this cart
    response, body = api(shopper, "DELETE", "/api/v1/cart")
    assert response.status_code == 422


def test_api_place_order_is_idempotent_per_key(shopper):
    shoe = make_shoe(stock={"42": 5})
    api(shopper, "POST", "/api/v1/cart", {"shoe_id": shoe.shoe_id, "size": "42", "quantity": 2})
    headers = {"idempotency-key": "client-key-0001"}
    response, body = api(shopper, "POST", "/api/v1/orders", {"address": ADDRESS}, headers=headers)
    assert response.status_code == 201, body
    order_id = body["order_id"]
    assert body["total_cents"] == 2 * 8999 and body["address"]["city"] == "Dublin"
    replay, replay_body = api(shopper, "POST", "/api/v1/orders", {"address": ADDRESS}, headers=headers)
    assert replay.status_code == 200 and replay_body["order_id"] == order_id
    assert Stock.get(shoe.shoe_id, "42").quantity == 3 and len(list(Order.scan())) == 1
    response, body = api(shopper, "GET", "/api/v1/orders")
    assert [o["order_id"] for o in body["orders"]] == [order_id] and body["next_cursor"] is None
    response, body = api(shopper, "GET", "/api/v1/orders?cursor=tampered")
    assert response.status_code == 400 and body["error"]["code"] == "InvalidCursor"
    response, body = api(shopper, "GET", f"/api/v1/orders/{order_id}")
    assert response.status_code == 200 and body["lines"][0]["quantity"] == 2


def test_api_place_order_errors(shopper, other_web):
    shoe = make_shoe(stock={"42": 1})
    response, body = api(shopper, "POST", "/api/v1/orders", {}, headers={"idempotency-key": "client-key-0002"})
    assert response.status_code == 409 and body["error"]["code"] == "EmptyCart"
    api(shopper, "POST", "/api/v1/cart", {"shoe_id": shoe.shoe_id, "size": "42"})
    for bad_key in (None, "short", "x" * 200, "has space in it"):
        headers = {"idempotency-key": bad_key} if bad_key else {}
        response, body = api(shopper, "POST", "/api/v1/orders", {"address": ADDRESS}, headers=headers)
        assert response.status_code == 422 and "Idempotency-Key" in body["error"]["fields"]
    response, body = api(
        shopper,
        "POST",
        "/api/v1/orders",
        {"address": {"city": "Dublin"}},
        headers={"idempotency-key": "client-key-0003"},
    )
    assert response.status_code == 422 and "full_name" in body["error"]["fields"]
    # Someone else buys the last pair first.
    other_web.register("bob")
    api(other_web, "POST", "/api/v1/cart", {"shoe_id": shoe.shoe_id, "size": "42"})
    response, body = api(
        other_web, "POST", "/api/v1/orders", {"address": ADDRESS}, headers={"idempotency-key": "bob-key-000001"}
    )
    assert response.status_code == 201
    response, body = api(
        shopper, "POST", "/api/v1/orders", {"address": ADDRESS}, headers={"idempotency-key": "client-key-0004"}
    )
    assert response.status_code == 409 and body["error"]["code"] == "OutOfStock"
    assert any("sold out" in message for message in body["error"]["fields"].values())
    assert Stock.get(shoe.shoe_id, "42").quantity == 0
    response, _ = api(shopper, "GET", f"/api/v1/orders/{Order.scan().next().order_id}")
    assert response.status_code == 404  # Bob's order


def test_the_confirmation_and_order_pages_give_the_number_and_what_happens_next(shopper):
    order_id = place_via_pages(shopper, make_shoe(stock={"42": 5}).shoe_id)
    number = Order.get(order_id).order_number
    for path in (f"/orders/{order_id}?placed=1", f"/orders/{order_id}"):
        body = shopper.get(path).body.decode()
        assert f'<dd class="order-number">{number}</dd>' in body
        assert "What happens next" in body and "you pay the courier on arrival" in body
    listing = shopper.get("/orders").body.decode()
    assert f'<a href="/orders/{order_id}">{number}</a>' in listing
    assert 'data-label="Total"' in listing and 'data-label="Status"' in listing  # the phone's card labels
