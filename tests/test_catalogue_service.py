"""Catalogue services with moto: listing (both paths), filters, cursors, product, read model."""

import pytest

from chalicelib.models import Shoe, Stock
from chalicelib.services import catalogue, catalogue_index
from chalicelib.services.catalogue import ListingQuery, list_shoes, parse_listing
from chalicelib.services.errors import NotFound, ValidationFailed
from tests.catalogue_fixtures import dynamodb_calls, seed, seed_catalogue
from tests.factories import numbered_shoe

__all__ = ["dynamodb_calls"]

SORTS = ["newest", "price_asc", "price_desc"]


def expected_order(shoes, sort):
    active = [shoe for shoe in shoes if shoe.status == "active"]
    if sort == "newest":
        return [s.shoe_id for s in sorted(active, key=lambda s: s.created_sort, reverse=True)]
    ordered = sorted(active, key=lambda s: s.price_sort, reverse=sort == "price_desc")
    return [s.shoe_id for s in ordered]


def walk(query: ListingQuery, limit: int) -> tuple[list[str], list[str]]:
    """Every page forwards, then backwards from the last page; returns both id sequences."""
    pages, cursor = [], ""
    while True:
        page = list_shoes(query, cursor, limit)
        pages.append(page)
        assert len(page.cards) <= limit
        if not page.next_cursor:
            break
        assert len(page.cards) == limit
        cursor = page.next_cursor
    forward = [card.shoe_id for page in pages for card in page.cards]
    backward_pages = [pages[-1]]
    while backward_pages[-1].prev_cursor:
        backward_pages.append(list_shoes(query, backward_pages[-1].prev_cursor, limit))
    backward = [card.shoe_id for page in reversed(backward_pages) for card in page.cards]
    return forward, backward


@pytest.mark.parametrize("sort", SORTS)
def test_unfiltered_pagination_walks_every_active_shoe_once_each_way(sort):
    shoes, _ = seed_catalogue(53, archived_every=9)
    forward, backward = walk(ListingQuery(sort=sort), limit=10)
    assert forward == expected_order(shoes, sort)
    assert backward == forward
    assert len(forward) == 53 - 5


@pytest.mark.parametrize("sort", SORTS)
def test_filtered_pagination_walks_every_match_once_each_way(sort):
    shoes, _ = seed_catalogue(60, archived_every=7)
    forward, backward = walk(ListingQuery(sort=sort, department="women"), limit=4)
    assert forward == expected_order([s for s in shoes if s.department == "women"], sort)
    assert backward == forward


def matches(shoe, stock, query: ListingQuery) -> bool:
    text = f"{shoe.name} {shoe.brand} {shoe.colour}".casefold()
    return (
        shoe.status == "active"
        and (not query.brand or shoe.brand.casefold() == query.brand.casefold())
        and (not query.department or shoe.department == query.department)
        and (not query.category or shoe.category == query.category)
        and (not query.size or stock[shoe.shoe_id].get(query.size, 0) > 0)
        and (query.min_price is None or shoe.price_cents >= query.min_price)
        and (query.max_price is None or shoe.price_cents <= query.max_price)
        and all(
            any(word.startswith(term) for word in catalogue_index.words(text))
            for term in catalogue_index.words(query.q)
        )
    )


FILTER_CASES = [
    {"brand": "Velora"},
    {"brand": "velora"},
    {"department": "kids"},
    {"category": "boots"},
    {"size": "42"},
    {"size": "30"},
    {"min_price": "50"},
    {"max_price": "45.50"},
    {"min_price": "40", "max_price": "70"},
    {"q": "navy"},
    {"q": "mod 1"},
    {"q": "KESTREL red"},
    {"brand": "Stride", "size": "40", "max_price": "80"},
    {"department": "men", "category": "running", "min_price": "30"},
    {"q": "black", "department": "men", "size": "40", "sort": "price_desc"},
    {"brand": "Nobody"},
]


