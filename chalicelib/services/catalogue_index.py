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
import random
import sys
import threading
import time
import zlib
from array import array
from collections import Counter, OrderedDict, deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from itertools import repeat
from typing import TYPE_CHECKING, Any, NamedTuple, overload

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
# Shard encoding. Format 2 (written since issue 12's cold-load work): b"C2" + zlib of one JSON
# header line and binary columns: ids, names, created times and thumbnail keys as \x1f-joined
# text, brand/colour/department/category/size-list codes as uint16 arrays, prices as int64,
# and one in-stock bitmap per size. A cold Lambda splits each column in one C call instead of
# building a Python object per value, and gets the size facets without looking at a card.
# Format 1 (zlib'd JSON columns, as stored before) still decodes: `_decode_columns` below.


def shard_of(shoe_id: str) -> int:
    return zlib.crc32(shoe_id.encode()) % SHARD_COUNT


def shard_key(number: int) -> str:
    return f"shard#{number:03d}"


FORMAT_2 = b"C2"
_SEPARATOR = "\x1f"
_TEXT_COLUMNS = ("ids", "names", "created", "thumbs")
_CODED_FIELDS = ("brand", "colour", "department", "category")
_created_key = "{}#{}".format  # created_sort = <iso>#<shoe id>
_price_key = "{:010d}#{}".format  # price_sort = <10-digit cents>#<shoe id>


def _little_endian(values: array) -> array:
    if sys.byteorder != "little":  # the stored arrays are little-endian whatever the machine
        values.byteswap()
    return values


@dataclass
class ShardColumns:
    """Cards as columns (one shard's, or the whole model's once concatenated). The few-valued
    fields are codes into a table of their values; `size_bits` is each size's in-stock bitmap."""

    ids: list[str]
    names: list[str]
    prices: list[int]
    created_sorts: list[str]
    price_sorts: list[str]
    thumbs: list[str]
    coded: dict[str, tuple[list[Any], list[int]]]  # field -> (values, a code per card); sizes joined by " "
    size_bits: dict[str, int]

    @classmethod
    def from_cards(cls, cards: Sequence[Card]) -> "ShardColumns":
        coded: dict[str, tuple[list[Any], list[int]]] = {}
        for field_name in _CODED_FIELDS:
            table: dict[Any, int] = {}
            codes = [table.setdefault(getattr(card, field_name), len(table)) for card in cards]
            coded[field_name] = (list(table), codes)
        table = {}
        codes = [table.setdefault(" ".join(card.sizes_in_stock), len(table)) for card in cards]
        coded["sizes_in_stock"] = (list(table), codes)
        size_bits: dict[str, int] = {}
        for slot, card in enumerate(cards):
            for shoe_size in card.sizes_in_stock:
                size_bits[shoe_size] = size_bits.get(shoe_size, 0) | 1 << slot
        return cls(
            ids=[card.shoe_id for card in cards],
            names=[card.name for card in cards],
            prices=[card.price_cents for card in cards],
            created_sorts=[card.created_sort for card in cards],
            price_sorts=[card.price_sort for card in cards],
            thumbs=[card.thumb_key for card in cards],
            coded=coded,
            size_bits=size_bits,
        )

    def values(self, field_name: str) -> Iterable[Any]:
        table, codes = self.coded[field_name]
        return map(table.__getitem__, codes)

    def cards(self) -> list[Card]:
        """The Card tuples, built by one C-level pass over the columns."""
        return list(
            map(
                _new_card,
                zip(
                    self.ids,
                    self.names,
                    *map(self.values, _CODED_FIELDS),
                    self.prices,
                    self.created_sorts,
                    self.price_sorts,
                    self.thumbs,
                    map(_sizes, self.values("sizes_in_stock")),
                    strict=True,
                ),
            )
        )

    def card(self, slot: int) -> Card:
        """One card, built when asked for (a page's worth, not the catalogue's)."""
        coded = self.coded
        brand, colour, department, category, sizes = (
            table[codes[slot]] for table, codes in map(coded.__getitem__, (*_CODED_FIELDS, "sizes_in_stock"))
        )
        return Card(
            self.ids[slot],
            self.names[slot],
            brand,
            colour,
            department,
            category,
            self.prices[slot],
            self.created_sorts[slot],
            self.price_sorts[slot],
            self.thumbs[slot],
            _sizes(sizes),
        )


