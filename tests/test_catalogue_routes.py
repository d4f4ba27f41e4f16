"""Catalogue pages and the catalogue JSON API, through the `web` fixture."""

import re
from html import unescape
from urllib.parse import urlencode

import pytest

from chalicelib.models import Shoe, ShoeImage
from chalicelib.product_links import product_path
from chalicelib.services import catalogue_index
from tests.catalogue_fixtures import dynamodb_calls, seed, seed_catalogue
from tests.factories import numbered_shoe

__all__ = ["dynamodb_calls"]

CARD_LINK_RE = re.compile(r'<a href="/shoes/(?:[^"]*-)?([^"/-]+)">')  # the id after the slug
NEXT_RE = re.compile(r'href="([^"]+)" rel="next"')
PREV_RE = re.compile(r'href="([^"]+)" rel="prev"')


def card_ids(body: bytes) -> list[str]:
    return CARD_LINK_RE.findall(body.decode())


def link(pattern: re.Pattern, body: bytes) -> str | None:
    match = pattern.search(body.decode())
    return unescape(match.group(1)) if match else None


def test_home_shows_24_cards_and_pages_through_every_shoe(web):
    shoes, _ = seed_catalogue(30)
    first = web.get("/")
    assert first.status_code == 200
    page_one = card_ids(first.body)
    assert len(page_one) == 24
    assert link(PREV_RE, first.body) is None
    second = web.get(link(NEXT_RE, first.body))
    page_two = card_ids(second.body)
    assert len(page_two) == 6 and link(NEXT_RE, second.body) is None
    assert sorted(page_one + page_two) == sorted(s.shoe_id for s in shoes)
    back = web.get(link(PREV_RE, second.body))
    assert card_ids(back.body) == page_one


def test_cards_show_name_brand_colour_price_and_picture(web):
    shoe = numbered_shoe(1, name="Glide Low", brand="Velora", colour="Navy", price_cents=12995)
    shoe.images = [ShoeImage(image_id="i1", thumb_key="images/x/i1-thumb.webp", large_key="images/x/i1-large.webp")]
    seed([shoe])
    body = web.get("/").body.decode()
    for text in ("Glide Low", "Velora", "Navy", "$129.95", "i1-thumb.webp"):
        assert text in body


def test_filters_and_sort_live_in_the_url_and_stay_in_the_form(web):
    shoes, stock = seed_catalogue(40)
    response = web.get("/?" + urlencode({"brand": "Velora", "size": "40", "sort": "price_desc", "max_price": "80"}))
    assert response.status_code == 200
    body = response.body.decode()
    expected = [s for s in shoes if s.brand == "Velora" and stock[s.shoe_id].get("40", 0) > 0 and s.price_cents <= 8000]
    expected.sort(key=lambda s: s.price_sort, reverse=True)
    assert card_ids(response.body) == [s.shoe_id for s in expected]
    assert '<option value="Velora" selected>' in body
    assert '<option value="40" selected>' in body
    assert '<option value="price_desc" selected>' in body
    assert 'name="max_price" type="text" value="80"' in body
    assert f"{len(expected)} shoes" in body


def test_empty_state_says_what_was_asked_and_how_to_widen(web):
    seed_catalogue(10)
    response = web.get("/?size=40&max_price=1")
    assert response.status_code == 200
    body = unescape(response.body.decode())
    assert "No shoes in size EU 40 under $1.00." in body
    assert '<a href="/?max_price=1">Any size</a>' in body
    assert '<a href="/?size=40">Any price</a>' in body


def test_an_empty_shop_says_so(web):
    body = web.get("/").body.decode()
    assert "No shoes here yet" in body


def test_bad_filters_get_a_page_that_explains_and_still_lists(web):
    seed_catalogue(12)
    response = web.get("/?sort=cheapest&size=99&min_price=abc&brand=Velora")
    assert response.status_code == 400
    body = response.body.decode()
    assert "Some of your choices could not be used" in body
    assert "Choose a sort order from the list." in body
    assert "Choose an EU size from 28 to 47." in body
    assert 'aria-invalid="true"' in body
    # The valid part (brand) still applies.
    ids = card_ids(response.body)
    assert ids and all(Shoe.get(shoe_id).brand == "Velora" for shoe_id in ids)