def test_each_filter_and_combination_returns_exactly_the_matching_active_shoes():
    shoes, stock = seed_catalogue(90, archived_every=6)
    for params in FILTER_CASES:
        query, errors = parse_listing(lambda name, p=params: p.get(name, ""))
        assert errors == {}, params
        catalogue_index.forget()
        forward, backward = walk(query, limit=7)
        found = [s for s in shoes if matches(s, stock, query)]
        if query.sort == "best":  # a search's default order: the ranking has tests of its own below
            expected = sorted(s.shoe_id for s in found)
            assert sorted(forward) == expected, params
        else:
            expected = expected_order(found, query.sort)
            assert forward == expected, params
        assert backward == forward, params
        if params != {"brand": "Nobody"}:
            assert expected, f"{params} matches nothing, which proves little"
        assert list_shoes(query, "", 7).total == len(expected), params


def test_archived_shoes_never_show_in_any_listing_or_product_page():
    shoes, _ = seed_catalogue(20, archived_every=2)
    archived = {s.shoe_id for s in shoes if s.status == "archived"}
    for params in ({}, {"size": "40"}, {"q": "model"}, {"sort": "price_asc"}):
        query, _ = parse_listing(lambda name, p=params: p.get(name, ""))
        seen, _ = walk(query, limit=5)
        assert seen and not archived & set(seen)
    with pytest.raises(NotFound):
        catalogue.get_product(sorted(archived)[0])


def test_product_sizes_show_availability_and_only_n_left():
    shoe = numbered_shoe(1, department="men", sizes=["40", "41", "42", "43", "44"])
    seed([shoe], {shoe.shoe_id: {"40": 0, "41": 1, "42": 3, "43": 4, "46": 9}})
    product = catalogue.get_product(shoe.shoe_id)
    summary = [(o.size, o.available, o.only_left) for o in product.sizes]
    # 44 has no stock item at all: offered but sold out. 46 is stocked but not offered: not shown.
    assert summary == [
        ("40", False, None),
        ("41", True, 1),
        ("42", True, 3),
        ("43", True, None),
        ("44", False, None),
    ]
    assert product.sizes[2].label == "EU 42 · UK 8.5 · US 9.5"
    assert not product.sold_out


def test_product_page_costs_one_getitem_and_one_query(dynamodb_calls):
    seed_catalogue(5)
    dynamodb_calls.reset()
    catalogue.get_product("shoe00002")
    assert dict(dynamodb_calls.calls) == {"GetItem": 1, "Query": 1}


@pytest.mark.parametrize("shoe_id", ["nope", "../../etc", "x" * 65, ""])
def test_unknown_or_malformed_shoe_ids_are_not_found(shoe_id):
    seed_catalogue(3)
    with pytest.raises(NotFound):
        catalogue.get_product(shoe_id)


BAD_INPUT = [
    ({"sort": "cheapest"}, "sort"),
    ({"department": "aliens"}, "department"),
    ({"category": "skates"}, "category"),
    ({"size": "99"}, "size"),
    ({"size": "<b>"}, "size"),
    ({"min_price": "abc"}, "min_price"),
    ({"max_price": "-5"}, "max_price"),
    ({"max_price": "1e9"}, "max_price"),
    ({"min_price": "90", "max_price": "10"}, "max_price"),
    ({"q": "x" * 81}, "q"),
    ({"brand": "b" * 41}, "brand"),
]


@pytest.mark.parametrize(("params", "field"), BAD_INPUT, ids=[f for _, f in BAD_INPUT])
def test_bad_listing_parameters_are_named_and_dropped(params, field):
    query, errors = parse_listing(lambda name: params.get(name, ""))
    assert list(errors) == [field]
    assert not query.has_filters and query.sort == "newest"


def test_prices_are_read_as_currency_units_into_cents():
    prices = {"min_price": "$49.9", "max_price": "120"}
    query, errors = parse_listing(lambda name: prices.get(name, ""))
    assert errors == {}
    assert (query.min_price, query.max_price) == (4990, 12000)


@pytest.mark.parametrize("limit", ["0", "49", "abc", "-1", "99999999999"])
def test_absurd_page_sizes_are_refused(limit):
    with pytest.raises(ValidationFailed):
        catalogue.parse_limit(limit)


