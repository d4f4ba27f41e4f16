"""The one rule for every new password (validation.password_problem), and where it is applied."""

from pathlib import Path

import pytest

from chalicelib.services import accounts
from chalicelib.services.validation import password_problem

ROOT = Path(__file__).resolve().parent.parent


def problem(password: str, *, admin: bool = False) -> str | None:
    return password_problem(password, username="walker", email="j.walker@example.com", admin=admin)


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
        ("password", "too common or too easy to guess"),
        ("iloveyou", "too common or too easy to guess"),
        ("sunshine", "too common or too easy to guess"),
        ("Trustno1", "too common or too easy to guess"),
        ("1qaz2wsx", "too common or too easy to guess"),
        ("P@ssw0rd", "too common or too easy to guess"),
        ("qwertyuiop", "too common or too easy to guess"),
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


def test_import_app_does_not_load_zxcvbn():
    import subprocess
    import sys

    script = "import sys, app\nassert 'zxcvbn' not in sys.modules, 'import app loaded zxcvbn'\n"
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert result.returncode == 0, result.stderr


def test_a_login_does_not_run_the_strength_check(web, other_web, monkeypatch):
    from chalicelib.services import validation

    web.register("alice")

    def refuse(password: str, words: list[str]) -> int:
        raise AssertionError("a login ran zxcvbn")

    monkeypatch.setattr(validation, "_guessability_score", refuse)
    assert other_web.login("alice").status_code == 303


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
