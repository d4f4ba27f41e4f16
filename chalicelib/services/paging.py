"""One page of a GSI Query for back-office lists; `max_read` makes a rare search term come back
short with a cursor instead of walking the index.
"""

from dataclasses import dataclass, field
from typing import Any

from pynamodb.expressions.condition import Condition

from chalicelib.models.base import StoreModel


@dataclass
class Page:
    items: list[Any]
    next_key: dict | None  # DynamoDB's LastEvaluatedKey to continue from, or None at the end
    items_read: int = 0
    extra: dict = field(default_factory=dict)


def query_page(
    model: type[StoreModel],
    index: Any,
    hash_value: str,
    key_names: tuple[str, ...],
    page_size: int,
    start_key: dict | None = None,
    filter_condition: Condition | None = None,
    max_read: int = 500,
    newest_first: bool = True,
    range_condition: Condition | None = None,
) -> Page:
    connection = model._get_connection()
    items: list[Any] = []
    read = 0
    key = start_key
    while True:
        remaining = page_size - len(items)
        # Without a filter every item read is returned; with one, read in larger steps.
        limit = remaining if filter_condition is None else min(100, max_read - read)
        data = connection.query(
            hash_value,
            range_key_condition=range_condition,
            filter_condition=filter_condition,
            index_name=index.Meta.index_name,
            exclusive_start_key=key,
            scan_index_forward=not newest_first,
            limit=max(1, limit),
        )
        read += data.get("ScannedCount", 0)
        raw_items = data.get("Items", [])
        key = data.get("LastEvaluatedKey")
        for position, raw in enumerate(raw_items):
            items.append(model.from_raw_data(raw))
            if len(items) == page_size:
                more = position < len(raw_items) - 1 or key is not None
                next_key = {name: raw[name] for name in key_names} if more else None
                return Page(items, next_key, read)
        if key is None or read >= max_read:
            return Page(items, key, read)


END = "end"  # a source read to its end, in a merged cursor


@dataclass(frozen=True)
class Source:
    """One index partition taking part in a merged read: `name` is its entry in the cursor."""

    name: str
    index: Any
    hash_value: str
    sort_name: str  # the index's sort attribute (a string), the merge order
    key_names: tuple[str, ...]  # the table and index keys that make its LastEvaluatedKey
    range_condition: Condition | None = None


@dataclass
class _Reader:
    source: Source
    key: dict | None  # where the next read of this source starts (None: its start)
    buffer: list[dict] = field(default_factory=list)
    done: bool = False


def merged_read(
    model: type[StoreModel],
    sources: tuple[Source, ...],
    page_size: int,
    start: dict | None = None,
    step: int | None = None,
    newest_first: bool = True,
    unique_by: str | None = None,
) -> Page:
    """One page of several index partitions merged by their sort values (descending when
    `newest_first`, else ascending): each source is read `step` items at a time (default
    `page_size`) and its head taken in turn. The position is per source (the key of the last item
    taken from it, or END), so a page continues every source exactly where the previous one
    stopped. With `unique_by` (a string attribute), an item already on the page from another
    source is passed over. Costs about one Query per source per page."""
    start = start or {}
    connection = model._get_connection()
    readers = []
    for source in sources:
        at = start.get(source.name)
        if at != END:
            readers.append(_Reader(source, at if isinstance(at, dict) and at else None))
    read = 0

    def fill(reader: _Reader) -> None:
        nonlocal read
        data = connection.query(
            reader.source.hash_value,
            range_key_condition=reader.source.range_condition,
            index_name=reader.source.index.Meta.index_name,
            exclusive_start_key=reader.key,
            scan_index_forward=not newest_first,
            limit=step or page_size,
        )
        read += data.get("ScannedCount", 0)
        reader.buffer.extend(data.get("Items", []))
        reader.key = data.get("LastEvaluatedKey")
        reader.done = reader.key is None

    def head(reader: _Reader) -> str:
        return str(reader.buffer[0][reader.source.sort_name]["S"])

    for reader in readers:
        fill(reader)
    pick = max if newest_first else min
    taken: dict[str, dict] = {}
    seen: set[str] = set()
    items: list[Any] = []
    while len(items) < page_size:
        heads = [reader for reader in readers if reader.buffer]
        if not heads:
            break
        first = pick(heads, key=head)
        raw = first.buffer.pop(0)
        taken[first.source.name] = {name: raw[name] for name in first.source.key_names}
        identity = raw[unique_by]["S"] if unique_by else None
        if identity is None or identity not in seen:
            if identity is not None:
                seen.add(identity)
            items.append(model.from_raw_data(raw))
        if not first.buffer and not first.done:
            fill(first)
    if not any(reader.buffer or not reader.done for reader in readers):
        return Page(items, None, read)
    position: dict[str, Any] = {source.name: END for source in sources}
    for reader in readers:
        if reader.buffer or not reader.done:
            name = reader.source.name
            position[name] = taken.get(name, start.get(name))
    return Page(items, position, read)


def merged_query_page(
    model: type[StoreModel],
    index: Any,
    hash_values: tuple[str, ...],
    sort_name: str,
    key_names: tuple[str, ...],
    page_size: int,
    start: dict | None = None,
    range_condition: Condition | None = None,
    newest_first: bool = True,
) -> Page:
    """One page, newest first (or oldest first), of an index partition spread over several hash
    values (shards), merged by `sort_name` (merged_read, the cursor keyed by hash value), each shard
    read in small steps. Costs about one Query per shard per page."""
    sources = tuple(Source(value, index, value, sort_name, key_names, range_condition) for value in hash_values)
    step = -(-page_size // len(hash_values)) + 1
    return merged_read(model, sources, page_size, start, step=step, newest_first=newest_first)
