"""hypothesis against every form handler: random, unicode, huge, missing and duplicate fields.

Each request carries a valid CSRF token (so the handler itself is reached). Whatever comes in:
never a 500, only the statuses the form promises, and the accounts stay whole: every user has
both of its claims, and every claim belongs to a user.
"""

import os
from urllib.parse import urlencode

import pytest
from chalice.test import Client
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st

from chalicelib.models import Session, UniqueClaim, User
from tests.conftest import WebClient, empty_tables
from tests.hostile_fixtures import page_token

PASSWORD = "correct horse battery"
pytestmark = pytest.mark.usefixtures("no_app_limits")

FUZZ = settings(
    # FUZZ_EXAMPLES=500 for a longer hunt on demand; 40 keeps the suite fast.
    max_examples=int(os.environ.get("FUZZ_EXAMPLES", "40")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# Values a person or an attacker might send: plausible ones (so many forms succeed and later
# ones collide with earlier accounts), any unicode, control characters, markup, and sizes around
# and over the limits (the body cap is 64 KB).
PLAUSIBLE = {
    "username": ["alice", "Alice", "bob", "carol.d-e_f", "boss", "al"],
    "email": ["alice@example.com", "ALICE@example.com", "bob@example.com", "c@d.example", "bob@"],
    "password": [PASSWORD, PASSWORD, PASSWORD, "admin password 1", "password", "x" * 257],
    "confirm_password": [PASSWORD],
    "identifier": ["alice", "ALICE", "alice@example.com", "nobody"],
    "next": ["/account", "//evil.example", "https://evil.example/", "/\\evil.example", "/ok?x=1"],
}
huge = st.sampled_from([300, 5_000, 40_000, 70_000]).map(lambda n: "é" * n)
markup = st.sampled_from(["<script>alert(1)</script>", '"><img src=x onerror=alert(1)>', "a\x00b", "\u202eevil", "﷽"])
anything = st.one_of(st.text(max_size=80), markup, huge)


def field_values(field: str) -> st.SearchStrategy[list[str]]:
    """Mostly one plausible value; otherwise absent, duplicated or anything at all."""
    plausible = st.sampled_from(PLAUSIBLE.get(field, ["alice"]))
    return st.one_of(
        plausible.map(lambda v: [v]),
        plausible.map(lambda v: [v]),
        plausible.map(lambda v: [v]),
        st.lists(st.one_of(plausible, anything), max_size=2),
    )


def form_pairs(fields: tuple[str, ...]) -> st.SearchStrategy[list[tuple[str, str]]]:
    """Each expected field absent, once or twice (duplicates), plus a few unexpected fields."""
    per_field = [field_values(field).map(lambda vs, f=field: [(f, v) for v in vs]) for field in fields]
    extras = st.lists(
        st.tuples(st.text(min_size=1, max_size=20).filter(lambda k: k != "csrf_token"), anything), max_size=2
    )
    return st.tuples(st.tuples(*per_field), extras).flatmap(
        lambda parts: st.permutations([pair for group in parts[0] for pair in group] + parts[1])
    )


def post(web: WebClient, path: str, pairs: list[tuple[str, str]], token: str):
    body = urlencode([("csrf_token", token), *pairs])
    return web.request("POST", path, body=body, headers={"content-type": "application/x-www-form-urlencoded"})


def submit(web: WebClient, path: str, pairs: list[tuple[str, str]], allowed: tuple[int, ...]):
    """Post the fuzzed form with the page's valid token; only the form's promised statuses pass."""
    response = post(web, path, pairs, page_token(web))
    event(f"status {response.status_code}")
    assert response.status_code in allowed, response.body[:500]
    if response.status_code in (301, 302, 303):
        assert not response.headers["Location"].startswith("//"), "redirected off the site"
    return response


def assert_accounts_whole() -> None:
    users = {user.user_id: user for user in User.scan(User.pk.startswith("USER#"))}
    claims = {claim.pk: claim.user_id for claim in UniqueClaim.scan(~UniqueClaim.pk.startswith("USER#"))}
    for claim_key, user_id in claims.items():
        assert user_id in users, f"claim {claim_key!r} points at a missing user"
    for user in users.values():
        assert claims.get(UniqueClaim.username_key(user.username)) == user.user_id, f"{user.username}: no name claim"
        assert claims.get(UniqueClaim.email_key(user.email)) == user.user_id, f"{user.username}: no email claim"
    assert len(claims) == 2 * len(users), f"stray claims: {sorted(claims)}"


def _fresh_client(chalice_app) -> tuple[Client, WebClient]:
    client = Client(chalice_app)
    return client, WebClient(client)


VALID_REGISTRATION = [
    ("username", "alice"),
    ("email", "alice@example.com"),
    ("password", PASSWORD),
    ("confirm_password", PASSWORD),
]


@FUZZ
@given(pairs=form_pairs(("username", "email", "password", "confirm_password", "next")))
@example(pairs=VALID_REGISTRATION)
@example(pairs=[("username", "ALICE"), *VALID_REGISTRATION[1:], ("username", "bob")])
def test_register_form(chalice_app, pairs):
    _, web = _fresh_client(chalice_app)
    response = submit(web, "/register", pairs, (303, 400, 413))
    if response.status_code == 303:
        assert response.headers["Location"].startswith("/")
        assert web.get("/account").status_code == 200
    assert_accounts_whole()


@pytest.fixture
def alice(chalice_app):
    empty_tables()
    _, web = _fresh_client(chalice_app)
    assert web.register("alice", "alice@example.com", PASSWORD).status_code == 303
    return web


@FUZZ
@given(pairs=form_pairs(("identifier", "password", "next")))
@example(pairs=[("identifier", "ALICE@example.com"), ("password", PASSWORD), ("next", "//evil.example")])
def test_login_form(chalice_app, alice, pairs):
    _, web = _fresh_client(chalice_app)
    if submit(web, "/login", pairs, (303, 401, 413)).status_code == 303:
        assert web.get("/account").status_code == 200
    assert_accounts_whole()


@FUZZ
@given(pairs=form_pairs(("username", "password", "next")))
@example(pairs=[("username", "Boss"), ("password", "admin password 1"), ("next", "/admin")])
def test_admin_login_form(chalice_app, admin_account, pairs):
    _, web = _fresh_client(chalice_app)
    if submit(web, "/admin", pairs, (303, 401, 413)).status_code == 303:
        assert "Dashboard" in web.get("/admin").body.decode()


@FUZZ
@given(pairs=form_pairs(("next",)), logged_in=st.booleans())
def test_logout_form(chalice_app, pairs, logged_in):
    empty_tables()
    _, web = _fresh_client(chalice_app)
    if logged_in:
        assert web.register("carol", "carol@example.com", PASSWORD).status_code == 303
    if submit(web, "/logout", pairs, (303, 413)).status_code == 303:
        assert web.get("/account").status_code == 303  # logged out
        assert not [s for s in Session.scan() if s.role == "shopper"]


@FUZZ
@given(pairs=form_pairs(("password",)))
@example(pairs=[("password", PASSWORD), ("password", "wrong")])
def test_account_delete_form(chalice_app, pairs):
    empty_tables()
    _, web = _fresh_client(chalice_app)
    assert web.register("dave", "dave@example.com", PASSWORD).status_code == 303
    response = submit(web, "/account/delete", pairs, (303, 400, 413))
    remaining = list(User.scan(User.pk.startswith("USER#")))
    if response.status_code == 303:
        assert remaining == [] and list(UniqueClaim.scan()) == [] and list(Session.scan()) == []
    else:
        assert len(remaining) == 1 and web.get("/account").status_code == 200
    assert_accounts_whole()


@FUZZ
@given(tail=st.binary(max_size=300))
def test_raw_bytes_after_a_valid_token(chalice_app, tail):
    """Bodies that are not valid UTF-8 or form encoding get a 4xx page, never a 500."""
    _, web = _fresh_client(chalice_app)
    body = urlencode([("csrf_token", page_token(web))]).encode() + b"&" + tail
    for path in ("/register", "/login", "/admin"):
        response = web.request("POST", path, body=body, headers={"content-type": "application/x-www-form-urlencoded"})
        assert 300 <= response.status_code < 500, (path, response.body[:300])
