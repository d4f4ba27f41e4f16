"""DynamoDB failing under the foundation's flows: throttling, 5xx and transaction conflicts.

Whatever fails, the person gets the shop's own error page (503 "busy", in the shop's layout) and
the data stays whole: no user without both claims, no account half-deleted, nothing logged in
that should not be. Retries happen where botocore's policy makes them safe.
"""

import pytest

from chalicelib.models import Session, UniqueClaim, User
from tests.fault_injection import (
    CONFLICT,
    SERVER_ERROR,
    THROTTLING,
    THROUGHPUT,
    faults,  # noqa: F401 (fixture)
    retry_sleeps,  # noqa: F401 (fixture)
    transaction_conflict,
)
from tests.test_form_fuzzing import PASSWORD, assert_accounts_whole

BUSY = "The shop is busy right now. Please try again in a moment."
RETRYABLE = [THROUGHPUT, THROTTLING, SERVER_ERROR]
ALL_FAULTS = [*RETRYABLE, CONFLICT]
MAX_ATTEMPTS = 3  # chalicelib.aws: botocore standard retries


def fault_id(fault) -> str:
    return fault.code


def assert_busy_page(response) -> None:
    assert response.status_code == 503, response.body[:300]
    page = response.body.decode()
    assert BUSY in page
    assert 'class="site-header"' in page and 'rel="stylesheet"' in page, "not the shop's layout"
    assert "Traceback" not in page and "Exception" not in page


def _users() -> list[User]:
    return list(User.scan(User.pk.startswith("USER#")))


# -- register -----------------------------------------------------------------------------------


@pytest.mark.parametrize("fault", ALL_FAULTS, ids=fault_id)
def test_register_when_the_transaction_keeps_failing(web, faults, fault):  # noqa: F811
    web.csrf_token("/register")
    faults.fail("TransactWriteItems", fault)
    assert_busy_page(web.register("alice", password=PASSWORD))
    faults.clear()
    assert _users() == [] and list(UniqueClaim.scan()) == []
    assert "sid" not in web.cookies, "a failed registration logged someone in"
    expected_attempts = MAX_ATTEMPTS if fault in RETRYABLE else 1
    assert faults.count("TransactWriteItems") == expected_attempts
    assert web.register("alice", password=PASSWORD).status_code == 303  # nothing was left claimed


def test_register_when_the_transaction_is_cancelled_by_a_conflict(web, faults):  # noqa: F811
    web.csrf_token("/register")
    faults.fail("TransactWriteItems", transaction_conflict(actions=3, conflicting=1))
    assert_busy_page(web.register("alice", password=PASSWORD))
    faults.clear()
    assert _users() == [] and list(UniqueClaim.scan()) == []


@pytest.mark.parametrize("fault", RETRYABLE, ids=fault_id)
def test_register_rides_out_one_throttle(web, faults, retry_sleeps, fault):  # noqa: F811
    web.csrf_token("/register")
    faults.fail("TransactWriteItems", fault, times=1)
    assert web.register("alice", password=PASSWORD).status_code == 303
    assert faults.count("TransactWriteItems") == 2
    assert len(retry_sleeps) == 1 and 0 <= retry_sleeps[0] <= 20
    assert len(_users()) == 1
    assert_accounts_whole()


# -- log in -------------------------------------------------------------------------------------


@pytest.mark.parametrize("fault", RETRYABLE, ids=fault_id)
def test_login_when_reads_fail(shopper, other_web, faults, fault):  # noqa: F811
    other_web.csrf_token("/login")
    sessions_before = len(list(Session.scan()))
    faults.fail("GetItem", fault)
    assert_busy_page(other_web.login("alice", PASSWORD))
    faults.clear()
    assert "sid" not in other_web.cookies
    assert len(list(Session.scan())) == sessions_before
    assert other_web.login("alice", PASSWORD).status_code == 303


