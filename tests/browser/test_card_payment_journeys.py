"""Card payments in real Chromium against `make run`'s Stripe stand-in: a shopper pays with 4242
and sees "Paid" (confirmed by the signed webhook the stand-in delivers); another is declined with
4000 0000 0000 0002, is told so on the review step, and the size is back in stock."""

import re

from playwright.sync_api import expect

from tests.browser.steps import add_to_cart, pay_on_the_standin, register, shoe_name, to_review, unique


def test_a_shopper_pays_by_card_and_sees_the_order_paid(shop, stockroom):
    page = shop.page
    shoe = stockroom.add_shoe(shoe_name("Card Runner"), {"40": 2}, price_cents=7000)
    register(shop, unique("cardpayer"))
    add_to_cart(shop, shoe["shoe_id"], "40")
    to_review(shop)
    expect(page.get_by_label("Card", exact=True)).to_be_checked()  # the default where card is configured
    with page.expect_navigation():
        page.get_by_role("button", name="Place order", exact=True).click()
    assert "/pay/cs_test_" in page.url  # off the shop, on the (stand-in) hosted payment page
    pay_on_the_standin(shop, "4242 4242 4242 4242")
    assert re.search(r"/orders/[A-Z2-7]{16}\?placed=1$", page.url), page.url
    # "Being confirmed" refreshes itself until the webhook arrives; then "Paid".
    expect(page.locator(".order-status")).to_have_text("Paid", timeout=15_000)
    shop.check()
    expect(page.get_by_text("Your card payment is confirmed.")).to_be_visible()
    assert stockroom.stock(shoe["shoe_id"])["40"] == 1


def test_a_declined_card_returns_to_review_and_puts_the_size_back(shop, stockroom):
    page = shop.page
    shoe = stockroom.add_shoe(shoe_name("Declined Runner"), {"41": 1}, price_cents=5000)
    register(shop, unique("declined"))
    add_to_cart(shop, shoe["shoe_id"], "41")
    to_review(shop)
    with page.expect_navigation():
        page.get_by_role("button", name="Place order", exact=True).click()
    assert stockroom.stock(shoe["shoe_id"])["41"] == 0  # held while the payment can still happen
    pay_on_the_standin(shop, "4000 0000 0000 0002")
    shop.check()
    assert shop.path() == "/checkout/review"
    expect(page.locator(".flashes")).to_contain_text("Your card was declined. Nothing was charged")
    assert stockroom.stock(shoe["shoe_id"])["41"] == 1  # back at once
    expect(page.get_by_role("button", name="Place order", exact=True)).to_be_visible()  # the cart holds it again
