"""The catalogue read model: every active shoe as a card, for the filters and search no key
condition serves. Stored in shards by shoe id, so a change rewrites one small shard; each Lambda
keeps it in memory and fetches only the shards whose version moved (docs/data-model.md).

Writers are the stream consumer `apply_changes` (shoes and stock tables) and the seed/repair
paths `put_cards` and `rebuild`. Every shard write is conditioned on the shard version it read,
and a writer reads the shard before it reads the shoes and stock it derives the cards from: two
writers racing on one shard can never leave the older truth behind, and nothing is ever dropped
(a writer that keeps losing raises, and the stream retries the batch).
"""

import bisect
import functools
import gc
import json
import operator
import random
import threading
import time
import zlib
from collections import Counter, OrderedDict, deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from itertools import repeat
from typing import TYPE_CHECKING, Any, NamedTuple

from pynamodb.expressions.update import Action

from chalicelib import clock
from chalicelib.models import dynamo
from chalicelib.models.base import batch_get_raw, short_table_name
from chalicelib.models.catalogue import ACTIVE, CatalogueIndexPart, Shoe, Stock
from chalicelib.services import search_terms
from chalicelib.services.search_terms import Term

if TYPE_CHECKING:
    from chalicelib.streams import Change

SHARDS_KEY = "shards"
# 128 shards: about 15 KB a shard at 50,000 shoes (docs/benchmarks.md), so an edit writes well
# under 50 KB; a cold Lambda reads them in two BatchGetItems.
SHARD_COUNT = 128
BATCH_GET_KEYS = 100
# How stale another Lambda's copy may be (seconds): the `shards` item is re-read at most this often.
CHECK_SECONDS = 15.0
# A writer that loses this many races on one shard in a row raises: the stream retries the batch.
WRITE_ATTEMPTS = 8
RESULT_CACHE_SIZE = 128
# A catch-up touching more shards than this share rebuilds the in-memory model in one pass.
BULK_SHARE = 0.25

NEWEST = "newest"
PRICE_ASC = "price_asc"
PRICE_DESC = "price_desc"
BEST = "best"  # best match first: only with search terms (search_terms.rank)


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


words = search_terms.words  # search tokens: casefolded runs of letters and digits


@dataclass(frozen=True)
class Criteria:
    """Filters the read model answers; empty values mean "any"."""

    brand: str = ""
    department: str = ""
    category: str = ""
    size: str = ""
    min_price: int | None = None
    max_price: int | None = None
    terms: tuple[Term, ...] = ()


# ---------------------------------------------------------------------------------------------
# Shard encoding: zlib-compressed JSON rows. Sort keys that follow from the row are left out
# (`<iso>#<id>`, `<10-digit cents>#<id>`), sizes are one string; decoding shares equal strings.


def shard_of(shoe_id: str) -> int:
    return zlib.crc32(shoe_id.encode()) % SHARD_COUNT


def shard_key(number: int) -> str:
    return f"shard#{number:03d}"


def _encode(cards: Iterable[Card]) -> bytes:
    """Columns, not rows: repeated values (brands, colours, size lists) once a shard, by number."""
    ordered = sorted(cards, key=lambda card: card.shoe_id)
    values: dict[str, int] = {}
    code = lambda value: values.setdefault(value, len(values))  # noqa: E731 - a local shorthand
    created, price_sorts = [], []
    for card in ordered:
        suffix = "#" + card.shoe_id
        created.append(
            card.created_sort.removesuffix(suffix) if card.created_sort.endswith(suffix) else card.created_sort
        )
        price_sorts.append("" if card.price_sort == f"{card.price_cents:010d}{suffix}" else card.price_sort)
    columns = [
        [card.shoe_id for card in ordered],
        [card.name for card in ordered],
        [code(card.brand) for card in ordered],
        [code(card.colour) for card in ordered],
        [code(card.department) for card in ordered],
        [code(card.category) for card in ordered],
        [card.price_cents for card in ordered],
        created,
        price_sorts,
        [card.thumb_key for card in ordered],
        [code(" ".join(card.sizes_in_stock)) for card in ordered],
    ]
    return zlib.compress(json.dumps([list(values), *columns], separators=(",", ":")).encode(), 9)


# Shared values (brands, colours, size lists...) decode to one object each: less memory, and
# equal tuples compare by identity first.
_shared: dict[Any, Any] = {}


def _share(value: Any) -> Any:
    return _shared.setdefault(value, value)


