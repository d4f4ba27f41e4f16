"""A shopper finds a shoe by brand, size and price and opens its page, in real Chromium on the
shared local stack (moto server, demo data, dev server). Each test brings its own shoe: the stack
is shared, so the newest cards may be another test's."""

from playwright.sync_api import expect

from chalicelib.product_links import path_for
from tests.browser.steps import shoe_name, unique

DEMO_SHOES = 12


def test_find_a_shoe_by_brand_size_and_price_and_open_it(shop, stockroom):
    page = shop.page
    page.set_viewport_size({"width": 390, "height": 844})  # a phone
    brand = unique("Brand")
    shoe = stockroom.add_shoe(shoe_name("Finder"), {"39": 2, "40": 0}, brand=brand, price_cents=7450)
    stockroom.add_shoe(shoe_name("Pricey"), {"39": 2}, brand=brand, price_cents=19900)  # same brand, over the limit

    shop.goto("/")
    assert page.locator(".shoe-card").count() >= DEMO_SHOES
    expect(page.locator(".shoe-card .name", has_text=shoe["name"])).to_have_count(1)  # newest first

    page.locator("#filters summary").click()  # "Filter and sort": closed on a phone
    page.locator("#field-brand").select_option(brand)
    page.locator("#field-size").select_option("39")
    page.locator("#field-max_price").fill("75")
    shop.click_button("Show shoes")

    assert "size=39" in page.url and "brand=" in page.url
    found = page.locator(".shoe-card")
    expect(found).to_have_count(1)
    for card_brand in found.locator(".brand").all_text_contents():  # inner_text is upper-cased by CSS
        assert card_brand.strip().casefold() == brand.casefold()
    expect(found.locator(".name")).to_have_text(shoe["name"])

    # Keyboard only: focus the result's link and open it with Enter.
    found.first.locator("a").focus()
    with page.expect_navigation():
        page.keyboard.press("Enter")
    shop.check()
    assert shop.path() == path_for(shoe["shoe_id"], f"{shoe['brand']} {shoe['name']}")
    expect(page.get_by_role("heading", level=1)).to_have_text(shoe["name"])
    assert page.locator("#size-39").is_enabled()
    assert page.locator("#size-40").is_disabled()  # none in stock
    page.locator("label[for=size-39]").click()
    assert page.locator("#size-39").is_checked()
    assert page.get_by_role("button", name="Add to cart").is_enabled()
    assert page.get_by_label("Quantity").input_value() == "1"


def test_my_size_is_remembered_and_shown_on_cards(shop):
    page = shop.page
    shop.goto("/")
    page.get_by_text("My size", exact=True).click()  # the drawer's summary
    page.locator("#field-my_size").select_option("42")
    shop.click_button("Save my size")
    assert "Your size is EU 42." in shop.flash()
    cards = page.locator(".shoe-card")
    labels = cards.locator(".availability").all_inner_texts()
    assert len(labels) == cards.count() >= DEMO_SHOES and all("EU 42" in label for label in labels)
    shop.click_link("Show only shoes in my size")
    assert "size=42" in page.url
    for label in page.locator(".shoe-card .availability").all_inner_texts():
        assert "Not in stock" not in label