def test_tampered_or_foreign_cursors_are_refused():
    seed_catalogue(30)
    page = list_shoes(ListingQuery(), "", 10)
    from chalicelib import tokens
    from chalicelib.services import cursors

    body = page.next_cursor.partition(".")[0]
    bound_to = {"filters": ListingQuery().fingerprint()}
    signed_nonsense = [
        cursors.encode(cursors.CATALOGUE, {"d": "sideways", "k": "x"}, bound_to),
        cursors.encode(cursors.CATALOGUE, {"d": "next", "k": 7}, bound_to),
        cursors.encode(cursors.ORDERS, {"d": "next", "k": "x"}, bound_to),  # another listing's cursor
        tokens.dumps("cursor:catalogue", ["next"]),
        tokens.dumps("flash", {"b": bound_to, "p": {"d": "next", "k": "x"}}),  # signed for another purpose
    ]
    for bad in (page.next_cursor[:-2] + "AA", "garbage", body + ".", "x" * 5000, *signed_nonsense):
        with pytest.raises(ValidationFailed):
            list_shoes(ListingQuery(), bad, 10)
    # A genuine cursor made for other filters or another sort is refused too.
    with pytest.raises(ValidationFailed):
        list_shoes(ListingQuery(sort="price_asc"), page.next_cursor, 10)
    with pytest.raises(ValidationFailed):
        list_shoes(ListingQuery(brand="Velora"), page.next_cursor, 10)


def test_unfiltered_listing_is_one_query_reading_one_page_at_two_sizes(dynamodb_calls):
    for count in (30, 120):
        seed_catalogue(count)
        catalogue_index.forget()
        dynamodb_calls.reset()
        page = list_shoes(ListingQuery(sort="price_desc"), "", 24)
        assert len(page.cards) == 24
        assert dict(dynamodb_calls.calls) == {"Query": 1}


def test_filtered_listing_reads_the_read_model_once_per_check_interval(dynamodb_calls):
    seed_catalogue(40)
    catalogue_index.forget()
    dynamodb_calls.reset()
    list_shoes(ListingQuery(size="40"))
    assert dict(dynamodb_calls.calls) == {"GetItem": 1, "BatchGetItem": 1}
    dynamodb_calls.reset()
    list_shoes(ListingQuery(brand="Stride"))
    list_shoes(ListingQuery(q="navy"))
    assert dynamodb_calls.total_calls == 0


def test_read_model_follows_product_changes_and_archiving(drain_streams):
    seed_catalogue(12)
    shoe = Shoe.get("shoe00004")
    shoe.update(actions=[Shoe.brand.set("Zephyr"), Shoe.colour.set("Teal")])
    drain_streams()
    assert [c.shoe_id for c in list_shoes(ListingQuery(brand="zephyr")).cards] == ["shoe00004"]
    assert [c.shoe_id for c in list_shoes(ListingQuery(q="teal")).cards] == ["shoe00004"]
    assert "Zephyr" in catalogue.brands()

    shoe.update(actions=[Shoe.status.set("archived")])
    drain_streams()
    assert list_shoes(ListingQuery(brand="zephyr")).cards == []
    # Another Lambda (an empty cache) sees the same stored version.
    catalogue_index.forget()
    assert list_shoes(ListingQuery(brand="zephyr")).cards == []
    assert len(catalogue_index.current()) == 11


def test_stock_changes_rewrite_the_read_model_only_when_a_size_goes_in_or_out(drain_streams):
    shoe = numbered_shoe(1, department="men", sizes=["41", "42"])
    seed([shoe], {shoe.shoe_id: {"41": 5, "42": 2}})
    drain_streams()  # the seed's own records change nothing either
    version = catalogue_index.current().version
    Stock(shoe_id=shoe.shoe_id, size="42", quantity=1).save()
    drain_streams()
    assert catalogue_index.current(force=True).version == version  # still in stock: no write
    Stock(shoe_id=shoe.shoe_id, size="42", quantity=0).save()
    drain_streams()
    assert catalogue_index.current(force=True).version == version + 1
    assert list_shoes(ListingQuery(size="42")).cards == []
    assert [c.shoe_id for c in list_shoes(ListingQuery(size="41")).cards] == [shoe.shoe_id]


