"""In real Chromium: a guest fills a cart, registers at checkout, sees it merged, checks out, and
finds the order."""

import re

from playwright.sync_api import expect

from tests.browser.steps import PASSWORD, add_to_cart, fill_address, fill_registration, shoe_name, unique


def test_guest_cart_register_merge_checkout_and_history(shop, stockroom):
    page = shop.page
    page.set_viewport_size({"width": 390, "height": 844})  # a phone
    name = shoe_name("Trail Runner")
    shoe = stockroom.add_shoe(name, {"42": 3}, price_cents=8999)

    add_to_cart(shop, shoe["shoe_id"], "42", quantity=2)
    expect(page.get_by_role("link", name=name)).to_be_visible()
    expect(page.locator(".badge")).to_have_text("2")
    expect(page.get_by_label("Quantity")).to_have_value("2")

    shop.click_link("Checkout")
    expect(page.get_by_role("heading", level=1)).to_have_text("How would you like to check out?")
    shop.click_link("Create an account")
    assert re.match(r"/register\?next=", shop.path()), shop.path()
    username = unique("walker")
    fill_registration(page, username, PASSWORD)
    shop.click_button("Create account")

    assert shop.path() == "/checkout"
    expect(page.get_by_text("We moved 2 items from your guest cart into your cart.")).to_be_visible()
    shop.click_button("Review order")
    expect(page.get_by_text("Enter your full name.")).to_be_visible()  # validated, on the page
    fill_address(page)
    shop.click_button("Review order")

    expect(page.get_by_role("heading", name="Review your order")).to_be_visible()
    expect(page.locator(".totals .total")).to_have_text("$179.98")
    page.get_by_label("Pay on delivery", exact=True).check()
    shop.click_button("Place order")

    expect(page.get_by_role("heading", name="Thank you! Your order is placed")).to_be_visible()
    order_number = page.locator(".order-number").inner_text()
    assert re.fullmatch(r"SS-[2-9A-HJ-NP-Z]{4}-[2-9A-HJ-NP-Z]{2}", order_number)
    expect(page.locator(".badge")).to_have_text("0")

    shop.click_link("Orders")
    expect(page.get_by_role("link", name=order_number)).to_be_visible()
    assert stockroom.stock(shoe["shoe_id"])["42"] == 1
