"""Register, log in, log out, account page and deletion through the routes, as a browser would."""

import re

import pytest

from chalicelib.models import Session

PASSWORD = "correct horse battery"


def body(response) -> str:
    return response.body.decode()


def without_tokens(html: str) -> str:
    return re.sub(r'name="csrf_token" value="[^"]+"', "", html)


def test_register_logs_in_and_shows_account(web):
    response = web.register("alice")
    assert response.status_code == 303
    assert response.headers["Location"] == "/"
    home = web.get("/")
    assert "Welcome, alice!" in body(home)
    account = body(web.get("/account"))
    assert "alice@example.com" in account
    assert "Member since" in account


def test_register_errors_show_beside_fields_and_keep_input_but_never_the_password(web):
    response = web.post_form(
        "/register",
        {"username": "a!", "email": "alice@example", "password": "hunter2hunter2", "confirm_password": "x"},
        csrf_page="/register",
    )
    page = body(response)
    assert response.status_code == 400
    assert 'id="field-username-error"' in page and "Use 3 to 30" in page
    assert "Enter an email address like name@example.com." in page
    assert "The passwords do not match." in page
    assert 'value="a!"' in page and 'value="alice@example"' in page
    assert "hunter2hunter2" not in page


def test_duplicate_username_differing_in_case_is_refused(web, other_web):
    web.register("alice")
    response = other_web.register("ALICE", email="another@example.com")
    assert response.status_code == 400
    assert "That username is taken" in body(response)


def test_missing_and_overlong_fields_get_messages_not_errors(web):
    response = web.post_form("/register", {}, csrf_page="/register")
    assert response.status_code == 400
    assert "Enter a username." in body(response)
    response = web.post_form(
        "/register",
        {"username": "u" * 5000, "email": "e" * 5000, "password": "p" * 5000, "confirm_password": "p" * 5000},
        csrf_page="/register",
    )
    assert response.status_code == 400
    assert "Use at most 256 characters." in body(response)


def test_a_megabyte_password_gets_413(web):
    response = web.post_form("/login", {"identifier": "alice", "password": "p" * 1_000_000})
    assert response.status_code == 413
    assert "Too much data" in body(response)


def test_login_with_username_or_email(web):
    web.register("alice")
    web.post_form("/logout", {}, csrf_page="/account")
    assert web.login("alice").status_code == 303
    web.post_form("/logout", {}, csrf_page="/account")
    assert web.login("Alice@Example.com").status_code == 303
    assert "alice@example.com" in body(web.get("/account"))


def test_unknown_user_and_wrong_password_get_identical_answers(web, other_web):
    web.register("alice")
    wrong = other_web.login("alice", "not the password")
    unknown = other_web.login("nobody", "not the password")
    assert wrong.status_code == unknown.status_code == 401
    assert without_tokens(body(wrong)).replace("alice", "X") == without_tokens(body(unknown)).replace("nobody", "X")


def test_a_guessing_browser_gets_a_429_login_page_while_the_owner_still_logs_in(web, other_web):
    web.register("alice")  # the owner's browser logged in: it holds a device cookie for alice
    web.post_form("/logout", {}, csrf_page="/account")
    for _ in range(3):  # free attempts; then the (account, address) pair waits 2 s, 4 s, 8 s...
        assert other_web.login("alice", "wrong password").status_code == 401
    throttled = other_web.login("alice", PASSWORD)
    assert throttled.status_code == 429
    assert int(throttled.headers["Retry-After"]) > 0
    assert "Too many attempts" in body(throttled) and 'name="identifier"' in body(throttled)
    assert web.login("alice", PASSWORD).status_code == 303  # same address, the owner's own counter


@pytest.mark.parametrize(
    "target",
    ["//evil.example", "https://evil.example/x", "/\\evil.example", "javascript:alert(1)", "/%0d%0aSet-Cookie"],
)
def test_next_only_returns_to_local_paths(web, target):
    web.register("alice")
    web.post_form("/logout", {}, csrf_page="/account")
    response = web.post_form("/login", {"identifier": "alice", "password": PASSWORD, "next": target})
    location = response.headers["Location"]
    assert location.startswith("/") and not location.startswith("//") and "evil" not in location.split("?")[0][:2]
    assert location in ("/", target) and "\\" not in location and "//" not in location