def test_concurrent_read_model_writers_lose_no_update(monkeypatch):
    monkeypatch.setattr(catalogue_index, "SHARD_COUNT", 1)  # every shoe in one shard: writers collide
    seed_catalogue(6)
    stale = catalogue_index._read_shard(0)
    # Another Lambda writes first...
    Shoe.get("shoe00001").update(actions=[Shoe.name.set("Renamed One")])
    catalogue_index.refresh_shoe("shoe00001")
    # ...so a write based on the older version is refused, not applied over it.
    with pytest.raises(catalogue_index._Conflict):
        catalogue_index._put_shard(stale, stale.cards)
    # A writer that loses the race between its read and its write reads again and keeps both changes.
    read_cards = catalogue_index._read_cards
    raced = []

    def racing(shoe_ids):
        found = read_cards(shoe_ids)
        if not raced:
            raced.append(True)
            Shoe.get("shoe00003").update(actions=[Shoe.name.set("Renamed Three")])
            catalogue_index.refresh_shoe("shoe00003")
        return found

    monkeypatch.setattr(catalogue_index, "_read_cards", racing)
    Shoe.get("shoe00002").update(actions=[Shoe.name.set("Renamed Two")])
    catalogue_index.refresh_shoe("shoe00002")
    catalogue_index.forget()
    names = {c.shoe_id: c.name for c in catalogue_index.current().cards}
    assert (names["shoe00001"], names["shoe00002"], names["shoe00003"]) == (
        "Renamed One",
        "Renamed Two",
        "Renamed Three",
    )


def test_the_read_model_is_stored_in_shards_by_shoe_id():
    from chalicelib.models import CatalogueIndexPart

    seed_catalogue(40)
    catalogue_index.forget()
    index = catalogue_index.current()
    assert len(index) == 40
    stored = CatalogueIndexPart.get(catalogue_index.SHARDS_KEY)
    written = [number for number, version in enumerate(stored.shard_versions) if version]
    assert len(stored.shard_versions) == catalogue_index.SHARD_COUNT
    assert sorted(written) == sorted({catalogue_index.shard_of(f"shoe{n:05d}") for n in range(40)})
    assert sum(CatalogueIndexPart.get(catalogue_index.shard_key(n)).shoe_count for n in written) == 40


def test_preferred_size_is_saved_on_the_user(shopper):
    from chalicelib.models import User
    from chalicelib.services.accounts import get_user

    user = next(iter(User.scan(User.pk.startswith("USER#"))))
    catalogue.save_preferred_size(user, "43")
    assert get_user(user.user_id).preferred_size == "43"
    catalogue.save_preferred_size(user, "")
    assert get_user(user.user_id).preferred_size is None
    with pytest.raises(ValidationFailed):
        catalogue.check_size("99")


def test_rebuild_repairs_a_read_model_whose_chunks_were_lost():
    from chalicelib.models import CatalogueIndexPart

    seed_catalogue(8, archived_every=4)
    for number in {catalogue_index.shard_of(f"shoe{n:05d}") for n in range(8)}:
        CatalogueIndexPart(part=catalogue_index.shard_key(number)).delete()
    catalogue_index.forget()
    with pytest.raises(LookupError):
        catalogue_index.current()
    catalogue_index.rebuild()
    catalogue_index.forget()
    assert sorted(card.shoe_id for card in catalogue_index.current().cards) == [
        f"shoe{n:05d}" for n in range(8) if n % 4 != 3
    ]


@pytest.fixture
def first_page_cache(monkeypatch):
    """The micro-cache as deployed (5 s), on a clock the test moves."""
    from chalicelib.config import get_settings

    monkeypatch.setenv("FIRST_PAGE_CACHE_SECONDS", "5")
    get_settings.cache_clear()
    now = [1000.0]
    monkeypatch.setattr(catalogue, "monotonic", lambda: now[0])
    yield now
    monkeypatch.delenv("FIRST_PAGE_CACHE_SECONDS")
    get_settings.cache_clear()


