"""Script payloads in what people type come back escaped, on every page that echoes them.

Usernames cannot carry markup at all (validation); the fields that do echo input are the kept
values on failed forms, the `next` target and flash messages. Later areas add product names and
addresses here.
"""

from html.parser import HTMLParser

import pytest

from tests.test_form_fuzzing import PASSWORD

PAYLOADS = [
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "'><svg onload=alert(1)>",
    "javascript:alert(1)//<b>x</b>",
]


class ElementCollector(HTMLParser):
    """Every element a browser would build from the page, with its attribute names."""

    def __init__(self) -> None:
        super().__init__()
        self.elements: list[tuple[str, dict]] = []

        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list) -> None:
        self.elements.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parse(body: bytes) -> ElementCollector:
    parser = ElementCollector()
    parser.feed(body.decode())
    return parser


def assert_inert(body: bytes, payload: str) -> None:
    page = body.decode()
    assert payload not in page, "the payload came back raw"
    for tag, attrs in parse(body).elements:
        assert tag not in ("img", "svg", "b"), f"an injected <{tag}> element is on the page"
        assert not (tag == "script" and "src" not in attrs), "an inline <script> element is on the page"
        handlers = [name for name in attrs if name.startswith("on")]
        assert not handlers, f"<{tag}> carries event handlers {handlers}"


@pytest.mark.parametrize("payload", PAYLOADS)
def test_username_with_markup_cannot_be_registered(web, payload):
    response = web.register(payload, email="x@example.com")
    assert response.status_code == 400
    assert "Use 3 to 30 letters, digits, dots, dashes or underscores." in response.body.decode()
    assert_inert(response.body, payload)
    kept = [attrs.get("value") for tag, attrs in parse(response.body).elements if attrs.get("name") == "username"]
    assert kept == [payload], "what was typed is kept (as text, not markup)"


@pytest.mark.parametrize("payload", PAYLOADS)
def test_email_kept_on_a_failed_registration_is_escaped(web, payload):
    response = web.register("alice", email=payload + "@example.com")
    assert response.status_code == 400
    assert_inert(response.body, payload)


@pytest.mark.parametrize("payload", PAYLOADS)
def test_identifier_kept_on_a_failed_login_is_escaped(web, payload):
    response = web.login(payload, PASSWORD)
    assert response.status_code == 401
    assert_inert(response.body, payload)


@pytest.mark.parametrize("payload", PAYLOADS)
def test_admin_username_kept_on_a_failed_login_is_escaped(web, payload):
    response = web.post_form("/admin", {"username": payload, "password": "x" * 10}, csrf_page="/admin")
    assert response.status_code == 401
    assert_inert(response.body, payload)


@pytest.mark.parametrize("payload", PAYLOADS)
def test_next_target_is_escaped_in_forms_and_links(web, payload):
    from urllib.parse import quote

    for page in ("/login", "/register", "/admin"):
        response = web.get(f"{page}?next=/{quote(payload)}")
        assert response.status_code == 200
        assert_inert(response.body, payload)


def test_flash_messages_are_escaped(web):
    """A flash naming the user (the welcome message) goes through the escaping layout."""
    from chalicelib import tokens
    from chalicelib.web.context import FLASH_COOKIE, FLASH_PURPOSE

    payload = PAYLOADS[1]
    web.cookies[FLASH_COOKIE] = tokens.dumps(FLASH_PURPOSE, [{"kind": "info", "text": payload}])
    response = web.get("/")
    assert payload in "".join(parse(response.body).text), "the flash is shown, as text"
    assert_inert(response.body, payload)


@pytest.mark.parametrize(
    "page", [b"<p><img src=x onerror=alert(1)></p>", b"<script>alert(1)</script>", b"<a onclick=x>"]
)
def test_the_check_catches_live_markup(page):
    with pytest.raises(AssertionError):
        assert_inert(page, "not-in-page")
