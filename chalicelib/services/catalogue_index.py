"""The catalogue read model: every active shoe as a card, for the filters and search no key
condition serves; versioned, cached per Lambda, kept fresh from the shoes and stock tables'
streams (apply_changes; docs/data-model.md).
"""

import gc
import json
import re
import time
import zlib
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from pynamodb.expressions.condition import Condition

from chalicelib import clock
from chalicelib.logs import log_event
from chalicelib.models import dynamo
from chalicelib.models.catalogue import ACTIVE, CatalogueIndexPart, Shoe, Stock
from chalicelib.services.shoes import stock_by_size
from chalicelib.streams import Change

META_KEY = "meta"
CHUNK_BYTES = 350_000
# How stale another Lambda's copy may be (seconds): the meta item is re-read at most this often.
CHECK_SECONDS = 15.0
SAVE_ATTEMPTS = 4
RESULT_CACHE_SIZE = 128

NEWEST = "newest"
PRICE_ASC = "price_asc"
PRICE_DESC = "price_desc"


class Card(NamedTuple):
    """What a listing shows of one shoe, plus what filters need (a tuple: the cheapest object to
    build when a Lambda decodes thousands)."""

    shoe_id: str
    name: str
    brand: str
    colour: str
    department: str
    category: str
    price_cents: int
    created_sort: str
    price_sort: str
    thumb_key: str
    sizes_in_stock: tuple[str, ...] = ()

    def sort_key(self, sort: str) -> str:
        return self.created_sort if sort == NEWEST else self.price_sort

    def to_row(self) -> list:
        return [*self[:10], list(self.sizes_in_stock)]

    @classmethod
    def from_row(cls, row: list) -> "Card":
        return cls._make((*row[:10], tuple(row[10])))


def card_for(shoe: Shoe, stock: dict[str, int] | None = None) -> Card:
    stock = stock or {}
    offered = list(shoe.sizes or [])
    in_stock = tuple(size for size in offered if stock.get(size, 0) > 0)
    return Card(
        shoe_id=shoe.shoe_id,
        name=shoe.name,
        brand=shoe.brand,
        colour=shoe.colour,
        department=shoe.department,
        category=shoe.category,
        price_cents=int(shoe.price_cents),
        created_sort=shoe.created_sort,
        price_sort=shoe.price_sort,
        thumb_key=shoe.images[0].thumb_key if shoe.images else "",
        sizes_in_stock=in_stock,
    )


_WORD_RE = re.compile(r"[^\W_]+")


def words(text: str) -> list[str]:
    """Search tokens: casefolded runs of letters and digits."""
    return _WORD_RE.findall(text.casefold())


@dataclass(frozen=True)
class Criteria:
    """Filters the read model answers; empty values mean "any"."""

    brand: str = ""
    department: str = ""
    category: str = ""
    size: str = ""
    min_price: int | None = None
    max_price: int | None = None
    terms: tuple[str, ...] = ()


def _ranks(order: list[int]) -> list[int]:
    ranks = [0] * len(order)
    for rank, n in enumerate(order):
        ranks[n] = rank
    return ranks


