"""The stream Lambdas (app.py `<table>_stream` -> chalicelib/stream_handler.handle) on the records
moto's streams produced: changes reach the consumers, a poison record is retried then set aside
without blocking the others, throttling is ridden out, and a crash half-way leaves consumers
consistent once the batch is delivered again."""

import json

import pytest

from chalicelib import stream_handler, streams
from chalicelib.models import STREAMED_MODELS, short_table_name
from chalicelib.services import catalogue_index, products
from devtools import streampoller
from tests.factories import ADMIN, make_shoe, product_input, shoe_via_admin
from tests.fault_injection import THROTTLING, faults, no_backoff, retry_sleeps  # noqa: F401


def _cards() -> dict[str, catalogue_index.Card]:
    index = catalogue_index.current(force=True)
    return {card.shoe_id: card for card in index.cards}


def test_every_streamed_table_has_its_own_stream_function_in_the_app(chalice_app):
    declared = {
        config.name: config
        for config in chalice_app.event_sources
        if config.__class__.__name__ == "DynamoDBEventConfig"
    }
    tables = [short_table_name(model) for model in STREAMED_MODELS]
    assert set(declared) == {stream_handler.function_name(table) for table in tables}
    for table in tables:
        config = declared[stream_handler.function_name(table)]
        assert config.handler_string == f"app.{stream_handler.function_name(table)}"
        assert f"table/shoeshop-test-{table}/stream/" in config.stream_arn
        assert config.starting_position == "TRIM_HORIZON"


def test_the_stream_arn_comes_from_the_environment_make_deploy_sets(monkeypatch):
    arn = "arn:aws:dynamodb:eu-west-1:123456789012:table/shoeshop-dev-shoes/stream/2026-12-01T00:00:00.000"
    monkeypatch.setenv(stream_handler.arn_variable("shoes"), arn)
    assert stream_handler.event_source("shoes")["stream_arn"] == arn
    monkeypatch.delenv(stream_handler.arn_variable("shoes"))
    assert stream_handler.event_source("shoes")["stream_arn"].endswith("/stream/set-STREAM_ARN_SHOES")


def test_the_app_function_applies_a_lambda_event_and_reports_no_failures(chalice_app, drain_streams):
    import app

    shoe = shoe_via_admin({"42": 2})
    records = [record for record in drain_streams.read() if "/shoeshop-test-shoes/" in record["eventSourceARN"]]
    assert records and shoe.shoe_id not in _cards()
    response = app.shoes_stream({"Records": json.loads(json.dumps(records))}, None)
    assert response == {"batchItemFailures": []}
    assert _cards()[shoe.shoe_id].sizes_in_stock == ("42",)


def test_admin_changes_reach_the_read_model_through_the_streams(drain_streams):
    shoe = shoe_via_admin({"42": 2, "43": 1})
    assert shoe.shoe_id not in _cards()  # the request itself refreshes nothing
    drain_streams()
    assert _cards()[shoe.shoe_id].sizes_in_stock == ("42", "43")
    products.update_shoe(shoe.shoe_id, product_input(name="Glide Two"), "1", ADMIN)
    products.set_stock(shoe.shoe_id, "43", 0, None, ADMIN)
    drain_streams()
    card = _cards()[shoe.shoe_id]
    assert (card.name, card.sizes_in_stock) == ("Glide Two", ("42",))
    products.archive_shoe(shoe.shoe_id, ADMIN)
    drain_streams()
    assert shoe.shoe_id not in _cards()
    assert drain_streams.dead_letters == []


