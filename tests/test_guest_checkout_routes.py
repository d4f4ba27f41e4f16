"""Guest checkout through the pages: choosing to continue as guest, email and address, placing
the order, its signed link, creating an account from it, and what others cannot see."""

import json
import re
from html import unescape

import pytest

from chalicelib.models import Order, Stock
from tests.factories import make_shoe
from tests.test_cart_routes import ADDRESS, add, csrf_page, text
from tests.test_orders_routes import user_named

EMAIL = "wanda@example.com"
PASSWORD = "correct horse battery"


def give_details(web, email: str = EMAIL, **changes: str):
    return web.post_form("/checkout/guest", {**ADDRESS, "email": email, **changes}, csrf_page=csrf_page(web))


def review_form(web) -> dict[str, str]:
    page = web.get("/checkout/review")
    assert page.status_code == 200, page.body
    body = text(page)
    return {
        "idempotency_key": re.search(r'name="idempotency_key" value="([^"]+)"', body).group(1),
        "reviewed_total": re.search(r'name="reviewed_total" value="([^"]+)"', body).group(1),
    }


def place(web, form: dict[str, str]):
    return web.post_form("/checkout/place", form, csrf_page=csrf_page(web))


def guest_places_an_order(web, email: str = EMAIL, quantity: str = "1") -> tuple[str, str]:
    """A guest fills a cart and checks out; returns (order id, the order's link path)."""
    shoe = make_shoe(name="Harbour Runner", price_cents=6000, stock={"42": 5})
    add(web, shoe.shoe_id, "42", quantity)
    assert give_details(web, email).headers["Location"] == "/checkout/review"
    response = place(web, review_form(web))
    assert response.status_code == 303, response.body
    location = response.headers["Location"]
    match = re.fullmatch(r"(/orders/guest/([A-Z2-7]{16})\.[^?]+)\?placed=1", location)
    assert match, location
    return match.group(2), match.group(1)


def test_continue_as_guest_asks_for_an_email_beside_the_address(web):
    shoe = make_shoe(stock={"42": 5})
    add(web, shoe.shoe_id, "42")
    page = text(web.get("/checkout/guest"))
    assert '<label for="field-email">Email</label>' in page
    assert 'type="email"' in page and 'maxlength="254"' in page and 'autocomplete="email"' in page
    assert 'action="/checkout/guest"' in page and '<label for="field-city">City</label>' in page
    response = give_details(web)
    assert response.status_code == 303 and response.headers["Location"] == "/checkout/review"
    review = text(web.get("/checkout/review"))
    assert "Review your order" in review and EMAIL in review and "1 Main Street" in review
    assert 'href="/checkout/guest">Change email or address</a>' in review
    again = text(web.get("/checkout/guest"))  # the details are kept for the guest's next visit
    assert f'value="{EMAIL}"' in again and 'value="Dublin"' in again


@pytest.mark.parametrize(
    "email, message",
    [
        ("", "Enter your email address."),
        ("wanda@example", "Enter an email address like name@example.com."),
        ("wanda@example.com\r\nBcc: all@example.com", "Enter an email address like name@example.com, on one line."),
        ("a,b@example.com", "Enter an email address like name@example.com."),
        ("w" * 300 + "@example.com", "Enter an email address like name@example.com."),
    ],
)
def test_a_bad_email_is_answered_on_the_page_with_the_typed_values_kept(web, email, message):
    shoe = make_shoe(stock={"42": 5})
    add(web, shoe.shoe_id, "42")
    response = give_details(web, email, city="Cork", full_name="Wanda <b>Walker</b>")
    assert response.status_code == 400
    page = text(response)
    assert message in page and 'aria-invalid="true"' in page
    assert 'value="Cork"' in page and 'value="Wanda &lt;b&gt;Walker&lt;/b&gt;"' in page
    kept = re.search(r'id="field-email" name="email" type="email" value="([^"]*)"', page).group(1)
    assert unescape(kept) == email[:300]
    assert web.get("/checkout/review").headers["Location"] == "/checkout/guest"  # nothing was saved


def test_a_guest_places_an_order_and_sees_its_page_from_the_link(web):
    order_id, link = guest_places_an_order(web)
    order = Order.get(order_id)
    assert (order.user_id, order.guest_email, order.status, order.payment_method) == (
        None,
        EMAIL,
        "placed",
        "pay_on_delivery",
    )
    confirmation = web.get(f"{link}?placed=1")
    page = text(confirmation)
    assert confirmation.status_code == 200
    assert "Thank you! Your order is placed" in page and order_id in page and EMAIL in page
    assert "Harbour Runner" in page and "1 Main Street" in page
    assert confirmation.headers["Referrer-Policy"] == "no-referrer"  # the link never leaves in a Referer
    assert confirmation.headers["Cache-Control"] == "no-store"
    assert re.search(r'class="badge">0</span><span class="visually-hidden"> items in cart<', page)
    assert Stock.get(order.lines[0].shoe_id, "42").quantity == 4