def test_login_when_starting_the_session_fails(shopper, other_web, faults):  # noqa: F811
    other_web.csrf_token("/login")
    faults.fail("PutItem", THROUGHPUT)
    assert_busy_page(other_web.login("alice", PASSWORD))
    faults.clear()
    assert "sid" not in other_web.cookies
    assert other_web.get("/account").status_code == 303  # not logged in


@pytest.mark.parametrize("fault", RETRYABLE, ids=fault_id)
def test_admin_login_when_reads_fail(web, admin_account, faults, fault):  # noqa: F811
    web.csrf_token("/admin")
    faults.fail("GetItem", fault)
    assert_busy_page(web.admin_login())
    faults.clear()
    assert "sid" not in web.cookies
    assert web.admin_login().status_code == 303


# -- log out ------------------------------------------------------------------------------------


@pytest.mark.parametrize("fault", RETRYABLE, ids=fault_id)
def test_logout_when_the_session_cannot_be_deleted(shopper, faults, fault):  # noqa: F811
    token = shopper.csrf_token("/")
    faults.fail("DeleteItem", fault)
    assert_busy_page(shopper.post_form("/logout", {}, csrf=token))
    faults.clear()
    # Nothing half-done: the session is still there and still works, so "Log out" can be retried.
    assert shopper.get("/account").status_code == 200
    assert shopper.post_form("/logout", {}, csrf=shopper.csrf_token("/")).status_code == 303
    assert shopper.get("/account").status_code == 303


# -- account page -------------------------------------------------------------------------------


@pytest.mark.parametrize("fault", RETRYABLE, ids=fault_id)
def test_account_page_when_reads_fail(shopper, faults, fault):  # noqa: F811
    faults.fail("GetItem", fault)
    response = shopper.get("/account")
    assert_busy_page(response)
    assert "alice@example.com" not in response.body.decode()
    faults.clear()
    page = shopper.get("/account")
    assert page.status_code == 200 and "alice@example.com" in page.body.decode()  # still logged in


# -- delete account -----------------------------------------------------------------------------


def _delete(web):
    return web.post_form("/account/delete", {"password": PASSWORD}, csrf_page="/account/delete")


def _assert_whole_and_deletable_again(shopper) -> None:
    """The account is whole (user and both claims); the person can log in and delete it after all."""
    assert len(_users()) == 1
    assert_accounts_whole()
    if shopper.get("/account").status_code != 200:  # its sessions may have ended already
        assert shopper.login("alice", PASSWORD).status_code == 303
    assert _delete(shopper).status_code == 303
    assert _users() == [] and list(UniqueClaim.scan()) == [] and list(Session.scan()) == []


@pytest.mark.parametrize("fault", ALL_FAULTS, ids=fault_id)
def test_delete_when_the_final_transaction_fails(shopper, faults, fault):  # noqa: F811
    shopper.csrf_token("/account/delete")
    faults.fail("TransactWriteItems", fault)
    assert_busy_page(_delete(shopper))
    faults.clear()
    _assert_whole_and_deletable_again(shopper)


@pytest.mark.parametrize("operation", ["Query", "BatchWriteItem"])
def test_delete_when_ending_the_sessions_fails(shopper, faults, operation):  # noqa: F811
    shopper.csrf_token("/account/delete")
    faults.fail(operation, THROUGHPUT, after=0 if operation == "BatchWriteItem" else 1)
    assert_busy_page(_delete(shopper))
    faults.clear()
    _assert_whole_and_deletable_again(shopper)


def test_registration_sends_an_idempotency_token(web, faults):  # noqa: F811
    """DynamoDB applies a retried TransactWriteItems with the same token once (moto ignores it)."""
    sent = []
    events = faults._events

    def capture(params, **_):
        sent.append(params.get("ClientRequestToken"))

    events.register("provide-client-params.dynamodb.TransactWriteItems", capture)
    try:
        assert web.register("alice", password=PASSWORD).status_code == 303
    finally:
        events.unregister("provide-client-params.dynamodb.TransactWriteItems", capture)
    assert sent and sent[0] and len(sent[0]) <= 36
