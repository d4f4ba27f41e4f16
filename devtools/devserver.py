"""Serve the app with Chalice's local server, one request at a time.

Chalice's `app.current_request` is a single global, and `chalice local` serves on a threaded
server: two overlapping requests could see each other's request, and moto (the local AWS) is not
safe under concurrent transactions either. A threaded server is still needed (browsers hold
keep-alive connections open), so every request is handled under one lock, as one Lambda
environment handles one request at a time. The local stream poller (devtools/streampoller.py)
takes the same lock: it talks to moto as a request does.
"""

import gzip
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit


class RequestLock:
    """One holder at a time, requests first. `with lock:` is a request's turn; `lock.background()`
    (the stream poller) is taken only while no request waits for it. A plain Lock let the poller,
    working through a backlog batch after batch, take it again at once each time it let go: a
    page waited behind the whole backlog (a minute and more after `seed-demo`)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._count_lock = threading.Lock()
        self._waiting = 0
        self._no_request_waiting = threading.Event()
        self._no_request_waiting.set()

    def __enter__(self) -> "RequestLock":
        with self._count_lock:
            self._waiting += 1
            self._no_request_waiting.clear()
        self._lock.acquire()
        with self._count_lock:
            self._waiting -= 1
            if not self._waiting:
                self._no_request_waiting.set()
        return self

    def __exit__(self, *exc: object) -> None:
        self._lock.release()

    def locked(self) -> bool:
        return self._lock.locked()

    @contextmanager
    def background(self) -> Iterator[None]:
        while True:
            self._no_request_waiting.wait()
            self._lock.acquire()
            if self._no_request_waiting.is_set():
                break
            self._lock.release()  # a request came while this turn was being taken: it goes first
        try:
            yield
        finally:
            self._lock.release()


request_lock = RequestLock()
CATCH_ALL = "/{proxy+}"
CHALICE_CONFIG = Path(__file__).resolve().parent.parent / ".chalice" / "config.json"
# API Gateway compresses whatever the client accepts; text is where it pays (images are compressed already).
COMPRESSIBLE_TYPES = frozenset(
    (
        "text/html",
        "text/css",
        "text/plain",
        "application/javascript",
        "application/json",
        "application/xml",
        "image/svg+xml",
    )
)


def minimum_compression_size() -> int:
    """The deployed stages' threshold (bytes), so the local server compresses exactly what they do."""
    return int(json.loads(CHALICE_CONFIG.read_text())["minimum_compression_size"])


def use_catch_all(gateway: Any) -> None:
    """Make a Chalice LocalGateway (chalice local, chalice.test.Client) route every path no other
    route declares to the app's `/{proxy+}` route, with the greedy part as the `proxy` parameter,
    as API Gateway does once deployed (Chalice's own matcher only matches whole `{name}` segments)."""
    from chalice.local import LambdaEventConverter, MatchResult, RouteMatcher

    class CatchAllMatcher(RouteMatcher):
        def __init__(self, route_urls: list[str]) -> None:
            super().__init__([url for url in route_urls if url != CATCH_ALL])
            self.catch_all = CATCH_ALL in route_urls

        def match_route(self, url: str) -> MatchResult:
            try:
                return super().match_route(url)
            except ValueError:
                if not self.catch_all:
                    raise
                parts = urlsplit(url)
                greedy = parts.path.lstrip("/")
                if not greedy:
                    raise
                return MatchResult(CATCH_ALL, {"proxy": greedy}, parse_qs(parts.query, keep_blank_values=True))

    converter = gateway.event_converter
    gateway.event_converter = LambdaEventConverter(
        CatchAllMatcher(list(gateway._app_object.routes)), converter._binary_types
    )


def make_server(app: Any, host: str, port: int) -> Any:
    from chalice.config import Config
    from chalice.local import ChaliceRequestHandler, LocalDevServer

    class SerialRequestHandler(ChaliceRequestHandler):
        def __init__(self, request: Any, client_address: Any, server: Any, app_object: Any, config: Any) -> None:
            from http.server import BaseHTTPRequestHandler

            from chalice.local import LocalGateway

            self.local_gateway = LocalGateway(app_object, config)
            use_catch_all(self.local_gateway)
            BaseHTTPRequestHandler.__init__(self, request, client_address, server)  # handles the request

        def _send_http_response_with_body(self, code: int, headers: Any, body: Any) -> None:
            """gzip, as API Gateway does in deployed stages (minimum_compression_size)."""
            if not isinstance(body, bytes):
                body = body.encode("utf-8")
            content_type = str(headers.get("Content-Type", "application/json")).split(";")[0].strip()
            accepts = "gzip" in self.headers.get("Accept-Encoding", "")
            if accepts and content_type in COMPRESSIBLE_TYPES and len(body) >= threshold:
                body = gzip.compress(body, compresslevel=6)
                headers = {**headers, "Content-Encoding": "gzip", "Vary": "Accept-Encoding"}
            ChaliceRequestHandler._send_http_response_with_body(self, code, headers, body)

        def _serial_handle(self) -> None:
            with request_lock:
                ChaliceRequestHandler._generic_handle(self)

        # ChaliceRequestHandler binds these names to its own _generic_handle in its class body, so
        # overriding _generic_handle alone would never take the lock: rebind every one of them.
        do_GET = do_PUT = do_POST = do_HEAD = do_DELETE = do_PATCH = do_OPTIONS = _serial_handle

        def __getattr__(self, name: str) -> Any:
            # http.server answers any method without a do_<METHOD> (TRACE, QUERY...) with its own
            # 501 page; the app answers them instead (405 in the shop's format), as API Gateway would.
            if name.startswith("do_"):
                return self._serial_handle
            raise AttributeError(name)

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (stdlib's name)
            pass  # the app logs every request as JSON already

    threshold = minimum_compression_size()
    config = Config.create(chalice_stage="dev", app_name="shoeshop", lambda_timeout=25, lambda_memory_size=1024)
    return LocalDevServer(app, config, host, port, handler_cls=SerialRequestHandler)