def test_the_unfiltered_first_page_is_reused_for_a_few_seconds_per_lambda(dynamodb_calls, first_page_cache):
    seed_catalogue(30)
    dynamodb_calls.reset()
    first = list_shoes(ListingQuery(), "", 24)
    assert dict(dynamodb_calls.calls) == {"Query": 1}
    dynamodb_calls.reset()
    first_page_cache[0] += 4.9  # inside the window: no DynamoDB call, the same cards
    again = list_shoes(ListingQuery(), "", 24)
    assert dict(dynamodb_calls.calls) == {} and again.cards == first.cards
    by_price = list_shoes(ListingQuery(sort="price_asc"), "", 24)  # each sort has its own page
    assert dict(dynamodb_calls.calls) == {"Query": 1} and by_price.cards != first.cards
    list_shoes(ListingQuery(), first.next_cursor, 24)  # later pages are never cached
    assert dict(dynamodb_calls.calls) == {"Query": 2}
    dynamodb_calls.reset()
    first_page_cache[0] += 0.2  # 5.1 s after the first read: read again
    list_shoes(ListingQuery(), "", 24)
    assert dict(dynamodb_calls.calls) == {"Query": 1}


def test_a_cached_first_page_is_a_copy_each_visitor_can_add_their_size_to(first_page_cache):
    seed_catalogue(5)
    mine = list_shoes(ListingQuery(), "", 24)
    mine.stock_in_size = {"x": 1}
    mine.cards.clear()
    theirs = list_shoes(ListingQuery(), "", 24)
    assert theirs.stock_in_size == {} and len(theirs.cards) == 5


# -- search that understands shoes (chalicelib/services/search_terms.py) --------------------------


def shoe_shop() -> dict[str, str]:
    """Shoes named as a shop names them; returns name -> shoe id."""
    shoes = [
        numbered_shoe(1, name="Court Classic", category="sneakers", department="women", colour="White"),
        numbered_shoe(2, name="City Oxford", category="formal", department="men", colour="Brown"),
        numbered_shoe(3, name="Trail Boot", category="boots", department="men", colour="Olive"),
        numbered_shoe(4, name="Puddle Jumper", category="boots", department="kids", colour="Yellow"),
        numbered_shoe(6, name="Tempo Runner", category="running", department="women", colour="Sand"),
        numbered_shoe(5, name="Sand Dune", category="sandals", department="women", colour="Black"),
        numbered_shoe(7, name="Glide Trainer", category="sneakers", department="men", colour="Grey"),
    ]
    seed(shoes)
    return {shoe.name: shoe.shoe_id for shoe in shoes}


def names_for(q: str, **filters: str) -> list[str]:
    query, errors = parse_listing(lambda name: {"q": q, **filters}.get(name, ""))
    assert errors == {}
    index = catalogue_index.current()
    return [index.card(card.shoe_id).name for card in list_shoes(query).cards]


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("sneakers", {"Court Classic", "Glide Trainer"}),  # the type, though no name says so
        ("sneaker", {"Court Classic", "Glide Trainer"}),
        ("trainers", {"Court Classic", "Glide Trainer"}),  # a synonym
        ("boots", {"Trail Boot", "Puddle Jumper"}),
        ("boot", {"Trail Boot", "Puddle Jumper"}),
        ("runners", {"Tempo Runner"}),
        ("kids boots", {"Puddle Jumper"}),
        ("men's boots", {"Trail Boot"}),
        ("womens shoes", {"Court Classic", "Tempo Runner", "Sand Dune"}),  # "shoes" narrows nothing
        ("oxfords", {"City Oxford"}),
        ("oxfrod", {"City Oxford"}),  # one typo
        ("tempo runer", {"Tempo Runner"}),  # a typo beside a right word
        ("glid", {"Glide Trainer"}),  # a prefix
        ("gray", {"Glide Trainer"}),  # grey/gray
    ],
)
def test_search_understands_shoe_words_plurals_synonyms_and_typos(q, expected):
    shoe_shop()
    assert set(names_for(q)) == expected


