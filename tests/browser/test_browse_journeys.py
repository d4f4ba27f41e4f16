"""Browsing as a shopper notices it (issue 16), at 390x844 and 1280x800: shoes in the first
screen on a phone, "Filter and sort" in a drawer whose filters land in a clean URL and show as
removable chips, and a header search that understands shoe words, plurals and a typo and puts a
name match first. The stack is shared: each test searches for words only its own shoes have."""

import uuid
from urllib.parse import parse_qs, urlsplit

from playwright.sync_api import expect

from tests.browser.conftest import TIMEOUT_MS, VIEWPORTS, Shop
from tests.browser.steps import shoe_name, unique


def word() -> str:
    """A made-up word (letters only) that no other shoe in the shared stack has."""
    return "zq" + "".join(chr(ord("a") + int(c, 16) % 26) for c in uuid.uuid4().hex[:8])


def query_of(shop: Shop) -> dict[str, list[str]]:
    return parse_qs(urlsplit(shop.page.url).query, keep_blank_values=True)


def first_card_top(shop: Shop) -> float:
    box = shop.page.locator(".shoe-card").first.bounding_box()
    assert box is not None
    return box["y"]


def test_on_a_phone_the_shoes_come_first_and_the_drawer_filters_into_chips(shop, stockroom):
    page = shop.page
    width, height = VIEWPORTS["phone"]
    page.set_viewport_size({"width": width, "height": height})
    brand = unique("Drawer")
    stockroom.add_shoe(shoe_name("Drawer Boot"), {"39": 2}, brand=brand, category="boots", department="men")
    stockroom.add_shoe(shoe_name("Drawer Low"), {"39": 2}, brand=brand, category="sneakers", department="men")

    shop.goto("/")
    assert first_card_top(shop) < height, "the first shoe is below the first screen"
    expect(page.get_by_role("searchbox", name="Search", exact=True)).to_be_visible()
    expect(page.get_by_role("navigation", name="Departments").get_by_role("link", name="Kids")).to_be_visible()
    expect(page.locator("#field-brand")).to_be_hidden()  # the drawer is closed

    # My size is set from its own drawer and does not push the shoes down.
    page.get_by_text("My size", exact=True).click()
    page.locator("#field-my_size").select_option("42")
    shop.click_button("Save my size")
    assert first_card_top(shop) < height

    summary = page.locator("#filters summary")
    assert summary.bounding_box()["y"] < height
    summary.click()
    page.locator("#field-brand").select_option(brand)
    page.locator("#field-category").select_option("boots")
    shop.click_button("Show shoes")
    assert query_of(shop) == {"brand": [brand], "category": ["boots"]}  # nothing empty in the URL
    expect(page.locator(".shoe-card")).to_have_count(1)
    expect(page.locator("#result-count")).to_have_text("1 shoe")
    assert first_card_top(shop) < height  # after filtering, back at the shoes, not the form
    chips = page.locator(".chips .chip")
    expect(chips).to_have_count(2)

    # Removing the "Boots" chip keeps the brand.
    with page.expect_navigation():
        chips.filter(has_text="Boots").click()
    shop.check()
    assert query_of(shop) == {"brand": [brand]}
    expect(page.locator(".shoe-card")).to_have_count(2)
    expect(page.locator(".chips .chip")).to_have_count(1)
    with page.expect_navigation():
        page.locator(".chips .chip").click()
    shop.check()
    assert shop.path() == "/"
    expect(page.locator(".chips")).to_have_count(0)


