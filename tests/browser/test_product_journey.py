"""The product page where a shopper decides, in real Chromium: on a 1280x800 desktop the name,
price, sizes and "Add to cart" show without scrolling, the size guide opens, a thumbnail switches
the main picture; on a 390x844 phone "Add to cart" stays on screen after choosing a size."""

import re

from playwright.sync_api import expect

from chalicelib.product_links import path_for
from devtools.demo import demo_shoe
from tests.browser.steps import shoe_name

DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}


def _within_viewport(locator, page) -> bool:
    box = locator.bounding_box()
    height = page.viewport_size["height"]
    return box is not None and box["y"] >= 0 and box["y"] + box["height"] <= height


def test_on_a_desktop_the_decision_is_above_the_fold_with_a_size_guide_and_a_gallery(shop):
    page = shop.page
    page.set_viewport_size(DESKTOP)
    shoe = demo_shoe(0)  # `make run`'s demo shoes have a side view and a close-up
    path = path_for(shoe.shoe_id, f"{shoe.brand} {shoe.name}")
    response = shop.goto(f"/shoes/{shoe.shoe_id}")  # an old link: redirected to the readable URL
    assert response.status == 200 and shop.path() == path
    for part in (page.get_by_role("heading", level=1), page.locator(".buy-box .product-price")):
        assert _within_viewport(part, page)
    assert _within_viewport(page.locator(".size-option").first, page)
    add = page.get_by_role("button", name="Add to cart")
    expect(add).to_have_count(1)  # the phone's bar is hidden here
    assert _within_viewport(add, page), add.bounding_box()
    breadcrumbs = page.get_by_role("navigation", name="Breadcrumb")
    expect(breadcrumbs.get_by_role("link")).to_have_text(["Home", shoe.department.capitalize(), re.compile(".+")])
    shop.screenshot("product")  # docs/screenshots/product-*.png

    # The size guide opens in place.
    guide = page.locator("#size-guide table")
    expect(guide).to_be_hidden()
    page.get_by_text("Size guide", exact=True).click()
    expect(guide).to_be_visible()
    expect(guide.locator("tbody tr").first).to_contain_text(re.compile(r"\d+\.\d"))  # foot length in cm

    # A thumbnail switches the main picture; the main picture opens the large one.
    main = page.locator(".gallery-main img")
    first_src = main.get_attribute("src")
    with page.expect_navigation():
        page.get_by_role("link", name="View 2", exact=True).click()
    shop.check()
    assert shop.path() == f"{path}?image=2"
    assert main.get_attribute("src") != first_src
    expect(page.get_by_role("link", name="View 2", exact=True)).to_have_attribute("aria-current", "true")
    large = page.get_by_role("link", name=re.compile("Open the large picture"))
    assert large.get_attribute("href") == main.get_attribute("src")


def test_on_a_phone_add_to_cart_stays_on_screen_and_the_size_system_is_remembered(shop, stockroom):
    page = shop.page
    page.set_viewport_size(PHONE)
    shoe = stockroom.add_shoe(shoe_name("Phone Runner"), {"38": 3, "39": 0, "40": 5})
    shop.goto(path_for(shoe["shoe_id"], f"{shoe['brand']} {shoe['name']}"))
    bar = page.locator(".buy-bar").get_by_role("button", name="Add to cart")
    assert _within_viewport(bar, page)  # at the bottom of the screen from the start
    expect(page.locator(".add-button")).to_be_hidden()

    # UK sizes, remembered on the next visit.
    with page.expect_navigation():
        page.locator(".size-systems").get_by_role("link", name="UK").click()
    shop.check()
    expect(page.locator(".size-picker legend")).to_have_text("Size (UK)")
    expect(page.locator("label[for=size-38] .size-label")).to_contain_text("4.5")
    shop.goto(path_for(shoe["shoe_id"], f"{shoe['brand']} {shoe['name']}"))
    expect(page.locator(".size-picker legend")).to_have_text("Size (UK)")
    assert page.locator("#size-39").is_disabled() and page.locator("#size-41").is_disabled()  # sold out, shown
    expect(page.locator("#size-30")).to_have_count(0)  # a children's size: never made in this shoe

    page.locator("label[for=size-40]").click()  # scrolls the picker into view
    assert page.locator("#size-40").is_checked()
    assert _within_viewport(bar, page), bar.bounding_box()
    with page.expect_navigation():
        bar.click()
    shop.check()
    assert shop.path() == "/cart"
    expect(page.locator("tr.cart-line")).to_contain_text("EU 40")
