"""The shop window: listings (filters, sorts, cursors), product details, "my size".
Unfiltered listings are one Query on `by-newest`/`by-price`; the rest use catalogue_index.
"""

import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from chalicelib import product_links, sizes
from chalicelib.models.accounts import User
from chalicelib.models.base import batch_get_raw
from chalicelib.models.catalogue import ACTIVE, ARCHIVED, Shoe, Stock
from chalicelib.services import catalogue_index, cursors, search_terms
from chalicelib.services.catalogue_index import BEST, NEWEST, PRICE_ASC, PRICE_DESC, Card, CatalogueIndex, Criteria
from chalicelib.services.errors import NotFound, ValidationFailed
from chalicelib.services.shoes import (
    CATEGORIES,
    DEPARTMENTS,
    LOW_STOCK,
    NO_SUCH_SHOE,
    PRICE_MAX_UNITS,
    SHOE_ID_RE,
    format_price,
    get_shoe,
    parse_price,
    stock_by_size,
)
from chalicelib.services.validation import clean_text

SORTS = {BEST: "Best match", NEWEST: "Newest", PRICE_ASC: "Price: low to high", PRICE_DESC: "Price: high to low"}
PAGE_SIZE = 24
MAX_PAGE_SIZE = 48
SEARCH_MAX = 80
SEARCH_MAX_TERMS = 6
BRAND_MAX = 40
FILTER_FIELDS = ("q", "brand", "department", "category", "size", "min_price", "max_price")


@dataclass(frozen=True)
class ListingQuery:
    """A listing request after validation. Prices are integer cents."""

    sort: str = NEWEST
    brand: str = ""
    department: str = ""
    category: str = ""
    size: str = ""
    min_price: int | None = None
    max_price: int | None = None
    q: str = ""

    @property
    def has_filters(self) -> bool:
        return any(self.params().get(name) for name in FILTER_FIELDS)

    @property
    def default_sort(self) -> str:
        return BEST if self.q else NEWEST

    def typed_words(self) -> list[str]:
        found = dict.fromkeys(w for w in search_terms.words(self.q) if w not in search_terms.STOP_WORDS)
        return list(found)[:SEARCH_MAX_TERMS]

    def terms(self, index: CatalogueIndex) -> tuple[search_terms.Term, ...]:
        """The search words as the read model's terms (typos read against its vocabulary)."""
        return search_terms.resolve(self.typed_words(), index.finds, index.knows)

    def criteria(self, terms: tuple[search_terms.Term, ...] = ()) -> Criteria:
        return Criteria(
            brand=self.brand,
            department=self.department,
            category=self.category,
            size=self.size,
            min_price=self.min_price,
            max_price=self.max_price,
            terms=terms,
        )

    def params(self) -> dict[str, str]:
        values = {
            "q": self.q,
            "brand": self.brand,
            "department": self.department,
            "category": self.category,
            "size": self.size,
            "min_price": "" if self.min_price is None else format_price(self.min_price, drop_zero_cents=True),
            "max_price": "" if self.max_price is None else format_price(self.max_price, drop_zero_cents=True),
            "sort": "" if self.sort == self.default_sort else self.sort,
        }
        return {key: value for key, value in values.items() if value}

    def without(self, name: str) -> "ListingQuery":
        if name == "price":
            return replace(self, min_price=None, max_price=None)
        cleared: dict[str, Any] = {name: ""}
        if name == "q" and self.sort == BEST:
            cleared["sort"] = NEWEST
        return replace(self, **cleared)

    def fingerprint(self) -> str:
        """Binds a cursor to the filters and sort it was made for."""
        raw = json.dumps(self.params(), sort_keys=True).encode()
        return hashlib.sha256(raw).hexdigest()[:12]

    def describe(self, format_money: Callable[[int], str]) -> str:
        parts = []
        if self.department:
            parts.append(f"for {DEPARTMENTS[self.department].lower()}")
        if self.category:
            parts.append(f"in {CATEGORIES[self.category].lower()}")
        if self.size:
            parts.append(f"in size EU {self.size}")
        if self.brand:
            parts.append(f"from {self.brand}")
        if self.min_price is not None and self.max_price is not None:
            parts.append(f"between {format_money(self.min_price)} and {format_money(self.max_price)}")
        elif self.max_price is not None:
            parts.append(f"under {format_money(self.max_price)}")
        elif self.min_price is not None:
            parts.append(f"from {format_money(self.min_price)}")
        if self.q:
            parts.append(f'matching "{self.q}"')
        return " ".join(parts)