def test_without_javascript_the_drawer_still_filters_to_a_clean_url(chromium, local_stack, stockroom):
    brand = unique("NoScript")
    stockroom.add_shoe(shoe_name("Plain Boot"), {"40": 1}, brand=brand, category="boots")
    # No Shop here: its accessibility check runs a script, and scripts are off.
    context = chromium.new_context(java_script_enabled=False, viewport={"width": 390, "height": 844})
    context.set_default_timeout(TIMEOUT_MS)
    try:
        page = context.new_page()
        page.goto(local_stack.url("/"))
        page.locator("#filters summary").click()
        page.locator("#field-brand").select_option(brand)
        with page.expect_navigation():
            page.get_by_role("button", name="Show shoes").click()  # every field is sent: redirected
        assert parse_qs(urlsplit(page.url).query, keep_blank_values=True) == {"brand": [brand]}
        expect(page.locator(".shoe-card")).to_have_count(1)
        # A typo in a price: the drawer is open, the message beside the field, the typed text kept.
        page.locator("#filters summary").click()
        page.locator("#field-min_price").fill("ten")
        with page.expect_navigation():
            page.get_by_role("button", name="Show shoes").click()
        expect(page.locator("#field-min_price")).to_have_value("ten")
        expect(page.locator("#field-min_price-error")).to_contain_text("Enter the lowest price")
        expect(page.locator("#field-brand")).to_have_value(brand)
    finally:
        context.close()


def test_search_understands_shoe_words_and_ranks_a_name_match_first(shop, stockroom):
    page = shop.page
    mark = word()
    oxford = stockroom.add_shoe(f"City Oxford {mark}", {"42": 3}, category="formal", department="men")
    court = stockroom.add_shoe(f"Court {mark}", {"42": 3}, category="sneakers")
    for viewport in ("desktop", "phone"):
        width, height = VIEWPORTS[viewport]
        page.set_viewport_size({"width": width, "height": height})
        for typed, expected in (
            (f"sneakers {mark}", [court]),  # the type: "Court" says nothing about sneakers
            (f"trainer {mark}", [court]),  # a synonym, singular
            (f"oxfrod {mark}", [oxford]),  # a typo
            (f"Oxfords {mark}", [oxford]),  # a plural
        ):
            shop.goto("/")
            page.get_by_label("Search", exact=True).fill(typed)
            shop.click_button("Search")
            assert query_of(shop) == {"q": [typed]}
            names = page.locator(".shoe-card .name").all_inner_texts()
            assert names == [shoe["name"] for shoe in expected], (viewport, typed, names)
            assert first_card_top(shop) < height
        expect(page.locator("#field-sort")).to_have_value("")  # the default when searching...
        expect(page.locator("#field-sort option:checked")).to_have_text("Best match")  # ...is best match
        expect(page.locator(".search-note")).to_have_count(0)
    shop.goto(f"/?q=oxfrod+{mark}")
    expect(page.locator(".search-note")).to_contain_text("Showing results for “oxford”")


def test_a_name_match_comes_before_a_newer_colour_match(shop, stockroom):
    page = shop.page
    mark = word()
    by_name = stockroom.add_shoe(f"{mark.title()} Walker", {"40": 2}, colour="Black")
    by_colour = stockroom.add_shoe(shoe_name("Plain Walker"), {"40": 2}, colour=f"{mark} grey")  # newer
    shop.goto("/")
    page.get_by_label("Search", exact=True).fill(mark)
    shop.click_button("Search")
    names = page.locator(".shoe-card .name").all_inner_texts()
    assert names == [by_name["name"], by_colour["name"]]
    # Sorted by newest instead, from the drawer (open on a desktop), the newer comes first.
    page.locator("#field-sort").select_option("newest")
    shop.click_button("Show shoes")
    assert query_of(shop) == {"q": [mark], "sort": ["newest"]}
    assert page.locator(".shoe-card .name").all_inner_texts() == [by_colour["name"], by_name["name"]]
    # Nothing found (two edits away: a swap of two equal letters was none, and one typo matches):
    # "did you mean" offers the word.
    other = "x" if mark[-1] != "x" else "y"
    shop.goto(f"/?q={mark[:-1]}{other}{other}")  # two edits: the last letter changed, one added
    link = page.locator(".did-you-mean a")
    expect(link).to_have_text(mark)
    shop.click_link(mark)
    expect(page.locator(".shoe-card")).to_have_count(2)
