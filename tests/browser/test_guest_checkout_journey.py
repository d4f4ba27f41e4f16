"""In real Chromium: a guest buys a pair without an account, paying by card (4242 on the local
Stripe stand-in) and seeing it paid, opens the order again from its link in another browser,
creates an account from it and finds the order in their history."""

import re

from playwright.sync_api import expect

from tests.browser.steps import PASSWORD, add_to_cart, fill_address, pay_on_the_standin, shoe_name, unique


def test_guest_checks_out_opens_the_link_elsewhere_and_keeps_the_order_in_a_new_account(shop, other_shop, stockroom):
    page = shop.page
    name = shoe_name("Harbour Runner")
    shoe = stockroom.add_shoe(name, {"42": 3}, price_cents=6000)
    username = unique("guest")
    email = f"{username}@example.com"

    add_to_cart(shop, shoe["shoe_id"], "42")
    shop.click_link("Checkout")
    expect(page.get_by_role("heading", level=1)).to_have_text("How would you like to check out?")
    expect(page.get_by_text("No account needed")).to_be_visible()  # the reason, beside the choice
    shop.click_link("Continue as guest")
    expect(page.get_by_role("heading", level=1)).to_have_text("Your email and shipping address")

    page.get_by_label("Email", exact=True).fill("wanda@example")
    fill_address(page, City="Cobh")
    shop.click_button("Review order")
    expect(page.get_by_text("Enter an email address like name@example.com.")).to_be_visible()
    expect(page.get_by_label("City", exact=True)).to_have_value("Cobh")  # typed values kept
    expect(page.get_by_label("Email", exact=True)).to_have_value("wanda@example")
    page.get_by_label("Email", exact=True).fill(email)
    shop.click_button("Review order")

    expect(page.get_by_role("heading", level=1)).to_have_text("Review your order")
    expect(page.locator(".guest-email")).to_have_text(email)
    expect(page.locator(".totals .total")).to_have_text("$65.95")
    expect(page.get_by_label("Card", exact=True)).to_be_checked()  # card is the default, for guests too
    with page.expect_navigation():
        page.get_by_role("button", name="Place order", exact=True).click()
    pay_on_the_standin(shop, "4242 4242 4242 4242")  # the stand-in's hosted page, as Stripe's

    expect(page.get_by_role("heading", level=1)).to_have_text("Thank you! Your order is placed")
    # Being confirmed, refreshing itself until the signed webhook arrives; then paid.
    expect(page.locator(".order-status")).to_have_text("Paid", timeout=15_000)
    expect(page.get_by_text("Your card payment is confirmed.")).to_be_visible()
    order_number = page.locator(".order-number").inner_text()
    assert re.fullmatch(r"SS-[2-9A-HJ-NP-Z]{4}-[2-9A-HJ-NP-Z]{2}", order_number)
    expect(page.locator(".badge")).to_have_text("0")
    link = page.get_by_role("link", name="Link to this order").get_attribute("href")
    order_id = re.match(r"/orders/guest/([A-Z2-7]{16})\.", link).group(1)  # the key; the number is for people
    shop.screenshot("guest-order-placed")
    assert stockroom.stock(shoe["shoe_id"])["42"] == 2

    # Later, in a fresh browser with only the link (from the confirmation email).
    later = other_shop
    later.goto(link)
    expect(later.page.get_by_role("heading", level=1)).to_have_text(f"Order {order_number}")
    expect(later.page.locator(".shipping-address")).to_contain_text("Cobh")
    later.click_link("Create an account")
    expect(later.page.get_by_label("Email", exact=True)).to_have_value(email)  # prefilled
    later.page.get_by_label("Username", exact=True).fill(username)
    later.page.get_by_label("Password", exact=True).fill(PASSWORD)
    later.page.get_by_label("Confirm password", exact=True).fill(PASSWORD)
    later.click_button("Create account")

    assert later.path() == f"/orders/{order_id}", later.path()
    expect(later.page.get_by_text("Your order is now in your order history.")).to_be_visible()
    later.click_link("Orders")
    expect(later.page.get_by_role("link", name=order_number)).to_be_visible()