def _sizes(joined: str) -> tuple[str, ...]:
    found = _shared.get(("sizes", joined))
    if found is None:
        found = _shared.setdefault(("sizes", joined), tuple(_share(size) for size in joined.split()))
    return found


_new_card = functools.partial(tuple.__new__, Card)


def _decode(blob: bytes) -> list[Card]:
    """Built column by column with C-level maps: no Python call per card."""
    table, ids, names, brands, colours, departments, categories, prices, created, price_sorts, thumbs, sizes = (
        json.loads(zlib.decompress(blob))
    )
    shared = [_share(value) for value in table]
    size_lists = [_sizes(value) for value in table]
    value = shared.__getitem__
    created_sorts = [when if "#" in when else f"{when}#{shoe_id}" for when, shoe_id in zip(created, ids, strict=True)]
    price_keys = [
        key or f"{cents:010d}#{shoe_id}" for key, cents, shoe_id in zip(price_sorts, prices, ids, strict=True)
    ]
    return list(
        map(
            _new_card,
            zip(
                ids,
                names,
                map(value, brands),
                map(value, colours),
                map(value, departments),
                map(value, categories),
                prices,
                created_sorts,
                price_keys,
                thumbs,
                map(size_lists.__getitem__, sizes),
                strict=True,
            ),
        )
    )


# ---------------------------------------------------------------------------------------------
# The in-memory model: slots of cards, sort orders kept sorted by bisect, facets as bitmaps
# (a Python int per value, bit n = slot n), search words as bitmaps or sets of slots.

_BIT_DIGITS = bytes.maketrans(b"\x00\x01", b"01")  # one 0/1 byte a slot -> binary digits
_BYTE_BITS = [tuple(bit for bit in range(8) if byte >> bit & 1) for byte in range(256)]


def _bitmap(slots: Iterable[int], size: int) -> int:
    """The bitmap of `slots` (all below `size`), built by C-level passes, not a Python loop."""
    flags = bytearray(size)
    deque(map(flags.__setitem__, slots, repeat(1)), maxlen=0)
    return int(flags[::-1].translate(_BIT_DIGITS) or b"0", 2)