@dataclass
class CatalogueIndex:
    version: int
    cards: list[Card]
    chunk_keys: tuple[str, ...] = ()
    previous_chunk_keys: tuple[str, ...] = ()
    _results: OrderedDict = field(default_factory=OrderedDict, repr=False)

    def __post_init__(self) -> None:
        cards = self.cards
        self.by_id = {card.shoe_id: n for n, card in enumerate(cards)}
        self.newest = sorted(range(len(cards)), key=lambda n: cards[n].created_sort, reverse=True)
        self.by_price_order = sorted(range(len(cards)), key=lambda n: cards[n].price_sort)
        self.prices = [cards[n].price_cents for n in self.by_price_order]
        self.newest_rank = _ranks(self.newest)
        self.price_rank = _ranks(self.by_price_order)
        self.facets: dict[str, dict[str, set[int]]] = {"brand": {}, "department": {}, "category": {}, "size": {}}
        self.tokens: dict[str, set[int]] = {}
        for n, card in enumerate(cards):
            self.facets["brand"].setdefault(card.brand.casefold(), set()).add(n)
            self.facets["department"].setdefault(card.department, set()).add(n)
            self.facets["category"].setdefault(card.category, set()).add(n)
            for size in card.sizes_in_stock:
                self.facets["size"].setdefault(size, set()).add(n)
            for word in words(f"{card.name} {card.brand} {card.colour}"):
                self.tokens.setdefault(word, set()).add(n)
        self.sorted_tokens = sorted(self.tokens)
        self.brands = sorted({card.brand for card in cards}, key=str.casefold)

    def __len__(self) -> int:
        return len(self.cards)

    def card(self, shoe_id: str) -> Card | None:
        n = self.by_id.get(shoe_id)
        return None if n is None else self.cards[n]

    def _order(self, sort: str) -> list[int]:
        if sort == NEWEST:
            return self.newest
        return self.by_price_order if sort == PRICE_ASC else self.by_price_order[::-1]

    def _price_set(self, low: int | None, high: int | None) -> list[int]:
        import bisect

        start = 0 if low is None else bisect.bisect_left(self.prices, low)
        end = len(self.prices) if high is None else bisect.bisect_right(self.prices, high)
        return self.by_price_order[start:end]

    def _term_set(self, term: str) -> set[int]:
        """Shoes with a word starting with `term` ("nav" finds Navy)."""
        import bisect

        found: set[int] = set()
        position = bisect.bisect_left(self.sorted_tokens, term)
        while position < len(self.sorted_tokens) and self.sorted_tokens[position].startswith(term):
            found |= self.tokens[self.sorted_tokens[position]]
            position += 1
        return found

    def matching(self, criteria: Criteria, sort: str) -> tuple[list[int], list[str]]:
        """Positions of the matching cards in display order and their sort keys (cached)."""
        cache_key = (criteria, sort)
        cached = self._results.get(cache_key)
        if cached is not None:
            self._results.move_to_end(cache_key)
            return cached
        sets: list[Any] = []
        for name in ("brand", "department", "category", "size"):
            value = getattr(criteria, name)
            if value:
                sets.append(self.facets[name].get(value.casefold() if name == "brand" else value, set()))
        sets.extend(self._term_set(term) for term in criteria.terms)
        priced = criteria.min_price is not None or criteria.max_price is not None
        order = self._order(sort)
        if priced:
            in_range = self._price_set(criteria.min_price, criteria.max_price)
            if not sets and sort != NEWEST:
                # Price sorts with only a price range: the answer is a slice of the price order.
                order, sets = (in_range if sort == PRICE_ASC else in_range[::-1]), []
            else:
                sets.append(set(in_range))
        if sets:
            sets.sort(key=len)
            chosen = set(sets[0]).intersection(*sets[1:]) if len(sets) > 1 else sets[0]
            # Few matches: sort them; many: walk the order once. Either stays cheap at 5,000.
            if len(chosen) * 8 < len(order):
                rank = self.newest_rank if sort == NEWEST else self.price_rank
                positions = sorted(chosen, key=rank.__getitem__, reverse=sort == PRICE_DESC)
            else:
                positions = [n for n in order if n in chosen]
        else:
            positions = order
        result = (positions, [self.cards[n].sort_key(sort) for n in positions])
        self._results[cache_key] = result
        if len(self._results) > RESULT_CACHE_SIZE:
            self._results.popitem(last=False)
        return result


def _chunk_key(version: int, tag: str, number: int) -> str:
    return f"chunk#{version}#{tag}#{number}"


def _encode(cards: Iterable[Card]) -> bytes:
    rows = [card.to_row() for card in cards]
    return zlib.compress(json.dumps(rows, separators=(",", ":")).encode(), 6)


def _decode(blob: bytes) -> list[Card]:
    return [Card.from_row(row) for row in json.loads(zlib.decompress(blob))]


def _read_meta() -> CatalogueIndexPart | None:
    try:
        return CatalogueIndexPart.get(META_KEY, consistent_read=True)
    except CatalogueIndexPart.DoesNotExist:
        return None


