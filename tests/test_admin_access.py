"""An admin session holds only while its admin exists, is enabled and keeps its password."""

import json

import pytest

from chalicelib.models import Admin, Session
from chalicelib.services import accounts, admins
from chalicelib.services.sessions import hash_token
from tests.factories import make_admin

API_SHOES = "/api/v1/admin/shoes"


def _session_of(web) -> Session | None:
    try:
        return Session.get(hash_token(web.cookies["sid"]))
    except (Session.DoesNotExist, KeyError):
        return None


def _refused(web) -> None:
    """Pages go to the admin login with the session ended; the API answers 401."""
    page = web.get("/admin/shoes")
    assert page.status_code == 303 and page.headers["Location"].startswith("/admin")
    assert "sid" not in web.cookies  # the cookie was expired too
    assert "Back office log in" in web.get("/admin").body.decode()


def _api_refused(web) -> None:
    response = web.get(API_SHOES)
    assert response.status_code == 401
    assert json.loads(response.body)["error"]["code"] == "NotAuthenticated"


def test_an_open_session_works_until_the_admin_is_disabled(admin):
    assert admin.get("/admin/shoes").status_code == 200
    assert admin.get(API_SHOES).status_code == 200
    admin_record = Admin.get("boss")
    admin_record.update(actions=[Admin.disabled.set(True)])  # disabled without ending sessions:
    _api_refused(admin)  # the guard alone refuses, on the very next request
    _refused(admin)


def test_disable_admin_ends_the_open_session_at_once(admin):
    token_hash = hash_token(admin.cookies["sid"])
    make_admin("deputy")  # the shop keeps an enabled owner
    assert admins.disable_admin("boss") == 1
    with pytest.raises(Session.DoesNotExist):
        Session.get(token_hash)
    _refused(admin)


def test_a_deleted_admins_session_is_refused_and_ended(admin):
    token_hash = hash_token(admin.cookies["sid"])
    Admin.get("boss").delete()
    _refused(admin)
    with pytest.raises(Session.DoesNotExist):
        Session.get(token_hash)


def test_a_session_older_than_the_password_is_refused(frozen_clock, admin):
    frozen_clock.advance(minutes=1)
    Admin.get("boss").update(actions=[Admin.password_changed_at.set(frozen_clock.now)])  # sessions left in place
    _api_refused(admin)


def test_after_a_password_change_the_new_password_logs_in_and_the_old_does_not(admin, other_web):
    admins.set_admin_password("boss", "a fresh admin passphrase")
    _refused(admin)
    assert other_web.admin_login(password="admin password 1").status_code == 401
    assert other_web.admin_login(password="a fresh admin passphrase").status_code == 303
    assert other_web.get("/admin/shoes").status_code == 200


def test_a_disabled_admin_cannot_log_in_until_enabled(web, admin_account):
    make_admin("deputy")  # the shop keeps an enabled owner
    admins.disable_admin("boss")
    response = web.admin_login()
    assert response.status_code == 401
    assert accounts.LOGIN_FAILED_MESSAGE in response.body.decode()  # the same answer as a wrong password
    admins.enable_admin("boss")
    assert web.admin_login().status_code == 303
    assert web.get("/admin/shoes").status_code == 200


def test_shoppers_are_still_forbidden_not_sent_to_log_in(shopper):
    assert shopper.get("/admin/shoes").status_code == 403


def test_admin_sessions_idle_out_after_thirty_minutes(frozen_clock, admin):
    frozen_clock.advance(minutes=29)
    assert admin.get("/admin/shoes").status_code == 200  # activity refreshes the idle timer
    frozen_clock.advance(minutes=29)
    assert admin.get("/admin/shoes").status_code == 200
    frozen_clock.advance(minutes=31)
    assert admin.get("/admin/shoes").status_code == 303


def test_shopper_sessions_keep_the_longer_idle_timeout(frozen_clock, shopper):
    frozen_clock.advance(minutes=90)
    assert shopper.get("/account").status_code == 200


def test_session_admin_reads_the_record_each_time(admin_account):
    _, session = _start_admin_session()
    assert admins.session_admin(session).username == "boss"
    admin_account.update(actions=[Admin.disabled.set(True)])
    assert admins.session_admin(session) is None


def _start_admin_session():
    from chalicelib.services.sessions import ADMIN, start_session

    return start_session(ADMIN, "boss")


def test_unknown_admins_are_reported():
    with pytest.raises(admins.AdminNotFound):
        admins.disable_admin("nobody")
    with pytest.raises(admins.AdminNotFound):
        admins.enable_admin("nobody")
    with pytest.raises(admins.AdminNotFound):
        admins.set_admin_password("nobody", "a fresh admin passphrase")
    assert not list(Admin.scan())  # nothing was created by the failed updates


def test_set_admin_password_applies_the_admin_rule(admin_account):
    from chalicelib.services.errors import ValidationFailed

    with pytest.raises(ValidationFailed) as error:
        admins.set_admin_password("boss", "Boss-2026-boss")
    assert "username, email or the shop's name" in error.value.errors["password"]
    assert accounts.authenticate_admin("boss", "admin password 1").username == "boss"


def test_admin_changes_are_logged_as_security_events_without_the_password(admin_account, caplog):
    caplog.set_level("INFO", logger="shoeshop")
    make_admin("deputy")  # the shop keeps an enabled owner
    admins.disable_admin("boss")
    admins.enable_admin("boss")
    admins.set_admin_password("boss", "a much longer admin passphrase 2")
    entries = [json.loads(r.getMessage()) for r in caplog.records if r.getMessage().startswith("{")]
    changes = [(e["action"], e["target"], e["admin"]) for e in entries if e.get("event") == "admin_action"]
    assert changes == [
        ("admin.disable", "boss", "operator"),
        ("admin.enable", "boss", "operator"),
        ("admin.set_password", "boss", "operator"),
    ]
    assert "a much longer admin passphrase 2" not in caplog.text
