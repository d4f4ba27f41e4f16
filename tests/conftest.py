"""Shared fixtures: one in-process moto backend for the run, emptied before every test.

The environment is set here, for the whole run, because Chalice's test client applies a stage's
variables only during a request; the models are bound to the test tables explicitly
(`bind_tables`, in `aws_backend`), not by importing anything.
"""

import os
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

os.environ.update(
    {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SECURITY_TOKEN": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
        "STAGE": "test",
        "TABLE_PREFIX": "shoeshop-test-",
        "UPLOAD_BUCKET": "shoeshop-test-uploads",
        "BCRYPT_ROUNDS": "4",
        # Tests change the catalogue and look at once; the micro-cache has its own tests.
        "FIRST_PAGE_CACHE_SECONDS": "0",
        "REVIEW_SUMMARY_CACHE_SECONDS": "0",
        # Tests of other areas place many pay-on-delivery orders per account: the anti-hoarding
        # limits are raised for the run and proven at their deployed defaults in
        # tests/test_unpaid_orders.py (which sets them back).
        "UNPAID_ORDER_LIMIT": "1000",
        "UNPAID_PAIRS_PER_SHOE": "1000",
    }
)
os.environ.pop("AWS_ENDPOINT_URL", None)
os.environ.pop("SSM_PREFIX", None)

import pytest
from moto import mock_aws

from chalicelib import aws, clock
from chalicelib.config import get_settings
from chalicelib.models import TABLE_MODELS, bind_tables
from tests.local_stack import local_stack  # noqa: F401 (one session-wide stack for browser and API tests)
from tests.queued_mail import mailbox  # noqa: F401 (the emails the shop queued, rendered)
from tests.stream_fixtures import drain_streams, forget_stream_records  # noqa: F401 (stream handler on moto's records)

# Records the AWS operations app code performs, for the IAM policy check (tests/test_iam_policy.py).
pytest_plugins = ["tests.aws_operations", "tests.mail_fixtures"]  # mail_fixtures: the `ses` fixture


@pytest.fixture(scope="session")
def aws_backend() -> Iterator[None]:
    with mock_aws():
        aws.reset_clients()
        bind_tables(get_settings())
        from devtools.tables import create_bucket, create_tables

        create_tables()
        create_bucket()
        yield
    aws.reset_clients()


def empty_tables() -> None:
    client = aws.dynamodb_client()
    for model in TABLE_MODELS:
        keys = [model._hash_key_attribute().attr_name]
        if model._range_key_attribute():
            keys.append(model._range_key_attribute().attr_name)
        request = {
            "TableName": model.Meta.table_name,
            "ProjectionExpression": ", ".join(f"#k{i}" for i in range(len(keys))),
            "ExpressionAttributeNames": {f"#k{i}": key for i, key in enumerate(keys)},
        }
        while True:
            page = client.scan(**request)
            for item in page.get("Items", []):
                client.delete_item(TableName=model.Meta.table_name, Key=item)
            if "LastEvaluatedKey" not in page:
                break
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]


@pytest.fixture(scope="module")
def no_app_limits() -> Iterator[None]:
    """Every app limit raised for a module whose tests send hundreds of requests from one client
    (fuzzing): the limits are tested in tests/test_limits.py, not tripped by accident here."""
    from chalicelib.config import APP_LIMIT_VARIABLES

    saved = {name: os.environ.get(name) for name in APP_LIMIT_VARIABLES}
    os.environ.update(dict.fromkeys(APP_LIMIT_VARIABLES, "100000"))
    get_settings.cache_clear()
    yield
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
    get_settings.cache_clear()


@pytest.fixture(autouse=True)
def aws_clean(aws_backend: None) -> Iterator[None]:
    from chalicelib.services import shipping

    empty_tables()
    forget_stream_records()
    shipping.forget_zones()  # the warm Lambda's zone cache would outlive the emptied table
    yield
    clock.set_clock(None)


@pytest.fixture(scope="session", autouse=True)
def wired() -> None:
    """Stream consumers, account-deletion steps and login hooks, as app.py wires them, for service tests too."""
    from chalicelib import wiring

    wiring.wire()


@pytest.fixture
def rotate_signing_key() -> Iterator[Callable[[], None]]:
    """What `make rotate-signing-key` does to a warm Lambda: a new key signs, the previous one
    still verifies, older ones are dropped; this run's secrets come back afterwards."""
    import secrets as random_bytes
    from dataclasses import replace

    from chalicelib import secrets

    before = secrets.get_secrets()

    def rotate() -> None:
        current = secrets.get_secrets()
        new_keys = (random_bytes.token_bytes(32), current.signing_keys[0])
        secrets.set_secrets(replace(current, signing_keys=new_keys))

    yield rotate
    secrets.set_secrets(before)


