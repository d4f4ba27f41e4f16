"""The shop's main journeys in real Chromium, each from a blank browser: a shopper's whole life
(register to account deletion), a guest cart merged at login, and the last pair sold to one of
two shoppers who both had it in their cart."""

import json
from pathlib import Path

from playwright.sync_api import expect

from chalicelib.product_links import path_for
from tests.browser.steps import (
    PASSWORD,
    add_to_cart,
    assert_fits_a_phone,
    check_out,
    fill_address,
    log_in,
    register,
    shoe_name,
    unique,
)


def test_shopper_registers_shops_checks_out_exports_and_deletes_the_account(shop, stockroom):
    page = shop.page
    name = shoe_name("Harbour Runner")
    shoe = stockroom.add_shoe(name, {"38": 4, "41": 5, "44": 0}, price_cents=6000)
    username = unique("shopper")

    register(shop, username)
    expect(page.locator(".flashes")).to_contain_text(f"Welcome, {username}!")

    # Filter by a size the shoe has: the shoe is listed, every card is in stock in that size.
    page.get_by_label("In stock in size").select_option("41")
    shop.click_button("Show shoes")
    assert "size=41" in shop.path()
    card = page.locator(".shoe-card", has_text=name)
    expect(card).to_have_count(1)
    page.get_by_label("In stock in size").select_option("44")
    shop.click_button("Show shoes")
    expect(page.locator(".shoe-card", has_text=name)).to_have_count(0)  # none left in 44
    page.get_by_label("In stock in size").select_option("41")
    shop.click_button("Show shoes")

    with page.expect_navigation():
        page.locator(".shoe-card a", has_text=name).click()
    shop.check()
    assert shop.path() == path_for(shoe["shoe_id"], f"{shoe['brand']} {shoe['name']}")
    expect(page.get_by_role("heading", level=1)).to_have_text(name)
    assert page.locator("#size-44").is_disabled()

    # Two sizes, then one more pair of the second from the cart.
    page.locator("label[for=size-38]").click()
    shop.click_button("Add to cart")
    add_to_cart(shop, shoe["shoe_id"], "41")
    rows = page.locator("tr.cart-line")
    expect(rows).to_have_count(2)
    expect(page.locator(".badge")).to_have_text("2")
    row_41 = rows.filter(has_text="EU 41")
    row_41.get_by_label("Quantity").fill("2")
    with page.expect_navigation():
        row_41.get_by_role("button", name="Update").click()
    shop.check()
    expect(page.locator(".badge")).to_have_text("3")
    expect(rows.filter(has_text="EU 41").get_by_label("Quantity")).to_have_value("2")
    expect(page.locator(".totals .subtotal")).to_have_text("$180.00")
    shop.screenshot("cart")
    assert_fits_a_phone(page)

    shop.click_link("Checkout")
    expect(page.get_by_role("heading", level=1)).to_have_text("Shipping address")
    fill_address(page, **{"Full name": "Harriet Harbour", "Address line 1": "12 Quay Street"})
    shop.click_button("Review order")
    expect(page.get_by_role("heading", level=1)).to_have_text("Review your order")
    expect(page.locator(".shipping-address")).to_contain_text("12 Quay Street")
    expect(page.locator(".totals .total")).to_have_text("$180.00")  # free shipping at this total
    shop.screenshot("checkout-review")
    assert_fits_a_phone(page)
    page.get_by_label("Pay on delivery", exact=True).check()
    shop.click_button("Place order")

    expect(page.get_by_role("heading", level=1)).to_have_text("Thank you! Your order is placed")
    order_number = page.locator(".order-number").inner_text()
    expect(page.locator(".shipping-address")).to_contain_text("Harriet Harbour")
    expect(page.locator(".badge")).to_have_text("0")
    shop.click_link("Orders")
    shop.click_link(order_number)
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Order {order_number}")
    expect(page.locator(".order-status")).to_have_text("Placed")
    assert stockroom.stock(shoe["shoe_id"]) == {**stockroom.stock(shoe["shoe_id"]), "38": 3, "41": 3}

    # Their data, as a download.
    shop.click_link(username)
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download your data (JSON)").click()
    download = download_info.value
    assert download.suggested_filename == "stride-shoes-my-data.json"
    exported = json.loads(Path(download.path()).read_text(encoding="utf-8"))
    exported_text = json.dumps(exported)
    assert username in exported_text and order_number in exported_text and "12 Quay Street" in exported_text

    shop.click_link("Delete account")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    shop.click_button("Delete account")
    expect(page.locator(".flashes")).to_contain_text("Your account and its personal data are deleted.")
    shop.goto("/orders")
    assert shop.path().startswith("/login"), "a deleted account still sees its orders"