def test_the_link_opens_the_order_in_another_browser_and_nothing_else_does(web, other_web):
    order_id, link = guest_places_an_order(web)
    later = other_web.get(link)  # a fresh browser, with only the link
    assert later.status_code == 200 and f"Order {Order.get(order_id).order_number}" in text(later)
    assert "Thank you!" not in text(later)
    # Without the link: the order's account page sends a visitor to log in, a shopper gets 404.
    assert other_web.get(f"/orders/{order_id}").headers["Location"].startswith("/login")
    other_web.register("bob")
    assert other_web.get(f"/orders/{order_id}").status_code == 404
    assert order_id not in text(other_web.get("/orders"))


def test_a_forged_or_another_orders_link_does_not_open_it(web, other_web):
    order_id, link = guest_places_an_order(web)
    other_id, other_link = guest_places_an_order(other_web, "someone@example.com")
    signature = link.partition(".")[2]
    for bad in (
        f"/orders/guest/{other_id}.{signature}",  # this order's signature on another order's id
        link[:-3] + "abc",
        f"/orders/guest/{order_id}",
        f"/orders/guest/{order_id}.",
        "/orders/guest/" + "A" * 150,
    ):
        response = other_web.get(bad)
        assert response.status_code == 404, bad
        assert order_id not in text(response) and "This order link is not valid" in text(response)
    assert other_id in text(web.get(other_link))  # each link opens its own order only
    assert order_id not in text(web.get(other_link))


def test_a_double_submit_makes_one_order(web):
    shoe = make_shoe(stock={"42": 5})
    add(web, shoe.shoe_id, "42", "2")
    give_details(web)
    form = review_form(web)
    first = place(web, form)
    second = place(web, form)
    assert first.status_code == second.status_code == 303
    # Both open the same order (a link carries the order id before its signing time and signature).
    assert _linked_order(first.headers["Location"]) == _linked_order(second.headers["Location"])
    assert "This order was already placed; here it is." in text(web.get(second.headers["Location"]))
    assert len(list(Order.scan())) == 1
    assert Stock.get(shoe.shoe_id, "42").quantity == 3


def test_a_guest_creates_an_account_from_the_order_and_finds_it_in_their_history(web, other_web):
    order_id, link = guest_places_an_order(web)
    page = text(other_web.get(link))
    assert f'href="{link}/account">Create an account</a>' in page
    form_page = text(other_web.get(f"{link}/account"))
    assert "Create your account" in form_page and f'value="{EMAIL}"' in form_page
    assert f'action="{link}/account"' in form_page

    fields = {"username": "wanda", "password": PASSWORD, "confirm_password": PASSWORD}
    wrong = other_web.post_form(
        f"{link}/account", {**fields, "email": "other@example.com"}, csrf_page=csrf_page(other_web)
    )
    assert wrong.status_code == 400
    assert f"Use the email this order was placed with, {EMAIL}" in text(wrong)
    assert 'value="wanda"' in text(wrong) and 'value="other@example.com"' in text(wrong)
    assert Order.get(order_id).user_id is None

    response = other_web.post_form(
        f"{link}/account", {**fields, "email": EMAIL.upper()}, csrf_page=csrf_page(other_web)
    )
    assert response.status_code == 303 and response.headers["Location"] == f"/orders/{order_id}"
    detail = text(other_web.get(f"/orders/{order_id}"))
    assert "Your order is now in your order history." in detail and order_id in detail
    assert f'href="/orders/{order_id}">{Order.get(order_id).order_number}</a>' in text(other_web.get("/orders"))
    assert Order.get(order_id).user_id == user_named("wanda").user_id
    # Its link now leads to the account's page, behind the login: the guest's browser is sent to log in.
    assert other_web.get(link).headers["Location"] == f"/orders/{order_id}"
    assert web.get(f"/orders/{order_id}").headers["Location"].startswith("/login")
    assert web.get(f"{link}/account").headers["Location"] == f"/orders/{order_id}"