def test_a_form_sent_with_empty_fields_is_redirected_to_the_clean_url(web):
    seed_catalogue(3)
    empty = dict.fromkeys(("q", "brand", "category", "size", "min_price", "max_price", "sort"), "")
    response = web.get("/?" + urlencode({**empty, "department": "men"}))
    assert response.status_code == 302
    assert response.headers["Location"] == "/?department=men"
    for asked, clean in (
        ({"sort": "newest"}, "/"),  # the default sort
        ({"q": "  boots ", "sort": "best"}, "/?q=boots"),  # the default when searching
        ({"q": "boots", "sort": "newest"}, None),  # not the default: kept
        ({"min_price": "80.00"}, "/?min_price=80"),
        ({"q": ""}, "/"),
    ):
        response = web.get("/?" + urlencode(asked))
        if clean is None:
            assert response.status_code == 200, asked
        else:
            assert (response.status_code, response.headers["Location"]) == (302, clean), asked
    assert web.get("/?department=men").status_code == 200


def test_filters_in_use_are_chips_that_each_drop_one_and_the_count_is_shown(web):
    shoes, _ = seed_catalogue(40)
    response = web.get("/?" + urlencode({"department": "men", "category": "boots", "max_price": "90", "q": "model"}))
    body = unescape(response.body.decode())
    chips = dict(
        re.findall(r'<a class="chip" href="([^"]+)"><span class="visually-hidden">Remove </span>([^<]+) ', body)
    )
    assert chips == {
        "/?q=model&category=boots&max_price=90": "Men",
        "/?q=model&department=men&max_price=90": "Boots",
        "/?q=model&department=men&category=boots": "Under $90.00",
        "/?department=men&category=boots&max_price=90": "Search: model",
    }
    expected = [s for s in shoes if s.department == "men" and s.category == "boots" and s.price_cents <= 9000]
    assert len(expected) > 1, "a count of one proves little"
    assert f'<p class="result-count" id="result-count">{len(expected)} shoes</p>' in body
    assert 'Filter and sort <span class="drawer-count">(4)</span>' in body
    # Unfiltered: the whole shop's count, no chips.
    home = web.get("/").body.decode()
    assert '<p class="result-count" id="result-count">40 shoes</p>' in home and 'class="chip"' not in home


def test_a_bad_filter_is_explained_beside_its_field_and_what_was_typed_is_kept(web):
    seed_catalogue(6)
    response = web.get("/?" + urlencode({"min_price": "abc", "max_price": "60", "brand": "Velora", "size": "99"}))
    assert response.status_code == 400
    body = response.body.decode()
    assert '<details class="drawer filter-drawer" id="filters" open>' in body  # the fields are in view
    assert 'name="min_price" type="text" value="abc"' in body and 'aria-invalid="true"' in body
    assert '<p class="field-error" id="field-min_price-error">Enter the lowest price as an amount' in body
    assert 'name="max_price" type="text" value="60"' in body
    assert '<p class="field-error" id="field-size-error">Choose an EU size from 28 to 47.</p>' in body
    response = web.get("/?" + urlencode({"min_price": "90", "max_price": "20"}))
    body = response.body.decode()
    assert 'value="90"' in body and 'value="20"' in body  # both kept, the error beside "To"
    assert 'id="field-max_price-error">The highest price must be at least the lowest price.' in body


def test_search_reads_a_typo_says_so_and_suggests_when_nothing_matches(web):
    seed([numbered_shoe(1, name="City Oxford", category="formal"), numbered_shoe(2, name="Puddle Jumper")])
    body = unescape(web.get("/?q=oxfrod").body.decode())
    assert card_ids(body.encode()) == ["shoe00001"]
    assert "Showing results for “oxford” (you typed “oxfrod”)." in body
    assert '<option value="" selected>Best match</option>' in body
    body = unescape(web.get("/?q=pydlle").body.decode())
    assert card_ids(body.encode()) == []
    assert 'Did you mean <a href="/?q=puddle">puddle</a>?' in body


def test_kids_shoes_are_not_a_stock_problem_in_an_adult_size(web):
    kids = numbered_shoe(1, department="kids", sizes=["30", "31"])
    adult = numbered_shoe(2, department="women", sizes=["41", "42"])
    seed([kids, adult], {kids.shoe_id: {"30": 5}, adult.shoe_id: {"41": 5, "42": 0}})
    web.cookies["mysize"] = "42"
    labels = in_size_labels(web.get("/").body.decode())
    assert labels == {kids.shoe_id: "Not made in EU 42", adult.shoe_id: "Not in stock in EU 42"}