@pytest.fixture(autouse=True)
def catalogue_read_model_cache() -> Iterator[None]:
    """Tables are emptied for every test: this Lambda's copy of the catalogue read model must go too."""
    from chalicelib.services import catalogue, catalogue_index

    catalogue_index.forget()
    catalogue.forget_first_pages()
    yield
    catalogue_index.forget()
    catalogue.forget_first_pages()


class FrozenClock:
    """A clock tests move by hand."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime(2026, 11, 24, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        from datetime import timedelta

        self.now += timedelta(**delta)


@pytest.fixture
def frozen_clock() -> FrozenClock:
    fake = FrozenClock()
    clock.set_clock(fake)
    return fake


@pytest.fixture(scope="session")
def chalice_app():
    from app import app

    return app


# chalice.test.Client applies the named stage's environment variables during each request; the
# deployable stages (dev, prod) would switch on SSM secrets and Secure cookies, so tests name a
# stage that .chalice/config.json does not define.
TEST_STAGE = "test"

CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


class WebClient:
    """chalice.test.Client plus what a browser does: a cookie jar and CSRF tokens from pages."""

    def __init__(self, client) -> None:
        self.client = client
        self.cookies: dict[str, str] = {}

    def _headers(self, extra: dict | None) -> dict:
        headers = {"host": "127.0.0.1:8000"}
        if self.cookies:
            headers["cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        headers.update(extra or {})
        return headers

    def _remember(self, response) -> None:
        set_cookie = response.headers.get("Set-Cookie") or response.headers.get("set-cookie")
        if not set_cookie:
            return
        for cookie in set_cookie if isinstance(set_cookie, list) else [set_cookie]:
            pair = cookie.split(";", 1)[0]
            name, _, value = pair.partition("=")
            if "Max-Age=0" in cookie:
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = value

    def get(self, path: str, headers: dict | None = None):
        response = self.client.http.get(path, headers=self._headers(headers))
        self._remember(response)
        return response

    def request(self, method: str, path: str, body: bytes | str = b"", headers: dict | None = None):
        response = self.client.http.request(method, path, headers=self._headers(headers), body=body)
        self._remember(response)
        return response

    def csrf_token(self, page: str = "/login") -> str:
        match = CSRF_RE.search(self.get(page).body.decode())
        assert match, f"no CSRF token on {page}"
        return match.group(1)

    def post_form(self, path: str, data: dict | list | None = None, csrf: bool | str = True, csrf_page: str = "/login"):
        from urllib.parse import urlencode

        pairs = list(data.items()) if isinstance(data, dict) else list(data or [])
        if csrf is True:
            pairs.append(("csrf_token", self.csrf_token(csrf_page)))
        elif isinstance(csrf, str):
            pairs.append(("csrf_token", csrf))
        body = urlencode(pairs)
        return self.request("POST", path, body=body, headers={"content-type": "application/x-www-form-urlencoded"})

    def register(self, username: str = "alice", email: str | None = None, password: str = "correct horse battery"):
        return self.post_form(
            "/register",
            {
                "username": username,
                "email": email or f"{username}@example.com",
                "password": password,
                "confirm_password": password,
            },
            csrf_page="/register",
        )

    def login(self, identifier: str = "alice", password: str = "correct horse battery"):
        return self.post_form("/login", {"identifier": identifier, "password": password})

    def admin_login(self, username: str = "boss", password: str = "admin password 1"):
        return self.post_form("/admin", {"username": username, "password": password}, csrf_page="/admin")


@contextmanager
def _shop_client(chalice_app) -> Iterator[WebClient]:
    """chalice.test.Client routing unknown paths to the catch-all, as API Gateway and the dev server do."""
    from chalice.test import Client

    from devtools.devserver import use_catch_all

    with Client(chalice_app, stage_name=TEST_STAGE) as client:
        use_catch_all(client.http._local_gateway)
        yield WebClient(client)


@pytest.fixture
def web(chalice_app) -> Iterator[WebClient]:
    with _shop_client(chalice_app) as client:
        yield client


@pytest.fixture
def other_web(chalice_app) -> Iterator[WebClient]:
    with _shop_client(chalice_app) as client:
        yield client


@pytest.fixture
def shopper(web: WebClient) -> WebClient:
    """A logged-in shopper `alice`."""
    response = web.register("alice")
    assert response.status_code == 303, response.body
    return web


@pytest.fixture
def admin_account():
    from tests.factories import make_admin

    return make_admin("boss", "boss@example.com", "admin password 1")


@pytest.fixture
def admin(web: WebClient, admin_account) -> WebClient:
    response = web.admin_login()
    assert response.status_code == 303, response.body
    return web
