"""Forgotten passwords: the request (no enumeration, throttled), the one-time link (hash only,
30 minutes, single use, superseded by a newer request or a login) and what a reset ends."""

import json
import re
import statistics
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from chalicelib.aws import dynamodb_client
from chalicelib.models import User
from chalicelib.services import accounts, limits, password_reset
from tests.factories import PASSWORD, make_user

NEW_PASSWORD = "purple elephant marathon"
RESET_PATH = "/password/reset/"


def body(response) -> str:
    return response.body.decode()


def without_tokens(html: str) -> str:
    return re.sub(r'name="csrf_token" value="[^"]+"', "", html)


@contextmanager
def dynamodb_operations() -> Iterator[list[str]]:
    """Every DynamoDB call in order, as "Operation:table" (short table name)."""
    calls: list[str] = []

    def before_call(model, params, **_kwargs):
        request = json.loads(params.get("body") or b"{}")
        tables = [request["TableName"]] if "TableName" in request else sorted(request.get("RequestItems", {}))
        if "TransactItems" in request:
            tables = [next(iter(item.values()))["TableName"] for item in request["TransactItems"]]
        calls.append(f"{model.name}:{','.join(t.removeprefix('shoeshop-test-') for t in tables)}")

    events = dynamodb_client().meta.events
    events.register("before-call.dynamodb", before_call)
    try:
        yield calls
    finally:
        events.unregister("before-call.dynamodb", before_call)


def reset_token(mailbox, address: str) -> str:
    emails = mailbox.to(address, "password_reset")
    assert emails, mailbox.all()
    return mailbox.link(emails[-1], RESET_PATH).removeprefix(RESET_PATH)


# The request: no account enumeration


def test_login_links_to_a_forgot_form_with_one_email_field(web):
    assert 'href="/password/forgot">Forgot your password?</a>' in body(web.get("/login"))
    page = body(web.get("/password/forgot"))
    assert '<label for="field-email">Email</label>' in page
    form = page[page.index('action="/password/forgot"') :]
    form = form[: form.index("</form>")]
    assert form.count("<input") == 2  # the CSRF token and the email (the header's search box is its own form)
    assert ">Send reset link</button>" in page


def test_known_and_unknown_addresses_get_the_same_page_and_only_the_account_gets_mail(web, mailbox):
    make_user("alice")
    pages = []
    for address in ("alice@example.com", "nobody@example.com"):
        response = web.post_form("/password/forgot", {"email": address}, csrf_page="/password/forgot")
        assert response.status_code == 200
        pages.append(without_tokens(body(response)).replace(address, "ADDRESS"))
    assert pages[0] == pages[1]
    assert password_reset.SENT_MESSAGE.split(";")[0] in pages[0]
    assert [email.kind for email in mailbox.to("alice@example.com")] == ["password_reset"]
    assert mailbox.to("nobody@example.com") == []


def test_known_and_unknown_addresses_cost_the_same_calls_in_the_same_order(mailbox):
    make_user("alice")
    sequences = []
    for address, client in (("alice@example.com", "198.51.100.1"), ("nobody@example.com", "198.51.100.2")):
        with dynamodb_operations() as calls:
            password_reset.request_reset(address, client)
        sequences.append(calls)
    assert sequences[0] == sequences[1]
    assert sequences[0][-1].startswith("TransactWriteItems:")


def test_known_and_unknown_addresses_take_similar_time(mailbox):
    for n in range(7):
        make_user(f"shopper{n}")
    known, unknown = [], []
    for n in range(7):  # interleaved, so load on the machine hits both alike
        for address, timings in ((f"shopper{n}@example.com", known), (f"stranger{n}@example.com", unknown)):
            started = time.perf_counter()
            password_reset.request_reset(address, f"198.51.100.{n}")
            timings.append(time.perf_counter() - started)
    fast, slow = sorted((statistics.median(known), statistics.median(unknown)))
    assert slow < fast * 1.5 + 0.005, (known, unknown)


def test_requests_are_throttled_per_email_and_per_client():
    make_user("alice")
    for n in range(3):
        password_reset.request_reset("Alice@Example.com", f"203.0.113.{n}")
    with pytest.raises(limits.RateLimited) as caught:  # per email, whatever the case or client
        password_reset.request_reset("alice@example.com", "203.0.113.99")
    assert caught.value.scope == limits.RESET_EMAIL
    for n in range(10):
        password_reset.request_reset(f"someone{n}@example.com", "192.0.2.7")
    with pytest.raises(limits.RateLimited) as caught:
        password_reset.request_reset("someone-else@example.com", "192.0.2.7")
    assert caught.value.scope == limits.RESET_CLIENT