def _price(raw: str, label: str, errors: dict[str, str], name: str) -> int | None:
    if not raw.strip():
        return None
    cents = parse_price(raw)
    if cents is None:  # PRICE_PATTERN bounds it: at most PRICE_MAX_UNITS and 99 cents
        errors[name] = f"Enter the {label} as an amount from 0 to {PRICE_MAX_UNITS:,}, like 80 or 79.95."
        return None
    return cents


def parse_listing(get: Callable[[str], str]) -> tuple[ListingQuery, dict[str, str]]:
    """The query with bad fields dropped, and an error per bad field."""
    errors: dict[str, str] = {}
    q_raw = clean_text(get("q"))
    q = " ".join(q_raw.split())
    if len(q) > SEARCH_MAX:
        errors["q"] = f"Search for at most {SEARCH_MAX} characters."
        q = ""
    default_sort = BEST if q else NEWEST
    sort = get("sort").strip() or default_sort
    if sort not in SORTS:
        errors["sort"] = "Choose a sort order from the list."
        sort = default_sort
    elif sort == BEST and not q:
        sort = NEWEST  # "best match" ranks search words: without any it is the newest order
    brand = " ".join(clean_text(get("brand")).split())
    if len(brand) > BRAND_MAX:
        errors["brand"] = "That brand name is too long."
        brand = ""
    department = get("department").strip()
    if department and department not in DEPARTMENTS:
        errors["department"] = "Choose men, women or kids."
        department = ""
    category = get("category").strip()
    if category and category not in CATEGORIES:
        errors["category"] = "Choose a type of shoe from the list."
        category = ""
    size = get("size").strip()
    if size and not sizes.is_valid(size):
        errors["size"] = f"Choose an EU size from {sizes.ALL_SIZES[0]} to {sizes.ALL_SIZES[-1]}."
        size = ""
    min_price = _price(get("min_price"), "lowest price", errors, "min_price")
    max_price = _price(get("max_price"), "highest price", errors, "max_price")
    if min_price is not None and max_price is not None and min_price > max_price:
        errors["max_price"] = "The highest price must be at least the lowest price."
        min_price = max_price = None
    query = ListingQuery(
        sort=sort,
        brand=brand,
        department=department,
        category=category,
        size=size,
        min_price=min_price,
        max_price=max_price,
        q=q,
    )
    return query, errors


def parse_limit(raw: str) -> int:
    if not raw:
        return PAGE_SIZE
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_PAGE_SIZE:
        raise ValidationFailed({"limit": f"Ask for 1 to {MAX_PAGE_SIZE} shoes per page."}, "Bad page size.")
    return int(raw)


BAD_CURSOR = "That page link is out of date or damaged. Here is the first page instead."


def _make_cursor(query: ListingQuery, direction: str, key: str) -> str | None:
    return cursors.encode(cursors.CATALOGUE, {"d": direction, "k": key}, {"filters": query.fingerprint()})


def decode_cursor(token: str, query: ListingQuery) -> tuple[str, str] | None:
    """(direction, sort key) from a cursor; InvalidCursor if tampered with or for other filters."""
    data = cursors.decode(cursors.CATALOGUE, token, {"filters": query.fingerprint()}, BAD_CURSOR)
    if data is None:
        return None
    if data.get("d") not in ("next", "prev") or not isinstance(data.get("k"), str) or not 0 < len(data["k"]) <= 200:
        raise cursors.InvalidCursor(BAD_CURSOR)
    return data["d"], data["k"]


@dataclass
class Page:
    cards: list[Card]
    next_cursor: str | None
    prev_cursor: str | None
    total: int | None = None  # known for filtered listings (the read model counts them)
    stock_in_size: dict[str, int] = field(default_factory=dict)
    terms: tuple[search_terms.Term, ...] = ()  # the search as understood (corrections shown)
    suggestion: str = ""  # "did you mean", when the search found nothing