def test_a_logged_in_shopper_with_the_orders_email_adds_it_to_their_orders(web, other_web):
    order_id, link = guest_places_an_order(web)
    other_web.register("wanda", EMAIL)
    page = text(other_web.get(link))
    assert "Add to my orders" in page
    response = other_web.post_form(f"{link}/claim", {}, csrf_page=csrf_page(other_web))
    assert response.status_code == 303 and response.headers["Location"] == f"/orders/{order_id}"
    assert order_id in text(other_web.get("/orders"))


def test_a_shopper_with_another_email_cannot_take_the_order(web, other_web):
    order_id, link = guest_places_an_order(web)
    other_web.register("mallory")
    page = text(other_web.get(link))
    assert "Add to my orders" not in page and "placed with another email address" in page
    response = other_web.post_form(f"{link}/claim", {}, csrf_page=csrf_page(other_web))
    assert response.headers["Location"] == link
    assert "another email address" in text(other_web.get(link))
    assert Order.get(order_id).user_id is None


def test_every_new_post_refuses_a_missing_csrf_token(web):
    order_id, link = guest_places_an_order(web)
    shoe = make_shoe(stock={"42": 5})
    add(web, shoe.shoe_id, "42")
    fields = {"username": "wanda", "email": EMAIL, "password": PASSWORD, "confirm_password": PASSWORD}
    for path, form in (
        ("/checkout/guest", {**ADDRESS, "email": EMAIL}),
        ("/checkout/place", review_form(web)),
        (f"{link}/account", fields),
        (f"{link}/claim", {}),
    ):
        response = web.post_form(path, form, csrf=False)
        assert response.status_code == 403, path
        assert "This form has expired" in text(response)
    assert len(list(Order.scan())) == 1 and Order.get(order_id).user_id is None


def test_a_guest_without_details_is_sent_to_give_them(web):
    shoe = make_shoe(stock={"42": 5})
    assert web.get("/checkout/guest").headers["Location"] == "/cart"  # no cart yet
    add(web, shoe.shoe_id, "42")
    assert web.get("/checkout/review").headers["Location"] == "/checkout/guest"
    response = web.post_form("/checkout/place", {"idempotency_key": "x" * 20}, csrf_page="/cart")
    assert response.headers["Location"] == "/checkout"
    assert "Enter your email and shipping address first." in text(web.get("/checkout"))
    assert list(Order.scan()) == []


def test_logging_in_from_checkout_drops_the_guest_details_for_the_accounts(web, other_web):
    other_web.register("alice")
    shoe = make_shoe(stock={"42": 5})
    add(web, shoe.shoe_id, "42")
    give_details(web)
    web.login("alice")
    assert web.get("/checkout/guest").headers["Location"] == "/checkout"
    assert web.get("/checkout/review").headers["Location"] == "/checkout"  # alice has no address yet


def test_guest_orders_are_limited_per_client(web, other_web, monkeypatch):
    from chalicelib.config import get_settings

    monkeypatch.setenv("GUEST_ORDER_CLIENT_LIMIT", "1")
    get_settings.cache_clear()
    try:
        guest_places_an_order(web)
        shoe = make_shoe(stock={"42": 5})
        add(other_web, shoe.shoe_id, "42")  # another guest, another email, the same client address
        give_details(other_web, "other@example.com")
        refused = place(other_web, review_form(other_web))
        assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
        assert "Too many attempts" in text(refused)
        assert len(list(Order.scan())) == 1
    finally:
        monkeypatch.delenv("GUEST_ORDER_CLIENT_LIMIT")
        get_settings.cache_clear()


def test_the_json_api_offers_no_guest_checkout(web):
    shoe = make_shoe(stock={"42": 5})
    add(web, shoe.shoe_id, "42")
    give_details(web)
    headers = {
        "content-type": "application/json",
        "idempotency-key": "guest-api-key-1",
        "x-csrf-token": web.csrf_token("/cart"),  # a valid token: the refusal is about who, not CSRF
    }
    response = web.request("POST", "/api/v1/orders", body="{}", headers=headers)
    assert response.status_code == 401
    assert json.loads(response.body)["error"] == {"code": "NotAuthenticated", "message": "Log in to do that."}
    assert web.get("/api/v1/cart", headers={"accept": "application/json"}).status_code == 401
    assert list(Order.scan()) == []


def test_the_back_office_shows_a_guest_orders_email(admin, other_web):
    order_id, _link = guest_places_an_order(other_web)
    page = text(admin.get(f"/admin/orders/{order_id}"))
    assert f'<dt>Placed as guest</dt><dd class="guest-email">{EMAIL}</dd>' in page


def _linked_order(location: str) -> str:
    return location.split("?")[0].removeprefix("/orders/guest/").split(".")[0]
