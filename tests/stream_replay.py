"""Hand the stream consumers the tables as they are now, as if every item had just been written.

A stand-in for the stream where a test needs the maintained figures but not the stream itself:
each item becomes an INSERT Change (plain values, as streams.decode gives) and goes through
streams.dispatch to whatever chalicelib.wiring registered. The end-to-end test reads moto's stream.
"""

from collections.abc import Iterable

from chalicelib import aws, streams
from chalicelib.models import Order, Shoe, Stock, short_table_name
from chalicelib.models.base import StoreModel


def changes_of(model: type[StoreModel]) -> list[streams.Change]:
    from boto3.dynamodb.types import TypeDeserializer

    deserializer = TypeDeserializer()
    keys = [model._hash_key_attribute().attr_name]
    if model._range_key_attribute():
        keys.append(model._range_key_attribute().attr_name)
    found: list[streams.Change] = []
    request = {"TableName": model.Meta.table_name}
    while True:
        page = aws.dynamodb_client().scan(**request)
        for raw in page.get("Items", []):
            item = {name: streams._plain(deserializer.deserialize(value)) for name, value in raw.items()}
            found.append(
                streams.Change(short_table_name(model), streams.INSERT, {k: item[k] for k in keys}, None, item)
            )
        if "LastEvaluatedKey" not in page:
            return found
        request["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def replay(models: Iterable[type[StoreModel]] = (Shoe, Stock, Order)) -> None:
    for model in models:
        streams.dispatch(changes_of(model))