def list_shoes(query: ListingQuery, cursor: str = "", limit: int = PAGE_SIZE) -> Page:
    position = decode_cursor(cursor, query)
    if query.has_filters:
        return _from_read_model(query, position, limit)
    if position is None:
        return _first_page(query, limit)
    return _from_index_query(query, position, limit)


# The unfiltered first page of each sort, per warm Lambda: the page every visitor opens first is
# read from DynamoDB at most once per FIRST_PAGE_CACHE_SECONDS per Lambda, however busy the shop
# (a new, changed or archived shoe shows there up to that late; docs/architecture.md).
monotonic: Callable[[], float] = time.monotonic  # tests replace it
_first_pages: dict[tuple[str, int], tuple[float, Page]] = {}


def _first_page(query: ListingQuery, limit: int) -> Page:
    from chalicelib.config import get_settings

    lifetime = get_settings().first_page_cache_seconds
    key = (query.sort, limit)
    now = monotonic()
    cached = _first_pages.get(key)
    if cached is None or not 0 <= now - cached[0] < lifetime:
        cached = (now, _from_index_query(query, None, limit))
        if lifetime > 0:
            _first_pages[key] = cached
    # A copy: the caller adds its visitor's own figures (stock in their size) to the page.
    return replace(cached[1], cards=list(cached[1].cards), stock_in_size={})


def forget_first_pages() -> None:
    _first_pages.clear()


# Only what a card needs, built from the raw response: PynamoDB's per-item model construction
# was the largest app-side cost here.
CARD_PROJECTION = "shoe_id, #n, brand, colour, department, category, price_cents, created_sort, price_sort, images[0]"


def _card_from_item(item: dict) -> Card:
    images = item.get("images", {}).get("L", [])
    thumb = images[0]["M"].get("thumb_key", {}).get("S", "") if images else ""
    return Card(
        shoe_id=item["shoe_id"]["S"],
        name=item["name"]["S"],
        brand=item["brand"]["S"],
        colour=item["colour"]["S"],
        department=item["department"]["S"],
        category=item["category"]["S"],
        price_cents=int(item["price_cents"]["N"]),
        created_sort=item["created_sort"]["S"],
        price_sort=item["price_sort"]["S"],
        thumb_key=thumb,
    )


def _from_index_query(query: ListingQuery, position: tuple[str, str] | None, limit: int) -> Page:
    from chalicelib.aws import dynamodb_client

    if query.sort == NEWEST:
        index_name, attribute, descending = "by-newest", "created_sort", True
    else:
        index_name, attribute, descending = "by-price", "price_sort", query.sort == PRICE_DESC
    direction, key = position or ("next", None)
    backwards = direction == "prev"
    forward_in_index = descending == backwards  # walking toward larger keys?
    condition = "#status = :status"
    values = {":status": {"S": ACTIVE}}
    if key is not None:
        condition += f" AND {attribute} {'>' if forward_in_index else '<'} :key"
        values[":key"] = {"S": key}
    response = dynamodb_client().query(
        TableName=Shoe.Meta.table_name,
        IndexName=index_name,
        KeyConditionExpression=condition,
        ExpressionAttributeNames={"#status": "status", "#n": "name"},
        ExpressionAttributeValues=values,
        ProjectionExpression=CARD_PROJECTION,
        ScanIndexForward=forward_in_index,
        Limit=limit + 1,
    )
    rows = response.get("Items", [])
    cards = [_card_from_item(item) for item in rows[:limit]]
    more = len(rows) > limit
    if backwards:
        if not more:
            return _from_index_query(query, None, limit)  # what lies before is the first page
        cards.reverse()
        return _page(query, cards, has_next=True, has_prev=True)
    return _page(query, cards, has_next=more, has_prev=key is not None)


def _page(
    query: ListingQuery,
    cards: list[Card],
    has_next: bool,
    has_prev: bool,
    total: int | None = None,
    keys: list[str] | None = None,
) -> Page:
    """`keys`: the cards' sort keys when they are not the cards' own (best match)."""
    keys = keys or [card.sort_key(query.sort) for card in cards[:1] + cards[-1:]]
    next_cursor = _make_cursor(query, "next", keys[-1]) if has_next and cards else None
    prev_cursor = _make_cursor(query, "prev", keys[0]) if has_prev and cards else None
    return Page(cards=cards, next_cursor=next_cursor, prev_cursor=prev_cursor, total=total)