def _slots_of(bitmap: int) -> list[int]:
    """Set bits in increasing order."""
    found: list[int] = []
    data = bitmap.to_bytes((bitmap.bit_length() + 7) // 8, "little")
    for position, byte in enumerate(data):
        if byte:
            base = position * 8
            found.extend(base + bit for bit in _BYTE_BITS[byte])
    return found


Posting = int | set[int]  # a bitmap for a common word, a set of slots for a rare one


def _bitmaps_by_value(column: list[str]) -> dict[str, int]:
    """value -> bitmap of the slots holding it; for columns of few distinct values."""
    found = {}
    for value in set(column):
        flags = bytes(map(value.__eq__, column))  # one 0/1 byte a slot
        found[value] = int(flags[::-1].translate(_BIT_DIGITS) or b"0", 2)
    return found


def _as_bitmap(posting: Posting, size: int) -> int:
    return posting if isinstance(posting, int) else _bitmap(posting, size)


class CatalogueIndex:
    """This Lambda's copy: built in one pass from every shard, then updated shard by shard."""

    def __init__(self, cards: Iterable[Card] = (), version: int = 0) -> None:
        self.version = version
        self.shard_versions: dict[int, int] = {}
        self.shard_ids: dict[int, tuple[str, ...]] = {}
        self._results: OrderedDict[Any, tuple[list[int], list[str]]] = OrderedDict()
        self._build(list(cards))

    # -- building ---------------------------------------------------------------------------

    def _build(self, cards: list[Card]) -> None:
        self.slots: list[Card | None] = list(cards)
        self.free: list[int] = []
        self.by_id = {card.shoe_id: slot for slot, card in enumerate(cards)}
        size = len(cards)
        created_keys = [card.created_sort for card in cards]
        self.created_slots = sorted(range(size), key=created_keys.__getitem__)
        self.created_keys = list(map(created_keys.__getitem__, self.created_slots))
        price_keys = [card.price_sort for card in cards]
        self.price_slots = sorted(range(size), key=price_keys.__getitem__)
        self.price_keys = list(map(price_keys.__getitem__, self.price_slots))
        prices = [card.price_cents for card in cards]
        self.prices = list(map(prices.__getitem__, self.price_slots))
        # One bitmap per value of the few-valued fields, each from a C-level pass over a column.
        self.facets: dict[str, dict[str, int]] = {"brand": {}, "department": {}, "category": {}, "size": {}}
        self.brand_counts: Counter[str] = Counter()
        word_slots: dict[str, list[int]] = {}
        word_bitmaps: dict[str, int] = {}
        for field_name in ("brand", "department", "category", "colour"):
            column: list[str] = list(map(operator.attrgetter(field_name), cards))
            for text, bitmap in _bitmaps_by_value(column).items():
                if field_name == "brand":
                    self._or_facet("brand", text.casefold(), bitmap)
                    self.brand_counts[text] += bitmap.bit_count()
                elif field_name != "colour":
                    self._or_facet(field_name, text, bitmap)
                if field_name in ("brand", "colour"):
                    for word in words(text):
                        word_bitmaps[word] = word_bitmaps.get(word, 0) | bitmap
        # Size lists and names: grouped first (one append a card), then per group.
        size_groups: dict[tuple[str, ...], list[int]] = {}
        name_groups: dict[str, list[int]] = {}
        for slot, card in enumerate(cards):
            size_groups.setdefault(card.sizes_in_stock, []).append(slot)
            name_groups.setdefault(card.name, []).append(slot)
        size_slots: dict[str, list[int]] = {}
        for sizes_in_stock, slots in size_groups.items():
            for shoe_size in sizes_in_stock:
                size_slots.setdefault(shoe_size, []).extend(slots)
        for shoe_size, slots in size_slots.items():
            self._or_facet("size", shoe_size, _bitmap(slots, size))
        for text, slots in name_groups.items():
            for word in words(text):
                word_slots.setdefault(word, []).extend(slots)
        dense = max(64, size >> 6)  # a bitmap costs size/8 bytes: only for words on 1 card in 64
        self.tokens: dict[str, Posting] = {
            word: _bitmap(slots, size) if len(slots) >= dense else set(slots) for word, slots in word_slots.items()
        }
        for word, bitmap in word_bitmaps.items():  # brand and colour words: always common enough
            self.tokens[word] = _as_bitmap(self.tokens.get(word, 0), size) | bitmap
        self.sorted_tokens = sorted(self.tokens)
        self._changed()

    def _or_facet(self, name: str, value: str, bitmap: int) -> None:
        facet = self.facets[name]
        facet[value] = facet.get(value, 0) | bitmap

    def _changed(self) -> None:
        self._results.clear()
        self._newest: list[int] | None = None
        self._ranks: dict[str, list[int]] = {}
        self._brands: list[str] | None = None

    # -- shard by shard ---------------------------------------------------------------------

    def replace_shard(self, number: int, cards: list[Card], version: int) -> None:
        new = {card.shoe_id: card for card in cards}
        for shoe_id in self.shard_ids.get(number, ()):
            if shoe_id not in new:
                self._remove(shoe_id)
        for shoe_id, card in new.items():
            existing = self.card(shoe_id)
            if existing != card:
                if existing is not None:
                    self._remove(shoe_id)
                self._add(card)
        self.shard_ids[number] = tuple(new)
        self.shard_versions[number] = version
        self._changed()

    def _card_words(self, card: Card) -> set[str]:
        return set(words(f"{card.name} {card.brand} {card.colour}"))

    def _facet_values(self, card: Card) -> list[tuple[str, str]]:
        values = [("brand", card.brand.casefold()), ("department", card.department), ("category", card.category)]
        return values + [("size", shoe_size) for shoe_size in card.sizes_in_stock]

    def _add(self, card: Card) -> None:
        slot = self.free.pop() if self.free else len(self.slots)
        if slot == len(self.slots):
            self.slots.append(card)
        else:
            self.slots[slot] = card
        self.by_id[card.shoe_id] = slot
        position = bisect.bisect_left(self.created_keys, card.created_sort)
        self.created_keys.insert(position, card.created_sort)
        self.created_slots.insert(position, slot)
        position = bisect.bisect_left(self.price_keys, card.price_sort)
        self.price_keys.insert(position, card.price_sort)
        self.price_slots.insert(position, slot)
        self.prices.insert(position, card.price_cents)
        bit = 1 << slot
        for name, value in self._facet_values(card):
            facet = self.facets[name]
            facet[value] = facet.get(value, 0) | bit
        for word in self._card_words(card):
            posting = self.tokens.get(word)
            if posting is None:
                self.tokens[word] = {slot}
                bisect.insort(self.sorted_tokens, word)
            elif isinstance(posting, int):
                self.tokens[word] = posting | bit
            else:
                posting.add(slot)
        self.brand_counts[card.brand] += 1

    def _remove(self, shoe_id: str) -> None:
        slot = self.by_id.pop(shoe_id)
        card = self.slots[slot]
        assert card is not None
        self.slots[slot] = None
        self.free.append(slot)
        position = bisect.bisect_left(self.created_keys, card.created_sort)
        del self.created_keys[position], self.created_slots[position]
        position = bisect.bisect_left(self.price_keys, card.price_sort)
        del self.price_keys[position], self.price_slots[position], self.prices[position]
        mask = ~(1 << slot)
        for name, value in self._facet_values(card):
            facet = self.facets[name]
            remaining = facet.get(value, 0) & mask
            if remaining:
                facet[value] = remaining
            else:
                facet.pop(value, None)
        for word in self._card_words(card):
            posting = self.tokens[word]
            if isinstance(posting, int):
                posting &= mask
                self.tokens[word] = posting
            else:
                posting.discard(slot)
            if not posting:
                del self.tokens[word]
                del self.sorted_tokens[bisect.bisect_left(self.sorted_tokens, word)]
        self.brand_counts[card.brand] -= 1
        if not self.brand_counts[card.brand]:
            del self.brand_counts[card.brand]

    # -- reading ----------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self.by_id)

    @property
    def cards(self) -> list[Card]:
        return [card for card in self.slots if card is not None]

    @property
    def brands(self) -> list[str]:
        if self._brands is None:
            self._brands = sorted(self.brand_counts, key=str.casefold)
        return self._brands

    def card(self, shoe_id: str) -> Card | None:
        slot = self.by_id.get(shoe_id)
        return None if slot is None else self.slots[slot]

    def card_at(self, slot: int) -> Card:
        card = self.slots[slot]
        assert card is not None
        return card

    def _order(self, sort: str) -> list[int]:
        if sort == NEWEST:
            if self._newest is None:
                self._newest = self.created_slots[::-1]
            return self._newest
        return self.price_slots if sort == PRICE_ASC else self.price_slots[::-1]

    def _rank(self, sort: str) -> list[int]:
        """Each slot's place in the order (built after a change, when first needed)."""
        key = NEWEST if sort == NEWEST else PRICE_ASC
        ranks = self._ranks.get(key)
        if ranks is None:
            ranks = [0] * len(self.slots)
            for rank, slot in enumerate(self.created_slots if key == NEWEST else self.price_slots):
                ranks[slot] = rank
            self._ranks[key] = ranks
        return ranks

    def _price_slice(self, low: int | None, high: int | None) -> list[int]:
        start = 0 if low is None else bisect.bisect_left(self.prices, low)
        end = len(self.prices) if high is None else bisect.bisect_right(self.prices, high)
        return self.price_slots[start:end]

    def _term_bitmap(self, term: str) -> int:
        """Shoes with a word starting with `term` ("nav" finds Navy)."""
        found = 0
        size = len(self.slots)
        position = bisect.bisect_left(self.sorted_tokens, term)
        while position < len(self.sorted_tokens) and self.sorted_tokens[position].startswith(term):
            found |= _as_bitmap(self.tokens[self.sorted_tokens[position]], size)
            position += 1
        return found

    def _search_bitmap(self, term: Term) -> int:
        """Shoes a search term finds: a word starting with one of its prefixes, or its facets."""
        found = 0
        for prefix in term.prefixes:
            found |= self._term_bitmap(prefix)
        for name, value in term.facets:
            found |= self.facets[name].get(value, 0)
        return found

    def finds(self, term: Term) -> bool:
        """Whether the term matches anything, from the vocabulary alone (no bitmap built)."""
        tokens = self.sorted_tokens
        for prefix in term.prefixes:
            position = bisect.bisect_left(tokens, prefix)
            if position < len(tokens) and tokens[position].startswith(prefix):
                return True
        return any(self.facets[name].get(value) for name, value in term.facets)

    def knows(self, word: str) -> bool:
        return word in self.tokens

    def matching(self, criteria: Criteria, sort: str) -> tuple[list[int], list[str]]:
        """Slots of the matching cards in display order and their sort keys (cached)."""
        cache_key = (criteria, sort)
        cached = self._results.get(cache_key)
        if cached is not None:
            self._results.move_to_end(cache_key)
            return cached
        bitmaps: list[int] = []
        for name in ("brand", "department", "category", "size"):
            value = getattr(criteria, name)
            if value:
                bitmaps.append(self.facets[name].get(value.casefold() if name == "brand" else value, 0))
        bitmaps.extend(self._search_bitmap(term) for term in criteria.terms)
        ranked = sort == BEST
        sort = NEWEST if ranked else sort
        order = self._order(sort)
        if criteria.min_price is not None or criteria.max_price is not None:
            in_range = self._price_slice(criteria.min_price, criteria.max_price)
            if not bitmaps and sort != NEWEST:
                # Price sorts with only a price range: the answer is a slice of the price order.
                order = in_range if sort == PRICE_ASC else in_range[::-1]
            else:
                bitmaps.append(_bitmap(in_range, len(self.slots)))
        if bitmaps:
            chosen = bitmaps[0]
            for bitmap in bitmaps[1:]:
                chosen &= bitmap
            # Few matches: sort them; many: walk the order once. Either stays cheap at 50,000.
            if chosen.bit_count() * 8 < len(order):
                positions = sorted(_slots_of(chosen), key=self._rank(sort).__getitem__, reverse=sort != PRICE_ASC)
            else:
                bits = chosen.to_bytes((len(self.slots) >> 3) + 1, "little")
                positions = [slot for slot in order if bits[slot >> 3] >> (slot & 7) & 1]
        else:
            positions = order
        slots = self.slots
        if ranked:
            result = search_terms.rank(positions, self.card_at, criteria.terms)
        else:
            result = (positions, [slots[slot].sort_key(sort) for slot in positions])  # type: ignore[union-attr]
        self._results[cache_key] = result
        if len(self._results) > RESULT_CACHE_SIZE:
            self._results.popitem(last=False)
        return result


# ---------------------------------------------------------------------------------------------
# Reading: this Lambda's copy, caught up shard by shard.


class _Cache:
    index: CatalogueIndex | None = None
    checked_at: float = 0.0
    lock = threading.Lock()


def forget() -> None:
    """Drop this Lambda's copy (tests, and a cold start)."""
    _Cache.index = None
    _Cache.checked_at = 0.0


def _read_shards_item() -> CatalogueIndexPart | None:
    try:
        return CatalogueIndexPart.get(SHARDS_KEY, consistent_read=True)
    except CatalogueIndexPart.DoesNotExist:
        return None


def _fetch_shards(numbers: Sequence[int], consistent: bool = False) -> dict[int, tuple[int, list[Card]]]:
    """(version, cards) of each shard asked for and found: BatchGetItem, 100 keys a call."""
    table = CatalogueIndexPart.Meta.table_name
    found: dict[int, tuple[int, list[Card]]] = {}
    for start in range(0, len(numbers), BATCH_GET_KEYS):
        keys = [{"part": {"S": shard_key(number)}} for number in numbers[start : start + BATCH_GET_KEYS]]
        request = {
            table: {
                "Keys": keys,
                "ProjectionExpression": "#p, #v, #d",
                "ExpressionAttributeNames": {"#p": "part", "#v": "version", "#d": "data"},
                "ConsistentRead": consistent,
            }
        }
        for item in batch_get_raw(request)[table]:
            number = int(item["part"]["S"].removeprefix("shard#"))
            blob = item.get("data", {}).get("B")
            found[number] = (int(item["version"]["N"]), _decode(blob) if blob else [])
    return found


def _fetch_newer(numbers: list[int], known: dict[int, int]) -> dict[int, tuple[int, list[Card]]]:
    """The shards asked for, newer than this Lambda's copies. Eventually consistent first; a shard
    not visible yet is asked for again strongly consistent, and LookupError if it is truly gone."""
    fetched = _fetch_shards(numbers)
    missing = [number for number in numbers if number not in fetched]
    if missing:
        fetched.update(_fetch_shards(missing, consistent=True))
        lost = [number for number in missing if number not in fetched]
        if lost:
            raise LookupError(f"catalogue read model: shards {lost} are missing (manage.py rebuild-catalogue-index)")
    # An eventually consistent read may answer with an older copy than this Lambda holds.
    return {number: shard for number, shard in fetched.items() if shard[0] > known.get(number, 0)}


def current(force: bool = False) -> CatalogueIndex:
    """This Lambda's copy, re-checked against the stored versions at most every CHECK_SECONDS:
    one GetItem of `shards`, then one BatchGetItem of the shards that changed, if any."""
    with _Cache.lock:
        now = time.monotonic()
        cached = _Cache.index
        if cached is not None and not force and now - _Cache.checked_at < CHECK_SECONDS:
            return cached
        stored = _read_shards_item()
        versions = list(stored.shard_versions or []) if stored is not None else []
        known = cached.shard_versions if cached is not None else {}
        stale = [number for number, version in enumerate(versions) if version and known.get(number) != version]
        fetched = _fetch_newer(stale, known) if stale else {}
        if cached is None or len(stale) > BULK_SHARE * max(1, len(versions)):
            cached = _load_whole(cached, fetched)
        else:
            for number, (version, cards) in fetched.items():
                cached.replace_shard(number, cards, version)
        cached.version = int(stored.version) if stored is not None else 0
        _Cache.index, _Cache.checked_at = cached, now
        return cached


def _load_whole(previous: CatalogueIndex | None, fetched: dict[int, tuple[int, list[Card]]]) -> CatalogueIndex:
    """One pass over every card (cold start, or most shards changed), with the garbage collector
    paused: it would otherwise walk the growing heap again and again during the decode."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        shards: dict[int, tuple[int, list[Card]]] = {}
        if previous is not None:
            for number, ids in previous.shard_ids.items():
                cards = [card for card in map(previous.card, ids) if card is not None]
                shards[number] = (previous.shard_versions.get(number, 0), cards)
        shards.update(fetched)
        index = CatalogueIndex(card for _, cards in shards.values() for card in cards)
        for number, (version, cards) in shards.items():
            index.shard_versions[number] = version
            index.shard_ids[number] = tuple(card.shoe_id for card in cards)
    finally:
        if collecting:
            gc.enable()
    # Long-lived objects: keep later collections from walking them again.
    gc.freeze()
    return index


def _saw_a_write() -> None:
    """This Lambda wrote: its next read re-checks the stored versions (one GetItem)."""
    _Cache.checked_at = 0.0


# ---------------------------------------------------------------------------------------------
# Writing.


class ShardBusy(RuntimeError):
    """A shard kept changing under this writer: raised so the stream retries the batch."""


class _Conflict(Exception):
    pass


@dataclass
class _Shard:
    number: int
    version: int
    cards: dict[str, Card]


def _read_shard(number: int) -> _Shard:
    try:
        item = CatalogueIndexPart.get(shard_key(number), consistent_read=True)
    except CatalogueIndexPart.DoesNotExist:
        return _Shard(number, 0, {})
    cards = _decode(item.data) if item.data else []
    return _Shard(number, int(item.version), {card.shoe_id: card for card in cards})


def _put_shard(shard: _Shard, cards: dict[str, Card]) -> int:
    """Write `cards` as the shard's next version if it is still at the version read; _Conflict if not."""
    from pynamodb.exceptions import PutError

    version = shard.version + 1
    item = CatalogueIndexPart(
        part=shard_key(shard.number),
        version=version,
        data=_encode(cards.values()),
        shoe_count=len(cards),
        built_at=clock.now(),
    )
    condition = (
        CatalogueIndexPart.version == shard.version if shard.version else CatalogueIndexPart.part.does_not_exist()
    )
    try:
        dynamo.retry_busy(lambda: item.save(condition=condition))
    except PutError as error:
        if dynamo.condition_failed(error):
            raise _Conflict() from error
        raise  # still busy after the retries: the caller's batch fails and is retried
    return version


def _publish(number: int, version: int) -> None:
    """Point `shards` at a shard's new version (never back): readers fetch the shard from then on.
    Run after every write and again on a retried batch, so a crash between the two heals."""
    from pynamodb.exceptions import UpdateError

    update = CatalogueIndexPart(part=SHARDS_KEY)
    actions: list[Action] = [
        CatalogueIndexPart.shard_versions[number].set(version),
        CatalogueIndexPart.version.add(1),
        CatalogueIndexPart.built_at.set(clock.now()),
    ]
    for _ in range(2):
        try:
            dynamo.retry_busy(
                lambda: update.update(actions=actions, condition=CatalogueIndexPart.shard_versions[number] < version)
            )
            return
        except UpdateError as error:
            if not dynamo.condition_failed(error):
                raise
        if _read_shards_item() is not None:
            return  # a later version is published already
        _create_shards_item()
    raise AssertionError("unreachable: the item exists after _create_shards_item")


def _publish_if_behind(number: int, version: int) -> None:
    """Nothing to write: a retried batch still publishes what a crashed attempt wrote."""
    if not version:
        return
    stored = _read_shards_item()
    published = list(stored.shard_versions or []) if stored is not None else []
    if number >= len(published) or published[number] < version:
        _publish(number, version)


def _create_shards_item(versions: list[int] | None = None) -> None:
    from pynamodb.exceptions import PutError

    item = CatalogueIndexPart(
        part=SHARDS_KEY, version=0, shard_versions=versions or [0] * SHARD_COUNT, built_at=clock.now()
    )
    try:
        dynamo.retry_busy(lambda: item.save(condition=CatalogueIndexPart.part.does_not_exist()))
    except PutError as error:
        if not dynamo.condition_failed(error):
            raise  # another writer created it first: as good


def _read_cards(shoe_ids: Iterable[str]) -> dict[str, Card | None]:
    """Each shoe's card as the tables say now (None: not active or gone): strongly consistent
    BatchGetItems of the shoes and of their offered sizes' stock."""
    ids = sorted(set(shoe_ids))
    found: dict[str, Card | None] = dict.fromkeys(ids)
    shoes = [shoe for shoe in Shoe.batch_get(ids, consistent_read=True) if shoe.status == ACTIVE]
    keys = [(shoe.shoe_id, size) for shoe in shoes for size in shoe.sizes or []]
    stock: dict[str, dict[str, int]] = {}
    for row in Stock.batch_get(keys, consistent_read=True) if keys else []:
        stock.setdefault(row.shoe_id, {})[row.size] = int(row.quantity)
    for shoe in shoes:
        found[shoe.shoe_id] = card_for(shoe, stock.get(shoe.shoe_id))
    return found


def _write_shard(number: int, change: Callable[[_Shard], dict[str, Card]]) -> None:
    """Read the shard, compute its new cards, write them if they differ; on a lost race read
    again. Then publish the shard's version (also when nothing was written: a retried batch
    finishes what a crashed one began)."""
    for attempt in range(WRITE_ATTEMPTS):
        shard = _read_shard(number)
        cards = change(shard)
        if cards == shard.cards:
            _publish_if_behind(number, shard.version)
            _saw_a_write()
            return
        try:
            version = _put_shard(shard, cards)
            break
        except _Conflict:
            time.sleep(random.uniform(0, 0.01 * 2**attempt))  # noqa: S311 - jitter, not a secret  # nosec B311
    else:
        raise ShardBusy(f"catalogue read model: shard {number} changed {WRITE_ATTEMPTS} times under this writer")
    _publish(number, version)
    _saw_a_write()


def refresh_shoes(shoe_ids: Iterable[str]) -> None:
    """Re-derive these shoes' cards from the tables, shard by shard. The shard is read before the
    tables, and written only if still at that version: the newest truth always wins."""
    by_shard: dict[int, set[str]] = {}
    for shoe_id in shoe_ids:
        by_shard.setdefault(shard_of(shoe_id), set()).add(shoe_id)
    for number, ids in sorted(by_shard.items()):

        def change(shard: _Shard, ids: set[str] = ids) -> dict[str, Card]:
            cards = dict(shard.cards)
            for shoe_id, card in _read_cards(ids).items():
                if card is None:
                    cards.pop(shoe_id, None)
                else:
                    cards[shoe_id] = card
            return cards

        _write_shard(number, change)


def refresh_shoe(shoe_id: str, **_: object) -> None:
    """PRODUCT_CHANGED / STOCK_CHANGED (the in-request path, until streams replace it)."""
    refresh_shoes([shoe_id])


refresh_stock = refresh_shoe


# Card attributes of a shoe item: a change to anything else (description, other images, version)
# leaves the card as it was.
_CARD_ATTRIBUTES = ("status", "name", "brand", "colour", "department", "category", "price_cents")
_CARD_SORT_ATTRIBUTES = ("created_sort", "price_sort", "sizes")


def _card_relevant(image: dict[str, Any] | None) -> tuple[Any, ...] | None:
    if image is None or image.get("status") != ACTIVE:
        return None
    images = image.get("images") or [{}]
    thumb = images[0].get("thumb_key", "") if isinstance(images[0], dict) else ""
    return (*(image.get(name) for name in _CARD_ATTRIBUTES + _CARD_SORT_ATTRIBUTES), thumb)


def _in_stock(image: dict[str, Any] | None) -> bool:
    return image is not None and int(image.get("quantity") or 0) > 0


def apply_changes(changes: "Sequence[Change]") -> None:
    """Stream consumer for the shoes and stock tables. Only changes a card can show are applied
    (a shoe's card attributes; a size going in or out of stock): most orders change neither.
    Each affected shoe is re-read from the tables under the shard's version condition, so a
    batch applied twice, late or out of order leaves the same, newest cards."""
    shoes_table, stock_table = short_table_name(Shoe), short_table_name(Stock)
    affected: dict[str, None] = {}
    for change in changes:
        shoe_id = change.keys.get("shoe_id") or change.image.get("shoe_id")
        if not shoe_id:
            continue
        if change.table == shoes_table:
            relevant = _card_relevant(change.old) != _card_relevant(change.new)
        elif change.table == stock_table:
            relevant = _in_stock(change.old) != _in_stock(change.new)
        else:
            continue
        if relevant:
            affected[str(shoe_id)] = None
    for shoe_id in affected:  # one shoe at a time: a failure names the record it came from
        refresh_shoe(shoe_id)


def put_cards(cards: Iterable[Card]) -> None:
    """Add or replace many cards (bulk seeding): each shard written once, from the cards given,
    without reading the tables back."""
    by_shard: dict[int, dict[str, Card]] = {}
    for card in cards:
        by_shard.setdefault(shard_of(card.shoe_id), {})[card.shoe_id] = card
    for number, new in sorted(by_shard.items()):

        def merged(shard: _Shard, new: dict[str, Card] = new) -> dict[str, Card]:
            return {**shard.cards, **new}

        _write_shard(number, merged)


def rebuild() -> CatalogueIndex:
    """Write every shard from every active shoe and its offered sizes' stock. Seed and repair paths
    only: it Queries the whole `by-newest` partition and batch-reads those stock rows (no Scan: the
    app's role has none). A shard that a stream writer changed meanwhile is re-derived from the
    tables for all its shoes, so no concurrent change is undone."""
    stored = _read_shards_item()
    seen = list(stored.shard_versions or []) if stored is not None else []
    if len(seen) != SHARD_COUNT:
        seen = [0] * SHARD_COUNT
    shoes = list(Shoe.by_newest.query(ACTIVE))
    stock: dict[str, dict[str, int]] = {}
    for row in Stock.batch_get([(shoe.shoe_id, size) for shoe in shoes for size in shoe.sizes or []]):
        stock.setdefault(row.shoe_id, {})[row.size] = int(row.quantity)
    by_shard: dict[int, dict[str, Card]] = {number: {} for number in range(SHARD_COUNT)}
    for shoe in shoes:
        by_shard[shard_of(shoe.shoe_id)][shoe.shoe_id] = card_for(shoe, stock.get(shoe.shoe_id))
    if stored is None or len(stored.shard_versions or []) != SHARD_COUNT:
        _reset_shards_item()
    for number, cards in by_shard.items():
        shard = _read_shard(number)
        if shard.cards == cards and shard.version:
            _publish_if_behind(number, shard.version)
            continue
        if shard.version != seen[number] and shard.version:
            # Written since the tables were read: re-read its shoes instead of the older snapshot.
            refresh_shoes(set(shard.cards) | set(cards))
            continue
        if not cards and not shard.version:
            continue
        try:
            _publish(number, _put_shard(shard, cards))
        except _Conflict:
            refresh_shoes(set(shard.cards) | set(cards))
    _saw_a_write()
    return current(force=True)


def _reset_shards_item() -> None:
    """No `shards` item, or one for another shard count: start one for SHARD_COUNT shards."""
    item = CatalogueIndexPart(part=SHARDS_KEY, version=0, shard_versions=[0] * SHARD_COUNT, built_at=clock.now())
    dynamo.retry_busy(item.save)


# ---------------------------------------------------------------------------------------------
# "You may also like": from this Lambda's copy, no call while it is fresh.


def related(shoe_id: str, category: str, brand: str, department: str = "", limit: int = 4) -> list[Card]:
    """Other shoes of the same type, then of the same brand, for the same department (when
    given), newest first; shoes with some size in stock before sold-out ones."""
    index = current()
    chosen: dict[str, Card] = {}
    for criteria in (Criteria(category=category, department=department), Criteria(brand=brand, department=department)):
        positions, _ = index.matching(criteria, NEWEST)
        for slot in positions[: limit * 4]:
            card = index.card_at(slot)
            if card.shoe_id != shoe_id:
                chosen.setdefault(card.shoe_id, card)
    ranked = sorted(chosen.values(), key=lambda card: not card.sizes_in_stock)  # stable: keeps the order
    return ranked[:limit]
