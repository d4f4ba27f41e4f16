"""Stream records become Changes with plain values, and each consumer gets its table's batch."""

from chalicelib import streams

PREFIX = "shoeshop-test-"
ARN = "arn:aws:dynamodb:us-east-1:123456789012:table/shoeshop-test-stock/stream/2026-12-01T00:00:00.000"


def _record(kind: str, old: dict | None, new: dict | None) -> dict:
    data: dict = {"Keys": {"shoe_id": {"S": "s1"}, "size": {"S": "42"}}, "SequenceNumber": "7"}
    if old is not None:
        data["OldImage"] = old
    if new is not None:
        data["NewImage"] = new
    return {"eventName": kind, "eventSourceARN": ARN, "dynamodb": data}


def test_a_record_decodes_to_plain_python_values():
    change = streams.decode(
        _record(
            streams.MODIFY,
            {"shoe_id": {"S": "s1"}, "quantity": {"N": "1"}},
            {"shoe_id": {"S": "s1"}, "quantity": {"N": "0"}, "price": {"N": "1.5"}, "tags": {"SS": ["a"]}},
        ),
        PREFIX,
    )
    assert change.table == "stock"
    assert change.kind == streams.MODIFY
    assert change.keys == {"shoe_id": "s1", "size": "42"}
    assert change.old == {"shoe_id": "s1", "quantity": 1}
    assert change.new == {"shoe_id": "s1", "quantity": 0, "price": 1.5, "tags": {"a"}}
    assert isinstance(change.new["quantity"], int)
    assert change.sequence == "7"


def test_a_removed_item_is_seen_through_its_old_image():
    change = streams.decode(_record(streams.REMOVE, {"shoe_id": {"S": "s1"}}, None), PREFIX)
    assert change.new is None
    assert change.image == {"shoe_id": "s1"}


def test_dispatch_hands_each_consumer_its_tables_changes_in_order():
    seen: list[tuple[str, list[str]]] = []

    def on_stock(batch):
        seen.append(("stock", [change.sequence for change in batch]))

    def on_orders(batch):
        seen.append(("orders", [change.sequence for change in batch]))

    wired = {table: list(consumers) for table, consumers in streams._consumers.items()}
    streams._consumers.clear()  # only this test's consumers; the app's come back afterwards
    streams.register("stock", on_stock)
    streams.register("stock", on_stock)  # twice: still once
    streams.register("orders", on_orders)
    try:
        changes = [
            streams.Change("stock", streams.INSERT, {}, None, {}, "1"),
            streams.Change("orders", streams.INSERT, {}, None, {}, "2"),
            streams.Change("stock", streams.MODIFY, {}, {}, {}, "3"),
        ]
        streams.dispatch(changes)
    finally:
        streams._consumers.clear()
        streams._consumers.update(wired)
    assert seen == [("stock", ["1", "3"]), ("orders", ["2"])]
