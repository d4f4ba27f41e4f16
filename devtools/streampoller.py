"""DynamoDB Streams without Lambda: read the local (moto) streams and call the stream Lambdas'
handler with the records Lambda would pass, the way Lambda's event source mapping delivers them.

Used by `make run` (a background thread, `start`) and by the tests' `drain_streams` fixture
(tests/stream_fixtures.py). moto serves describe_stream/get_shard_iterator/get_records; its records
lack `eventSourceARN` (real GetRecords has none either: Lambda adds it), so it is added here.

Delivery follows the packaged event source mapping (infra/merge.json): batches of up to
stream_handler.BATCH_SIZE; a batch that reports a failed record is retried from that record, up to
MAX_RETRIES times, then that record is set aside (logged as `stream_record_set_aside`, kept in
`dead_letters`) and delivery goes on after it.
"""

import logging
import threading
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from typing import Any

from chalicelib.logs import log_event

Record = dict[str, Any]
Handler = Callable[[dict[str, Any]], Any]

# At most this many records per turn of the lock (a backlog after a burst of orders is many turns).
# 5: a new shoe costs the dashboard about 1 s of moto calls on a loaded machine, and a page waits
# for at most one turn.
LOCKED_BATCH_SIZE = 5
POLL_SECONDS = 1.0  # `make run` reads every stream this often: changes show within about a second
MAX_RETRIES = 3  # as STREAM_MAX_RETRIES in infra/build.py


def streams_client(endpoint_url: str | None = None) -> Any:
    """A DynamoDB Streams client. In-process moto (tests) routes only its own endpoint name."""
    import boto3

    from chalicelib.config import get_settings

    return boto3.client("dynamodbstreams", region_name=get_settings().region, endpoint_url=endpoint_url)


def in_process_endpoint() -> str:
    from chalicelib.config import get_settings

    return f"https://streams.dynamodb.{get_settings().region}.amazonaws.com"


class TableStream:
    """One table's stream, read from where it ended when this object was made (Lambda's LATEST).

    Every read starts from a fresh iterator after the last sequence number delivered, never from
    an iterator kept since the previous read: moto replaces a table's stream shard with a copy (same
    shard id) whenever a TransactWriteItems on it fails (it restores a deep copy of the table),
    and a kept iterator went on reading the abandoned copy: nothing the table recorded after the
    first failed transaction reached the poller (a checkout burst's sold-out size stayed listed,
    docs/operations.md "Streams"). DynamoDB's own iterators expire after 15 minutes; sequence
    numbers do not.
    """

    def __init__(self, dynamodb: Any, streams: Any, table_name: str) -> None:
        self.streams = streams
        self.arn = dynamodb.describe_table(TableName=table_name)["Table"]["LatestStreamArn"]
        # shard -> sequence number of the last record read (None: read the shard from its start)
        self.after: dict[str, str | None] = {}
        for shard in self._shards():
            self.after[shard] = None
            for record in self._records(shard):  # up to now, skipped: LATEST
                self.after[shard] = record["dynamodb"]["SequenceNumber"]

    def _shards(self) -> list[str]:
        description = self.streams.describe_stream(StreamArn=self.arn)["StreamDescription"]
        return [shard["ShardId"] for shard in description.get("Shards", [])]

    def _records(self, shard: str) -> Iterator[Record]:
        """The shard's records after `self.after[shard]`, oldest first."""
        after = self.after[shard]
        position = {"ShardIteratorType": "TRIM_HORIZON"}
        if after is not None:
            position = {"ShardIteratorType": "AFTER_SEQUENCE_NUMBER", "SequenceNumber": after}
        iterator = self.streams.get_shard_iterator(StreamArn=self.arn, ShardId=shard, **position)["ShardIterator"]
        while iterator:
            page = self.streams.get_records(ShardIterator=iterator, Limit=1000)
            if not page.get("Records"):
                return
            yield from page["Records"]
            iterator = page.get("NextShardIterator")  # None: a closed shard, read to its end

    def read(self) -> list[Record]:
        """Every record written since the last read, oldest first, in Lambda's record shape."""
        for shard in self._shards():
            self.after.setdefault(shard, None)  # a shard opened since: read it from its start
        records: list[Record] = []
        for shard in list(self.after):
            for record in self._records(shard):
                records.append(self._as_lambda_record(record))
                self.after[shard] = record["dynamodb"]["SequenceNumber"]
        return records

    def _as_lambda_record(self, record: Record) -> Record:
        data = dict(record.get("dynamodb", {}))
        created = data.get("ApproximateCreationDateTime")
        if isinstance(created, datetime):  # boto3 parses it; Lambda passes epoch seconds
            data["ApproximateCreationDateTime"] = created.timestamp()
        return {**record, "dynamodb": data, "eventSourceARN": self.arn}


