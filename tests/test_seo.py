"""What search engines and link previews read: description, canonical, noindex on private pages,
Open Graph/Twitter tags and Product/BreadcrumbList structured data."""

import json
import re
from html.parser import HTMLParser

import pytest

from chalicelib.product_links import product_path
from chalicelib.services import content
from tests.factories import make_shoe

BASE = "http://127.0.0.1:8000"


class Head(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.meta: dict[str, str] = {}
        self.links: dict[str, str] = {}
        self.json_ld: list[dict] = []
        self.scripts: list[dict] = []
        self._in_json_ld = False

    def handle_starttag(self, tag: str, attrs: list) -> None:
        values = dict(attrs)
        if tag == "meta" and ("name" in values or "property" in values):
            self.meta[values.get("name") or values["property"]] = values.get("content", "")
        elif tag == "link":
            self.links[values.get("rel", "")] = values.get("href", "")
        elif tag == "script":
            self.scripts.append(values)
            self._in_json_ld = values.get("type") == "application/ld+json"

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_json_ld = False

    def handle_data(self, data: str) -> None:
        if self._in_json_ld:
            self.json_ld.append(json.loads(data))


def head(response) -> Head:
    parser = Head()
    parser.feed(response.body.decode())
    return parser


def test_product_page_describes_the_product_with_preview_tags_and_structured_data(web):
    shoe = make_shoe(
        name="Trail Runner", brand="Northpeak", colour="moss", price_cents=8999, description="Grippy on wet rock."
    )
    page = head(web.get(product_path(shoe)))
    description = page.meta["description"]
    assert description.startswith("Northpeak Trail Runner in moss") and "$89.99" in description
    assert "Grippy on wet rock." in description
    url = f"{BASE}/shoes/northpeak-trail-runner-{shoe.shoe_id}"
    assert page.links["canonical"] == url
    assert page.meta["og:type"] == "product" and page.meta["og:url"] == url
    assert page.meta["og:title"].startswith("Northpeak Trail Runner")
    assert page.meta["twitter:card"] == "summary" and "robots" not in page.meta
    product, breadcrumbs = page.json_ld
    assert product["@type"] == "Product" and product["brand"] == {"@type": "Brand", "name": "Northpeak"}
    offer = product["offers"]
    assert (offer["price"], offer["priceCurrency"]) == ("89.99", "USD")
    assert offer["availability"] == "https://schema.org/InStock"
    assert [item["name"] for item in breadcrumbs["itemListElement"]] == ["Home", "Men", "Running", "Trail Runner"]
    assert breadcrumbs["itemListElement"][1]["item"] == f"{BASE}/?department=men"
    assert breadcrumbs["itemListElement"][2]["item"] == f"{BASE}/?department=men&category=running"
    assert breadcrumbs["itemListElement"][3]["item"] == url


def test_a_product_with_a_picture_shares_it_and_sold_out_says_so(web, monkeypatch):
    from chalicelib.blueprints import catalogue as pages
    from chalicelib.models.catalogue import ShoeImage

    monkeypatch.setattr(pages, "image_url", lambda key: f"https://cdn.example.com/{key}")
    image = ShoeImage(image_id="i1", thumb_key="images/t.webp", large_key="images/l.webp", width=1200, height=900)
    shoe = make_shoe(stock={"42": 0}, images=[image])
    page = head(web.get(product_path(shoe)))
    assert page.meta["og:image"] == page.meta["twitter:image"] == "https://cdn.example.com/images/l.webp"
    assert page.meta["twitter:card"] == "summary_large_image"
    product = page.json_ld[0]
    assert product["image"] == ["https://cdn.example.com/images/l.webp"]
    assert product["offers"]["availability"] == "https://schema.org/OutOfStock"


def test_structured_data_cannot_close_its_script_element(web):
    shoe = make_shoe(name="</script><script>alert(1)</script>", description="<!-- x")
    body = web.get(product_path(shoe)).body.decode()
    blocks = re.findall(r'<script type="application/ld\+json">(.*?)</script>', body, re.S)
    assert len(blocks) == 2
    assert "<" not in "".join(blocks)  # tojson writes < as \u003c
    assert json.loads(blocks[0])["name"].endswith("</script><script>alert(1)</script>")
    # No other inline script: only data blocks, which the CSP (script-src 'self') does not govern.
    assert re.findall(r"<script(?![^>]*\bsrc=)([^>]*)>", body) == [' type="application/ld+json"'] * 2


@pytest.mark.parametrize(
    ("path", "canonical"),
    [
        ("/", "/"),
        ("/?sort=price_asc", "/"),
        ("/?size=42&brand=Stride", "/"),
        ("/?department=women", "/?department=women"),
        ("/?department=women&category=running&min_price=10", "/?department=women"),
    ],
)
def test_listings_canonicalise_to_the_unfiltered_or_department_page(web, path, canonical):
    page = head(web.get(path))
    assert page.links["canonical"] == BASE + canonical
    assert page.meta["description"] and "robots" not in page.meta


def test_department_listing_has_its_own_description(web):
    assert head(web.get("/?department=kids")).meta["description"].startswith("Shoes for kids.")


@pytest.mark.parametrize("slug", list(content.PAGES))
def test_trust_pages_are_indexable_with_their_own_description(web, slug):
    page = head(web.get(f"/{slug}"))
    assert page.meta["description"] == content.page(slug).description
    assert page.links["canonical"] == f"{BASE}/{slug}"


@pytest.mark.parametrize("path", ["/login", "/register", "/cart", "/admin", "/nope"])
def test_private_and_error_pages_are_noindex(web, path):
    page = head(web.get(path))
    assert page.meta["robots"] == "noindex, nofollow"
    assert "canonical" not in page.links and "og:title" not in page.meta


def test_account_pages_are_noindex(shopper):
    for path in ("/account", "/orders"):
        assert head(shopper.get(path)).meta["robots"] == "noindex, nofollow"


def test_noindex_covers_what_robots_txt_disallows():
    from chalicelib.web.seo import is_private

    for path in ("/checkout", "/checkout/review", "/orders/abc", "/admin/shoes", "/account/delete", "/api/v1/x"):
        assert is_private(path), path
    for path in ("/", "/shoes/abc", "/contact", "/returns"):
        assert not is_private(path), path
