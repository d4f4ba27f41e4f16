"""In real Chromium at phone and desktop sizes: a line removed in another tab answers on the cart
page with a notice (never a 404 page), the cart's total and free-shipping note, and "my size"
surviving registration (another browser logging into the account sees it)."""

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import VIEWPORTS
from tests.browser.steps import add_to_cart, register, shoe_name, unique


@pytest.mark.parametrize("viewport", sorted(VIEWPORTS))
def test_a_line_removed_in_another_tab_answers_on_the_cart_page(shop, stockroom, viewport):
    width, height = VIEWPORTS[viewport]
    page = shop.page
    page.set_viewport_size({"width": width, "height": height})
    kept, gone = shoe_name("Harbour Runner"), shoe_name("Quay Loafer")
    kept_shoe = stockroom.add_shoe(kept, {"42": 5}, price_cents=3000)
    gone_shoe = stockroom.add_shoe(gone, {"42": 5}, price_cents=2500)
    add_to_cart(shop, kept_shoe["shoe_id"], "42")
    add_to_cart(shop, gone_shoe["shoe_id"], "42")
    expect(page.locator(".free-shipping")).to_contain_text("Spend $20.00 more for free shipping.")
    expect(page.locator(".cart-total")).to_have_text("Total for 2 pairs: $60.95")

    other_tab = page.context.new_page()  # the same browser, a second tab
    other_tab.goto(shop.stack.url("/cart"))
    other_tab.get_by_role("row").filter(has_text=gone).get_by_role("button", name="Remove").click()
    other_tab.wait_for_load_state("load")
    expect(other_tab.get_by_text("Removed from your cart.")).to_be_visible()
    other_tab.close()

    # The first tab still shows the removed line: changing its quantity lands on the cart page.
    row = page.get_by_role("row").filter(has_text=gone)
    row.get_by_label("Quantity").fill("3")
    with page.expect_navigation():
        row.get_by_role("button", name="Update").click()
    shop.check()
    assert shop.path() == "/cart", shop.path()
    notice = page.get_by_text("That item is no longer in your cart (it may have been removed in another tab).")
    expect(notice).to_be_visible()
    box = notice.bounding_box()
    assert box is not None and box["y"] + box["height"] <= height, box  # seen without scrolling
    expect(page.get_by_role("link", name=kept)).to_be_visible()
    expect(page.get_by_role("link", name=gone)).to_have_count(0)
    expect(page.locator(".badge")).to_have_text("1")

    # Quantity 0 removes the line that is left.
    page.get_by_label("Quantity").fill("0")
    shop.click_button("Update")
    expect(page.get_by_text("Your cart is empty.")).to_be_visible()


@pytest.mark.parametrize("viewport", sorted(VIEWPORTS))
def test_my_size_survives_registration(shop, other_shop, viewport):
    width, height = VIEWPORTS[viewport]
    page = shop.page
    page.set_viewport_size({"width": width, "height": height})
    shop.goto("/")
    drawer = page.locator("details.my-size")
    if not drawer.evaluate("details => details.open"):  # a drawer: closed on a phone
        drawer.locator("summary").click()
    page.locator("#field-my_size").select_option("43")
    shop.click_button("Save my size")
    assert "Your size is EU 43." in shop.flash()

    username = unique("sizer")
    register(shop, username)
    expect(page.get_by_text(f"Welcome, {username}! Your account is ready.")).to_be_visible()

    # Another browser, without the guest's cookie, logs into the account: the size is there.
    other_shop.page.set_viewport_size({"width": width, "height": height})
    other_shop.goto("/login")
    other_shop.page.get_by_label("Username or email", exact=True).fill(username)
    other_shop.page.get_by_label("Password", exact=True).fill("walking in new shoes")
    other_shop.click_button("Log in")
    other_shop.goto("/")
    expect(other_shop.page.locator("details.my-size > summary")).to_have_text("My size: EU 43")