@pytest.mark.parametrize("path", ["/", "/cart", "/login", "/shipping", "product", "/nowhere"])
def test_every_shop_page_has_the_search_box_and_the_departments(web, path):
    shoe = numbered_shoe(1)
    seed([shoe])
    body = web.get(product_path(shoe) if path == "product" else path).body.decode()
    assert '<label for="site-search">Search</label>' in body and 'name="q"' in body
    for slug, label in (("men", "Men"), ("women", "Women"), ("kids", "Kids")):
        assert f'<a href="/?department={slug}">{label}</a>' in body
    assert ">Sale<" not in body  # no sale price yet


def test_the_back_office_has_no_shop_search(admin):
    assert 'id="site-search"' not in admin.get("/admin").body.decode()


def test_a_tampered_cursor_gets_the_first_page_and_an_explanation(web):
    seed_catalogue(30)
    first = web.get("/")
    next_url = link(NEXT_RE, first.body)
    response = web.get(next_url[:-3] + "abc")
    assert response.status_code == 400
    assert "That page link is out of date or damaged" in response.body.decode()
    assert card_ids(response.body) == card_ids(first.body)


def test_search_text_is_escaped_everywhere_it_appears(web):
    seed([numbered_shoe(1, name="<script>alert(1)</script>")])
    response = web.get("/?" + urlencode({"q": "<script>"}))
    body = response.body.decode()
    assert "<script>alert" not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body
    assert 'value="&lt;script&gt;"' in body


def test_long_search_is_refused_politely(web):
    seed_catalogue(3)
    response = web.get("/?q=" + "a" * 500)
    assert response.status_code == 400
    assert "Search for at most 80 characters." in response.body.decode()


def test_product_page_shows_details_and_a_size_picker(web):
    shoe = numbered_shoe(
        1, department="men", sizes=["40", "41", "42", "43"], description="Soft & light.", price_cents=8995
    )
    shoe.images = [
        ShoeImage(image_id="a", thumb_key="images/s/a-thumb.webp", large_key="images/s/a-large.webp"),
        ShoeImage(image_id="b", thumb_key="images/s/b-thumb.webp", large_key="images/s/b-large.webp"),
    ]
    seed([shoe], {shoe.shoe_id: {"40": 0, "41": 2, "42": 9}})
    response = web.get(product_path(shoe))
    assert response.status_code == 200
    body = response.body.decode()
    assert "Soft &amp; light." in body and "$89.95" in body
    assert "a-large.webp" in body and "b-thumb.webp" in body  # the main picture and the other's thumbnail
    radios = dict(re.findall(r'<input type="radio" name="size" id="size-(\d+)" value="\d+" required([^>]*)>', body))
    assert set(radios) == {"40", "41", "42", "43"}
    assert "disabled" in radios["40"] and "disabled" in radios["43"]
    assert "disabled" not in radios["41"] and "disabled" not in radios["42"]
    assert '<span class="availability low-stock">2 left</span>' in body
    assert "<legend>Size (EU)</legend>" in body
    form = body[body.index('action="/cart/items"') :]
    for field in ('name="csrf_token"', f'name="shoe_id" value="{shoe.shoe_id}"', 'name="quantity"'):
        assert field in form
    assert '<label for="field-quantity">Quantity</label>' in form


def test_a_shoe_sold_out_in_every_size_cannot_be_added(web):
    shoe = numbered_shoe(1, sizes=["40", "41"], department="women")
    seed([shoe], {shoe.shoe_id: {"40": 0}})
    body = web.get(product_path(shoe)).body.decode()
    assert "Sold out in every size" in body
    assert '<button type="submit" class="button add-button" disabled>Add to cart</button>' in body
    assert '<button type="submit" form="add-to-cart" class="button" disabled>Add to cart</button>' in body


@pytest.mark.parametrize("shoe_id", ["does-not-exist", "shoe00001"])
def test_unknown_or_draft_shoes_get_the_404_page(web, shoe_id):
    seed([numbered_shoe(1, status="draft")])
    response = web.get(f"/shoes/{shoe_id}")
    assert response.status_code == 404
    assert "text/html" in response.headers["Content-Type"]
    assert "Back to the shop" in response.body.decode()


def in_size_labels(body: str) -> dict[str, str]:
    """shoe id -> the card's availability line."""
    found = {}
    for shoe_id, text in re.findall(
        r'href="/shoes/(?:[^"]*-)?([^"/-]+)">.*?class="availability [^"]+">([^<]+)<', body, re.S
    ):
        found[shoe_id] = text
    return found