def test_best_match_is_the_default_when_searching_and_ranks_a_name_match_first():
    shoe_shop()
    # "Sand Dune" is named so; "Tempo Runner" is only sand-coloured and is newer.
    assert names_for("sand") == ["Sand Dune", "Tempo Runner"]
    assert names_for("sand", sort="newest") == ["Tempo Runner", "Sand Dune"]
    query, _ = parse_listing(lambda name: {"q": "sand"}.get(name, ""))
    assert query.sort == "best" and "sort" not in query.params()
    # Without a search "best" means nothing: the newest order, and no parameter left behind.
    query, errors = parse_listing(lambda name: {"sort": "best"}.get(name, ""))
    assert (query.sort, errors) == ("newest", {})
    assert ListingQuery(q="sand", sort="best").without("q").params() == {}


def test_best_match_pages_walk_every_match_once_each_way():
    shoes = [numbered_shoe(n, name=f"Model {n}" if n % 3 else f"Walker {n}", colour="Black") for n in range(30)]
    seed(shoes)
    forward, backward = walk(ListingQuery(q="walker black", sort="best"), limit=4)
    assert backward == forward
    walkers = sorted((s for s in shoes if s.name.startswith("Walker")), key=lambda s: s.created_sort, reverse=True)
    assert forward == [s.shoe_id for s in walkers]
    forward, backward = walk(ListingQuery(q="black walker model", sort="best"), limit=4)
    assert forward == backward == []  # no name has both words
    forward, backward = walk(ListingQuery(q="black", sort="best"), limit=7)
    assert backward == forward and sorted(forward) == sorted(s.shoe_id for s in shoes)


def test_did_you_mean_when_nothing_matches():
    shoe_shop()
    query, _ = parse_listing(lambda name: {"q": "pydlle jimpar"}.get(name, ""))  # two typos a word
    page = list_shoes(query)
    assert page.cards == [] and page.suggestion == "puddle jumper"
    query, _ = parse_listing(lambda name: {"q": "zzzz"}.get(name, ""))
    assert list_shoes(query).suggestion == ""
    # The suggestion keeps the filters: no kids' shoe is called "oxford", so no suggestion.
    query, _ = parse_listing(lambda name: {"q": "oxfrdo", "department": "kids"}.get(name, ""))
    assert list_shoes(query).suggestion == ""


def test_search_makes_no_dynamodb_call_on_a_warm_lambda(dynamodb_calls):
    shoe_shop()
    names_for("sneakers")
    dynamodb_calls.reset()
    for q in ("oxfrod", "trainers", "sand", "pydlle jimpar"):
        names_for(q)
    assert dynamodb_calls.total_calls == 0


def test_similar_shoes_for_a_gone_shoe_are_its_type_in_stock_first_and_never_another_type():
    """The "no longer sold" page and "You may also like" share catalogue_index.related: the gone
    page's pick is the same type and department only (no same-brand fill), in stock first."""
    gone = numbered_shoe(1, status="archived", category="boots", department="women")
    in_stock = [numbered_shoe(n, category="boots", department="women") for n in (2, 3)]
    sold_out = numbered_shoe(4, category="boots", department="women")  # the newest
    same_brand_other_type = numbered_shoe(5, brand=gone.brand, category="sandals", department="women")
    other_department = numbered_shoe(6, category="boots", department="men")
    shoes = [gone, *in_stock, sold_out, same_brand_other_type, other_department]
    seed(shoes, {shoe.shoe_id: dict.fromkeys(shoe.sizes, 2) for shoe in [*in_stock, same_brand_other_type]})
    similar = [card.shoe_id for card in catalogue.similar_cards(gone)]
    assert similar == [in_stock[1].shoe_id, in_stock[0].shoe_id, sold_out.shoe_id]
    assert [card.shoe_id for card in catalogue.similar_cards(gone, limit=2)] == similar[:2]
    also_like = catalogue_index.related(gone.shoe_id, gone.category, gone.brand, gone.department)
    assert [card.shoe_id for card in also_like] == [*similar[:2], same_brand_other_type.shoe_id, sold_out.shoe_id]
