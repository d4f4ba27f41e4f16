"""The operator helpers behind the make targets: stage environments and new SSM secrets."""

import base64
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _run(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, capture_output=True, text=True, timeout=60, env=env or dict(os.environ)
    )


@pytest.mark.parametrize("stage", ["dev", "prod"])
def test_stage_env_runs_a_command_with_the_stages_names_and_never_a_local_endpoint(stage):
    env = {**os.environ, "AWS_ENDPOINT_URL": "http://127.0.0.1:4566"}
    code = "import os, json; print(json.dumps(dict(os.environ)))"
    result = _run("-m", "infra.stage_env", stage, sys.executable, "-c", code, env=env)
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout)
    assert seen["TABLE_PREFIX"] == f"shoeshop-{stage}-"
    assert seen["SSM_PREFIX"] == f"/shoeshop/{stage}"
    assert seen["BCRYPT_ROUNDS"] == "12"
    assert "AWS_ENDPOINT_URL" not in seen


def test_stage_env_refuses_an_unknown_stage():
    result = _run("-m", "infra.stage_env", "staging", "true")
    assert result.returncode != 0 and "unknown stage" in result.stderr


def test_new_secret_is_a_secure_string_for_the_stage_and_never_overwrites_by_default():
    first = json.loads(_run("-m", "infra.secret", "prod", "password-pepper").stdout)
    second = json.loads(_run("-m", "infra.secret", "prod", "password-pepper").stdout)
    assert first["Name"] == "/shoeshop/prod/password-pepper"
    assert first["Type"] == "SecureString" and first["Overwrite"] is False
    assert len(base64.b64decode(first["Value"])) == 32 and first["Value"] != second["Value"]
    rotated = json.loads(_run("-m", "infra.secret", "prod", "signing-key", "--overwrite").stdout)
    assert rotated["Overwrite"] is True and rotated["Name"] == "/shoeshop/prod/signing-key"


def test_make_targets_build_the_documented_commands():
    result = subprocess.run(
        ["make", "-n", "deploy-data", "STAGE=prod", "UPLOAD_ORIGIN=https://shop.example.com"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "--stack-name shoeshop-prod-data --template-file infra/data.json" in result.stdout
    assert "Stage=prod UploadOrigin=https://shop.example.com" in result.stdout
    refused = subprocess.run(["make", "deploy", "STAGE=qa"], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert refused.returncode != 0 and "STAGE must be dev or prod" in refused.stderr


FAKE_AWS = """#!/bin/sh
cat > "$FAKE_LOG"
case "$FAKE" in
  exists) echo "An error occurred (ParameterAlreadyExists) when calling the PutParameter operation" >&2; exit 254;;
  fail) echo "Unable to locate credentials" >&2; exit 253;;
esac
echo '{"Version": 1}'
"""


@pytest.mark.parametrize(
    ("outcome", "status", "said"),
    [("ok", 0, "created /shoeshop/dev/password-pepper"), ("exists", 0, "kept existing"), ("fail", 2, "credentials")],
)
def test_make_secrets_creates_once_keeps_existing_and_reports_real_errors(tmp_path, outcome, status, said):
    fake = tmp_path / "aws"
    fake.write_text(FAKE_AWS)
    fake.chmod(0o755)
    log = tmp_path / "input.json"
    env = {**os.environ, "FAKE": outcome, "FAKE_LOG": str(log)}
    result = subprocess.run(
        ["make", "-s", "secrets", "STAGE=dev", f"AWS={fake}", f"BIN={Path(sys.executable).parent}", "STAMP="],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == status, result.stdout + result.stderr
    assert said in result.stdout + result.stderr
    sent = json.loads(log.read_text())
    assert sent["Type"] == "SecureString" and sent["Overwrite"] is False
    assert sent["Value"] not in result.stdout + result.stderr  # the secret is never echoed


ROTATION_FAKE_AWS = """#!/bin/sh
case "$1 $2" in
  "ssm get-parameter")
    echo "$*" >> "$FAKE_LOG.calls"
    if [ "$FAKE" = "fail" ]; then echo "Unable to locate credentials" >&2; exit 253; fi
    printf '%s\\n' "$CURRENT";;
  "ssm put-parameter") cat > "$FAKE_LOG"; echo "put" >> "$FAKE_LOG.calls"; echo '{"Version": 2}';;
  "lambda update-function-configuration") echo "recycle" >> "$FAKE_LOG.calls"; echo '{}';;
  *) echo "unexpected: $*" >&2; exit 1;;
esac
"""


def _rotate(tmp_path: Path, current: str, outcome: str = "ok") -> tuple[subprocess.CompletedProcess, Path]:
    fake = tmp_path / "aws"
    fake.write_text(ROTATION_FAKE_AWS)
    fake.chmod(0o755)
    log = tmp_path / "input.json"
    env = {**os.environ, "FAKE": outcome, "FAKE_LOG": str(log), "CURRENT": current}
    result = subprocess.run(
        [
            "make",
            "-s",
            "rotate-signing-key",
            "STAGE=prod",
            f"AWS={fake}",
            f"BIN={Path(sys.executable).parent}",
            "STAMP=",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    return result, log


def test_rotating_the_signing_key_puts_a_new_key_first_and_keeps_only_the_previous_one(tmp_path):
    previous, older = (base64.b64encode(bytes([n]) * 32).decode() for n in (1, 2))
    result, log = _rotate(tmp_path, f"{previous},{older}")
    assert result.returncode == 0, result.stdout + result.stderr
    sent = json.loads(log.read_text())
    assert sent["Name"] == "/shoeshop/prod/signing-key" and sent["Type"] == "SecureString" and sent["Overwrite"]
    new, kept = sent["Value"].split(",")
    assert kept == previous and new not in (previous, older) and len(base64.b64decode(new)) == 32
    calls = (tmp_path / "input.json.calls").read_text().splitlines()
    assert "--with-decryption" in calls[0] and "/shoeshop/prod/signing-key" in calls[0]
    assert calls[1:] == ["put", "recycle"]
    assert new not in result.stdout + result.stderr and previous not in result.stdout + result.stderr


def test_a_rotation_that_cannot_read_the_current_key_changes_nothing(tmp_path):
    result, log = _rotate(tmp_path, "", outcome="fail")
    assert result.returncode != 0
    assert not log.exists() or not log.read_text().strip()  # nothing was put
    assert "recycle" not in (tmp_path / "input.json.calls").read_text()