def _encode(cards: Iterable[Card]) -> bytes:
    """Format 2: see above. Sort keys that follow from the row keep only what does not."""
    ordered = sorted(cards, key=lambda card: card.shoe_id)
    columns = ShardColumns.from_cards(ordered)
    created, exceptions = [], {}
    for position, card in enumerate(ordered):
        suffix = "#" + card.shoe_id
        created.append(card.created_sort.removesuffix(suffix) if card.created_sort.endswith(suffix) else "")
        if not created[-1]:
            exceptions[f"c{position}"] = card.created_sort
        if card.price_sort != _price_key(card.price_cents, card.shoe_id):
            exceptions[f"p{position}"] = card.price_sort
    texts = dict(zip(_TEXT_COLUMNS, (columns.ids, columns.names, created, columns.thumbs), strict=True))
    as_json = [name for name, column in texts.items() if any(_SEPARATOR in value for value in column)]
    sections = [
        (json.dumps(column) if name in as_json else _SEPARATOR.join(column)).encode() for name, column in texts.items()
    ]
    sections += [
        _little_endian(array("H", columns.coded[name][1])).tobytes() for name in (*_CODED_FIELDS, "sizes_in_stock")
    ]
    sections.append(_little_endian(array("q", columns.prices)).tobytes())
    bitmap_bytes = (len(ordered) + 7) // 8
    sections += [bits.to_bytes(bitmap_bytes, "little") for bits in columns.size_bits.values()]
    header = {
        "count": len(ordered),
        "values": {name: columns.coded[name][0] for name in _CODED_FIELDS},
        "size_lists": columns.coded["sizes_in_stock"][0],
        "sizes": list(columns.size_bits),
        "json": as_json,
        "exceptions": exceptions,
        "lengths": [len(section) for section in sections],
    }
    payload = json.dumps(header, separators=(",", ":")).encode() + b"\n" + b"".join(sections)
    return FORMAT_2 + zlib.compress(payload, 9)


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
    """A shard's cards (either format)."""
    return _decode_columns(blob).cards()


def _decode_columns(blob: bytes) -> ShardColumns:
    """A shard as columns: format 2 by C-level splits and array reads, format 1 via its cards."""
    if not blob.startswith(FORMAT_2):
        return ShardColumns.from_cards(_decode_format_1(blob))
    payload = zlib.decompress(memoryview(blob)[len(FORMAT_2) :])
    start = payload.index(b"\n")
    header = json.loads(payload[:start])
    count = header["count"]
    sections, start = [], start + 1
    for length in header["lengths"]:
        sections.append(payload[start : start + length])
        start += length
    texts = {
        name: (json.loads(section) if name in header["json"] else section.decode().split(_SEPARATOR)) if count else []
        for name, section in zip(_TEXT_COLUMNS, sections, strict=False)
    }
    codes = [_little_endian(array("H", section)).tolist() for section in sections[4:9]]
    coded = {
        name: ([_share(value) for value in header["values"][name]], codes[n]) for n, name in enumerate(_CODED_FIELDS)
    }
    coded["sizes_in_stock"] = (header["size_lists"], codes[4])
    ids = texts["ids"]
    prices = _little_endian(array("q", sections[9])).tolist()
    created_sorts = list(map(_created_key, texts["created"], ids))
    price_sorts = list(map(_price_key, prices, ids))
    for key, value in header["exceptions"].items():
        (created_sorts if key[0] == "c" else price_sorts)[int(key[1:])] = value
    return ShardColumns(
        ids=ids,
        names=texts["names"],
        prices=prices,
        created_sorts=created_sorts,
        price_sorts=price_sorts,
        thumbs=texts["thumbs"],
        coded=coded,
        size_bits={
            _share(shoe_size): int.from_bytes(bits, "little")
            for shoe_size, bits in zip(header["sizes"], sections[10:], strict=True)
        },
    )


def _decode_format_1(blob: bytes) -> list[Card]:
    """Format 1, zlib'd JSON columns (shards written before format 2)."""
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


