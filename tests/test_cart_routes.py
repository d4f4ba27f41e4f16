"""Cart and checkout pages through the web client: guest carts, merging, checkout, double submits."""

import re
from urllib.parse import unquote

from chalicelib.models import Order, Stock
from tests.cart_fixtures import count_dynamodb_calls, stored_lines
from tests.factories import make_shoe

ADDRESS = {
    "full_name": "Alice Example",
    "line1": "1 Main Street",
    "line2": "",
    "city": "Dublin",
    "region": "",
    "postal_code": "D02 X285",
    "country": "IE",
    "phone": "",
}


def csrf_page(web) -> str:
    """A page with a CSRF token for this visitor (the header's logout form, or the login form)."""
    return "/cart" if b"Log out" in web.get("/cart").body else "/login"


def add(web, shoe_id: str, size: str = "42", quantity: str = "1"):
    return web.post_form(
        "/cart/items", {"shoe_id": shoe_id, "size": size, "quantity": quantity}, csrf_page=csrf_page(web)
    )


def text(response) -> str:
    return response.body.decode()


def header_count(web) -> str:
    return re.search(
        r'class="badge">(\d+)</span><span class="visually-hidden"> items in cart<', text(web.get("/cart"))
    ).group(1)


def review_key(web) -> str:
    page = web.get("/checkout/review")
    assert page.status_code == 200, page.body
    return re.search(r'name="idempotency_key" value="([^"]+)"', text(page)).group(1)


def checkout_to_review(web) -> str:
    response = web.post_form("/checkout", ADDRESS, csrf_page="/cart")
    assert response.status_code == 303 and response.headers["Location"] == "/checkout/review", response.body
    return review_key(web)


def test_a_guest_fills_a_cart_and_the_header_counts_it(web):
    shoe = make_shoe(name="Trail Runner", price_cents=8999, stock={"42": 5})
    response = add(web, shoe.shoe_id, "42", "2")
    assert response.status_code == 303 and response.headers["Location"] == "/cart"
    assert "sid" in web.cookies  # a guest session holds the cart
    page = web.get("/cart")
    body = text(page)
    assert "Added 2 pairs of Trail Runner (EU 42) to your cart." in body
    assert "Trail Runner" in body and "EU 42" in body and "$89.99" in body and "$179.98" in body
    assert '<a class="button" href="/checkout">Checkout</a>' in body
    assert header_count(web) == "2"
    owner = next(iter({line.owner for line in stored_lines()}))
    assert owner.startswith("GUEST#")


def test_bad_input_on_add_is_explained_and_leaves_no_trace(web):
    shoe = make_shoe(stock={"42": 5})
    for quantity in ("0", "-1", "11", "abc", "9" * 40):
        response = add(web, shoe.shoe_id, "42", quantity)
        assert response.status_code == 303
        assert "Choose a quantity from 1 to 10." in text(web.get("/cart"))
    add(web, "nosuchshoe", "42", "1")
    assert "We could not find that shoe." in text(web.get("/cart"))
    add(web, shoe.shoe_id, "44", "1")
    assert "That size is not offered for this shoe." in text(web.get("/cart"))
    assert list(stored_lines()) == []


def test_adding_past_stock_caps_and_says_so(web):
    shoe = make_shoe(name="Court Classic", stock={"42": 2})
    add(web, shoe.shoe_id, "42", "5")
    assert "Your cart now has 2 pairs of Court Classic (EU 42) (only 2 left)." in text(web.get("/cart"))
    assert header_count(web) == "2"


def test_registering_merges_the_guest_cart_and_says_so(web):
    shoe = make_shoe(stock={"42": 5})
    add(web, shoe.shoe_id, "42", "2")
    response = web.register("alice")
    assert response.status_code == 303
    body = text(web.get("/cart"))
    assert "We moved 2 items from your guest cart into your cart." in body
    assert header_count(web) == "2"
    owners = {line.owner for line in stored_lines()}
    assert len(owners) == 1 and next(iter(owners)).startswith("USER#")


def test_logging_in_merges_into_the_account_cart_capped_by_stock(web, other_web):
    shoe = make_shoe(name="Boot", stock={"42": 3})
    other_web.register("alice")
    add(other_web, shoe.shoe_id, "42", "2")  # already in Alice's account cart
    add(web, shoe.shoe_id, "42", "2")  # a guest elsewhere
    web.login("alice")
    body = text(web.get("/cart"))
    assert "We moved 1 item from your guest cart into your cart." in body
    assert "Boot (EU 42): only 3 could go in your cart." in body
    assert [int(line.quantity) for line in stored_lines()] == [3]