def test_a_poison_record_is_retried_then_set_aside_without_blocking_the_others(drain_streams, monkeypatch, caplog):
    good_before, poison, good_after = (make_shoe(name=f"Shoe {n}") for n in range(3))
    real_refresh = catalogue_index.refresh_shoe
    attempts = []

    def refresh(shoe_id: str) -> None:
        if shoe_id == poison.shoe_id:
            attempts.append(shoe_id)
            raise ValueError("cannot apply this record")
        real_refresh(shoe_id)

    monkeypatch.setattr(catalogue_index, "refresh_shoe", refresh)
    drain_streams()
    cards = _cards()
    assert good_before.shoe_id in cards and good_after.shoe_id in cards and poison.shoe_id not in cards
    # The poisoned shoe's own record and its stock row's (a size in stock: the card would change).
    dead = drain_streams.dead_letters
    assert {record["dynamodb"]["Keys"]["shoe_id"]["S"] for record in dead} == {poison.shoe_id}
    assert sorted("/shoeshop-test-shoes/" in record["eventSourceARN"] for record in dead) == [False, True]
    # Each delivery tries the batch, then record by record; the first delivery and MAX_RETRIES more.
    assert len(attempts) == len(dead) * 2 * (1 + streampoller.MAX_RETRIES)
    assert "stream_record_failed" in caplog.text and "stream_record_set_aside" in caplog.text
    assert poison.shoe_id in caplog.text


def test_the_handler_names_the_first_record_it_could_not_apply(drain_streams, monkeypatch):
    shoes = [make_shoe(name=f"Shoe {n}") for n in range(3)]
    records = [r for r in drain_streams.read() if "/shoeshop-test-shoes/" in r["eventSourceARN"]]
    real_refresh = catalogue_index.refresh_shoe

    def refresh(shoe_id: str) -> None:
        if shoe_id == shoes[1].shoe_id:
            raise ValueError("poison")
        real_refresh(shoe_id)

    monkeypatch.setattr(catalogue_index, "refresh_shoe", refresh)
    response = stream_handler.handle({"Records": records})
    assert response == {"batchItemFailures": [{"itemIdentifier": records[1]["dynamodb"]["SequenceNumber"]}]}
    assert shoes[0].shoe_id in _cards()  # applied before the failure: Lambda checkpoints it


def test_a_record_that_does_not_decode_is_reported_and_the_records_before_it_applied(drain_streams):
    shoe = make_shoe()
    (record,) = [r for r in drain_streams.read() if "/shoeshop-test-shoes/" in r["eventSourceARN"]]
    broken = {**record, "dynamodb": {**record["dynamodb"], "NewImage": {"name": {"Q": "no such type"}}}}
    broken["dynamodb"]["SequenceNumber"] = "99"
    response = stream_handler.handle({"Records": [record, broken]})
    assert response == {"batchItemFailures": [{"itemIdentifier": "99"}]}
    assert shoe.shoe_id in _cards()


def test_throttling_during_a_batch_is_retried_inside_it(drain_streams, faults, no_backoff):  # noqa: F811
    shoe = make_shoe(stock={"42": 1})
    records = drain_streams.read()
    # Every botocore attempt of the first GetItem is throttled: the handler's retry rides it out.
    from chalicelib.aws import MAX_ATTEMPTS

    faults.fail("GetItem", THROTTLING, times=MAX_ATTEMPTS)
    assert drain_streams.deliver(records) == []
    assert faults.count("GetItem") > MAX_ATTEMPTS and no_backoff
    assert _cards()[shoe.shoe_id].sizes_in_stock == ("42",)


