"""The product page: readable URLs (old and wrong ones redirect), the size picker in a size system
of the shopper's choice, the size guide, the gallery and "you may also like"."""

import re

import pytest

from chalicelib import product_links, sizes
from chalicelib.models.catalogue import ShoeImage
from chalicelib.product_links import product_path
from chalicelib.services import catalogue, catalogue_index
from chalicelib.services.errors import NotFound
from tests.catalogue_fixtures import dynamodb_calls, seed
from tests.factories import make_shoe, numbered_shoe

__all__ = ["dynamodb_calls"]

RADIO_RE = re.compile(
    r'<input type="radio" name="size" id="size-([\d.]+)" value="[\d.]+" required([^>]*)>\s*'
    r'<label[^>]*>\s*<span class="size-label">([^<]+)<'
)


def radios(body: str) -> dict[str, tuple[str, str]]:
    """EU size -> (the input's extra attributes, the number shown)."""
    return {size: (attributes, shown) for size, attributes, shown in RADIO_RE.findall(body)}


def page(client, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200, (path, response.status_code)
    return response.body.decode()


# -- readable URLs -------------------------------------------------------------------------------


def test_product_paths_are_slug_then_id_and_every_tail_is_a_candidate_id():
    shoe = numbered_shoe(1, brand="Nörthpeak", name="Trail Runner 2 (Wide)")
    assert product_path(shoe) == "/shoes/northpeak-trail-runner-2-wide-shoe00001"
    assert product_links.path_for("demo-1a2b", "日本") == "/shoes/demo-1a2b"  # nothing to slug: the id alone
    assert product_links.candidate_ids("glide-low-demo-1a2b") == [
        "glide-low-demo-1a2b",
        "low-demo-1a2b",
        "demo-1a2b",
        "1a2b",
    ]
    assert product_links.candidate_ids("x" * 201) == []


def test_the_canonical_page_answers_and_old_or_wrong_urls_redirect_to_it_with_their_query(web):
    shoe = numbered_shoe(4, name="Glide Low", brand="Velora", shoe_id="demo-5f3e2a")
    seed([shoe], {shoe.shoe_id: dict.fromkeys(shoe.sizes, 3)})
    canonical = "/shoes/velora-glide-low-demo-5f3e2a"
    assert product_path(shoe) == canonical
    assert web.get(canonical).status_code == 200
    for old in ("/shoes/demo-5f3e2a", "/shoes/velora-glide-high-demo-5f3e2a", "/shoes/anything-demo-5f3e2a"):
        response = web.get(old)
        assert (response.status_code, response.headers["Location"]) == (301, canonical), old
    response = web.get("/shoes/demo-5f3e2a?image=2&sizes=uk&other=x")
    assert response.status_code == 301 and response.headers["Location"] == canonical + "?image=2&sizes=uk"


def test_a_shoe_not_yet_in_the_read_model_is_found_by_its_canonical_url(web, dynamodb_calls):
    shoe = make_shoe(name="Fresh One")  # saved, not in the read model yet
    dynamodb_calls.reset()
    assert web.get(product_path(shoe)).status_code == 200
    # Which tail of the URL is the id, then the review summaries (this shoe's, the related cards').
    assert dynamodb_calls.calls["BatchGetItem"] == 2
    assert web.get(f"/shoes/{shoe.shoe_id}").headers["Location"] == product_path(shoe)


@pytest.mark.parametrize(
    ("path", "status"),
    [("/shoes/model-1-shoe00001", 410), ("/shoes/shoe00001", 410), ("/shoes/no-such-shoe", 404), ("/shoes/nope", 404)],
)
def test_archived_shoes_are_gone_and_unknown_ones_404_whatever_the_slug(web, path, status):
    seed([numbered_shoe(1, status="archived")])
    assert web.get(path).status_code == status


def test_resolve_reads_nothing_for_a_shoe_the_read_model_knows(web, dynamodb_calls):
    shoe = numbered_shoe(2)
    seed([shoe])
    catalogue_index.current(force=True)
    dynamodb_calls.reset()
    assert catalogue.resolve_shoe_ref(product_path(shoe).removeprefix("/shoes/")) == shoe.shoe_id
    assert dict(dynamodb_calls.calls) == {}
    with pytest.raises(NotFound):
        catalogue.resolve_shoe_ref("a-b-c")


def test_links_to_a_product_use_its_canonical_url(web):
    shoe = numbered_shoe(5, name="City Walk")
    seed([shoe], {shoe.shoe_id: dict.fromkeys(shoe.sizes, 3)})
    canonical = product_path(shoe)
    assert f'href="{canonical}"' in page(web, "/")
    assert f'href="{canonical}"' in page(web, "/?q=city")
    api = web.get("/api/v1/shoes").json_body["items"]
    assert api[0]["url"] == canonical
    assert f"http://127.0.0.1:8000{canonical}</loc>" in web.get("/sitemap.xml").body.decode()
    web.post_form("/cart/items", {"shoe_id": shoe.shoe_id, "size": shoe.sizes[0], "quantity": "1"}, csrf_page="/")
    assert f'href="{canonical}"' in page(web, "/cart")
    restock = web.post_form(
        f"/shoes/{shoe.shoe_id}/restock-alerts", {"size": shoe.sizes[0], "email": "a@example.com"}, csrf_page="/"
    )
    assert restock.headers["Location"] == canonical


# -- size picker -------------------------------------------------------------------------------


def test_sizes_sold_out_are_disabled_and_sizes_never_made_are_not_shown(web):
    shoe = numbered_shoe(1, department="men", sizes=["40", "41", "42"])
    seed([shoe], {shoe.shoe_id: {"40": 0, "41": 4}})  # 42 offered, no stock row at all
    found = radios(page(web, product_path(shoe)))
    assert set(found) == {"40", "41", "42"}  # 39 and 43 are never made: not offered as sold out
    assert "disabled" in found["40"][0] and "disabled" in found["42"][0] and "disabled" not in found["41"][0]
    assert [shown for _, shown in found.values()] == ["40", "41", "42"]
    assert page(web, product_path(shoe)).count("Sold out</span>") == 2


def test_the_size_system_switch_is_a_link_and_is_remembered(web):
    shoe = numbered_shoe(1, department="women", sizes=["38", "39"])
    seed([shoe], {shoe.shoe_id: {"38": 2, "39": 2}})
    path = product_path(shoe)
    body = page(web, path)
    assert "<legend>Size (EU)</legend>" in body
    assert f'href="{path}?sizes=uk"' in body and f'href="{path}?sizes=us"' in body
    response = web.get(path + "?sizes=us")
    assert response.headers["Set-Cookie"][0].startswith("sizesystem=us;")
    assert [shown for _, shown in radios(response.body.decode()).values()] == ["6.5", "7.5"]  # women's US
    again = page(web, path)  # no parameter: the cookie remembers
    assert "<legend>Size (US)</legend>" in again and radios(again)["38"][1] == "6.5"
    assert radios(page(web, path + "?sizes=uk"))["38"][1] == "4.5"
    assert "<legend>Size (EU)</legend>" in page(web, path + "?sizes=eu")
    assert "<legend>Size (EU)</legend>" in page(web, path + "?sizes=martian")  # unknown: the remembered one
    # The radio's value stays the EU size the cart and stock use.
    assert 'value="38"' in page(web, path + "?sizes=uk")


def test_my_size_is_preselected_and_named_in_the_chosen_system(web):
    shoe = numbered_shoe(1, department="men", sizes=["42", "43"])
    seed([shoe], {shoe.shoe_id: {"42": 2, "43": 2}})
    web.cookies["mysize"] = "42"
    body = page(web, product_path(shoe) + "?sizes=uk")
    assert " checked" in radios(body)["42"][0] and "Your size: UK 8.5." in body


def test_the_size_guide_gives_foot_length_per_size_for_the_department(web):
    kids = numbered_shoe(3, department="kids", sizes=["30", "31"])
    seed([kids], {kids.shoe_id: {"30": 1}})
    body = page(web, product_path(kids))
    guide = body[body.index('<details class="size-guide"') : body.index("</details>")]
    assert "<summary>Size guide</summary>" in guide and "Kids: sizes by foot length" in guide and "Foot (cm)" in guide
    rows = re.findall(r"<tr><td>(\d+)</td><td>([\d.]+)</td><td>([\d.]+)</td><td>([\d.]+)</td></tr>", guide)
    assert [row[0] for row in rows] == sizes.KIDS_SIZES
    assert ("28", "10", "11", "17.2") in rows


def test_size_guide_data_per_department():
    men = {eu: (uk, us, cm) for eu, uk, us, cm in sizes.guide("men")}
    women = {eu: (uk, us, cm) for eu, uk, us, cm in sizes.guide("women")}
    assert men["42"] == ("8.5", "9.5", 26.5) and women["42"] == ("8.5", "10.5", 26.5)
    lengths = [cm for *_, cm in sizes.guide("men")]
    assert lengths == sorted(lengths) and len(set(lengths)) == len(lengths)
    assert sizes.in_system("33", "kids", "uk") == "1" and sizes.in_system("33", "kids", "eu") == "33"


# -- gallery ------------------------------------------------------------------------------------


def test_thumbnails_are_links_that_switch_the_main_picture_which_opens_large(web):
    shoe = numbered_shoe(1)
    shoe.images = [
        ShoeImage(image_id=n, thumb_key=f"images/s/{n}-thumb.webp", large_key=f"images/s/{n}-large.webp") for n in "abc"
    ]
    seed([shoe])
    path = product_path(shoe)
    first = page(web, path)
    main = re.search(r'<a class="gallery-main" href="([^"]+)">\s*<img src="([^"]+)"', first)
    assert main and "a-large.webp" in main.group(1) and "a-large.webp" in main.group(2)
    thumbs = re.findall(r'<li><a href="([^"]+)"( aria-current="true")?><img src="[^"]*(\w)-thumb', first)
    assert thumbs == [
        (f"{path}?image=1", ' aria-current="true"', "a"),
        (f"{path}?image=2", "", "b"),
        (f"{path}?image=3", "", "c"),
    ]
    second = page(web, f"{path}?image=2")
    assert re.search(r'<a class="gallery-main" href="[^"]*b-large\.webp[^"]*">', second)
    assert f'href="{path}?image=2" aria-current="true"' in second
    for bad in ("0", "4", "x", "-1"):  # out of range: the first picture
        assert re.search(r'class="gallery-main" href="[^"]*a-large', page(web, f"{path}?image={bad}"))


# -- you may also like ---------------------------------------------------------------------------


def test_you_may_also_like_shows_the_same_type_then_brand_never_the_shoe_itself(web):
    shoe = numbered_shoe(1, brand="Velora", category="boots", department="men")
    same_type = numbered_shoe(2, brand="Stride", category="boots", department="men")
    same_brand = numbered_shoe(3, brand="Velora", category="sandals", department="men")
    other_department = numbered_shoe(4, brand="Velora", category="boots", department="kids")
    unrelated = numbered_shoe(5, brand="Kestrel", category="running", department="men")
    shoes = [shoe, same_type, same_brand, other_department, unrelated]
    seed(shoes, {s.shoe_id: dict.fromkeys(s.sizes, 2) for s in shoes})
    body = page(web, product_path(shoe))
    related = body[body.index("You may also like") :]
    links = re.findall(r'<a href="/shoes/([^"]+)">', related)
    assert links == [product_path(same_type).removeprefix("/shoes/"), product_path(same_brand).removeprefix("/shoes/")]


def test_related_prefers_shoes_in_stock_and_stops_at_the_limit(web):
    shoe = numbered_shoe(10, category="sneakers", department="women")
    others = [numbered_shoe(n, category="sneakers", department="women") for n in range(11, 17)]
    stock = {s.shoe_id: dict.fromkeys(s.sizes, 1) for s in others[:-1]}  # the newest is sold out
    seed([shoe, *others], stock)
    found = catalogue_index.related(shoe.shoe_id, "sneakers", shoe.brand, "women", limit=4)
    assert [card.shoe_id for card in found] == [s.shoe_id for s in reversed(others[:-1])][:4]
    assert shoe.shoe_id not in {
        card.shoe_id for card in catalogue_index.related(shoe.shoe_id, "sneakers", shoe.brand, "women", 10)
    }
    alone = numbered_shoe(30, category="formal", brand="Lonely", department="kids")
    seed([alone])
    assert catalogue_index.related(alone.shoe_id, "formal", "Lonely", "kids") == []
