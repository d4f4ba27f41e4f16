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
