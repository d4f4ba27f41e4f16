"""`drain_streams`: run the stream Lambdas' real handler on the records moto's streams produced.

    def test_a_sold_out_size_leaves_the_filters(drain_streams, ...):
        ...do X (a request, a service call)...
        drain_streams()              # every streamed table's new records -> stream_handler.handle
        ...assert on what the consumers did...

The fixture starts reading at the end of each stream when the test starts (tables already
emptied), so a drain delivers exactly what the test did since, as Lambda would: same record shape
({"Records": [...]}, DynamoDB JSON, eventSourceARN), same batches and retries
(devtools/streampoller.deliver). `drain_streams.read()` returns the next records without handling
them (to replay them, or hand them to `drain_streams.deliver(records, handle)` with a faulty
handler); records set aside after the retries collect in `drain_streams.dead_letters`.
"""

from collections.abc import Iterator
from typing import Any

import pytest

from devtools import streampoller

Record = dict[str, Any]


class StreamDrain:
    def __init__(self, streams: list[streampoller.TableStream]) -> None:
        self.streams = streams
        self.dead_letters: list[Record] = []

    def read(self) -> list[Record]:
        """The records written since the last read, table by table (each table in stream order)."""
        return [record for stream in self.streams for record in stream.read()]

    def deliver(self, records: list[Record], handle: Any = None, batch_size: int = 0) -> list[Record]:
        from chalicelib.stream_handler import handle as stream_handle

        set_aside = streampoller.deliver(records, handle or stream_handle, batch_size)
        self.dead_letters += set_aside
        return set_aside

    def __call__(self) -> list[Record]:
        """Deliver every new record to the real handler; returns what was delivered."""
        records = self.read()
        self.deliver(records)
        return records


@pytest.fixture
def drain_streams(aws_clean: None) -> Iterator[StreamDrain]:
    client = streampoller.streams_client(endpoint_url=streampoller.in_process_endpoint())
    yield StreamDrain(streampoller.table_streams(client))
