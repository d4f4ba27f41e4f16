"""The stream Lambdas' one handler, and how app.py declares them (docs/operations.md "Streams").

Each streamed table (chalicelib.models.STREAMED_MODELS) has its own Lambda, `<table>_stream` in
app.py, wired to that table's stream: a poison record in one table never holds up another's
consumers, and each function gets a policy for its own consumers only. They all call `handle`,
as does the local poller of `make run` (devtools/streampoller.py) and the tests' `drain_streams`.

`handle` decodes the batch into Changes and dispatches it (chalicelib.streams) with throttling
retried (models.dynamo.retry_busy). If the batch fails, it is applied again record by record up
to the first record that fails, which is logged and reported back as the batch's first failure
(Lambda's ReportBatchItemFailures): Lambda checkpoints everything before it and retries from it;
after the retries it sends that record's position to the dead-letter queue and goes on. Records
after the failure are delivered again, so consumers must be (and are) idempotent.
"""

import logging
import os
from collections.abc import Sequence
from typing import Any

from chalicelib import streams
from chalicelib.config import get_settings
from chalicelib.logs import log_event
from chalicelib.models import dynamo

BATCH_SIZE = 100
# Lambda waits up to this long to fill a batch: a larger batch costs fewer invocations and a
# consumer rewrites the read model once per batch, at the price of this much lag.
BATCH_WINDOW_SECONDS = 1
# The first deploy of a stream function starts at the oldest record still in the stream, so no
# change made between enabling the stream and wiring the function is lost.
STARTING_POSITION = "TRIM_HORIZON"

Failures = dict[str, list[dict[str, str]]]


def function_name(table: str) -> str:
    """`shoes` -> `shoes_stream`: the app.py function, the Lambda's suffix and its config key."""
    return f"{table.replace('-', '_')}_stream"


def arn_variable(table: str) -> str:
    """Where `make deploy` passes a stream's ARN (read from the data stack's outputs) to chalice."""
    return "STREAM_ARN_" + table.replace("-", "_").upper()


def event_source(table: str) -> dict[str, Any]:
    """Keyword arguments for `app.on_dynamodb_record` for `table`'s stream.

    The ARN carries a label DynamoDB picks when the stream is enabled, so it is known only once
    the data stack is deployed: `make deploy` passes it in the environment, the packaged template
    imports the data stack's export instead (infra/merge.json). Anywhere else (Lambda at run time,
    tests, `chalice package`) the name below stands in; it is not a stream, so a `chalice deploy`
    run without the variable fails rather than wiring the function to nothing."""
    settings = get_settings()
    unresolved = (
        f"arn:aws:dynamodb:{settings.region}:000000000000:table/{settings.table_prefix}{table}"
        f"/stream/set-{arn_variable(table)}"
    )
    return {
        "stream_arn": os.environ.get(arn_variable(table), unresolved),
        "batch_size": BATCH_SIZE,
        "starting_position": STARTING_POSITION,
        "name": function_name(table),
        "maximum_batching_window_in_seconds": BATCH_WINDOW_SECONDS,
    }


def handle(event: dict[str, Any]) -> Failures:
    """Apply a batch of stream records ({"Records": [...]}, as Lambda passes them); returns
    {"batchItemFailures": [...]} naming the first record that could not be applied, if any."""
    records = list(event.get("Records", []))
    prefix = get_settings().table_prefix
    changes: list[streams.Change] = []
    for record in records:
        try:
            changes.append(streams.decode(record, prefix))
        except Exception as error:
            _log_failure(record, error)
            return _apply_until_failure(changes) or _failure(record)
    try:
        _apply(changes)
    except Exception:
        return _apply_until_failure(changes) or {"batchItemFailures": []}
    return {"batchItemFailures": []}


def _apply(changes: Sequence[streams.Change]) -> None:
    dynamo.retry_busy(lambda: streams.dispatch(changes))


def _apply_until_failure(changes: Sequence[streams.Change]) -> Failures:
    """One record at a time (a consumer failing on a batch may fail on one record of it only),
    stopping at the first that fails: empty if every record applied."""
    for change in changes:
        try:
            _apply([change])
        except Exception as error:
            log_event(
                "stream_record_failed",
                logging.ERROR,
                table=change.table,
                kind=change.kind,
                keys=change.keys,
                sequence=change.sequence,
                error=repr(error)[:500],
            )
            return {"batchItemFailures": [{"itemIdentifier": change.sequence}]}
    return {}


def _log_failure(record: dict[str, Any], error: Exception) -> None:
    log_event(
        "stream_record_failed",
        logging.ERROR,
        source=str(record.get("eventSourceARN", "")),
        sequence=_sequence(record),
        error=repr(error)[:500],
    )


def _sequence(record: dict[str, Any]) -> str:
    data = record.get("dynamodb")
    return str(data.get("SequenceNumber", "")) if isinstance(data, dict) else ""


def _failure(record: dict[str, Any]) -> Failures:
    return {"batchItemFailures": [{"itemIdentifier": _sequence(record)}]}
