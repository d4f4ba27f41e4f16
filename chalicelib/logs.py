"""One JSON object per log line, each carrying the request it belongs to; sensitive fields redacted.

The HTTP middleware binds the request's ids and route for the length of a request (a ContextVar,
so concurrent requests in one process keep theirs); any code, services included, logs through
`log_event` without knowing about Chalice. Outside a request the ids are empty strings.
"""

import json
import logging
from contextvars import ContextVar, Token
from dataclasses import asdict, dataclass
from typing import Any

log = logging.getLogger("shoeshop")

REDACTED = "[redacted]"
# A field whose name contains one of these never has its value logged (nested maps included).
SENSITIVE_NAME_PARTS = (
    "password",
    "passphrase",
    "secret",
    "token",
    "cookie",
    "csrf",
    "authorization",
    "signature",
    "pepper",
    "address",
    "email",
    "phone",
    "card",
)


@dataclass(frozen=True)
class RequestFields:
    """What every line logged during a request carries."""

    # API Gateway's id (access logs, x-amzn-RequestId) and Lambda's (START/END/REPORT lines).
    request_id: str = ""
    lambda_request_id: str = ""
    method: str = ""
    route: str = ""


NO_REQUEST = RequestFields()
_current: ContextVar[RequestFields | None] = ContextVar("shoeshop_log_request", default=None)


def bind_request(fields: RequestFields) -> Token[RequestFields | None]:
    return _current.set(fields)


def unbind_request(token: Token[RequestFields | None]) -> None:
    _current.reset(token)


def current_request() -> RequestFields:
    return _current.get() or NO_REQUEST


def is_sensitive(name: str) -> bool:
    lowered = name.lower()
    return any(part in lowered for part in SENSITIVE_NAME_PARTS)


def redact(value: Any) -> Any:
    """The value with every sensitive-named field (at any depth) replaced by REDACTED."""
    if isinstance(value, dict):
        return {key: REDACTED if is_sensitive(str(key)) else redact(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [redact(item) for item in value]
    return value


def log_event(event: str, level: int = logging.INFO, /, **fields: Any) -> None:
    """Write {"event": ..., request ids, route, **fields} as one JSON line; explicit fields win."""
    if not log.isEnabledFor(level):
        return
    record: dict[str, Any] = {"event": event, **asdict(current_request()), **redact(fields)}
    log.log(level, json.dumps(record, default=str, sort_keys=True))
