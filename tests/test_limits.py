"""App limits: atomic attempt slots in DynamoDB, login throttling that spares the owner's device,
and 429s with Retry-After on pages and the API. Threads stand in for parallel Lambdas: every slot
is one conditional UpdateItem against moto, as it would be against DynamoDB."""

import functools
import json
import logging
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from chalicelib.services import accounts, limits, passwords
from chalicelib.services.errors import ValidationFailed
from tests.factories import registration

PASSWORD = "correct horse battery"
ITEM_CALLS = ("get_item", "put_item", "update_item", "delete_item", "transact_write_items")


@pytest.fixture(autouse=True)
def atomic_item_calls(monkeypatch):
    """moto checks a condition and writes in two unlocked steps; DynamoDB does one item write
    atomically. Each call is made atomic (threads still interleave between calls, so a
    read-then-write race shows as it would on AWS)."""
    from moto.dynamodb.models import DynamoDBBackend

    lock = threading.RLock()

    def atomic(call):
        @functools.wraps(call)
        def wrapper(*args, **kwargs):
            with lock:
                return call(*args, **kwargs)

        return wrapper

    for name in ITEM_CALLS:
        monkeypatch.setattr(DynamoDBBackend, name, atomic(getattr(DynamoDBBackend, name)))


def counted_checks(monkeypatch) -> list[int]:
    """Every bcrypt password check (verify_password) appends to the returned list."""
    checks: list[int] = []
    real = passwords.verify_password
    monkeypatch.setattr(passwords, "verify_password", lambda *args: checks.append(1) or real(*args))
    return checks


def in_parallel(calls, workers: int = 20) -> list[object]:
    """Run every call at once; each answer is its result or the exception it raised."""

    def run(call):
        try:
            return call()
        except Exception as error:
            return error

    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(run, calls))


def test_a_slot_is_taken_atomically_so_parallel_takers_never_exceed_the_limit(frozen_clock):
    limit = limits.Limit("test", 7, 60)
    answers = in_parallel([lambda: limits.take(limit, "key")] * 40)
    assert sum(answer is None for answer in answers) == 7
    refused = [answer for answer in answers if isinstance(answer, limits.RateLimited)]
    assert len(refused) == 33 and all(0 < error.retry_after <= 60 for error in refused)
    frozen_clock.advance(seconds=60)  # the next window is a new key
    limits.take(limit, "key")


def test_the_lockout_races_no_more_parallel_guesses_get_only_the_limits_worth_of_checks(monkeypatch, frozen_clock):
    accounts.register(registration("alice"))
    checks = counted_checks(monkeypatch)
    client = accounts.LoginClient(ip="203.0.113.7")
    guesses = [lambda: accounts.authenticate("alice", "wrong guess", client)] * 20
    answers = in_parallel([*guesses, lambda: accounts.authenticate("alice", PASSWORD, client)])
    assert len(checks) <= 3  # the free attempts, whatever the concurrency
    assert sum(isinstance(answer, limits.RateLimited) for answer in answers) >= 18
    for _ in range(3 - len(checks)):  # whatever the burst left free, then the delay holds
        with pytest.raises(accounts.LoginFailed):
            accounts.authenticate("alice", "wrong guess", client)
    with pytest.raises(limits.RateLimited):  # the right password waits too
        accounts.authenticate("alice", PASSWORD, client)
    assert len(checks) == 3


def test_guesses_from_many_addresses_stop_at_the_account_ceiling(monkeypatch, frozen_clock):
    accounts.register(registration("alice"))
    checks = counted_checks(monkeypatch)
    guesses = [
        (lambda ip=f"198.51.100.{n}": accounts.authenticate("alice", "wrong guess", accounts.LoginClient(ip=ip)))
        for n in range(45)
    ]
    answers = in_parallel(guesses)
    assert len(checks) <= 30
    assert sum(isinstance(answer, limits.RateLimited) for answer in answers) >= 15


def test_anyone_can_lock_anyone_out_no_more_the_owners_device_still_logs_in(frozen_clock):
    user = accounts.register(registration("alice"))
    owner = accounts.LoginClient(ip="192.0.2.1", device_account=accounts.account_key(user), device_id="owner-device")
    for n in range(40):  # strangers everywhere, past every limit they can reach
        with pytest.raises((accounts.LoginFailed, limits.RateLimited)):
            accounts.authenticate("alice", "wrong guess", accounts.LoginClient(ip=f"198.51.100.{n}"))
    with pytest.raises(limits.RateLimited):  # a browser alice never used waits for the window
        accounts.authenticate("alice", PASSWORD, accounts.LoginClient(ip="192.0.2.1"))
    assert accounts.authenticate("alice", PASSWORD, owner).user_id == user.user_id


def test_a_device_cookie_for_another_account_does_not_help(frozen_clock):
    accounts.register(registration("alice"))
    bob = accounts.register(registration("bob"))
    client = accounts.LoginClient(ip="192.0.2.1", device_account=accounts.account_key(bob), device_id="bobs")
    for _ in range(3):
        with pytest.raises(accounts.LoginFailed):
            accounts.authenticate("alice", "wrong guess", client)
    with pytest.raises(limits.RateLimited):
        accounts.authenticate("alice", PASSWORD, client)


def test_one_client_spraying_many_accounts_is_throttled(monkeypatch, frozen_clock):
    checks = counted_checks(monkeypatch)
    client = accounts.LoginClient(ip="203.0.113.50")
    answers = in_parallel([lambda name=f"user{n}": accounts.authenticate(name, "guess", client) for n in range(40)])
    assert sum(isinstance(answer, limits.RateLimited) for answer in answers) == 10
    assert len(checks) == 30  # the client's limit (unknown accounts cost an equal check)