def test_a_guest_at_checkout_chooses_guest_login_or_register_and_comes_back_to_checkout(web):
    shoe = make_shoe(stock={"42": 5})
    add(web, shoe.shoe_id, "42", "1")
    response = web.get("/checkout")
    assert response.status_code == 200
    choices = text(response)
    assert "How would you like to check out?" in choices
    assert '<a class="button button-block" href="/checkout/guest">Continue as guest</a>' in choices
    assert "No account needed" in choices  # the reason for each choice is said
    assert unquote('href="/login?next=%2Fcheckout"') in unquote(choices)
    assert unquote('href="/register?next=%2Fcheckout"') in unquote(choices)
    page = text(web.get("/login?next=/checkout"))
    assert 'name="next" value="/checkout"' in page
    response = web.post_form(
        "/register",
        {
            "username": "alice",
            "email": "a@example.com",
            "password": "correct horse battery",
            "confirm_password": "correct horse battery",
            "next": "/checkout",
        },
        csrf_page="/register",
    )
    assert response.headers["Location"] == "/checkout"
    page = web.get("/checkout")
    assert page.status_code == 200
    assert "We moved 1 item from your guest cart" in text(page)


def test_the_cart_page_reads_lines_and_one_batch(shopper):
    shoes = [make_shoe(stock={str(size): 5 for size in range(36, 48)}) for _ in range(2)]
    for shoe in shoes:
        for size in ("40", "41", "42"):
            add(shopper, shoe.shoe_id, size, "1")
    shopper.get("/cart")  # the count in the session is up to date after this
    with count_dynamodb_calls() as calls:
        page = shopper.get("/cart")
    assert page.status_code == 200
    cart_calls = {k: v for k, v in calls.items() if ":" in k and not k.endswith((":sessions", ":users"))}
    assert cart_calls == {"Query:carts": 1, "BatchGetItem:shoes": 1, "BatchGetItem:stock": 1}
    assert calls["Query"] == 1 and calls["BatchGetItem"] == 1
    assert calls.get("Scan", 0) == 0


def test_updating_and_removing_lines(shopper):
    shoe = make_shoe(name="Runner", stock={"42": 4})
    add(shopper, shoe.shoe_id, "42", "1")
    line_id = f"{shoe.shoe_id}#42"
    shopper.post_form("/cart/update", {"line_id": line_id, "quantity": "3"}, csrf_page="/cart")
    assert header_count(shopper) == "3"
    response = shopper.post_form("/cart/update", {"line_id": line_id, "quantity": "abc"}, csrf_page="/cart")
    assert response.status_code == 400
    assert "Choose a quantity from 1 to 10." in text(response)
    assert 'aria-invalid="true"' in text(response) and 'value="3"' in text(response)
    shopper.post_form("/cart/update", {"line_id": line_id, "quantity": "9"}, csrf_page="/cart")
    assert "Only 4 left of Runner (EU 42): your cart now has 4." in text(shopper.get("/cart"))
    shopper.post_form("/cart/remove", {"line_id": line_id}, csrf_page="/cart")
    assert header_count(shopper) == "0"
    assert "Your cart is empty." in text(shopper.get("/cart"))


def test_another_shoppers_line_cannot_be_changed(shopper, other_web):
    shoe = make_shoe(stock={"42": 4})
    add(shopper, shoe.shoe_id, "42", "2")
    other_web.register("bob")
    line_id = f"{shoe.shoe_id}#42"
    for path, form in (("/cart/update", {"line_id": line_id, "quantity": "1"}), ("/cart/remove", {"line_id": line_id})):
        response = other_web.post_form(path, form, csrf_page="/cart")
        assert response.status_code == 303 and response.headers["Location"] == "/cart"
        assert "That item is no longer in your cart" in text(other_web.get("/cart"))
    assert [int(line.quantity) for line in stored_lines()] == [2]


def test_a_line_removed_in_another_tab_answers_on_the_cart_page(shopper):
    keep = make_shoe(name="Keeper", stock={"41": 4})
    gone = make_shoe(name="Goner", stock={"42": 4})
    add(shopper, keep.shoe_id, "41", "1")
    add(shopper, gone.shoe_id, "42", "2")
    stale_tab = text(shopper.get("/cart"))  # both lines, each with its own update and remove forms
    assert "Goner" in stale_tab and "Keeper" in stale_tab
    line_id = f"{gone.shoe_id}#42"
    shopper.post_form("/cart/remove", {"line_id": line_id}, csrf_page="/cart")  # the other tab
    for path, form in (("/cart/update", {"line_id": line_id, "quantity": "3"}), ("/cart/remove", {"line_id": line_id})):
        response = shopper.post_form(path, form, csrf_page="/cart")
        assert response.status_code == 303 and response.headers["Location"] == "/cart"
        page = shopper.get("/cart")
        assert page.status_code == 200
        body = text(page)
        assert "That item is no longer in your cart (it may have been removed in another tab)." in body
        assert "Keeper" in body and "Goner" not in body
    assert header_count(shopper) == "1"
    assert [line.line_id for line in stored_lines()] == [f"{keep.shoe_id}#41"]