def test_a_throttled_request_gets_a_429_page_saying_when_to_come_back(web):
    for _ in range(3):
        web.post_form("/password/forgot", {"email": "bob@example.com"}, csrf_page="/password/forgot")
    response = web.post_form("/password/forgot", {"email": "bob@example.com"}, csrf_page="/password/forgot")
    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) > 0
    assert limits.TOO_MANY_MESSAGE in body(response)


def test_a_malformed_address_gets_a_message_beside_the_field(web):
    response = web.post_form("/password/forgot", {"email": "not an email" * 50}, csrf_page="/password/forgot")
    assert response.status_code == 400
    assert 'id="field-email-error"' in body(response)


# The link


def test_the_token_is_stored_only_as_a_hash(mailbox):
    user = make_user("alice")
    password_reset.request_reset("alice@example.com", "203.0.113.1")
    token = reset_token(mailbox, "alice@example.com")
    secret = token.split(".", 1)[1]
    raw_item = dynamodb_client().get_item(TableName=User.Meta.table_name, Key={"pk": {"S": user.pk}})["Item"]
    assert secret not in json.dumps(raw_item)
    assert raw_item["reset_token_hash"]["S"] != secret


def test_reset_sets_the_password_and_the_link_works_once(web, mailbox):
    make_user("alice")
    web.post_form("/password/forgot", {"email": "alice@example.com"}, csrf_page="/password/forgot")
    path = RESET_PATH + reset_token(mailbox, "alice@example.com")
    page = body(web.get(path))
    assert "New password" in page and "Confirm new password" in page and ">Set new password</button>" in page

    form = {"password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD}
    response = web.post_form(path, form, csrf_page=path)
    assert response.status_code == 303 and response.headers["Location"] == "/login"
    assert "Your new password is set" in body(web.get("/login"))
    assert "password_changed" in [email.kind for email in mailbox.to("alice@example.com")]

    assert web.login("alice", PASSWORD).status_code == 401
    assert web.login("alice", NEW_PASSWORD).status_code == 303

    again = web.get(path)
    assert again.status_code == 400
    assert "This reset link cannot be used" in body(again)
    again = web.post_form(path, form, csrf_page="/password/forgot")
    assert again.status_code == 400 and "already used" in body(again)


def test_a_link_expires_after_30_minutes(mailbox, frozen_clock):
    make_user("alice")
    password_reset.request_reset("alice@example.com", "203.0.113.1")
    token = reset_token(mailbox, "alice@example.com")
    frozen_clock.advance(minutes=29, seconds=59)
    assert password_reset.user_for_reset_token(token).username == "alice"
    frozen_clock.advance(seconds=1)
    with pytest.raises(password_reset.InvalidResetLink) as caught:
        password_reset.reset_password(token, NEW_PASSWORD, NEW_PASSWORD, "203.0.113.1")
    assert caught.value.expired and "expired" in caught.value.message
    assert accounts.authenticate("alice", PASSWORD).username == "alice"


def test_a_newer_request_invalidates_the_older_link(mailbox):
    make_user("alice")
    password_reset.request_reset("alice@example.com", "203.0.113.1")
    first = reset_token(mailbox, "alice@example.com")
    password_reset.request_reset("alice@example.com", "203.0.113.1")
    second = reset_token(mailbox, "alice@example.com")
    assert first != second
    with pytest.raises(password_reset.InvalidResetLink):
        password_reset.reset_password(first, NEW_PASSWORD, NEW_PASSWORD, "203.0.113.1")
    password_reset.reset_password(second, NEW_PASSWORD, NEW_PASSWORD, "203.0.113.1")


def test_a_successful_login_invalidates_the_link(mailbox):
    make_user("alice")
    password_reset.request_reset("alice@example.com", "203.0.113.1")
    token = reset_token(mailbox, "alice@example.com")
    with pytest.raises(accounts.LoginFailed):  # a failed login leaves it
        accounts.authenticate("alice", "wrong password")
    assert password_reset.user_for_reset_token(token).username == "alice"
    accounts.authenticate("alice", PASSWORD)
    with pytest.raises(password_reset.InvalidResetLink):
        password_reset.user_for_reset_token(token)


def test_a_weak_new_password_is_refused_and_the_link_still_works(web, mailbox):
    make_user("alice")
    password_reset.request_reset("alice@example.com", "203.0.113.1")
    path = RESET_PATH + reset_token(mailbox, "alice@example.com")
    response = web.post_form(path, {"password": "password", "confirm_password": "passw0rd"}, csrf_page=path)
    assert response.status_code == 400
    page = body(response)
    assert 'id="field-password-error"' in page and "The passwords do not match." in page
    assert web.get(path).status_code == 200


@pytest.mark.parametrize(
    "token",
    [
        "x",
        "not-a-token",
        "0" * 32 + "." + "A" * 43,  # the stand-in id unknown addresses use
        "f" * 32 + "." + "A" * 43,  # well formed, no such user
        "%F0%9F%91%9F",
        "a" * 3000,
        "..%2F..%2Fadmin",
    ],
)
def test_malformed_and_unknown_tokens_get_a_clear_page_never_a_500(web, token):
    for response in (web.get(RESET_PATH + token), web.post_form(RESET_PATH + token, {"password": NEW_PASSWORD})):
        assert response.status_code in (400, 404), body(response)[:500]
        if response.status_code == 400:
            assert "This reset link cannot be used" in body(response)


def test_a_forged_secret_for_a_real_account_is_refused(web, mailbox):
    user = make_user("alice")
    password_reset.request_reset("alice@example.com", "203.0.113.1")
    token = reset_token(mailbox, "alice@example.com")
    forged = f"{user.user_id}.{'B' * 43}"
    assert forged != token
    response = web.post_form(RESET_PATH + forged, {"password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD})
    assert response.status_code == 400 and "not valid" in body(response)
    assert accounts.authenticate("alice", PASSWORD).username == "alice"


# What a reset ends


def test_a_reset_ends_every_session_of_the_account(web, other_web, mailbox):
    web.register("alice")
    other_web.login("alice", PASSWORD)
    assert other_web.get("/account").status_code == 200
    password_reset.request_reset("alice@example.com", "203.0.113.1")
    password_reset.reset_password(reset_token(mailbox, "alice@example.com"), NEW_PASSWORD, NEW_PASSWORD, "x")
    for client in (web, other_web):
        response = client.get("/account")
        assert response.status_code == 303 and response.headers["Location"].startswith("/login")


def test_a_reset_clears_the_login_lockout_of_the_account(mailbox, frozen_clock):
    make_user("alice")
    client = accounts.LoginClient(ip="203.0.113.9")
    for _ in range(3):
        with pytest.raises(accounts.LoginFailed):
            accounts.authenticate("alice", "wrong password", client)
    with pytest.raises(limits.RateLimited):
        accounts.authenticate("alice", PASSWORD, client)
    password_reset.request_reset("alice@example.com", client.ip)
    password_reset.reset_password(reset_token(mailbox, "alice@example.com"), NEW_PASSWORD, NEW_PASSWORD, client.ip)
    assert accounts.authenticate("alice", NEW_PASSWORD, client).username == "alice"  # no wait


def test_a_reset_lifts_the_accounts_login_ceiling(mailbox, monkeypatch):
    from chalicelib.config import get_settings

    monkeypatch.setenv("LOGIN_ACCOUNT_CEILING", "2")
    get_settings.cache_clear()
    try:
        make_user("alice")
        for n in range(2):
            with pytest.raises(accounts.LoginFailed):
                accounts.authenticate("alice", "wrong", accounts.LoginClient(ip=f"192.0.2.{n}"))
        with pytest.raises(limits.RateLimited):
            accounts.authenticate("alice", PASSWORD, accounts.LoginClient(ip="192.0.2.50"))
        password_reset.request_reset("alice@example.com", "192.0.2.50")
        password_reset.reset_password(reset_token(mailbox, "alice@example.com"), NEW_PASSWORD, NEW_PASSWORD, "y")
        assert accounts.authenticate("alice", NEW_PASSWORD, accounts.LoginClient(ip="192.0.2.50"))
    finally:
        monkeypatch.delenv("LOGIN_ACCOUNT_CEILING")
        get_settings.cache_clear()