def _batches(records: list[Record], size: int) -> Iterator[list[Record]]:
    for start in range(0, len(records), size):
        yield records[start : start + size]


def deliver(records: Iterable[Record], handle: Handler, batch_size: int = 0) -> list[Record]:
    """Hand `records` to `handle` as Lambda would; returns the records set aside (dead letters)."""
    from chalicelib.stream_handler import BATCH_SIZE

    pending = list(records)
    set_aside: list[Record] = []
    attempts: dict[str, int] = {}
    while pending:
        batch = pending[: batch_size or BATCH_SIZE]
        failed = _first_failure(handle({"Records": batch}), batch)
        if failed is None:
            pending = pending[len(batch) :]
            continue
        sequence = batch[failed]["dynamodb"]["SequenceNumber"]
        attempts[sequence] = attempts.get(sequence, 0) + 1
        pending = pending[failed:]  # everything before it is checkpointed
        if attempts[sequence] > MAX_RETRIES:
            record = pending.pop(0)
            set_aside.append(record)
            log_event(
                "stream_record_set_aside",
                logging.ERROR,
                source=record.get("eventSourceARN", ""),
                sequence=sequence,
                attempts=attempts[sequence],
            )
    return set_aside


def _first_failure(response: Any, batch: list[Record]) -> int | None:
    failures = (response or {}).get("batchItemFailures") or []
    if not failures:
        return None
    failed = {str(failure.get("itemIdentifier", "")) for failure in failures}
    for position, record in enumerate(batch):
        if str(record.get("dynamodb", {}).get("SequenceNumber", "")) in failed:
            return position
    return 0  # an identifier not in the batch: Lambda retries the whole batch


class Poller:
    """`make run`'s stream delivery: every POLL_SECONDS, each stream's new records go to the
    handler under `lock`, the dev server's one-request-at-a-time lock (moto's transactions are not
    thread-safe, and the handler talks to moto as a request does), a turn of it per
    LOCKED_BATCH_SIZE records, each turn after any request waiting for it."""

    def __init__(self, streams: list[TableStream], handle: Handler, lock: Any) -> None:
        self.streams = streams
        self.handle = handle
        self.lock = lock
        self.dead_letters: list[Record] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="stream-poller", daemon=True)

    def _turn(self) -> Any:
        """The lock for one turn: after any waiting request when the lock knows (devserver.RequestLock)."""
        background = getattr(self.lock, "background", None)
        return background() if background is not None else self.lock

    def poll_once(self) -> int:
        delivered = 0
        for stream in self.streams:
            with self._turn():
                records = stream.read()
            if records:
                # The lock per small batch, not per backlog: requests get their turn between batches.
                self.dead_letters += deliver(records, self._locked_handle, batch_size=LOCKED_BATCH_SIZE)
            delivered += len(records)
        return delivered

    def _locked_handle(self, event: dict[str, Any]) -> Any:
        with self._turn():
            return self.handle(event)

    def _run(self) -> None:
        while not self._stop.wait(POLL_SECONDS):
            try:
                self.poll_once()
            except Exception as error:  # keep polling: a developer sees the error and the shop stays up
                log_event("stream_poll_failed", logging.ERROR, error=repr(error)[:500])

    def start(self) -> "Poller":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)


def table_streams(streams: Any = None) -> list[TableStream]:
    """A TableStream for every streamed table (chalicelib.models.STREAMED_MODELS), from now on."""
    from chalicelib.aws import dynamodb_client
    from chalicelib.models import STREAMED_MODELS

    client = streams or streams_client()
    return [TableStream(dynamodb_client(), client, model.Meta.table_name) for model in STREAMED_MODELS]


def start(lock: Any) -> Poller:
    from chalicelib.stream_handler import handle

    with lock:
        streams = table_streams()
    return Poller(streams, handle, lock).start()