def test_a_guest_whose_cart_expired_gets_the_notice_too(web):
    response = web.post_form("/cart/update", {"line_id": "S" * 12 + "#42", "quantity": "2"}, csrf_page="/login")
    assert response.status_code == 303 and response.headers["Location"] == "/cart"
    assert "That item is no longer in your cart" in text(web.get("/cart"))


def test_quantity_zero_removes_the_line(shopper):
    shoe = make_shoe(name="Runner", stock={"42": 4})
    add(shopper, shoe.shoe_id, "42", "2")
    response = shopper.post_form("/cart/update", {"line_id": f"{shoe.shoe_id}#42", "quantity": "0"}, csrf_page="/cart")
    assert response.status_code == 303
    body = text(shopper.get("/cart"))
    assert "Removed from your cart." in body and "Your cart is empty." in body
    assert stored_lines() == [] and header_count(shopper) == "0"


def test_the_cart_shows_a_total_line_and_how_far_free_shipping_is(shopper):
    cheap = make_shoe(name="Flip", price_cents=3000, stock={"42": 5})
    add(shopper, cheap.shoe_id, "42", "2")  # $60.00, free from $75.00
    body = text(shopper.get("/cart"))
    assert "Spend $15.00 more for free shipping." in body
    assert "Total for 2 pairs: <strong>$65.95</strong>" in body  # with $5.95 shipping
    assert '<progress max="7500" value="6000"' in body
    shopper.post_form("/cart/update", {"line_id": f"{cheap.shoe_id}#42", "quantity": "3"}, csrf_page="/cart")
    body = text(shopper.get("/cart"))
    assert "Your order ships free." in body and "Total for 3 pairs: <strong>$90.00</strong>" in body
    assert "more for free shipping" not in body


def test_the_cart_warns_about_sold_out_and_short_lines(shopper):
    a = make_shoe(name="Gone", stock={"42": 2})
    b = make_shoe(name="Short", stock={"40": 3})
    add(shopper, a.shoe_id, "42", "1")
    add(shopper, b.shoe_id, "40", "3")
    Stock.get(a.shoe_id, "42").update(actions=[Stock.quantity.set(0)])
    Stock.get(b.shoe_id, "40").update(actions=[Stock.quantity.set(1)])
    body = text(shopper.get("/cart"))
    assert "Gone (EU 42): sold out" in body and "Short (EU 40): only 1 left" in body
    shopper.post_form("/checkout", ADDRESS, csrf_page="/cart")
    review = text(shopper.get("/checkout/review"))
    assert "Update your cart" in review and "Place order" not in review


def test_address_errors_are_shown_and_the_input_kept(shopper):
    shoe = make_shoe(stock={"42": 4})
    add(shopper, shoe.shoe_id, "42", "1")
    page = text(shopper.get("/checkout"))
    for label in ("Full name", "Address line 1", "Address line 2", "City", "Region", "Postal code", "Country", "Phone"):
        assert f">{label}" in page
    assert ">Review order</button>" in page
    response = shopper.post_form(
        "/checkout", {**ADDRESS, "city": "", "country": "ZZ", "full_name": "Alice <b>"}, csrf_page="/cart"
    )
    assert response.status_code == 400
    body = text(response)
    assert "Enter your city." in body and "Choose a country from the list." in body
    assert 'value="Alice &lt;b&gt;"' in body and 'value="1 Main Street"' in body


def test_checkout_places_one_order_even_when_submitted_twice(shopper):
    shoe = make_shoe(name="Runner", price_cents=5000, stock={"42": 5})
    add(shopper, shoe.shoe_id, "42", "2")
    key = checkout_to_review(shopper)
    review = text(shopper.get("/checkout/review"))
    assert "$100.00" in review and "Free" in review and ">Place order</button>" in review
    first = shopper.post_form("/checkout/place", {"idempotency_key": key}, csrf_page="/cart")
    assert first.status_code == 303
    order_url = first.headers["Location"]
    confirmation = text(shopper.get(order_url))
    order_id = re.search(r"/orders/([A-Z2-7]{16})", order_url).group(1)
    assert "Your order is placed" in confirmation and order_id in confirmation and "$100.00" in confirmation
    second = shopper.post_form("/checkout/place", {"idempotency_key": key}, csrf_page="/cart")  # double submit
    assert second.headers["Location"] == order_url
    assert "This order was already placed" in text(shopper.get(order_url))
    assert len(list(Order.scan())) == 1
    assert Stock.get(shoe.shoe_id, "42").quantity == 3
    assert header_count(shopper) == "0"
    assert order_id in text(shopper.get("/orders"))
    # The last address is offered next time.
    add(shopper, shoe.shoe_id, "42", "1")
    assert 'value="Alice Example"' in text(shopper.get("/checkout"))


