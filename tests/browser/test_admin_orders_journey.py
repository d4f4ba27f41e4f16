"""The owner's day with an order, in real Chromium against `make run`: a shopper pays two shoes by
card; the owner finds the order by the shopper's email, opens its packing slip (the print
stylesheet hides the navigation), and refunds one line through the Stripe stand-in."""

import re

from playwright.sync_api import expect

from tests.browser.steps import add_to_cart, admin_log_in, pay_on_the_standin, register, shoe_name, to_review, unique


def test_the_owner_finds_an_order_by_email_prints_the_slip_and_refunds_one_line(shop, stockroom):
    page = shop.page
    first = stockroom.add_shoe(shoe_name("Slip Runner"), {"40": 3}, price_cents=5000)
    second = stockroom.add_shoe(shoe_name("Refund Court"), {"40": 3}, price_cents=4000)
    username = unique("slipper")
    register(shop, username)
    add_to_cart(shop, first["shoe_id"], "40")
    add_to_cart(shop, second["shoe_id"], "40")
    to_review(shop)
    with page.expect_navigation():
        page.get_by_role("button", name="Place order", exact=True).click()
    pay_on_the_standin(shop, "4242 4242 4242 4242")
    expect(page.locator(".order-status")).to_have_text("Paid", timeout=15_000)
    order_id = re.search(r"/orders/([A-Z2-7]{16})", page.url).group(1)

    admin_log_in(shop)
    shop.click_link("Orders")
    page.get_by_label("Order number or customer email", exact=True).fill(f"{username.upper()}@example.com")
    shop.click_button("Show")
    shop.check()
    expect(page.locator(".customer-email").first).to_have_text(f"{username}@example.com")
    shop.click_link(order_id)
    expect(page.locator(".order-customer")).to_contain_text(username)

    shop.click_link("Packing slip")
    shop.check()
    expect(page.locator(".slip-order-number")).to_have_text(order_id)
    expect(page.locator(".slip-lines")).to_contain_text(second["name"])
    page.emulate_media(media="print")
    expect(page.get_by_role("link", name="Orders", exact=True)).to_be_hidden()
    page.emulate_media(media="screen")
    page.go_back()

    page.get_by_label(re.compile(re.escape(f"{second['name']}, size 40 \u00d7 1"))).check()
    page.get_by_label("Put the refunded pairs back in stock", exact=True).check()
    shop.click_button("Refund")
    shop.check()
    expect(page.locator(".flashes")).to_contain_text(f"Refunded $40.00 of order {order_id}.")
    expect(page.locator(".history")).to_contain_text("Refunded $40.00")
    assert stockroom.stock(second["shoe_id"])["40"] == 3 and stockroom.stock(first["shoe_id"])["40"] == 2