def concatenate(parts: Sequence[ShardColumns]) -> ShardColumns:
    """Shards' columns end to end: lists extended, codes mapped onto one table a field, bitmaps
    shifted to each shard's offset. No Python call per card."""
    whole = ShardColumns([], [], [], [], [], [], {}, {})
    for field_name in (*_CODED_FIELDS, "sizes_in_stock"):
        table: dict[Any, int] = {}
        codes: list[int] = []
        for part in parts:
            values, part_codes = part.coded[field_name]
            remap = [table.setdefault(value, len(table)) for value in values]
            codes.extend(map(remap.__getitem__, part_codes))
        whole.coded[field_name] = (list(table), codes)
    offset = 0
    for part in parts:
        for name in ("ids", "names", "prices", "created_sorts", "price_sorts", "thumbs"):
            getattr(whole, name).extend(getattr(part, name))
        for shoe_size, bits in part.size_bits.items():
            whole.size_bits[shoe_size] = whole.size_bits.get(shoe_size, 0) | bits << offset
        offset += len(part.ids)
    return whole


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


def _bitmaps_by_code(values: list[str], codes: list[int]) -> dict[str, int]:
    """value -> bitmap of the slots holding it, from a column of codes into `values`: one
    bytes.translate a value (at most 256 values; more take the slower way)."""
    if len(values) > 256:
        return _bitmaps_by_value(list(map(values.__getitem__, codes)))
    flags = bytes(codes)[::-1]
    found = {}
    for code, value in enumerate(values):
        digits = bytearray(b"0" * 256)
        digits[code] = ord("1")
        found[value] = int(flags.translate(digits) or b"0", 2)
    return found


def _as_bitmap(posting: Posting, size: int) -> int:
    return posting if isinstance(posting, int) else _bitmap(posting, size)


class _Slots(Sequence[Card | None]):
    """The index's slots as a sequence of cards (None: a free slot), each built when read."""

    def __init__(self, index: "CatalogueIndex") -> None:
        self._index = index

    def __len__(self) -> int:
        return self._index._size

    @overload
    def __getitem__(self, slot: int) -> Card | None: ...
    @overload
    def __getitem__(self, slot: slice) -> list[Card | None]: ...
    def __getitem__(self, slot: int | slice) -> Card | list[Card | None] | None:
        if isinstance(slot, slice):
            return [self._index._slot_card(n) for n in range(self._index._size)[slot]]
        if not -self._index._size <= slot < self._index._size:
            raise IndexError(slot)
        return self._index._slot_card(slot % self._index._size)