def test_a_guests_size_is_remembered_in_a_cookie_and_shown_on_cards(web):
    shoes, stock = seed_catalogue(12)
    response = web.post_form("/my-size", {"my_size": "40", "next": "/?sort=price_asc"}, csrf_page="/")
    assert response.status_code == 303
    assert response.headers["Location"] == "/?sort=price_asc"
    assert web.cookies["mysize"] == "40"
    body = web.get("/").body.decode()
    labels = in_size_labels(body)
    assert len(labels) == 12
    for shoe in shoes:
        units = stock[shoe.shoe_id].get("40", 0)
        expected = (
            "Not made in EU 40"  # kids' shoes never come in an adult size: no stock problem
            if shoe.department == "kids"
            else "In stock in EU 40"
            if units > 3
            else f"Only {units} left in EU 40"
            if units
            else "Not in stock in EU 40"
        )
        assert labels[shoe.shoe_id] == expected
    assert 'href="/?size=40">Show only shoes in my size</a>' in body
    only_mine = card_ids(web.get("/?size=40").body)
    assert sorted(only_mine) == sorted(s.shoe_id for s in shoes if stock[s.shoe_id].get("40", 0) > 0)


def test_the_product_page_preselects_my_size_when_in_stock(web):
    shoe = numbered_shoe(1, department="men", sizes=["40", "41"])
    seed([shoe], {shoe.shoe_id: {"40": 4, "41": 0}})
    web.cookies["mysize"] = "40"
    assert 'value="40" required checked>' in web.get(product_path(shoe)).body.decode()
    web.cookies["mysize"] = "41"
    assert "checked" not in web.get(product_path(shoe)).body.decode()


def test_a_shoppers_size_is_kept_in_the_profile(shopper, other_web):
    seed_catalogue(3)
    assert shopper.post_form("/my-size", {"my_size": "42"}, csrf_page="/").status_code == 303
    # A new browser (no size cookie) logging into the same account sees the size.
    other_web.login("alice")
    assert "mysize" not in other_web.cookies
    assert "Your size is <strong>EU 42</strong>" in other_web.get("/").body.decode()


def test_bad_sizes_and_missing_csrf_are_refused(web):
    response = web.post_form("/my-size", {"my_size": "99"}, csrf_page="/")
    assert response.status_code == 303 and "mysize" not in web.cookies
    assert "Choose your size from the list." in web.get("/").body.decode()
    assert web.post_form("/my-size", {"my_size": "40"}, csrf=False).status_code == 403
    web.cookies["mysize"] = "<b>99"  # a forged cookie is ignored
    assert "Your size is" not in web.get("/").body.decode()


# -- JSON API --------------------------------------------------------------------------------------
def test_api_lists_with_the_same_filters_and_walks_by_cursor(web):
    shoes, _ = seed_catalogue(30)
    seen, cursor = [], None
    while True:
        query = {"sort": "price_asc", "department": "men", "limit": "4"} | ({"cursor": cursor} if cursor else {})
        response = web.get("/api/v1/shoes?" + urlencode(query))
        assert response.status_code == 200
        data = response.json_body
        seen += [item["shoe_id"] for item in data["items"]]
        cursor = data["next_cursor"]
        if not cursor:
            break
    men = sorted((s for s in shoes if s.department == "men"), key=lambda s: s.price_sort)
    assert seen == [s.shoe_id for s in men]
    item = web.get("/api/v1/shoes?limit=1").json_body["items"][0]
    assert set(item) == {
        "shoe_id",
        "name",
        "brand",
        "colour",
        "department",
        "category",
        "price_cents",
        "image_url",
        "url",
    }


def test_api_shoe_has_stock_per_size(web):
    shoe = numbered_shoe(1, department="men", sizes=["40", "41", "42"])
    seed([shoe], {shoe.shoe_id: {"40": 0, "41": 2, "42": 7}})
    data = web.get(f"/api/v1/shoes/{shoe.shoe_id}").json_body
    assert data["price_cents"] == shoe.price_cents
    assert [(s["size"], s["available"], s["only_left"]) for s in data["sizes"]] == [
        ("40", False, None),
        ("41", True, 2),
        ("42", True, None),
    ]


