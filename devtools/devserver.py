"""Serve the app with Chalice's local server, one request at a time.

Chalice's `app.current_request` is a single global, and `chalice local` serves on a threaded
server: two overlapping requests could see each other's request, and moto (the local AWS) is not
safe under concurrent transactions either. A threaded server is still needed (browsers hold
keep-alive connections open), so every request is handled under one lock, as one Lambda
environment handles one request at a time. The local stream poller (devtools/streampoller.py)
takes the same lock: it talks to moto as a request does.
"""

import threading
from typing import Any

request_lock = threading.Lock()


def make_server(app: Any, host: str, port: int) -> Any:
    from chalice.config import Config
    from chalice.local import ChaliceRequestHandler, LocalDevServer

    class SerialRequestHandler(ChaliceRequestHandler):
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

    config = Config.create(chalice_stage="dev", app_name="shoeshop", lambda_timeout=25, lambda_memory_size=1024)
    return LocalDevServer(app, config, host, port, handler_cls=SerialRequestHandler)
