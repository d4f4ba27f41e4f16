"""schemathesis against the running local stack: no server errors, responses match the document.

Every operation in the OpenAPI document is called with generated data, and each response is
checked: never a 5xx, status codes, content types and bodies as documented. The schema is the one
the app serves (the same builder); the stack serves the requests.

The cart and order operations run as a logged-in shopper and the admin operations as the stack's
admin (session cookie and CSRF header), so the generated requests reach the handlers; without
them the documented 401/403 answers are checked too. The journey at the end walks each success
path with real ids and validates every answer against the document.
"""

import re
import time
import uuid
from collections.abc import Iterator

import pytest
import requests
import schemathesis
from schemathesis.checks import ignored_auth, positive_data_acceptance

from infra import openapi
from tests.admin_fixtures import image_bytes

MAX_EXAMPLES = 25
CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')
SHOPPER_PASSWORD = "a long shopper passphrase"  # local moto stack only
# Checks a schema cannot pass for this API: cursors are opaque signed tokens, prices must be
# ordered, shoes and sizes must exist and be in stock; so some schema-valid requests are rightly
# refused with the documented 400/404/409/422.
EXCLUDED_CHECKS = [positive_data_acceptance]

schema = schemathesis.openapi.from_dict(openapi.document())
schema.config.generation.update(max_examples=MAX_EXAMPLES)

# Sessions on the stack, filled in by the fixtures below. schemathesis puts them on the generated
# cases of their paths (and, knowing they are the auth, also checks those cases are refused
# without them). Admin fuzzing never creates shoes: POST /admin/shoes runs anonymously, so the
# demo catalogue stays as the browser journeys expect; every other admin call names ids that do
# not exist, so it can only be refused.
SHOPPER_AUTH: dict[str, str] = {}
ADMIN_AUTH: dict[str, str] = {}

STREAM_LAG_SECONDS = 10.0  # the local poller's lag, with room (tests/browser/steps.py)


class _StackSession:
    credentials: dict[str, str]

    def get(self, case, context):
        return dict(self.credentials) or None

    def set(self, case, data, context):
        case.cookies = {**(case.cookies or {}), "sid": data["sid"]}
        case.headers = {**(case.headers or {}), "X-CSRF-Token": data["csrf"]}


@schema.auth(refresh_interval=None).apply_to(path_regex=r"^/api/v1/(cart|orders)")
class ShopperSession(_StackSession):
    credentials = SHOPPER_AUTH


@(
    schema.auth(refresh_interval=None)
    .apply_to(path_regex=r"^/api/v1/admin/")
    .skip_for(path="/api/v1/admin/shoes", method="POST")
)
class AdminSession(_StackSession):
    credentials = ADMIN_AUTH


def _csrf(session: requests.Session, url: str) -> str:
    page = session.get(url, timeout=10)
    match = CSRF_RE.search(page.text)
    assert match, f"no CSRF token on {url}"
    return match.group(1)


def _form(session: requests.Session, url: str, page: str, data: dict) -> requests.Response:
    data = {**data, "csrf_token": _csrf(session, page)}
    return session.post(url, data=data, allow_redirects=False, timeout=30)


class Client:
    """A logged-in session on the stack with its CSRF header."""

    def __init__(self, stack, session: requests.Session) -> None:
        self.stack = stack
        self.session = session
        self.headers = {"X-CSRF-Token": _csrf(session, stack.url("/"))}

    def call(self, path: str, method: str, expected: int, **parts) -> dict:
        """Call a documented operation and validate the answer against the document."""
        operation = schema[path][method]
        headers = {**self.headers, **parts.pop("headers", {})}
        case = operation.Case(headers=headers, **parts)
        # Auth enforcement is the fuzzing run's (and the authorization matrix's) job: here the
        # session is in the cookie jar, which schemathesis's no-auth probes cannot take away.
        response = case.call_and_validate(
            base_url=self.stack.base_url, session=self.session, excluded_checks=[*EXCLUDED_CHECKS, ignored_auth]
        )
        assert response.status_code == expected, response.text
        return response.json()


@pytest.fixture(scope="module")
def stack_shopper(local_stack) -> Iterator[Client]:
    session = requests.Session()
    username = f"fuzz{uuid.uuid4().hex[:10]}"
    answer = _form(
        session,
        local_stack.url("/register"),
        local_stack.url("/register"),
        {
            "username": username,
            "email": f"{username}@example.com",
            "password": SHOPPER_PASSWORD,
            "confirm_password": SHOPPER_PASSWORD,
        },
    )
    assert answer.status_code == 303, answer.text[:500]
    client = Client(local_stack, session)
    SHOPPER_AUTH.update(sid=session.cookies["sid"], csrf=client.headers["X-CSRF-Token"])
    yield client
    SHOPPER_AUTH.clear()


