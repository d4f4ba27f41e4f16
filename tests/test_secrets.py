"""Secrets come from SSM Parameter Store (SecureString) once per warm Lambda, never at import."""

import base64
import os
import subprocess
import sys
from pathlib import Path

import pytest

from chalicelib import aws, secrets
from chalicelib.config import get_settings

ROOT = Path(__file__).resolve().parent.parent
SIGNING = b"s" * 32
PREVIOUS = b"o" * 32
PEPPER = b"p" * 32


def _b64(value: bytes) -> str:
    return base64.b64encode(value).decode()


class CountingClient:
    """The real (moto) SSM client, counting calls."""

    def __init__(self, client) -> None:
        self.client = client
        self.calls = 0

    def get_parameters(self, **kwargs):
        self.calls += 1
        return self.client.get_parameters(**kwargs)


@pytest.fixture
def ssm_stage(monkeypatch):
    """A deployed-stage configuration: SSM_PREFIX set, parameters stored as SecureString in moto."""
    monkeypatch.setenv("SSM_PREFIX", "/shoeshop/secrettest")
    get_settings.cache_clear()
    secrets.reset_secrets()
    ssm = aws.ssm_client()
    for name, value in ((secrets.SIGNING_KEY_NAME, SIGNING), (secrets.PEPPER_NAME, PEPPER)):
        ssm.put_parameter(
            Name=f"/shoeshop/secrettest/{name}",
            Type="SecureString",
            Value=base64.b64encode(value).decode(),
            Overwrite=True,
        )
    counting = CountingClient(ssm)
    aws.set_client("ssm", counting)
    yield counting
    aws.set_client("ssm", None)
    monkeypatch.delenv("SSM_PREFIX")
    get_settings.cache_clear()
    secrets.reset_secrets()


def test_deployed_stage_reads_secure_strings_from_ssm_once_per_warm_lambda(ssm_stage):
    first = secrets.get_secrets()
    assert first.signing_keys == (SIGNING,) and first.signing_key == SIGNING and first.password_pepper == PEPPER
    assert secrets.get_secrets() is first
    assert ssm_stage.calls == 1


def test_after_a_rotation_the_parameter_holds_the_new_key_then_the_previous_one(ssm_stage):
    value = f"{_b64(SIGNING)},{_b64(PREVIOUS)}"
    aws.ssm_client().client.put_parameter(
        Name="/shoeshop/secrettest/signing-key", Type="SecureString", Value=value, Overwrite=True
    )
    loaded = secrets.get_secrets()
    assert loaded.signing_keys == (SIGNING, PREVIOUS) and loaded.signing_key == SIGNING


def test_the_order_id_key_comes_from_the_pepper_and_not_from_any_signing_key():
    """Order ids must survive a signing-key rotation; the pepper never rotates."""
    one = secrets.Secrets(signing_keys=(SIGNING,), password_pepper=PEPPER)
    rotated = secrets.Secrets(signing_keys=(b"n" * 32, SIGNING), password_pepper=PEPPER)
    other_shop = secrets.Secrets(signing_keys=(SIGNING,), password_pepper=b"q" * 32)
    assert one.order_id_key == rotated.order_id_key != other_shop.order_id_key
    assert len(one.order_id_key) == 32 and one.order_id_key not in (PEPPER, SIGNING)


def test_a_missing_parameter_is_named_in_the_error_without_any_value(ssm_stage):
    aws.ssm_client().client.delete_parameter(Name="/shoeshop/secrettest/password-pepper")
    with pytest.raises(RuntimeError, match="/shoeshop/secrettest/password-pepper") as raised:
        secrets.get_secrets()
    assert base64.b64encode(SIGNING).decode() not in str(raised.value)


def test_local_runs_generate_random_secrets_when_none_are_configured(monkeypatch):
    monkeypatch.delenv("APP_SIGNING_KEY", raising=False)
    monkeypatch.delenv("APP_PASSWORD_PEPPER", raising=False)
    previous = secrets._cached
    secrets.reset_secrets()
    try:
        generated = secrets.get_secrets()
        assert len(generated.signing_keys) == 1 and len(generated.signing_key) == 32
        assert len(generated.password_pepper) == 32
        assert generated.signing_key != generated.password_pepper
        assert secrets.get_secrets() is generated
    finally:
        secrets._cached = previous


def test_importing_the_app_reads_no_secret_and_calls_no_aws():
    """With SSM configured and AWS unreachable, `import app` still succeeds at once, without boto3."""
    env = {
        **os.environ,
        "SSM_PREFIX": "/shoeshop/prod",
        "AWS_ENDPOINT_URL": "http://127.0.0.1:9",
        "AWS_MAX_ATTEMPTS": "1",
    }
    code = (
        "import sys, app, chalicelib.secrets as s; "
        "assert s._cached is None; "
        "assert 'boto3' not in sys.modules; "
        "print('ok')"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and result.stdout.strip() == "ok", result.stderr
