"""The account page's password and email changes, and the email of an account deletion."""

import pytest

from chalicelib.models import UniqueClaim
from chalicelib.services import account_changes, accounts
from tests.factories import PASSWORD, make_user

NEW_PASSWORD = "purple elephant marathon"
CONFIRM_PATH = "/account/email/confirm/"


def body(response) -> str:
    return response.body.decode()


def change_password(client, current=PASSWORD, new=NEW_PASSWORD, confirm=None):
    form = {"current_password": current, "password": new, "confirm_password": confirm or new}
    return client.post_form("/account/password", form, csrf_page="/account/password")


def test_the_account_page_links_to_both_changes(shopper):
    page = body(shopper.get("/account"))
    assert 'href="/account/password"' in page and 'href="/account/email"' in page


def test_changing_the_password_needs_the_current_one(shopper, mailbox):
    response = change_password(shopper, current="not my password")
    assert response.status_code == 400
    assert 'id="field-current_password-error"' in body(response)
    assert mailbox.to("alice@example.com") == []
    response = change_password(shopper, new="password", confirm="password")
    assert response.status_code == 400 and 'id="field-password-error"' in body(response)


def test_a_password_change_ends_other_sessions_and_renews_this_one(shopper, other_web, mailbox):
    assert other_web.login("alice", PASSWORD).status_code == 303
    old_cookie = shopper.cookies["sid"]
    response = change_password(shopper)
    assert response.status_code == 303 and response.headers["Location"] == "/account"
    assert shopper.cookies["sid"] != old_cookie  # a new token for this browser
    account = shopper.get("/account")
    assert account.status_code == 200 and "Your password is changed" in body(account)
    assert other_web.get("/account").status_code == 303  # logged out
    assert [m.kind for m in mailbox.to("alice@example.com")] == ["password_changed"]
    assert "was just changed" in mailbox.to("alice@example.com")[0].text
    with pytest.raises(accounts.LoginFailed):
        accounts.authenticate("alice", PASSWORD)
    assert accounts.authenticate("alice", NEW_PASSWORD).username == "alice"


def request_email_change(client, new_email="alice.new@example.com", password=PASSWORD):
    form = {"new_email": new_email, "current_password": password}
    return client.post_form("/account/email", form, csrf_page="/account/email")


def confirm_path(mailbox, address="alice.new@example.com") -> str:
    [email] = mailbox.to(address, "email_change_confirm")
    return mailbox.link(email, CONFIRM_PATH)


def test_an_email_change_waits_for_the_link_sent_to_the_new_address(shopper, other_web, mailbox):
    response = request_email_change(shopper)
    assert response.status_code == 303
    assert "We sent a link to alice.new@example.com" in body(shopper.get("/account"))
    assert accounts.authenticate("alice@example.com", PASSWORD)  # nothing changed yet
    path = confirm_path(mailbox)

    page = other_web.get(path)  # another browser, not logged in: the link is the proof
    assert page.status_code == 200 and "alice.new@example.com" in body(page)
    assert accounts.authenticate("alice@example.com", PASSWORD)  # a GET changes nothing
    response = other_web.post_form(path, {}, csrf_page=path)
    assert response.status_code == 303 and response.headers["Location"] == "/login"

    assert accounts.authenticate("alice.new@example.com", PASSWORD).username == "alice"
    with pytest.raises(accounts.LoginFailed):
        accounts.authenticate("alice@example.com", PASSWORD)
    assert UniqueClaim.get(UniqueClaim.email_key("alice.new@example.com")).user_id
    with pytest.raises(UniqueClaim.DoesNotExist):
        UniqueClaim.get(UniqueClaim.email_key("alice@example.com"))
    [told] = mailbox.to("alice@example.com", "email_changed")
    assert "alice.new@example.com" in told.text
    assert make_user("bob", email="alice@example.com")  # the old address is free again

    again = other_web.post_form(path, {}, csrf_page="/")
    assert again.status_code == 400 and "not valid" in body(again)


def test_an_email_change_is_refused_for_a_wrong_password_a_taken_or_the_same_address(shopper, mailbox):
    make_user("bob")
    for new_email, password, field in (
        ("alice.new@example.com", "wrong password", "current_password"),
        ("BOB@example.com", PASSWORD, "new_email"),
        ("Alice@Example.com", PASSWORD, "new_email"),
        ("not an address", PASSWORD, "new_email"),
    ):
        response = request_email_change(shopper, new_email, password)
        assert response.status_code == 400, new_email
        assert f'id="field-{field}-error"' in body(response), new_email
    assert [m for m in mailbox.all() if m.kind == "email_change_confirm"] == []


def test_an_address_taken_before_the_confirmation_changes_nothing(shopper, other_web, mailbox):
    request_email_change(shopper)
    path = confirm_path(mailbox)
    bob = make_user("bob", email="alice.new@example.com")
    response = other_web.post_form(path, {}, csrf_page=path)
    assert response.status_code == 400
    assert "now belongs to another account" in body(response)
    assert accounts.authenticate("alice@example.com", PASSWORD).username == "alice"
    assert UniqueClaim.get(UniqueClaim.email_key("alice.new@example.com")).user_id == bob.user_id
    assert mailbox.to("alice@example.com", "email_changed") == []


def test_a_newer_request_invalidates_the_older_link_and_links_expire(shopper, mailbox, frozen_clock):
    request_email_change(shopper, "first@example.com")
    first = confirm_path(mailbox, "first@example.com").removeprefix(CONFIRM_PATH)
    request_email_change(shopper, "second@example.com")
    second = confirm_path(mailbox, "second@example.com").removeprefix(CONFIRM_PATH)
    with pytest.raises(account_changes.InvalidEmailLink):
        account_changes.confirm_email_change(first)
    frozen_clock.advance(hours=24)
    with pytest.raises(account_changes.InvalidEmailLink):
        account_changes.confirm_email_change(second)


@pytest.mark.parametrize("token", ["x", "f" * 32 + "." + "A" * 43, "a" * 3000, "%00"])
def test_malformed_confirmation_links_get_a_clear_page(web, token):
    for response in (web.get(CONFIRM_PATH + token), web.post_form(CONFIRM_PATH + token, {}, csrf_page="/")):
        assert response.status_code in (400, 404), body(response)[:300]
        if response.status_code == 400:
            assert "This confirmation link is not valid" in body(response)


def test_deleting_the_account_emails_its_address(shopper, mailbox):
    form = {"password": PASSWORD}
    response = shopper.post_form("/account/delete", form, csrf_page="/account/delete")
    assert response.status_code == 303
    [email] = mailbox.to("alice@example.com", "account_deleted")
    assert "Your account is deleted" in email.text and "alice" in email.html
