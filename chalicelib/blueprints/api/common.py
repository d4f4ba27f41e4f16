"""Request-body helpers shared by the API modules."""

import json
from typing import Literal, overload

from chalicelib.services.errors import ValidationFailed
from chalicelib.web.context import current
from chalicelib.web.errors import HTTPError

# No API body nests anywhere near this; json.loads recurses per level and raises RecursionError
# (an unhandled 500) at about 1,000, so the depth is counted before parsing.
MAX_JSON_DEPTH = 32
BAD_JSON = "Send a JSON object."


def json_depth_exceeds(raw: bytes, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether unquoted `[`/`{` nesting in `raw` goes deeper than `limit` (one linear scan, no parse)."""
    depth = 0
    in_string = escaped = False
    for byte in raw:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:  # closing quote
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):  # [ {
            depth += 1
            if depth > limit:
                return True
        elif byte in (0x5D, 0x7D):  # ] }
            depth -= 1
    return False


def json_body() -> dict:
    """The request's JSON object ({} when empty); anything else is a 400 in the API's error shape."""
    raw = current().request.raw_body or b""
    if not raw:
        return {}
    if isinstance(raw, str):
        raw = raw.encode("utf-8", "surrogatepass")
    # The body size is already capped by the middleware (max_body_bytes) before any view runs.
    if json_depth_exceeds(raw):
        raise HTTPError(400, f"Send a JSON object nested at most {MAX_JSON_DEPTH} levels deep.", code="BadJSON")
    try:
        body = json.loads(raw)
    except (UnicodeDecodeError, ValueError, RecursionError) as error:
        raise HTTPError(400, BAD_JSON, code="BadJSON") from error
    if not isinstance(body, dict):
        raise HTTPError(400, BAD_JSON, code="BadJSON")
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
