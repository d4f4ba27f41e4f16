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


END = "end"  # a shard read to its end, in a merged cursor


@dataclass
class _ShardReader:
    hash_value: str
    key: dict | None  # where the next read of this shard starts (None: its start)
    buffer: list[dict] = field(default_factory=list)
    done: bool = False


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
    """One page, newest first (or oldest), of an index partition spread over several hash values (shards):
    each shard is read in small steps and the heads are merged by `sort_name`. The position is per
    shard (the key of the last item taken from it, or END), so a page continues every shard exactly
    where the previous one stopped. Costs about one Query per shard per page."""
    start = start or {}
    connection = model._get_connection()
    step = -(-page_size // len(hash_values)) + 1
    readers = [
        _ShardReader(value, start.get(value) if isinstance(start.get(value), dict) else None)
        for value in hash_values
        if start.get(value) != END
    ]
    read = 0

    def fill(reader: _ShardReader) -> None:
        nonlocal read
        data = connection.query(
            reader.hash_value,
            range_key_condition=range_condition,
            index_name=index.Meta.index_name,
            exclusive_start_key=reader.key,
            scan_index_forward=not newest_first,
            limit=step,
        )
        read += data.get("ScannedCount", 0)
        reader.buffer.extend(data.get("Items", []))
        reader.key = data.get("LastEvaluatedKey")
        reader.done = reader.key is None

    for reader in readers:
        fill(reader)
    taken: dict[str, dict] = {}
    items: list[Any] = []
    while len(items) < page_size:
        heads = [reader for reader in readers if reader.buffer]
        if not heads:
            break
        pick = max if newest_first else min
        newest = pick(heads, key=lambda reader: reader.buffer[0][sort_name]["S"])
        raw = newest.buffer.pop(0)
        items.append(model.from_raw_data(raw))
        taken[newest.hash_value] = {name: raw[name] for name in key_names}
        if not newest.buffer and not newest.done:
            fill(newest)
    if not any(reader.buffer or not reader.done for reader in readers):
        return Page(items, None, read)
    position: dict[str, Any] = dict.fromkeys(hash_values, END)
    for reader in readers:
        if reader.buffer or not reader.done:
            position[reader.hash_value] = taken.get(reader.hash_value, start.get(reader.hash_value))
    return Page(items, position, read)