def _after(keys: list[str], key: str, descending: bool) -> int:
    """Index of the first key after `key` in display order."""
    low, high = 0, len(keys)
    while low < high:
        middle = (low + high) // 2
        before_or_equal = keys[middle] >= key if descending else keys[middle] <= key
        if before_or_equal:
            low = middle + 1
        else:
            high = middle
    return low


def _from_read_model(query: ListingQuery, position: tuple[str, str] | None, limit: int) -> Page:
    index = catalogue_index.current()
    terms = query.terms(index)
    positions, keys = index.matching(query.criteria(terms), query.sort)
    descending = query.sort in (NEWEST, PRICE_DESC, BEST)
    direction, key = position or ("next", None)
    if key is None:
        start = 0
    elif direction == "next":
        start = _after(keys, key, descending)
    else:
        # The page before `key`: it ends just before the first key not before `key`.
        end = _after(keys, key, descending)
        end -= 1 if end and keys[end - 1] == key else 0
        start = end - limit
        if start <= 0:
            start = 0
    chosen = positions[start : start + limit]
    cards = [index.card_at(n) for n in chosen]
    page = _page(
        query,
        cards,
        has_next=start + limit < len(positions),
        has_prev=start > 0,
        total=len(positions),
        keys=keys[start : start + limit],
    )
    page.terms = terms
    if not positions and terms:
        page.suggestion = _did_you_mean(query, index, terms)
    return page


def _did_you_mean(query: ListingQuery, index: CatalogueIndex, terms: tuple[search_terms.Term, ...]) -> str:
    """Another search that finds shoes with the same filters: each word that finds nothing on its
    own replaced by the nearest indexed word (or left out). Only run when nothing matched."""
    vocabulary: list[str] | None = None
    words = []
    for term in terms:
        if index.finds(term):
            words.append(term.shown)
            continue
        if vocabulary is None:
            vocabulary = [*index.sorted_tokens, *sorted(search_terms.KNOWN_WORDS)]
        nearest = search_terms.closest(term.typed, vocabulary)
        if nearest:
            words.append(nearest)
    suggestion = " ".join(words)
    if not suggestion or suggestion.casefold() == query.q.casefold():
        return ""
    other = replace(query, q=suggestion)
    found, _ = index.matching(other.criteria(other.terms(index)), other.sort)
    return suggestion if found else ""


def similar_cards(shoe: Shoe, limit: int = 4) -> list[Card]:
    """The "no longer sold" page's suggestions: shoes on sale of the same category and department,
    newest first with those in stock before sold-out ones (catalogue_index.related, the product
    page's rule without its same-brand fill: these stand in for the shoe that is gone)."""
    return catalogue_index.related(shoe.shoe_id, shoe.category, shoe.brand, shoe.department, limit, same_brand=False)


def active_shoe_paths() -> list[str]:
    """Every shoe on sale's page, newest first, from the read model (the sitemap's way in: no Scan)."""
    index = catalogue_index.current()
    positions, _ = index.matching(Criteria(), NEWEST)
    return [product_links.product_path(index.card_at(n)) for n in positions]


def brands() -> list[str]:
    """Brand names for the filter form, from the read model (no call while it is fresh)."""
    return catalogue_index.current().brands


def count_all() -> int:
    """How many shoes are on sale (the read model's count: the brand list has loaded it already)."""
    return len(catalogue_index.current())


def stock_in_size(cards: list[Card], size: str) -> dict[str, int]:
    """Units in `size` for each shoe of a page that is made in that size (one BatchGetItem): a shoe
    whose department never comes in it (a kids' shoe, an adult size) is left out, not sold out."""
    found = dict.fromkeys((card.shoe_id for card in cards if sizes.made_for(card.department, size)), 0)
    if not found:
        return {}
    table = Stock.Meta.table_name
    request = {
        table: {
            "Keys": [{"shoe_id": {"S": shoe_id}, "size": {"S": size}} for shoe_id in found],
            "ProjectionExpression": "shoe_id, quantity",
        }
    }
    for item in batch_get_raw(request, attempts=3)[table]:
        found[item["shoe_id"]["S"]] = max(0, int(item["quantity"]["N"]))
    return found


