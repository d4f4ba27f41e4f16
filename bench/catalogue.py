"""Catalogue scenarios: home, each sort, a second page, filters, search, product page, API."""

from urllib.parse import urlencode

from bench.harness import BenchContext, Scenario


def _first_page_cursor(context: BenchContext) -> str:
    return context.values["page2_path"]


def _forget_read_model(context: BenchContext) -> None:
    from chalicelib.services import catalogue_index

    catalogue_index.forget()


def _path(**query: str) -> str:
    return "/?" + urlencode(query) if query else "/"


def prepare(client, context: BenchContext) -> None:
    """Find values the scenarios need: a shoe id, a brand, a second-page link."""
    import re

    from chalicelib.models import Shoe
    from chalicelib.product_links import product_path

    shoe = next(iter(Shoe.by_newest.query("active", scan_index_forward=False, limit=1, page_size=1)))
    context.values["shoe_id"] = shoe.shoe_id
    context.values["product_path"] = product_path(shoe)  # the canonical page (any other spelling is a 301)
    context.values["brand"] = shoe.brand
    body = client.http.get("/", headers={"host": "127.0.0.1:8000"}).body.decode()
    match = re.search(r'href="(/\?cursor=[^"]+)" rel="next"', body)
    context.values["page2_path"] = match.group(1).replace("&amp;", "&")


SCENARIOS = [
    Scenario("home (newest)", "/"),
    Scenario("home, price low-high", _path(sort="price_asc")),
    Scenario("home, price high-low", _path(sort="price_desc")),
    Scenario("home, page 2 (cursor)", _first_page_cursor),
    Scenario("home, my size set (cookie)", "/", headers={"cookie": "mysize=42"}),
    Scenario("filter: brand", lambda c: _path(brand=c.values["brand"])),
    Scenario("filter: size 42 in stock", _path(size="42")),
    Scenario("filter: department + category", _path(department="women", category="running")),
    Scenario("filter: price range, price sort", _path(min_price="50", max_price="100", sort="price_asc")),
    Scenario(
        "filter: brand + size + max price",
        lambda c: _path(brand=c.values["brand"], size="42", max_price="100"),
    ),
    Scenario("search: one word", _path(q="navy")),
    Scenario("search: two words + sort", _path(q="glide run", sort="price_desc")),
    Scenario("filter, read model cold (first request on a Lambda)", _path(size="42"), before_each=_forget_read_model),
    Scenario("product page", lambda c: c.values["product_path"], max_repeat=15),
    Scenario("API list, filtered", lambda c: "/api/v1/shoes?" + urlencode({"brand": c.values["brand"], "size": "42"})),
    Scenario("API list, newest", "/api/v1/shoes"),
    Scenario("API shoe", lambda c: f"/api/v1/shoes/{c.values['shoe_id']}", max_repeat=15),
]


def check(client, context: BenchContext) -> None:
    """Guard against measuring empty pages: filtered scenarios must show cards."""
    for path in ("/?size=42", "/?q=navy", f"/?brand={context.values['brand']}"):
        body = client.http.get(path, headers={"host": "127.0.0.1:8000"}).body.decode()
        assert body.count('class="shoe-card"') >= 10, f"{path} shows too few cards"