@pytest.mark.parametrize(
    ("query", "code", "field"),
    [
        ("sort=cheapest", "InvalidQuery", "sort"),
        ("min_price=ten", "InvalidQuery", "min_price"),
        ("min_price=50&max_price=10", "InvalidQuery", "max_price"),
        ("limit=1000", "InvalidQuery", "limit"),
        ("limit=0", "InvalidQuery", "limit"),
        ("department=pets", "InvalidQuery", "department"),
        ("cursor=abc.def", "InvalidCursor", "cursor"),
    ],
)
def test_api_bad_input_is_a_400_with_the_error_shape(web, query, code, field):
    seed_catalogue(3)
    response = web.get(f"/api/v1/shoes?{query}")
    assert response.status_code == 400
    error = response.json_body["error"]
    assert error["code"] == code and field in error["fields"] and error["message"]


def test_api_unknown_shoe_is_a_json_404(web):
    response = web.get("/api/v1/shoes/nope")
    assert response.status_code == 404
    assert response.json_body["error"]["message"] == "We could not find that shoe."


def test_api_archived_shoe_is_a_json_410_as_its_page_and_a_draft_stays_404(web):
    seed([numbered_shoe(1, status="archived"), numbered_shoe(2, status="draft")])
    response = web.get("/api/v1/shoes/shoe00001")
    assert response.status_code == 410 and web.get("/shoes/shoe00001").status_code == 410
    assert response.json_body["error"] == {"code": "NoLongerSold", "message": "That shoe is no longer sold."}
    assert web.get("/api/v1/shoes/shoe00002").status_code == 404


# -- DynamoDB calls per route --------------------------------------------------------------------
# Pages with cards read the page's review summaries too: one BatchGetItem (services/reviews.py),
# which finds no item in a catalogue without reviews. The JSON API shows no ratings.
ROUTE_CALLS = [
    ("/", {"Query": 1, "BatchGetItem": 1}, 25),
    ("/?sort=price_asc", {"Query": 1, "BatchGetItem": 1}, 25),
    ("/?sort=price_desc", {"Query": 1, "BatchGetItem": 1}, 25),
    ("/api/v1/shoes", {"Query": 1}, 25),
    ("/?size=40&brand=Velora", {"BatchGetItem": 1}, 0),  # the read model, fresh in this Lambda
    ("/?q=navy&sort=price_asc", {"BatchGetItem": 1}, 0),
    ("/api/v1/shoes?category=boots", {}, 0),
    ("/shoes/stride-model-3-shoe00003", {"GetItem": 1, "Query": 1, "BatchGetItem": 1}, 6),
    ("/api/v1/shoes/shoe00003", {"GetItem": 1, "Query": 1}, 6),
]


@pytest.mark.parametrize("count", [40, 160])
def test_dynamodb_calls_per_route_do_not_grow_with_the_catalogue(web, dynamodb_calls, count):
    seed_catalogue(count)
    web.get("/?size=41")  # loads the read model into this Lambda (GetItem meta + BatchGetItem)
    for path, operations, items in ROUTE_CALLS:
        dynamodb_calls.reset()
        assert web.get(path).status_code == 200, path
        assert dict(dynamodb_calls.calls) == operations, path
        assert dynamodb_calls.items_read == items, path
    dynamodb_calls.reset()
    page_two = link(NEXT_RE, web.get("/").body)
    dynamodb_calls.reset()
    web.get(page_two)
    assert dict(dynamodb_calls.calls) == {"Query": 1, "BatchGetItem": 1}
    assert dynamodb_calls.items_read == min(25, count - 24)
    # With a size chosen: one BatchGetItem of at most a page of stock items more.
    web.cookies["mysize"] = "40"
    dynamodb_calls.reset()
    web.get("/")
    assert dict(dynamodb_calls.calls) == {"Query": 1, "BatchGetItem": 2}
    assert dynamodb_calls.items_read <= 25 + 24


def test_a_cold_lambda_reads_the_read_model_in_two_calls(web, dynamodb_calls):
    seed_catalogue(50)
    catalogue_index.forget()
    dynamodb_calls.reset()
    web.get("/?department=kids")
    # The read model (GetItem + BatchGetItem), then the page's review summaries (BatchGetItem).
    assert dict(dynamodb_calls.calls) == {"GetItem": 1, "BatchGetItem": 2}
    # The `shards` item and every written shard (at most SHARD_COUNT, whatever the catalogue size).
    written = {catalogue_index.shard_of(f"shoe{n:05d}") for n in range(50)}
    assert dynamodb_calls.items_read == 1 + len(written)