def test_a_tampered_checkout_key_changes_nothing(shopper):
    shoe = make_shoe(stock={"42": 5})
    add(shopper, shoe.shoe_id, "42", "1")
    key = checkout_to_review(shopper)
    tampered = key[:-2] + ("AA" if not key.endswith("AA") else "BB")
    response = shopper.post_form("/checkout/place", {"idempotency_key": tampered}, csrf_page="/cart")
    assert response.headers["Location"] == "/checkout/review"
    assert "This checkout form is no longer valid" in text(shopper.get("/checkout/review"))
    assert list(Order.scan()) == [] and Stock.get(shoe.shoe_id, "42").quantity == 5


def test_sold_out_at_the_last_moment_is_explained_and_the_cart_adjusted(shopper, other_web):
    shoe = make_shoe(name="Last Pair", stock={"42": 1})
    add(shopper, shoe.shoe_id, "42", "1")
    key = checkout_to_review(shopper)
    other_web.register("bob")
    add(other_web, shoe.shoe_id, "42", "1")
    bob_key = checkout_to_review(other_web)
    assert other_web.post_form("/checkout/place", {"idempotency_key": bob_key}, csrf_page="/cart").status_code == 303
    response = shopper.post_form("/checkout/place", {"idempotency_key": key}, csrf_page="/cart")
    assert response.headers["Location"] == "/cart"
    body = text(shopper.get("/cart"))
    assert "Nothing was ordered" in body and "Last Pair (EU 42): sold out, removed from your cart." in body
    assert header_count(shopper) == "0"
    assert Stock.get(shoe.shoe_id, "42").quantity == 0
    assert len(list(Order.scan())) == 1


def test_checkout_with_an_empty_cart_goes_back_to_the_cart(shopper):
    response = shopper.get("/checkout")
    assert response.headers["Location"] == "/cart"
    assert "Your cart is empty" in text(shopper.get("/cart"))


def test_a_price_change_after_review_stops_the_order_until_reviewed_again(shopper):
    from chalicelib.models import Shoe

    shoe = make_shoe(name="Runner", price_cents=5000, stock={"42": 5})
    add(shopper, shoe.shoe_id, "42", "2")
    key = checkout_to_review(shopper)
    Shoe.get(shoe.shoe_id).update(actions=[Shoe.price_cents.set(5500)])
    response = shopper.post_form(
        "/checkout/place", {"idempotency_key": key, "reviewed_total": "10000"}, csrf_page="/cart"
    )
    assert response.headers["Location"] == "/checkout/review"
    review = text(shopper.get("/checkout/review"))
    assert "Please check the new total." in review and "$110.00" in review
    assert list(Order.scan()) == [] and Stock.get(shoe.shoe_id, "42").quantity == 5
    new_key = re.search(r'name="idempotency_key" value="([^"]+)"', review).group(1)
    response = shopper.post_form(
        "/checkout/place", {"idempotency_key": new_key, "reviewed_total": "11000"}, csrf_page="/cart"
    )
    assert "/orders/" in response.headers["Location"]
    assert Order.scan().next().total_cents == 11000


def test_placing_an_order_that_sells_out_sizes_makes_at_most_six_dynamodb_calls(shopper, drain_streams):
    """The read model is no longer refreshed inside the shopper's request (it was 16 calls, 10 of
    them the read model's): the stock stream brings the sold-out sizes to the filters afterwards."""
    shoes = [make_shoe(name=f"Runner {n}", stock={"42": 1, "43": 2}) for n in range(5)]
    drain_streams()
    for shoe in shoes:
        add(shopper, shoe.shoe_id, "42", "1")
    key = checkout_to_review(shopper)
    token = shopper.csrf_token("/cart")
    with count_dynamodb_calls() as calls:
        response = shopper.post_form("/checkout/place", {"idempotency_key": key}, csrf=token)
    assert response.status_code == 303 and "/orders/" in response.headers["Location"]
    operations = {name: count for name, count in calls.items() if ":" not in name}
    assert sum(operations.values()) <= 6, dict(calls)
    assert not [name for name in calls if name.endswith(":index")], dict(calls)  # catalogue-index untouched
    listed = text(shopper.get("/?size=42"))
    assert all(shoe.shoe_id in listed for shoe in shoes)  # until the stream is processed
    drain_streams()
    listed = text(shopper.get("/?size=42"))
    assert not any(shoe.shoe_id in listed for shoe in shoes)
    assert all(shoe.shoe_id in text(shopper.get("/?size=43")) for shoe in shoes)
