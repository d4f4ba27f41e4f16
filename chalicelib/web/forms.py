"""Form and query parsing with limits."""

from urllib.parse import parse_qs

from chalicelib.web.errors import HTTPError

MAX_FIELDS = 200
FORM_TYPES = ["application/x-www-form-urlencoded", "multipart/form-data"]


class FormData:
    """First value of each field, as text. Duplicate fields: the first wins."""

    def __init__(self, values: dict[str, list[str]]) -> None:
        self._values = values

    def get(self, name: str, default: str = "") -> str:
        values = self._values.get(name)
        return values[0] if values else default

    def getlist(self, name: str) -> list[str]:
        return list(self._values.get(name, []))

    def __contains__(self, name: str) -> bool:
        return name in self._values

    def keys(self) -> list[str]:
        return list(self._values)


def parse_form_body(raw_body: bytes | None, content_type: str | None) -> FormData:
    if not raw_body:
        return FormData({})
    if content_type and not content_type.lower().startswith("application/x-www-form-urlencoded"):
        raise HTTPError(415, "Send this form as application/x-www-form-urlencoded.")
    try:
        text = raw_body.decode("utf-8")
        values = parse_qs(text, keep_blank_values=True, max_num_fields=MAX_FIELDS, strict_parsing=False)
    except (UnicodeDecodeError, ValueError) as error:
        raise HTTPError(400, "The form could not be read.") from error
    return FormData(values)


def parse_query(query_params: dict | None) -> FormData:
    if not query_params:
        return FormData({})
    return FormData({key: [value] if isinstance(value, str) else list(value) for key, value in query_params.items()})
