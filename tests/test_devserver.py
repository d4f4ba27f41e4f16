"""The local dev server (devtools/devserver.py) handles one request at a time, for every method."""

import threading
import time
import urllib.request
from collections.abc import Iterator

import pytest
from chalice import Chalice

from devtools.devserver import make_server
from devtools.localenv import free_port

OVERLAPPING = 6


@pytest.fixture
def slow_server() -> Iterator[tuple[str, list[str]]]:
    """The dev server around a test app whose routes take a while and record when they run."""
    app = Chalice(app_name="serial-test")
    events: list[str] = []

    def slow(label: str) -> dict:
        events.append(f"enter {label}")
        time.sleep(0.05)  # long enough for every other request to arrive meanwhile
        events.append(f"exit {label}")
        return {"label": label}

    @app.route("/slow/{label}", methods=["GET", "DELETE"])
    def slow_get(label: str) -> dict:
        return slow(label)

    @app.route("/slow/{label}", methods=["POST", "PUT", "PATCH"], content_types=["application/json"])
    def slow_post(label: str) -> dict:
        return slow(label)

    port = free_port()
    server = make_server(app, "127.0.0.1", port)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}", events
    finally:
        server.shutdown()
        server.server.server_close()
        thread.join(timeout=5)


def _fire_together(requests: list[urllib.request.Request]) -> list[int]:
    statuses: list[int] = [0] * len(requests)
    start = threading.Barrier(len(requests))

    def send(index: int) -> None:
        start.wait()
        with urllib.request.urlopen(requests[index], timeout=10) as response:
            statuses[index] = response.status

    threads = [threading.Thread(target=send, args=(i,)) for i in range(len(requests))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return statuses


def _assert_never_interleaved(events: list[str], count: int) -> None:
    assert len(events) == 2 * count, events
    for enter, leave in zip(events[::2], events[1::2], strict=True):
        assert enter.startswith("enter ") and leave == "exit " + enter.removeprefix("enter "), events


@pytest.mark.parametrize("method", ["GET", "POST", "PUT", "PATCH", "DELETE"])
def test_overlapping_requests_of_one_method_run_one_after_another(slow_server, method):
    base_url, events = slow_server
    body = b"{}" if method in ("POST", "PUT", "PATCH") else None
    requests = [
        urllib.request.Request(
            f"{base_url}/slow/r{i}", data=body, method=method, headers={"Content-Type": "application/json"}
        )
        for i in range(OVERLAPPING)
    ]
    assert _fire_together(requests) == [200] * OVERLAPPING
    _assert_never_interleaved(events, OVERLAPPING)


def test_overlapping_mixed_methods_run_one_after_another(slow_server):
    base_url, events = slow_server
    requests = [
        urllib.request.Request(
            f"{base_url}/slow/m{i}",
            data=b"{}" if i % 2 else None,
            method="POST" if i % 2 else "GET",
            headers={"Content-Type": "application/json"},
        )
        for i in range(OVERLAPPING)
    ]
    assert _fire_together(requests) == [200] * OVERLAPPING
    _assert_never_interleaved(events, OVERLAPPING)


def test_a_waiting_request_goes_before_the_stream_pollers_next_turn():
    """The poller works through a backlog one locked batch after another; with a plain Lock it
    took the lock again the moment it let go, and a page waited behind the whole backlog."""
    from devtools.devserver import RequestLock
    from devtools.streampoller import Poller

    lock = RequestLock()
    order: list[str] = []
    first_batch_started, request_waiting = threading.Event(), threading.Event()

    def handle(event: dict) -> dict:
        order.append("batch")
        first_batch_started.set()
        request_waiting.wait(5)
        time.sleep(0.05)  # the request is blocked on the lock by now
        return {"batchItemFailures": []}

    def request() -> None:
        first_batch_started.wait(5)
        request_waiting.set()
        with lock:
            order.append("request")

    poller = Poller([], handle, lock)
    records = [{"dynamodb": {"SequenceNumber": str(n)}} for n in range(3)]
    waiting = threading.Thread(target=request)
    waiting.start()
    from devtools.streampoller import deliver

    deliver(records, poller._locked_handle, batch_size=1)
    waiting.join(5)
    assert order == ["batch", "request", "batch", "batch"]
