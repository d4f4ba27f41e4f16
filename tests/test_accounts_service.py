"""Account rules, tested on the service functions directly."""

import pytest

from chalicelib.models import UniqueClaim, User
from chalicelib.services import accounts, limits, passwords
from chalicelib.services.errors import ValidationFailed
from tests.factories import registration


def errors_for(form) -> dict:
    with pytest.raises(ValidationFailed) as caught:
        accounts.register(form)
    return caught.value.errors


def test_register_stores_user_and_both_claims():
    user = accounts.register(registration("Alice", "Alice@Example.com"))
    assert User.get(User.key_for(user.user_id)).username == "Alice"
    assert UniqueClaim.get("USERNAME#alice").user_id == user.user_id
    assert UniqueClaim.get("EMAIL#alice@example.com").user_id == user.user_id
    assert user.password_hash.startswith("$2b$")
    assert "correct horse" not in user.password_hash


@pytest.mark.parametrize(
    ("username", "message"),
    [
        ("", "Enter a username."),
        ("ab", "Use 3 to 30"),
        ("a" * 31, "Use 3 to 30"),
        ("bad name", "Use 3 to 30"),
        ("<script>", "Use 3 to 30"),
    ],
)
def test_username_rules(username, message):
    assert message in errors_for(registration(username=username, email="x@example.com"))["username"]


@pytest.mark.parametrize("email", ["", "no-at-sign", "a@b", "a b@example.com", "x@" + "d" * 250 + ".com"])
def test_email_must_look_real(email):
    assert "email" in errors_for(registration(email=email or " "))


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("short", "at least 8"),
        ("p" * 257, "at most 256"),
        ("password123", "too common"),
        ("Qwertyuiop", "too common"),
    ],
)
def test_password_rules(password, message):
    assert message in errors_for(registration(password=password))["password"]


def test_passwords_must_match():
    errors = errors_for(registration(password="correct horse battery", confirm="correct horse batterx"))
    assert errors == {"confirm_password": "The passwords do not match."}


def test_every_error_is_reported_at_once():
    errors = errors_for(accounts.Registration("a", "nope", "short", "other"))
    assert set(errors) == {"username", "email", "password", "confirm_password"}


def test_username_is_unique_ignoring_case():
    accounts.register(registration("alice"))
    errors = errors_for(registration("ALICE", email="other@example.com"))
    assert errors == {"username": "That username is taken. Choose another."}


def test_email_is_unique_ignoring_case():
    accounts.register(registration("alice", "alice@example.com"))
    errors = errors_for(registration("bob", email="ALICE@EXAMPLE.COM"))
    assert set(errors) == {"email"}


def test_failed_registration_writes_nothing():
    accounts.register(registration("alice", "alice@example.com"))
    errors_for(registration("bob", email="alice@example.com"))
    with pytest.raises(UniqueClaim.DoesNotExist):
        UniqueClaim.get("USERNAME#bob")


def test_login_by_username_or_email_any_case():
    user = accounts.register(registration("alice"))
    assert accounts.authenticate("alice", "correct horse battery").user_id == user.user_id
    assert accounts.authenticate("ALICE@example.com", "correct horse battery").user_id == user.user_id


def test_long_passphrases_are_not_truncated():
    long_password = "staple " * 20  # 140 characters, past bcrypt's 72 bytes
    accounts.register(registration("alice", password=long_password))
    assert accounts.authenticate("alice", long_password)
    with pytest.raises(accounts.LoginFailed):
        accounts.authenticate("alice", long_password[:72])


def test_unknown_user_and_wrong_password_fail_the_same_way_with_one_bcrypt_check(monkeypatch):
    accounts.register(registration("alice"))
    checks = []
    real_checkpw = passwords.bcrypt.checkpw
    monkeypatch.setattr(passwords.bcrypt, "checkpw", lambda *a: checks.append(1) or real_checkpw(*a))
    messages = []
    for identifier in ("alice", "nobody"):
        with pytest.raises(accounts.LoginFailed) as caught:
            accounts.authenticate(identifier, "wrong password here")
        messages.append(caught.value.message)
    assert messages[0] == messages[1]
    assert len(checks) == 2  # exactly one check per attempt, for the unknown user too


def test_guesses_from_one_client_get_growing_delays_and_a_success_resets_them(frozen_clock):
    accounts.register(registration("alice"))
    client = accounts.LoginClient(ip="203.0.113.9")
    for _ in range(3):  # free attempts
        with pytest.raises(accounts.LoginFailed):
            accounts.authenticate("alice", "wrong password", client)
    waits = []
    for _ in range(3):
        with pytest.raises(limits.RateLimited) as caught:  # even the right password waits
            accounts.authenticate("alice", "correct horse battery", client)
        waits.append(caught.value.retry_after)
        frozen_clock.advance(seconds=caught.value.retry_after)
        with pytest.raises(accounts.LoginFailed):
            accounts.authenticate("alice", "wrong password", client)
    assert waits == [2, 4, 8]  # doubling
    frozen_clock.advance(seconds=16)
    assert accounts.authenticate("alice", "correct horse battery", client).username == "alice"
    for _ in range(3):  # the success started the pair afresh
        with pytest.raises(accounts.LoginFailed):
            accounts.authenticate("alice", "wrong password", client)


def test_delays_are_forgotten_a_window_after_the_last_wait(frozen_clock):
    accounts.register(registration("alice"))
    client = accounts.LoginClient(ip="203.0.113.9")
    for _ in range(2):
        for _ in range(3):
            with pytest.raises(accounts.LoginFailed):
                accounts.authenticate("alice", "wrong password", client)
        frozen_clock.advance(minutes=16)
    assert accounts.authenticate("alice", "correct horse battery", client)


def test_the_delays_are_per_account(frozen_clock):
    accounts.register(registration("alice"))
    accounts.register(registration("bob"))
    client = accounts.LoginClient(ip="203.0.113.9")
    for _ in range(3):
        with pytest.raises(accounts.LoginFailed):
            accounts.authenticate("alice", "wrong password", client)
    assert accounts.authenticate("bob", "correct horse battery", client)


def test_delete_account_needs_the_password_and_removes_everything():
    user = accounts.register(registration("alice"))
    with pytest.raises(ValidationFailed):
        accounts.delete_account(user, "wrong password")
    assert User.get(user.pk)
    accounts.delete_account(user, "correct horse battery")
    for key in (user.pk, "USERNAME#alice", "EMAIL#alice@example.com"):
        with pytest.raises(User.DoesNotExist):
            User.get(key)
    # The name is free again.
    accounts.register(registration("alice"))


def test_admins_are_separate_from_shoppers():
    accounts.create_admin("boss", "boss@example.com", "admin password 1")
    assert accounts.authenticate_admin("BOSS", "admin password 1").username == "boss"
    with pytest.raises(accounts.LoginFailed):
        accounts.authenticate("boss", "admin password 1")
    with pytest.raises(ValidationFailed):
        accounts.create_admin("boss", "boss2@example.com", "admin password 2")


def test_production_bcrypt_cost_is_12(monkeypatch):
    import json
    from pathlib import Path

    from chalicelib import config

    monkeypatch.delenv("BCRYPT_ROUNDS")
    config.get_settings.cache_clear()
    try:
        assert config.get_settings().bcrypt_rounds == 12
    finally:
        config.get_settings.cache_clear()
    stages = json.loads((Path(__file__).parent.parent / ".chalice" / "config.json").read_text())["stages"]
    assert {stage["environment_variables"]["BCRYPT_ROUNDS"] for stage in stages.values()} == {"12"}
