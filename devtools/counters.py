"""Bring the dashboard counters and the orders' index shards up to date from the tables.

For a deployment whose tables predate them (orders without `status_shard`, an empty `counters`
table), or an operator repairing them: `python manage.py backfill-dashboard`. It Scans orders,
stock and shoes with the operator's credentials (the app's role cannot Scan) and hands every item
to the stream consumers as an INSERT Change, which are idempotent: running it twice, or while the
stream handler runs, changes nothing more.
"""

from collections.abc import Iterable, Iterator
from typing import Any

from chalicelib import aws, streams
from chalicelib.models import Order, Shoe, Stock, short_table_name
from chalicelib.models.base import StoreModel
from chalicelib.models.orders import status_shard


def raw_items(model: type[StoreModel]) -> Iterator[dict[str, Any]]:
    request: dict[str, Any] = {"TableName": model.Meta.table_name}
    while True:
        page = aws.dynamodb_client().scan(**request)
        yield from page.get("Items", [])
        if "LastEvaluatedKey" not in page:
            return
        request["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def changes_of(model: type[StoreModel]) -> list[streams.Change]:
    """Every item of the model's table as an INSERT Change (plain values, as streams.decode gives)."""
    from boto3.dynamodb.types import TypeDeserializer

    deserializer = TypeDeserializer()
    keys = [model._hash_key_attribute().attr_name]
    if model._range_key_attribute():
        keys.append(model._range_key_attribute().attr_name)
    found = []
    for raw in raw_items(model):
        item = {name: streams._plain(deserializer.deserialize(value)) for name, value in raw.items()}
        found.append(streams.Change(short_table_name(model), streams.INSERT, {k: item[k] for k in keys}, None, item))
    return found


def replay(models: Iterable[type[StoreModel]] = (Shoe, Stock, Order)) -> int:
    """Hand the tables to the registered consumers; the number of items handed over."""
    count = 0
    for model in models:
        changes = changes_of(model)
        streams.dispatch(changes)
        count += len(changes)
    return count


def shard_orders() -> int:
    """Set `status_shard` where it is missing or stale (conditioned on the status read, and without
    touching `version`, so no open admin page goes stale); the number of orders fixed."""
    fixed = 0
    for raw in raw_items(Order):
        order_id, status = raw["order_id"]["S"], raw["status"]["S"]
        shard = status_shard(order_id, status)
        if raw.get("status_shard", {}).get("S") == shard:
            continue
        try:
            aws.dynamodb_client().update_item(
                TableName=Order.Meta.table_name,
                Key={"order_id": {"S": order_id}},
                UpdateExpression="SET status_shard = :shard",
                ConditionExpression="#s = :status",
                ExpressionAttributeNames={"#s": "status"},
                ExpressionAttributeValues={":shard": {"S": shard}, ":status": {"S": status}},
            )
            fixed += 1
        except aws.dynamodb_client().exceptions.ConditionalCheckFailedException:
            pass  # its status moved on: the move set the shard
    return fixed
