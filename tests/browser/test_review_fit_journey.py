"""Reviews with fit and the size suggestion, in real Chromium against `make run`'s stack (whose
fit threshold is 1 answer, docs/operations.md): a shopper's order is delivered by the back office,
she reviews the shoe as "Runs small", and another shopper with her size set finds the next size up
preselected and explained on the product page; the owner hides the review again."""

import re
import time

from playwright.sync_api import expect

from tests.browser.steps import add_to_cart, admin_log_in, check_out, register, shoe_name, unique

STREAM_WAIT_SECONDS = 60  # the poller runs every second; a loaded machine lags


def reload_until(shop, path: str, text: str) -> None:
    """Open `path` until it shows `text` (the reviews stream consumer is a moment behind)."""
    deadline = time.monotonic() + STREAM_WAIT_SECONDS
    while True:
        shop.goto(path)
        if text in shop.page.locator("main").inner_text() or time.monotonic() > deadline:
            expect(shop.page.locator("main")).to_contain_text(text)
            return
        time.sleep(1)


def test_a_delivered_pair_reviewed_as_runs_small_moves_the_next_buyers_size_up(shop, other_shop, stockroom):
    page = shop.page
    name = shoe_name("Fit Trainer")
    shoe = stockroom.add_shoe(name, {"39": 4, "40": 4, "41": 4})
    product = f"/shoes/{shoe['shoe_id']}"

    register(shop, unique("fitter"))
    add_to_cart(shop, shoe["shoe_id"], "40")
    number = check_out(shop)

    admin = other_shop.page
    admin_log_in(other_shop)
    other_shop.click_link("Orders")
    admin.get_by_label("Order number or customer email", exact=True).fill(number)
    other_shop.click_button("Show")
    other_shop.click_button("Mark shipped")
    other_shop.click_button("Mark delivered")
    expect(admin.locator("main")).to_contain_text("This order is delivered")

    shop.click_link("Orders")
    shop.click_link(number)
    expect(page.locator(".order-reviews")).to_contain_text(f"{name}, EU 40")
    review_link = page.get_by_role("link", name=re.compile(r"^Review this shoe"))
    expect(review_link).to_have_accessible_name(re.compile(re.escape(name)))
    with page.expect_navigation():
        review_link.click()
    shop.check()
    expect(page.locator(".review-size")).to_contain_text("EU 40")
    shop.click_button("Send my review")  # nothing chosen: the messages sit beside the fields
    expect(page.locator("#field-rating-error")).to_have_text("Choose a rating from 1 to 5 stars.")
    expect(page.locator("#field-fit-error")).to_contain_text("Choose how it fits")
    page.get_by_label("4 stars", exact=True).check()
    page.get_by_label("Runs small", exact=True).check()
    page.get_by_label(re.compile(r"^Your review")).fill("Snug at the toes: take a size up.")
    shop.screenshot("review-form")
    shop.click_button("Send my review")
    expect(page.locator(".flashes")).to_contain_text("your review of")
    expect(page.locator(".order-reviews")).to_contain_text("You reviewed this")

    reload_until(shop, product, "Most buyers say it runs small: 1 of 1 fit answer.")
    expect(page.locator(".rating-summary")).to_contain_text("4.0 out of 5")
    expect(page.locator(".review-list")).to_contain_text("Snug at the toes")
    expect(page.locator(".review-list")).to_contain_text("Size bought: EU 40")

    other_shop.click_button("Log out")
    other_shop.goto("/")
    drawer = admin.locator("details.my-size")
    if not drawer.evaluate("details => details.open"):
        drawer.locator("summary").click()
    admin.locator("#field-my_size").select_option("40")
    other_shop.click_button("Save my size")
    other_shop.goto(product)
    expect(admin.locator("#size-suggestion")).to_have_text("We suggest EU 41: buyers say it runs small.")
    expect(admin.locator("#size-41")).to_be_checked()
    other_shop.screenshot("size-suggestion")
    admin.locator("label[for=size-40]").click()  # the shopper can always choose another
    expect(admin.locator("#size-40")).to_be_checked()
    admin.get_by_role("link", name="UK", exact=True).click()
    other_shop.check()
    expect(admin.locator("#size-suggestion")).to_contain_text("We suggest UK 7.5: buyers say it runs small.")

    admin_log_in(other_shop)
    other_shop.goto(f"/admin/shoes/{shoe['shoe_id']}/edit")
    other_shop.click_link("Reviews of this shoe")
    expect(admin.locator(".admin-reviews")).to_contain_text("Snug at the toes")
    with admin.expect_navigation():
        admin.get_by_role("link", name=re.compile(r"^Hide\b.*the review by ")).first.click()
    other_shop.check()
    admin.get_by_label(re.compile(r"^Why it is hidden")).fill("Test review")
    other_shop.click_button("Hide the review")
    expect(admin.locator(".flashes")).to_contain_text("The review is hidden")
    reload_until(shop, product, "No reviews yet")