def test_guest_cart_is_merged_into_the_shoppers_cart_at_login(shop, stockroom):
    page = shop.page
    kept = stockroom.add_shoe(shoe_name("Kept Loafer"), {"39": 3})
    added = stockroom.add_shoe(shoe_name("Guest Sandal"), {"40": 3})
    username = unique("merger")
    register(shop, username)
    add_to_cart(shop, kept["shoe_id"], "39")
    shop.click_button("Log out")
    expect(page.locator(".badge")).to_have_text("0")  # the shopper's cart stays with the account

    add_to_cart(shop, added["shoe_id"], "40", quantity=2)  # now a guest
    expect(page.locator(".badge")).to_have_text("2")
    shop.click_link("Log in")
    log_in(shop, username)
    expect(page.locator(".flashes")).to_contain_text("We moved 2 items from your guest cart into your cart.")
    with page.expect_navigation():
        page.locator(".cart-link").click()
    shop.check()
    rows = page.locator("tr.cart-line")
    expect(rows).to_have_count(2)
    expect(rows.filter(has_text=kept["name"]).get_by_label("Quantity")).to_have_value("1")
    expect(rows.filter(has_text=added["name"]).get_by_label("Quantity")).to_have_value("2")
    expect(page.locator(".badge")).to_have_text("3")


def test_the_last_pair_sells_once_and_the_second_shopper_is_told_it_sold_out(shop, other_shop, stockroom):
    shoe = stockroom.add_shoe(shoe_name("Last Pair"), {"40": 1, "41": 2})
    first, second = shop, other_shop
    register(first, unique("first"))
    register(second, unique("second"))
    for person in (first, second):
        add_to_cart(person, shoe["shoe_id"], "40")
    add_to_cart(second, shoe["shoe_id"], "41")

    # The second shopper gets as far as the review page while the pair is still there...
    second.click_link("Checkout")
    fill_address(second.page)
    second.click_button("Review order")
    expect(second.page.get_by_role("button", name="Place order")).to_be_visible()

    # ...the first buys it...
    check_out(first)
    assert stockroom.stock(shoe["shoe_id"])["40"] == 0

    # ...and the second is told, with nothing ordered and the cart put right.
    second.click_button("Place order")
    assert second.path() == "/cart"
    flashes = second.page.locator(".flashes")
    expect(flashes).to_contain_text("Some items ran out before we could place your order. Nothing was ordered.")
    expect(flashes).to_contain_text(f"{shoe['name']} (EU 40): sold out, removed from your cart.")
    rows = second.page.locator("tr.cart-line")
    expect(rows).to_have_count(1)
    expect(rows).to_contain_text("EU 41")
    second.click_link("Orders")
    expect(second.page.get_by_text("You have not placed an order yet.")).to_be_visible()
    assert stockroom.stock(shoe["shoe_id"]) == {**stockroom.stock(shoe["shoe_id"]), "40": 0, "41": 2}

    second.goto(f"/shoes/{shoe['shoe_id']}")
    assert second.page.locator("#size-40").is_disabled()