@pytest.fixture(scope="module")
def stack_admin(local_stack) -> Iterator[Client]:
    session = requests.Session()
    answer = _form(
        session,
        local_stack.url("/admin"),
        local_stack.url("/admin"),
        {"username": local_stack.admin_username, "password": local_stack.admin_password},
    )
    assert answer.status_code == 303, answer.text[:500]
    client = Client(local_stack, session)
    ADMIN_AUTH.update(sid=session.cookies["sid"], csrf=client.headers["X-CSRF-Token"])
    yield client
    ADMIN_AUTH.clear()


@schema.parametrize()
def test_api_operation_conforms_to_its_document(case, local_stack, stack_shopper, stack_admin):
    case.call_and_validate(base_url=local_stack.base_url, excluded_checks=EXCLUDED_CHECKS)


def test_served_document_is_the_one_tested(local_stack):
    import json
    import urllib.request

    with urllib.request.urlopen(local_stack.url("/api/v1/openapi.json"), timeout=10) as response:
        assert json.load(response) == openapi.document()


NEW_SHOE = {
    "name": "Schema Runner",
    "brand": "Contract",
    "colour": "Grey",
    "category": "running",
    "department": "men",
    "description": "Made by the API contract test.",
    "price": "99.00",
    "stock": {"42": 3},
}
ADDRESS = {
    "full_name": "Ada Tester",
    "line1": "1 Test Street",
    "city": "Dublin",
    "postal_code": "D02 X285",
    "country": "IE",
}


