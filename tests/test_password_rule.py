"""The one rule for every new password (validation.password_problem), and where it is applied."""

import pytest

from chalicelib.services import accounts, passwords
from chalicelib.services.validation import password_problem


def problem(password: str, *, admin: bool = False) -> str | None:
    return password_problem(
        password, passwords.common_passwords(), username="walker", email="j.walker@example.com", admin=admin
    )


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("aaaaaaaa", "more than one or two different characters"),
        ("abababababab", "more than one or two different characters"),
        (" " * 8, "only spaces"),
        ("\t \t \t \t ", "only spaces"),
        ("Stride Shoes", "username, email or the shop's name"),
        ("stride2026", "username, email or the shop's name"),
        ("StrideShoes!!", "username, email or the shop's name"),
        ("walker123", "username, email or the shop's name"),
        ("Walker-Walker", "username, email or the shop's name"),
        ("j.walker@example.com", "username, email or the shop's name"),
        ("jwalker2024", "username, email or the shop's name"),
        ("password", "too common"),
        ("iloveyou", "too common"),
        ("sunshine", "too common"),
        ("Trustno1", "too common"),
        ("1qaz2wsx", "too common"),
        ("P@ssw0rd", "too common"),
        ("qwertyuiop", "too common"),
        ("short", "at least 8"),
        ("x" * 257, "at most 256"),
    ],
)
def test_weak_passwords_are_refused_with_the_reason(password, message):
    found = problem(password)
    assert found is not None and message in found


@pytest.mark.parametrize(
    "password",
    [
        "correct horse battery",
        "walking in new shoes",  # the shop's word inside a real passphrase is fine
        "Tr0mbone-Seahorse-77",
        "my walker climbs hills daily",
        "mañana über café",
        ("grey heron by the canal at dawn " * 9)[:256],  # the longest allowed
    ],
)
def test_real_passphrases_are_accepted(password):
    assert problem(password) is None


def test_the_common_list_is_large_and_read_only_when_a_password_is_set():
    accounts.register(
        accounts.Registration("alice", "alice@example.com", "correct horse battery", "correct horse battery")
    )
    passwords.common_passwords.cache_clear()
    accounts.authenticate("alice", "correct horse battery")
    assert passwords.common_passwords.cache_info().currsize == 0  # a login never reads the list
    common = passwords.common_passwords()
    assert len(common) > 10_000
    assert all(len(entry) >= 8 for entry in common)


def test_admins_need_twelve_characters():
    assert problem("Quiet-Otter-9", admin=True) is None
    assert "at least 12" in (problem("Quiet-Otter", admin=True) or "")
    assert problem("Quiet-Otter") is None


def test_create_admin_applies_the_admin_rule_and_the_username():
    from chalicelib.services.errors import ValidationFailed

    with pytest.raises(ValidationFailed) as short:
        accounts.create_admin("boss", "boss@example.com", "Quiet-Otter")
    assert "at least 12" in short.value.errors["password"]
    with pytest.raises(ValidationFailed) as personal:
        accounts.create_admin("manager", "boss@example.com", "Manager2026!!")
    assert "username, email or the shop's name" in personal.value.errors["password"]


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("aaaaaaaa", "more than one or two different characters"),
        ("        ", "only spaces"),
        ("Stride Shoes", "the shop&#39;s name"),
        ("alice2026", "the shop&#39;s name"),
    ],
)
def test_registration_shows_the_reason_beside_the_password_field(web, password, message):
    response = web.register("alice", password=password)
    page = response.body.decode()
    assert response.status_code == 400
    error = page.split('id="field-password-error"', 1)[1].split("</", 1)[0]
    assert message in error
    assert web.login("alice", password).status_code == 401