class CatalogueIndex:
    """This Lambda's copy: built in one pass from every shard, then updated shard by shard."""

    def __init__(self, cards: Iterable[Card] | ShardColumns = (), version: int = 0) -> None:
        self.version = version
        self.shard_versions: dict[int, int] = {}
        self.shard_ids: dict[int, tuple[str, ...]] = {}
        self._results: OrderedDict[Any, tuple[list[int], list[str]]] = OrderedDict()
        self._build(cards if isinstance(cards, ShardColumns) else ShardColumns.from_cards(list(cards)))

    # -- building ---------------------------------------------------------------------------

    def _build(self, columns: ShardColumns) -> None:
        """From columns, by C-level passes: both sort orders, a bitmap per facet value (sizes come
        as bitmaps already). Cards are built when asked for (`card_at`), from the columns or, for a
        slot changed since, from `_edited`; the search words wait for the first search (`tokens`)."""
        size = len(columns.ids)
        self._columns = columns
        self._size = size
        self._edited: dict[int, Card | None] = {}  # slot -> its card since the build (None: free)
        self.slots: Sequence[Card | None] = _Slots(self)
        self.free: list[int] = []
        self.by_id = dict(zip(columns.ids, range(size), strict=True))
        self._created_by_slot = list(columns.created_sorts)
        self._price_by_slot = list(columns.price_sorts)
        created_keys = columns.created_sorts
        self.created_slots = sorted(range(size), key=created_keys.__getitem__)
        self.created_keys = list(map(created_keys.__getitem__, self.created_slots))
        price_keys = columns.price_sorts
        self.price_slots = sorted(range(size), key=price_keys.__getitem__)
        self.price_keys = list(map(price_keys.__getitem__, self.price_slots))
        self.prices = list(map(columns.prices.__getitem__, self.price_slots))
        self.facets: dict[str, dict[str, int]] = {
            "brand": {},
            "department": {},
            "category": {},
            "size": {shoe_size: bits for shoe_size, bits in columns.size_bits.items() if bits},
        }
        self.brand_counts: Counter[str] = Counter()
        for field_name in ("brand", "department", "category"):
            for text, bitmap in _bitmaps_by_code(*columns.coded[field_name]).items():
                if field_name == "brand":
                    self._or_facet("brand", text.casefold(), bitmap)
                    self.brand_counts[text] += bitmap.bit_count()
                else:
                    self._or_facet(field_name, text, bitmap)
        self._tokens: dict[str, Posting] | None = None
        self._sorted_tokens: list[str] = []
        self._changed()

    @property
    def tokens(self) -> dict[str, Posting]:
        """Search word -> its cards; built on the first search, then kept up to date."""
        if self._tokens is None:
            self._build_tokens()
        assert self._tokens is not None
        return self._tokens

    @property
    def sorted_tokens(self) -> list[str]:
        if self._tokens is None:
            self._build_tokens()
        return self._sorted_tokens

    def _column(self, field_name: str) -> list[Any]:
        """Every slot's value of a card field (None: a free slot), without building the cards."""
        columns = self._columns
        values = list(columns.values(field_name) if field_name in columns.coded else getattr(columns, field_name + "s"))
        values += [None] * (self._size - len(values))
        for slot, card in self._edited.items():
            values[slot] = None if card is None else getattr(card, field_name)
        return values

    def _build_tokens(self) -> None:
        size = self._size
        # Grouped first (one append a card), then per distinct name, brand and colour.
        name_groups: dict[str, list[int]] = {}
        common_groups: dict[str, list[int]] = {}
        for slot, (name, brand, colour) in enumerate(zip(*map(self._column, ("name", "brand", "colour")), strict=True)):
            if name is not None:
                name_groups.setdefault(name, []).append(slot)
                common_groups.setdefault(brand, []).append(slot)
                common_groups.setdefault(colour, []).append(slot)
        word_slots: dict[str, list[int]] = {}
        for text, slots in name_groups.items():
            for word in words(text):
                word_slots.setdefault(word, []).extend(slots)
        dense = max(64, size >> 6)  # a bitmap costs size/8 bytes: only for words on 1 card in 64
        tokens: dict[str, Posting] = {
            word: _bitmap(slots, size) if len(slots) >= dense else set(slots) for word, slots in word_slots.items()
        }
        for text, slots in common_groups.items():  # brand and colour words: always common enough
            bitmap = _bitmap(slots, size)
            for word in words(text):
                tokens[word] = _as_bitmap(tokens.get(word, 0), size) | bitmap
        self._tokens, self._sorted_tokens = tokens, sorted(tokens)

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
        slot = self.free.pop() if self.free else self._size
        if slot == self._size:
            self._size += 1
            self._created_by_slot.append(card.created_sort)
            self._price_by_slot.append(card.price_sort)
        else:
            self._created_by_slot[slot] = card.created_sort
            self._price_by_slot[slot] = card.price_sort
        self._edited[slot] = card
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
        for word in self._card_words(card) if self._tokens is not None else ():
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
        card = self._slot_card(slot)
        assert card is not None
        self._edited[slot] = None
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
        for word in self._card_words(card) if self._tokens is not None else ():
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
        """Every card, in slot order (all built at once, by one C-level pass over the columns)."""
        found: list[Card | None] = [*self._columns.cards(), *[None] * (self._size - len(self._columns.ids))]
        for slot, card in self._edited.items():
            found[slot] = card
        return [card for card in found if card is not None]

    @property
    def brands(self) -> list[str]:
        if self._brands is None:
            self._brands = sorted(self.brand_counts, key=str.casefold)
        return self._brands

    def card(self, shoe_id: str) -> Card | None:
        slot = self.by_id.get(shoe_id)
        return None if slot is None else self._slot_card(slot)

    def card_at(self, slot: int) -> Card:
        card = self._slot_card(slot)
        assert card is not None
        return card

    def shoe_id_at(self, slot: int) -> str:
        card = self._edited.get(slot, self._columns) if self._edited else self._columns
        if isinstance(card, ShardColumns):
            return card.ids[slot]
        assert card is not None
        return card.shoe_id

    def _slot_card(self, slot: int) -> Card | None:
        if slot in self._edited:
            return self._edited[slot]
        return self._columns.card(slot)

    def sort_keys_by_slot(self, sort: str) -> list[str]:
        """Each slot's key in `sort` (a list indexed by slot; a free slot keeps a stale key)."""
        return self._created_by_slot if sort == NEWEST else self._price_by_slot

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
        if ranked:
            result = search_terms.rank(positions, self.card_at, criteria.terms)
        else:
            result = (positions, list(map(self.sort_keys_by_slot(sort).__getitem__, positions)))
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