@dataclass(frozen=True)
class SizeOption:
    size: str
    label: str
    quantity: int

    @property
    def available(self) -> bool:
        return self.quantity > 0

    @property
    def only_left(self) -> int | None:
        """ "Only N left" at LOW_STOCK or fewer."""
        return self.quantity if 0 < self.quantity <= LOW_STOCK else None


@dataclass(frozen=True)
class Product:
    shoe: Shoe
    sizes: list[SizeOption]

    @property
    def sold_out(self) -> bool:
        return not any(option.available for option in self.sizes)

    @property
    def sold_out_sizes(self) -> list[tuple[str, str]]:
        """(size, label) of each size offered but sold out: what "Email me when it's back" offers."""
        return [(option.size, option.label) for option in self.sizes if not option.available]

    def option(self, size: str) -> SizeOption | None:
        return next((option for option in self.sizes if option.size == size), None)


class NoLongerSold(NotFound):
    """An archived shoe: shoppers are told so (a 410 page with similar shoes), not "not found"."""

    def __init__(self, shoe: Shoe) -> None:
        super().__init__("That shoe is no longer sold.")
        self.shoe = shoe


def get_product(shoe_id: str) -> Product:
    """GetItem on the shoe and one Query of its stock: two calls. Unknown or a draft: NotFound
    (a draft is not in the shop yet); archived: NoLongerSold."""
    shoe = get_shoe(shoe_id, consistent_read=False)
    if shoe.status == ARCHIVED:
        raise NoLongerSold(shoe)
    if shoe.status != ACTIVE:
        raise NotFound(NO_SUCH_SHOE)
    return product_of(shoe)


def product_of(shoe: Shoe) -> Product:
    """The product page's shoe and sizes, whatever its status (the back office previews drafts)."""
    shoe_id = shoe.shoe_id
    stock = stock_by_size(shoe_id)
    offered = sorted(shoe.sizes or [], key=sizes.sort_key)
    options = [SizeOption(size, sizes.label(size, shoe.department), max(0, stock.get(size, 0))) for size in offered]
    return Product(shoe=shoe, sizes=options)


def resolve_shoe_ref(ref: str) -> str:
    """The id a product URL segment (`<slug>-<id>`, or an old bare id) names: found in the read
    model without a call; a shoe not in it yet (just added) or archived costs one BatchGetItem.
    Unknown: NotFound."""
    candidates = [candidate for candidate in product_links.candidate_ids(ref) if SHOE_ID_RE.match(candidate)]
    index = catalogue_index.current()
    known = next((candidate for candidate in candidates if index.card(candidate) is not None), None)
    if known is not None:
        return known
    if len(candidates) <= 1:
        return candidates[0] if candidates else ref  # get_product reads it (or answers NotFound)
    table = Shoe.Meta.table_name
    request = {
        table: {"Keys": [{"shoe_id": {"S": candidate}} for candidate in candidates], "ProjectionExpression": "shoe_id"}
    }
    stored = {item["shoe_id"]["S"] for item in batch_get_raw(request, attempts=3)[table]}
    found = next((candidate for candidate in candidates if candidate in stored), None)
    if found is None:
        raise NotFound(NO_SUCH_SHOE)
    return found


def product_path_of(shoe_id: str) -> str:
    """A shoe's canonical page when only its id is at hand (the read model names it; a shoe not
    in it yet gets the old path, which redirects)."""
    card = catalogue_index.current().card(shoe_id)
    return product_links.product_path(card) if card is not None else f"/shoes/{shoe_id}"


def check_size(raw: str) -> str:
    """A valid size label or "" (no size); ValidationFailed otherwise."""
    size = (raw or "").strip()
    if size and not sizes.is_valid(size):
        raise ValidationFailed({"size": "Choose your size from the list."}, "Choose your size from the list.")
    return size


def save_preferred_size(user: User, size: str) -> None:
    action = User.preferred_size.set(size) if size else User.preferred_size.remove()
    user.update(actions=[action], condition=User.pk.exists())
