"""Changes read from DynamoDB Streams, in one shape for every consumer.

A stream record (as Lambda passes it, `{"Records": [...]}`, or as the local poller reads it from
moto) becomes a `Change`: the table's short name, what happened, and the old and new item as
plain Python values (DynamoDB numbers become int when integral). Consumers are plain functions
`(changes) -> None` registered per table by chalicelib.wiring; `dispatch` hands each consumer the
batch's changes of its table, in stream order. Delivery is at least once (a failed batch is
retried whole), so every consumer must be idempotent.
"""

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

INSERT, MODIFY, REMOVE = "INSERT", "MODIFY", "REMOVE"

Item = dict[str, Any]
Consumer = Callable[[Sequence["Change"]], None]

_consumers: dict[str, list[Consumer]] = {}


@dataclass(frozen=True)
class Change:
    table: str  # short table name, as models.short_table_name gives it ("orders", "stock")
    kind: str  # INSERT, MODIFY or REMOVE
    keys: Item
    old: Item | None  # None on INSERT
    new: Item | None  # None on REMOVE
    sequence: str = ""  # the record's SequenceNumber, increasing per item

    @property
    def image(self) -> Item:
        """The item as it is now, or as it was before it was removed."""
        return self.new if self.new is not None else (self.old or {})


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {key: _plain(inner) for key, inner in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(inner) for inner in value]
    if isinstance(value, set | frozenset):
        return {_plain(inner) for inner in value}
    return value


def _item(image: dict[str, Any] | None) -> Item | None:
    if image is None:
        return None
    from boto3.dynamodb.types import TypeDeserializer  # stream Lambda and poller only, never `import app`

    deserializer = TypeDeserializer()
    return {name: _plain(deserializer.deserialize(value)) for name, value in image.items()}


def table_from_arn(arn: str, table_prefix: str) -> str:
    """`arn:aws:dynamodb:<region>:<account>:table/<prefix><name>/stream/<label>` -> `<name>`."""
    full_name = arn.split(":table/", 1)[-1].split("/stream/", 1)[0]
    return full_name.removeprefix(table_prefix)


def decode(record: dict[str, Any], table_prefix: str) -> Change:
    data = record.get("dynamodb", {})
    return Change(
        table=table_from_arn(record.get("eventSourceARN", ""), table_prefix),
        kind=record.get("eventName", ""),
        keys=_item(data.get("Keys")) or {},
        old=_item(data.get("OldImage")),
        new=_item(data.get("NewImage")),
        sequence=str(data.get("SequenceNumber", "")),
    )


def register(table: str, consumer: Consumer) -> None:
    consumers = _consumers.setdefault(table, [])
    if consumer not in consumers:
        consumers.append(consumer)


def consumers(table: str) -> tuple[Consumer, ...]:
    return tuple(_consumers.get(table, []))


def dispatch(changes: Iterable[Change]) -> None:
    """Give each registered consumer the changes of its table, in stream order."""
    by_table: dict[str, list[Change]] = {}
    for change in changes:
        by_table.setdefault(change.table, []).append(change)
    for table, batch in by_table.items():
        for consumer in consumers(table):
            consumer(batch)