def test_a_crash_half_way_is_repaired_by_delivering_the_batch_again(drain_streams, monkeypatch):
    shoes = [make_shoe(name=f"Shoe {n}", stock={"42": 1}) for n in range(4)]
    records = drain_streams.read()
    real_refresh = catalogue_index.refresh_shoe
    applied = []

    def crash_after_two(shoe_id: str) -> None:
        if len(applied) == 2:
            raise SystemExit("the Lambda ran out of time")  # not an Exception: nothing catches it
        real_refresh(shoe_id)
        applied.append(shoe_id)

    monkeypatch.setattr(catalogue_index, "refresh_shoe", crash_after_two)
    with pytest.raises(SystemExit):
        stream_handler.handle({"Records": records})
    half = _cards()
    assert len(half) == 2 and all(card.sizes_in_stock == ("42",) for card in half.values())  # a whole version
    monkeypatch.setattr(catalogue_index, "refresh_shoe", real_refresh)
    # Lambda delivers the same batch again (at least once): the result is as if it ran once, twice too.
    for _ in range(2):
        assert stream_handler.handle({"Records": records}) == {"batchItemFailures": []}
        assert sorted(_cards()) == sorted(shoe.shoe_id for shoe in shoes)
    version = catalogue_index.current(force=True).version
    stream_handler.handle({"Records": records})
    assert catalogue_index.current(force=True).version == version  # nothing left to change: no write


def test_only_the_registered_consumers_of_a_table_see_its_changes(drain_streams):
    make_shoe()
    records = drain_streams.read()
    tables = {streams.decode(record, "shoeshop-test-").table for record in records}
    assert tables == {"shoes", "stock"}
    # Which consumers each table has is tests/test_wiring.py's; here: a shoe's records reach only
    # the consumers of its own tables.
    assert catalogue_index.apply_changes in streams.consumers("shoes")
    assert not set(streams.consumers("orders")) & set(streams.consumers("shoes"))


def test_the_local_poller_hands_new_records_to_the_handler_under_the_dev_servers_lock(drain_streams):
    import threading

    lock = threading.Lock()
    seen = []

    def handle(event):
        seen.append((lock.locked(), sorted({r["eventSourceARN"].split("/")[1] for r in event["Records"]})))
        return stream_handler.handle(event)

    client = streampoller.streams_client(endpoint_url=streampoller.in_process_endpoint())
    poller = streampoller.Poller(streampoller.table_streams(client), handle, lock)
    shoe = make_shoe(stock={"42": 1})
    assert poller.poll_once() == 2  # the shoe and its stock row
    assert seen == [(True, ["shoeshop-test-shoes"]), (True, ["shoeshop-test-stock"])]
    assert _cards()[shoe.shoe_id].sizes_in_stock == ("42",)
    assert poller.poll_once() == 0 and len(seen) == 2  # nothing new: the handler is not called


def test_the_local_poller_keeps_reading_a_table_after_a_failed_transaction_on_it(drain_streams):
    """moto rolls a failed TransactWriteItems back by putting a deep copy of the table in its
    place, stream shard included (same shard id). The poller followed the iterator it kept, on the
    abandoned copy: after a checkout burst in which some orders were refused, no later stock
    change reached the read model (a sold-out size was listed for minutes)."""
    import threading

    from botocore.exceptions import ClientError

    from chalicelib.aws import dynamodb_client
    from chalicelib.models import Stock

    client = streampoller.streams_client(endpoint_url=streampoller.in_process_endpoint())
    poller = streampoller.Poller(streampoller.table_streams(client), stream_handler.handle, threading.Lock())
    shoe = make_shoe(stock={"42": 1})
    assert poller.poll_once() == 2
    refused = {  # as a checkout for more pairs than are left: the transaction is cancelled
        "Update": {
            "TableName": Stock.Meta.table_name,
            "Key": {"shoe_id": {"S": shoe.shoe_id}, "size": {"S": "42"}},
            "UpdateExpression": "ADD quantity :minus",
            "ConditionExpression": "quantity >= :wanted",
            "ExpressionAttributeValues": {":minus": {"N": "-2"}, ":wanted": {"N": "2"}},
        }
    }
    with pytest.raises(ClientError, match="TransactionCanceled"):
        dynamodb_client().transact_write_items(TransactItems=[refused])
    Stock.get(shoe.shoe_id, "42").update(actions=[Stock.quantity.set(0)])  # the last pair sells
    assert poller.poll_once() == 1
    assert _cards()[shoe.shoe_id].sizes_in_stock == ()
    assert poller.poll_once() == 0
