"""The real local stack, as `make run` starts it: `manage.py run` in a subprocess on free ports.

Used by the browser journeys and the schemathesis run. The stack gets a clean environment: the
in-process test settings (moto mock credentials, test table names, cheap bcrypt) are not passed on,
so the server runs with the local defaults and the production bcrypt cost, as a developer's does.
"""

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ADMIN_USERNAME = "stackadmin"
ADMIN_PASSWORD = "a long admin passphrase"  # local moto stack only; made up per run
START_TIMEOUT_SECONDS = 60
# Set by tests/conftest.py for the in-process moto backend; the stack must choose its own.
_TEST_ONLY_VARIABLES = (
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SECURITY_TOKEN",
    "AWS_SESSION_TOKEN",
    "AWS_ENDPOINT_URL",
    "STAGE",
    "TABLE_PREFIX",
    "UPLOAD_BUCKET",
    "BCRYPT_ROUNDS",
    "SSM_PREFIX",
)


@dataclass(frozen=True)
class LocalStack:
    base_url: str
    aws_url: str
    admin_username: str
    admin_password: str
    log_path: Path

    def url(self, path: str) -> str:
        return self.base_url + path


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def _stack_environment(port: int, aws_port: int) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key not in _TEST_ONLY_VARIABLES}
    env.update(
        {
            "PORT": str(port),
            "LOCAL_AWS_PORT": str(aws_port),
            "LOCAL_ADMIN_USERNAME": ADMIN_USERNAME,
            "LOCAL_ADMIN_PASSWORD": ADMIN_PASSWORD,
            "PYTHONUNBUFFERED": "1",
        }
    )
    return env


@pytest.fixture(scope="session")
def local_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    port, aws_port = _free_port(), _free_port()
    log_path = tmp_path_factory.mktemp("stack") / "stack.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "manage.py", "run"],
            cwd=ROOT,
            env=_stack_environment(port, aws_port),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + START_TIMEOUT_SECONDS
            while not _answers(port):
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"the local stack did not start:\n{log_path.read_text(errors='replace')[-4000:]}")
                time.sleep(0.2)
            yield LocalStack(
                base_url=f"http://127.0.0.1:{port}",
                aws_url=f"http://127.0.0.1:{aws_port}",
                admin_username=ADMIN_USERNAME,
                admin_password=ADMIN_PASSWORD,
                log_path=log_path,
            )
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