def _read_version(meta: CatalogueIndexPart | None) -> CatalogueIndex:
    if meta is None:
        return CatalogueIndex(version=0, cards=[])
    keys = list(meta.chunk_keys or [])
    previous = tuple(meta.previous_chunk_keys or [])
    if not keys:
        return CatalogueIndex(version=int(meta.version), cards=[], previous_chunk_keys=previous)
    parts = {part.part: part.data for part in CatalogueIndexPart.batch_get(keys)}
    if len(parts) != len(keys):
        raise LookupError(f"catalogue index version {meta.version} is missing chunks")
    blob = b"".join(parts[key] for key in keys)
    return CatalogueIndex(
        version=int(meta.version), cards=_decode(blob), chunk_keys=tuple(keys), previous_chunk_keys=previous
    )


class _Cache:
    index: CatalogueIndex | None = None
    checked_at: float = 0.0


def forget() -> None:
    """Drop this Lambda's copy (tests, and after a failed write)."""
    _Cache.index = None
    _Cache.checked_at = 0.0


def current(force: bool = False) -> CatalogueIndex:
    """This Lambda's copy, re-checked against the stored version at most every CHECK_SECONDS."""
    now = time.monotonic()
    cached = _Cache.index
    if cached is not None and not force and now - _Cache.checked_at < CHECK_SECONDS:
        return cached
    meta = _read_meta()
    version = int(meta.version) if meta else 0
    if cached is None or cached.version != version:
        try:
            cached = _read_version(meta)
        except LookupError:
            cached = _read_version(_read_meta())  # a newer version replaced it while we read: read again
    _install(cached, now)
    return cached


def _install(index: CatalogueIndex, checked_at: float) -> None:
    if index is not _Cache.index:
        # Thousands of long-lived objects: keep full collections from walking them again.
        gc.freeze()
    _Cache.index, _Cache.checked_at = index, checked_at


def _save(previous: CatalogueIndex, cards: list[Card]) -> CatalogueIndex:
    """Write `cards` as the version after `previous`; _Conflict if another writer got there first."""
    import secrets

    from pynamodb.exceptions import PutError

    version = previous.version + 1
    tag = secrets.token_hex(4)
    blob = _encode(sorted(cards, key=lambda card: card.shoe_id))
    chunks = [blob[start : start + CHUNK_BYTES] for start in range(0, len(blob), CHUNK_BYTES)]
    keys = [_chunk_key(version, tag, number) for number in range(len(chunks))]
    with CatalogueIndexPart.batch_write() as batch:
        for key, chunk in zip(keys, chunks, strict=True):
            batch.save(CatalogueIndexPart(part=key, version=version, data=chunk))
    meta = CatalogueIndexPart(
        part=META_KEY,
        version=version,
        chunk_keys=keys,
        previous_chunk_keys=list(previous.chunk_keys),
        shoe_count=len(cards),
        built_at=clock.now(),
    )
    condition: Condition
    if previous.version:
        condition = CatalogueIndexPart.version == previous.version
    else:
        condition = CatalogueIndexPart.part.does_not_exist()
    try:
        dynamo.retry_busy(lambda: meta.save(condition=condition))
    except PutError as error:
        _delete_parts(keys)
        if not dynamo.condition_failed(error):
            raise  # still busy after the retries: not another writer, so re-reading would not help
        raise _Conflict() from error
    # Keep the version just replaced for readers that read its meta a moment ago; drop the one before.
    _delete_parts(previous.previous_chunk_keys)
    index = CatalogueIndex(
        version=version, cards=cards, chunk_keys=tuple(keys), previous_chunk_keys=previous.chunk_keys
    )
    _install(index, time.monotonic())
    return index


def _delete_parts(keys: Iterable[str]) -> None:
    with CatalogueIndexPart.batch_write() as batch:
        for key in keys:
            batch.delete(CatalogueIndexPart(part=key))


class _Conflict(Exception):
    pass