def test_success_paths_answer_as_documented(stack_admin, stack_shopper):
    """Every operation's success answer, with real ids, matches the document. The shoe made
    here is archived at the end (it was ordered, so it cannot be deleted): the shop is left as found."""
    admin, shopper = stack_admin, stack_shopper
    shoe = admin.call("/api/v1/admin/shoes", "POST", 201, body=NEW_SHOE)["shoe"]
    shoe_id = shoe["shoe_id"]
    try:
        admin.call("/api/v1/admin/shoes", "GET", 200, query={"status": "all"})
        admin.call("/api/v1/admin/shoes/{shoe_id}", "GET", 200, path_parameters={"shoe_id": shoe_id})
        updated = admin.call(
            "/api/v1/admin/shoes/{shoe_id}",
            "PUT",
            200,
            path_parameters={"shoe_id": shoe_id},
            body={**NEW_SHOE, "version": shoe["version"]},
        )
        stale = admin.call(
            "/api/v1/admin/shoes/{shoe_id}",
            "PUT",
            409,
            path_parameters={"shoe_id": shoe_id},
            body={**NEW_SHOE, "version": shoe["version"]},
        )
        assert stale["error"]["current"]["version"] == updated["shoe"]["version"]
        stock = admin.call(
            "/api/v1/admin/shoes/{shoe_id}/stock",
            "POST",
            200,
            path_parameters={"shoe_id": shoe_id},
            body={"size": "42", "adjust": 1},
        )
        assert stock["quantity"] == 4
        publish = {"path_parameters": {"shoe_id": shoe_id}}
        refused = admin.call("/api/v1/admin/shoes/{shoe_id}/publish", "POST", 422, body={}, **publish)
        assert "without_photo" in refused["error"]["fields"]  # a draft with no photo stays a draft
        grant = admin.call(
            "/api/v1/admin/shoes/{shoe_id}/images/grants",
            "POST",
            201,
            path_parameters={"shoe_id": shoe_id},
            body={"content_type": "image/png"},
        )
        admin.call(
            "/api/v1/admin/shoes/{shoe_id}/images",
            "POST",
            422,
            path_parameters={"shoe_id": shoe_id},
            body={"key": grant["key"]},  # granted but nothing uploaded yet
        )
        image_ids = []
        for colour in ((200, 40, 40), (40, 40, 200)):
            grant = admin.call(
                "/api/v1/admin/shoes/{shoe_id}/images/grants",
                "POST",
                201,
                path_parameters={"shoe_id": shoe_id},
                body={"content_type": "image/png"},
            )
            upload = requests.post(
                grant["url"],
                data=grant["fields"],
                files={"file": ("shoe.png", image_bytes(colour=colour), "image/png")},
                timeout=30,
            )
            assert upload.status_code < 300, upload.text[:500]
            added = admin.call(
                "/api/v1/admin/shoes/{shoe_id}/images",
                "POST",
                201,
                path_parameters={"shoe_id": shoe_id},
                body={"key": grant["key"]},
            )
            image_ids.append(added["image"]["image_id"])
        images = {"shoe_id": shoe_id, "image_id": image_ids[1]}
        shoe_answer = admin.call(
            "/api/v1/admin/shoes/{shoe_id}/images/{image_id}/primary", "POST", 200, path_parameters=images
        )
        assert [image["image_id"] for image in shoe_answer["shoe"]["images"]] == image_ids[::-1]
        admin.call(
            "/api/v1/admin/shoes/{shoe_id}/images/order",
            "PUT",
            200,
            path_parameters={"shoe_id": shoe_id},
            body={"image_ids": image_ids},
        )
        shoe_answer = admin.call(
            "/api/v1/admin/shoes/{shoe_id}/images/{image_id}", "DELETE", 200, path_parameters=images
        )
        assert [image["image_id"] for image in shoe_answer["shoe"]["images"]] == image_ids[:1]
        published = admin.call("/api/v1/admin/shoes/{shoe_id}/publish", "POST", 200, body={}, **publish)
        assert published["shoe"]["status"] == "active"

        # The shopper's side: the shoe in the shop (once the stream has carried the publish), a
        # cart, an order placed once.
        deadline = time.monotonic() + STREAM_LAG_SECONDS
        while True:
            listing = shopper.call("/api/v1/shoes", "GET", 200, query={"brand": "Contract"})
            if shoe_id in [card["shoe_id"] for card in listing["items"]]:
                break
            assert time.monotonic() < deadline, "the published shoe never reached the listing"
            time.sleep(0.25)
        shopper.call("/api/v1/shoes/{shoe_id}", "GET", 200, path_parameters={"shoe_id": shoe_id})
        line = {"shoe_id": shoe_id, "size": "42"}
        shopper.call("/api/v1/cart", "POST", 201, body={**line, "quantity": 1})
        shopper.call("/api/v1/cart", "DELETE", 200, query=line)
        shopper.call("/api/v1/cart", "POST", 201, body={**line, "quantity": 1})
        cart = shopper.call("/api/v1/cart", "PATCH", 200, body={**line, "quantity": 2})
        assert cart["units"] == 2
        shopper.call("/api/v1/cart", "GET", 200)
        key = {"Idempotency-Key": f"contract-{uuid.uuid4().hex}"}
        order = shopper.call("/api/v1/orders", "POST", 201, headers=key, body={"address": ADDRESS})
        replay = shopper.call("/api/v1/orders", "POST", 200, headers=key, body={"address": ADDRESS})
        assert replay["order_id"] == order["order_id"]
        shopper.call("/api/v1/orders", "GET", 200)
        order_id = order["order_id"]
        shopper.call("/api/v1/orders/{order_id}", "GET", 200, path_parameters={"order_id": order_id})

        # The back office's side of that order.
        admin.call("/api/v1/admin/orders", "GET", 200, query={"status": "placed"})
        admin.call("/api/v1/admin/orders/{order_id}", "GET", 200, path_parameters={"order_id": order_id})
        cancelled = admin.call(
            "/api/v1/admin/orders/{order_id}/transitions",
            "POST",
            200,
            path_parameters={"order_id": order_id},
            body={"to": "cancelled", "reason": "other", "reason_other": "contract test"},
        )
        assert cancelled["order"]["status"] == "cancelled"
        admin.call("/api/v1/admin/shoes/{shoe_id}", "DELETE", 409, path_parameters={"shoe_id": shoe_id})
    finally:
        admin.call("/api/v1/admin/shoes/{shoe_id}/archive", "POST", 200, path_parameters={"shoe_id": shoe_id})
    admin.call("/api/v1/admin/shoes/{shoe_id}/restore", "POST", 200, path_parameters={"shoe_id": shoe_id})
    admin.call("/api/v1/admin/shoes/{shoe_id}/archive", "POST", 200, path_parameters={"shoe_id": shoe_id})

    unsold = admin.call("/api/v1/admin/shoes", "POST", 201, body={**NEW_SHOE, "stock": {}})["shoe"]
    deleted = admin.call("/api/v1/admin/shoes/{shoe_id}", "DELETE", 200, path_parameters={"shoe_id": unsold["shoe_id"]})
    assert deleted == {"deleted": unsold["shoe_id"]}