def test_the_deletion_check_has_a_limit_per_account(frozen_clock):
    user = accounts.register(registration("alice"))
    for _ in range(5):
        with pytest.raises(ValidationFailed):
            accounts.delete_account(user, "wrong guess")
    with pytest.raises(limits.RateLimited):
        accounts.delete_account(user, PASSWORD)
    assert accounts.get_user(user.user_id) is not None
    frozen_clock.advance(minutes=15)
    accounts.delete_account(user, PASSWORD)
    assert accounts.get_user(user.user_id) is None


def test_registration_is_limited_per_client(frozen_clock):
    for n in range(10):
        accounts.register(registration(f"user{n}"), client_ip="198.51.100.1")
    with pytest.raises(limits.RateLimited):
        accounts.register(registration("user10"), client_ip="198.51.100.1")
    assert accounts.register(registration("user11"), client_ip="198.51.100.2")


# Routes: 429 pages in the shop's layout, the JSON error shape under /api/, Retry-After on each.


def test_deletion_check_page_answers_429_with_retry_after(shopper):
    for _ in range(5):
        assert shopper.post_form("/account/delete", {"password": "wrong"}, csrf_page="/account").status_code == 400
    response = shopper.post_form("/account/delete", {"password": PASSWORD}, csrf_page="/account")
    assert response.status_code == 429 and int(response.headers["Retry-After"]) > 0
    page = response.body.decode()
    assert "Too many requests" in page and "Too many attempts" in page
    assert shopper.get("/account").status_code == 200  # still there, still logged in


def test_registration_page_answers_429_after_the_clients_limit(web):
    for n in range(10):
        assert web.register(f"user{n}").status_code == 303
        web.post_form("/logout", {}, csrf_page="/account")
    response = web.register("user10")
    assert response.status_code == 429 and int(response.headers["Retry-After"]) > 0
    assert "Too many attempts" in response.body.decode()


def test_admin_login_strangers_do_not_keep_the_admin_out(web, other_web, admin_account):
    assert web.admin_login().status_code == 303  # the admin's browser: it gets a device cookie
    web.post_form("/admin/logout", {}, csrf_page="/admin")
    for _ in range(3):  # the same address, but the admin's success reset the pair: 3 free attempts
        assert other_web.admin_login(password="wrong guess at it").status_code == 401
    throttled = other_web.admin_login()
    assert throttled.status_code == 429 and int(throttled.headers["Retry-After"]) > 0
    assert "Too many attempts" in throttled.body.decode()
    assert web.admin_login().status_code == 303


def test_place_order_is_limited_per_account_on_the_api(shopper):
    token = shopper.csrf_token("/cart")
    headers = {"content-type": "application/json", "x-csrf-token": token, "accept": "application/json"}

    def place(n: int):
        return shopper.request(
            "POST", "/api/v1/orders", body="{}", headers={**headers, "idempotency-key": f"key-{n:04d}"}
        )

    for n in range(10):
        assert place(n).status_code == 409  # empty cart, but the attempt counts
    response = place(10)
    assert response.status_code == 429 and int(response.headers["Retry-After"]) > 0
    assert json.loads(response.body)["error"]["code"] == "TooManyRequests"


def test_place_order_page_answers_429_after_the_limit(shopper):
    for _ in range(10):
        shopper.post_form("/checkout/place", {"idempotency_key": "x"}, csrf_page="/cart")
    response = shopper.post_form("/checkout/place", {"idempotency_key": "x"}, csrf_page="/cart")
    assert response.status_code == 429 and int(response.headers["Retry-After"]) > 0
    assert "Too many requests" in response.body.decode()


def _events(caplog) -> list[dict]:
    lines = []
    for record in caplog.records:
        try:
            lines.append(json.loads(record.getMessage()))
        except ValueError:
            continue
    return lines


def test_failed_logins_throttles_and_admin_logins_are_logged_without_secrets(caplog, web, other_web, admin_account):
    caplog.set_level(logging.INFO, logger="shoeshop")
    web.register("alice")
    for _ in range(5):
        other_web.login("alice", "wrong guess here")
    web.admin_login()
    events = _events(caplog)
    failed = [line for line in events if line["event"] == "login_failed"]
    assert len(failed) == 3 and all(line["client_ip"] and line["account"] != "unknown" for line in failed)
    assert any(line["event"] == "login_throttled" and line["scope"] == "login-pair" for line in events)
    assert any(line["event"] == "admin_login" and line["account"] == "admin:boss" for line in events)
    assert all("client_ip" in line for line in events if line["event"] == "request")
    text = "\n".join(record.getMessage() for record in caplog.records)
    assert "wrong guess here" not in text and PASSWORD not in text and "admin password 1" not in text
    assert web.cookies["sid"] not in text


def test_several_slots_are_taken_in_one_call_and_a_refusal_takes_none_of_them():
    """Placing an order takes its per-client and per-account slots in one TransactWriteItems."""
    from tests.cart_fixtures import count_dynamodb_calls

    tight, roomy = limits.Limit("test-tight", 1, 600), limits.Limit("test-roomy", 2, 600)
    with count_dynamodb_calls() as calls:
        limits.take_all((roomy, "k"), (tight, "k"))
    assert {name: count for name, count in calls.items() if ":" not in name} == {"TransactWriteItems": 1}
    with pytest.raises(limits.RateLimited) as refused:
        limits.take_all((roomy, "k"), (tight, "k"))
    assert refused.value.scope == "test-tight" and 0 < refused.value.retry_after <= 600
    limits.take(roomy, "k")  # the refused attempt took no slot of the roomy limit: its second is free
    with pytest.raises(limits.RateLimited):
        limits.take(roomy, "k")
