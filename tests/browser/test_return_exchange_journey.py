"""A size exchange from delivery to the new parcel, in real Chromium against `make run`: a shopper's
order is shipped and delivered in the back office; the shopper asks to exchange the pair for a
bigger size (reserved at once); the back office finds the return in its list, marks the parcel
received and ships the new size; the shopper's order page shows the exchange shipped with its
tracking link. Every page passes axe (Shop.check)."""

import re

from playwright.sync_api import expect

from tests.browser.steps import add_to_cart, admin_log_in, check_out, log_in, register, shoe_name, unique


def test_a_shopper_exchanges_a_pair_for_a_bigger_size_and_the_back_office_ships_it(shop, stockroom):
    page = shop.page
    shoe = stockroom.add_shoe(shoe_name("Swap Runner"), {"40": 2, "41": 1}, price_cents=5000)
    username = unique("swapper")
    register(shop, username)
    add_to_cart(shop, shoe["shoe_id"], "40")
    number = check_out(shop)
    order_path = shop.path().split("?")[0]
    shop.click_button("Log out")

    admin_log_in(shop)
    shop.goto(f"/admin/orders?q={number}")
    shop.click_button("Mark shipped")
    shop.click_button("Mark delivered")
    shop.click_button("Log out")

    shop.goto("/login")
    log_in(shop, username)
    shop.goto(order_path)
    expect(page.locator(".order-status")).to_have_text("Delivered")
    shop.click_link("Return or exchange")
    page.get_by_label("Another size of the same shoe", exact=True).check()
    page.get_by_label(re.compile("size EU 40 \u00d7 1$")).check()
    page.get_by_label("Why are you sending it back?", exact=True).select_option("too_small")
    page.get_by_label("New size (for an exchange)", exact=True).select_option("41")
    shop.screenshot("return-form")
    shop.click_button("Ask for the return")
    expect(page.locator(".flashes")).to_contain_text("Return 1 is asked for")
    expect(page.locator(".return-state")).to_have_text("Return requested")
    expect(page.locator(".order-returns")).to_contain_text("for size EU 41")
    assert stockroom.stock(shoe["shoe_id"])["41"] == 0  # held for this shopper
    shop.screenshot("return-requested")
    shop.click_button("Log out")

    admin_log_in(shop)
    shop.goto("/admin/returns")
    expect(page.locator(".returns-table")).to_contain_text("Return requested")
    shop.click_link(number)
    shop.click_button("Mark parcel received")
    expect(page.locator(".flashes")).to_contain_text("parcel marked received")
    page.get_by_label("Carrier", exact=True).select_option("dhl")
    page.get_by_label("Tracking number", exact=True).fill("JD0001234")
    shop.click_button("Ship the new size")
    expect(page.locator(".admin-return")).to_contain_text("New size shipped")
    shop.screenshot("admin-return-shipped")
    stock = stockroom.stock(shoe["shoe_id"])
    assert (stock["40"], stock["41"]) == (2, 0)  # the returned pair back; the new one gone out
    shop.click_button("Log out")

    shop.goto("/login")
    log_in(shop, username)
    shop.goto(order_path)
    expect(page.locator(".return-state")).to_have_text("New size shipped")
    expect(page.get_by_role("link", name="DHL JD0001234")).to_be_visible()
    expect(page.locator(".order-history")).to_contain_text("New size shipped")
