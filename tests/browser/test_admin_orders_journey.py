"""The owner's day with an order, in real Chromium against `make run`: the owner creates a 10%
code; a shopper applies it at review, picks Express shipping and pays two shoes by card; the owner
finds the order by the shopper's email, opens its packing slip (the print stylesheet hides the
navigation), and refunds one line through the Stripe stand-in: what was paid for it, its share of
the discount taken off. (Drafts, photo upload and publishing: test_admin_upload_journeys.py.)"""

import re

from playwright.sync_api import expect

from tests.browser.steps import add_to_cart, admin_log_in, pay_on_the_standin, register, shoe_name, to_review, unique


def test_the_owner_sells_with_a_code_and_express_then_finds_prints_and_refunds_one_line(shop, stockroom):
    page = shop.page
    first = stockroom.add_shoe(shoe_name("Slip Runner"), {"40": 3}, price_cents=5000)
    second = stockroom.add_shoe(shoe_name("Refund Court"), {"40": 3}, price_cents=4000)
    code = unique("TEN").upper()

    admin_log_in(shop)
    shop.click_link("Pricing")
    shop.click_link("Add a code")
    page.get_by_label("Code", exact=True).fill(code.lower())
    page.get_by_label("Kind", exact=True).select_option("percent")
    page.get_by_label("Value", exact=True).fill("10")
    shop.click_button("Save")
    shop.check()
    expect(page.locator("main")).to_contain_text(code)
    shop.click_button("Log out")

    username = unique("slipper")
    register(shop, username)
    add_to_cart(shop, first["shoe_id"], "40")
    add_to_cart(shop, second["shoe_id"], "40")
    to_review(shop)
    page.get_by_label(re.compile(r"^Discount code")).fill(code.lower())
    shop.click_button("Apply")
    expect(page.locator(".applied-code")).to_have_text(code)
    page.get_by_label(re.compile(r"^Express: \$14\.95$")).check()
    shop.click_button("Use this shipping method")
    shop.check()
    summary = page.locator(".order-summary")
    expect(summary.locator(".discount")).to_have_text("-$9.00")
    expect(summary.locator(".shipping-method")).to_have_text("(Express)")
    expect(summary.locator(".total")).to_have_text("$95.95")  # 90.00 - 9.00 + 14.95
    shop.screenshot("checkout-review-code-express")
    with page.expect_navigation():
        page.get_by_role("button", name="Place order", exact=True).click()
    pay_on_the_standin(shop, "4242 4242 4242 4242")
    expect(page.locator(".order-status")).to_have_text("Paid", timeout=15_000)
    expect(page.locator(".totals .total")).to_have_text("$95.95")
    number = page.locator(".order-number").inner_text()
    assert re.fullmatch(r"SS-[A-Z2-9]{4}-[A-Z2-9]{2}", number), number

    shop.click_button("Log out")
    admin_log_in(shop)
    shop.click_link("Orders")
    page.get_by_label("Order number or customer email", exact=True).fill(f"{username.upper()}@example.com")
    shop.click_button("Show")
    shop.check()
    expect(page.locator(".customer-email").first).to_have_text(f"{username}@example.com")
    shop.screenshot("admin-order-search")
    shop.click_link(number)
    expect(page.locator(".order-customer")).to_contain_text(username)
    expect(page.locator("main")).to_contain_text(code)
    expect(page.locator("main")).to_contain_text("Express")

    shop.click_link("Packing slip")
    shop.check()
    expect(page.locator(".slip-order-number")).to_have_text(number)
    expect(page.locator(".slip-lines")).to_contain_text(second["name"])
    page.emulate_media(media="print")
    expect(page.get_by_role("link", name="Orders", exact=True)).to_be_hidden()
    page.emulate_media(media="screen")
    page.go_back()

    page.get_by_label(re.compile(re.escape(f"{second['name']}, size 40 \u00d7 1"))).check()
    page.get_by_label("Put the refunded pairs back in stock", exact=True).check()
    shop.click_button("Refund")
    shop.check()
    # 40.00 less its 4.00 share of the 10% code
    expect(page.locator(".flashes")).to_contain_text(f"Refunded $36.00 of order {number}.")
    expect(page.locator(".history")).to_contain_text("Refunded $36.00")
    shop.screenshot("admin-order")
    assert stockroom.stock(second["shoe_id"])["40"] == 3 and stockroom.stock(first["shoe_id"])["40"] == 2
