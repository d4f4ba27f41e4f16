"""Request-body helpers shared by the API modules."""

import json
from typing import Literal, overload

from chalicelib.services.errors import ValidationFailed
from chalicelib.web.context import current
from chalicelib.web.errors import HTTPError


def json_body() -> dict:
    """The request's JSON object ({} when empty); anything else is a 400 in the API's error shape."""
    raw = current().request.raw_body or b""
    if not raw:
        return {}
    try:
        body = json.loads(raw)
    except (UnicodeDecodeError, ValueError) as error:
        raise HTTPError(400, "Send a JSON object.", code="BadJSON") from error
    if not isinstance(body, dict):
        raise HTTPError(400, "Send a JSON object.", code="BadJSON")
    return body


def text_field(body: dict, name: str, limit: int = 5000) -> str:
    value = body.get(name, "")
    if value is None:
        return ""
    if isinstance(value, int | float) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        raise ValidationFailed({name: "Send text."})
    return value[:limit]


@overload
def int_field(body: dict, name: str, required: Literal[True] = True) -> int: ...
@overload
def int_field(body: dict, name: str, required: bool) -> int | None: ...
def int_field(body: dict, name: str, required: bool = True) -> int | None:
    value = body.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, int) or isinstance(value, bool):
        raise ValidationFailed({name: "Send a whole number."})
    return value


def choice_from_query(name: str, choices: tuple[str, ...], default: str) -> str:
    """A query parameter that must be one of `choices` (empty: the default); anything else is a 400."""
    value = current().query.get(name).strip() or default
    if value not in choices:
        raise HTTPError(400, f"Choose {name} from: {', '.join(choices)}.", "InvalidQuery")
    return value