def put_cards(cards: Iterable[Card]) -> None:
    """Add or replace many cards in one new version (bulk seeding): it reads the stored model, not
    every shoe and stock row as rebuild() does."""
    _replace_cards({card.shoe_id: card for card in cards})


def _replace_card(shoe_id: str, card: Card | None) -> None:
    """Put (or remove, for None) one card."""
    _replace_cards({shoe_id: card})


def _replace_cards(changes: dict[str, Card | None]) -> None:
    """Put (or remove, for None) cards by shoe id, retrying on a concurrent write."""
    for attempt in range(SAVE_ATTEMPTS):
        index = current(force=True)
        if all(index.card(shoe_id) == card for shoe_id, card in changes.items()):
            return
        cards = [existing for existing in index.cards if existing.shoe_id not in changes]
        cards.extend(card for card in changes.values() if card is not None)
        try:
            _save(index, cards)
            return
        except _Conflict:
            log_event("catalogue_index_conflict", attempt=attempt + 1)
            time.sleep(0.01 * (attempt + 1))
    forget()
    raise RuntimeError("catalogue index: too many concurrent writers")


def apply_changes(changes: Sequence[Change]) -> None:
    """Stream consumer of the shoes and stock tables (chalicelib.wiring): bring the cards of the
    shoes these changes touch up to date. Idempotent, as at-least-once delivery needs: it re-reads
    each shoe and its stock rather than trusting the records. Raises when it cannot write (the
    stream retries the batch), so no change is dropped."""
    shoe_ids = dict.fromkeys(str(change.keys["shoe_id"]) for change in changes if change.table == "shoes")
    stock_ids = dict.fromkeys(str(change.keys["shoe_id"]) for change in changes if change.table == "stock")
    for shoe_id in shoe_ids:
        refresh_shoe(shoe_id)
    for shoe_id in [shoe_id for shoe_id in stock_ids if shoe_id not in shoe_ids]:
        refresh_stock(shoe_id)


def refresh_shoe(shoe_id: str) -> None:
    """A shoe changed: re-read the shoe and its stock; archived or deleted shoes leave."""
    try:
        shoe = Shoe.get(shoe_id)
    except Shoe.DoesNotExist:
        shoe = None
    card = card_for(shoe, stock_by_size(shoe_id)) if shoe is not None and shoe.status == ACTIVE else None
    _replace_card(shoe_id, card)


def refresh_stock(shoe_id: str) -> None:
    """Its stock changed: rewrite only when a size went in or out of stock (most orders change neither)."""
    index = current(force=True)
    card = index.card(shoe_id)
    if card is None:
        return
    in_stock = {size for size, quantity in stock_by_size(shoe_id).items() if quantity > 0}
    if in_stock != set(card.sizes_in_stock):
        refresh_shoe(shoe_id)


def rebuild() -> CatalogueIndex:
    """Store a new version from every active shoe and its offered sizes' stock. Seed and admin
    paths only: it Queries the whole `by-newest` partition and batch-reads the stock rows (no
    Scan: the app's role has no Scan permission)."""
    shoes = list(Shoe.by_newest.query(ACTIVE))
    stock: dict[str, dict[str, int]] = {}
    for row in Stock.batch_get([(shoe.shoe_id, size) for shoe in shoes for size in shoe.sizes or []]):
        stock.setdefault(row.shoe_id, {})[row.size] = int(row.quantity)
    cards = [card_for(shoe, stock.get(shoe.shoe_id)) for shoe in shoes]
    for attempt in range(SAVE_ATTEMPTS):
        meta = _read_meta()
        # Only the stored version and chunk names: a rebuild must work even if chunks were lost.
        stored = CatalogueIndex(
            version=int(meta.version) if meta else 0,
            cards=[],
            chunk_keys=tuple(meta.chunk_keys or []) if meta else (),
            previous_chunk_keys=tuple(meta.previous_chunk_keys or []) if meta else (),
        )
        try:
            return _save(stored, cards)
        except _Conflict:
            time.sleep(0.01 * (attempt + 1))
    raise RuntimeError("catalogue index: too many concurrent writers")