def _fetch_shards(numbers: Sequence[int], consistent: bool = False) -> dict[int, tuple[int, ShardColumns]]:
    """(version, columns) of each shard asked for and found: BatchGetItem, 100 keys a call."""
    table = CatalogueIndexPart.Meta.table_name
    found: dict[int, tuple[int, ShardColumns]] = {}
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
            found[number] = (int(item["version"]["N"]), _decode_columns(blob) if blob else ShardColumns.from_cards([]))
    return found


def _fetch_newer(numbers: list[int], known: dict[int, int]) -> dict[int, tuple[int, ShardColumns]]:
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
            for number, (version, columns) in fetched.items():
                cached.replace_shard(number, columns.cards(), version)
        cached.version = int(stored.version) if stored is not None else 0
        _Cache.index, _Cache.checked_at = cached, now
        return cached


def _load_whole(previous: CatalogueIndex | None, fetched: dict[int, tuple[int, ShardColumns]]) -> CatalogueIndex:
    """One pass over every shard's columns (cold start, or most shards changed), concatenated
    column by column, with the garbage collector paused: it would otherwise walk the growing heap
    again and again during the decode."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        shards: dict[int, tuple[int, ShardColumns]] = {}
        if previous is not None:
            for number, ids in previous.shard_ids.items():
                cards = [card for card in map(previous.card, ids) if card is not None]
                shards[number] = (previous.shard_versions.get(number, 0), ShardColumns.from_cards(cards))
        shards.update(fetched)
        ordered = sorted(shards.items())
        index = CatalogueIndex(concatenate([columns for _, (_, columns) in ordered]))
        for number, (version, columns) in ordered:
            index.shard_versions[number] = version
            index.shard_ids[number] = tuple(columns.ids)
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
    format_1: bool = False  # stored in the old format: `rebuild` rewrites it


def _read_shard(number: int) -> _Shard:
    try:
        item = CatalogueIndexPart.get(shard_key(number), consistent_read=True)
    except CatalogueIndexPart.DoesNotExist:
        return _Shard(number, 0, {})
    cards = _decode(item.data) if item.data else []
    format_1 = bool(item.data) and not item.data.startswith(FORMAT_2)
    return _Shard(number, int(item.version), {card.shoe_id: card for card in cards}, format_1)


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
        if shard.cards == cards and shard.version and not shard.format_1:
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


def related(
    shoe_id: str, category: str, brand: str, department: str = "", limit: int = 4, same_brand: bool = True
) -> list[Card]:
    """Other shoes of the same type, then (with `same_brand`) of the same brand, for the same
    department (when given), newest first; shoes with some size in stock before sold-out ones.
    The product page's "You may also like"; the "no longer sold" page's similar shoes are the same
    type only (catalogue.similar_cards)."""
    index = current()
    chosen: dict[str, Card] = {}
    rules = [Criteria(category=category, department=department)]
    if same_brand:
        rules.append(Criteria(brand=brand, department=department))
    for criteria in rules:
        positions, _ = index.matching(criteria, NEWEST)
        for slot in positions[: limit * 4]:
            card = index.card_at(slot)
            if card.shoe_id != shoe_id:
                chosen.setdefault(card.shoe_id, card)
    ranked = sorted(chosen.values(), key=lambda card: not card.sizes_in_stock)  # stable: keeps the order
    return ranked[:limit]