def test_next_returns_to_the_page_that_asked_for_login(web):
    web.register("alice")
    web.post_form("/logout", {}, csrf_page="/account")
    response = web.get("/account")
    assert response.status_code == 303
    assert response.headers["Location"] == "/login?next=%2Faccount"
    login = web.post_form("/login", {"identifier": "alice", "password": PASSWORD, "next": "/account"})
    assert login.headers["Location"] == "/account"


def test_logout_is_a_post_and_ends_the_session(web):
    web.register("alice")
    old_cookie = web.cookies["sid"]
    assert web.get("/logout").status_code == 405
    response = web.post_form("/logout", {}, csrf_page="/account")
    assert response.status_code == 303
    assert "You are logged out." in body(web.get("/"))
    web.cookies["sid"] = old_cookie  # replaying the old cookie does not bring the session back
    assert web.get("/account").status_code == 303


def test_login_issues_a_new_session_token(web):
    web.register("alice")
    web.post_form("/logout", {}, csrf_page="/account")
    web.get("/login")
    from chalicelib.services.sessions import GUEST, start_session

    guest_token, _ = start_session(GUEST)
    web.cookies["sid"] = guest_token
    web.login("alice")
    assert web.cookies["sid"] != guest_token
    assert Session.count() == 1


def test_session_cookie_flags(web):
    response = web.register("alice")
    cookie = next(c for c in response.headers["Set-Cookie"] if c.startswith("sid="))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Path=/" in cookie
    token = cookie.split(";")[0].split("=", 1)[1]
    assert len(token) == 43
    from chalicelib.services.sessions import hash_token

    assert Session.get(hash_token(token))  # only the hash is stored
    assert Session.count(hash_token(token)) == 1
    with pytest.raises(Session.DoesNotExist):
        Session.get(token)


@pytest.mark.parametrize("tampered", ["x", "A" * 43, "../../etc", "a" * 5000])
def test_tampered_session_cookie_is_anonymous(web, tampered):
    web.register("alice")
    web.cookies["sid"] = tampered
    response = web.get("/account")
    assert response.status_code == 303
    assert response.headers["Location"].startswith("/login")


def test_idle_session_expires(web, frozen_clock):
    web.register("alice")
    frozen_clock.advance(hours=1, minutes=30)
    assert web.get("/account").status_code == 200  # activity refreshes the idle timer
    frozen_clock.advance(hours=1, minutes=59)
    assert web.get("/account").status_code == 200
    frozen_clock.advance(hours=2, minutes=1)
    assert web.get("/account").status_code == 303


def test_absolute_session_expiry(web, frozen_clock):
    from datetime import timedelta

    web.register("alice")
    started = frozen_clock.now
    for _ in range(8 * 24):
        frozen_clock.advance(hours=1)
        if web.get("/account").status_code != 200:
            break
    else:
        pytest.fail("session outlived its absolute expiry")
    assert timedelta(days=7) <= frozen_clock.now - started <= timedelta(days=7, hours=1)  # a week, no longer


def test_delete_account_asks_for_the_password(web):
    web.register("alice")
    page = body(web.get("/account/delete"))
    assert "Orders you placed are kept" in page
    wrong = web.post_form("/account/delete", {"password": "nope nope nope"}, csrf_page="/account/delete")
    assert wrong.status_code == 400
    assert "That password is not right." in body(wrong)
    assert web.get("/account").status_code == 200


def test_delete_account_ends_every_session_and_frees_the_name(web, other_web):
    web.register("alice")
    assert other_web.login("alice").status_code == 303
    response = web.post_form("/account/delete", {"password": PASSWORD}, csrf_page="/account/delete")
    assert response.status_code == 303
    assert "Your account and its personal data are deleted" in body(web.get("/"))
    assert other_web.get("/account").status_code == 303  # the other device is logged out too
    assert Session.count() == 0
    assert other_web.login("alice").status_code == 401
    assert other_web.register("alice").status_code == 303


def test_account_pages_are_not_cached(web):
    web.register("alice")
    assert web.get("/account").headers["Cache-Control"] == "no-store"
