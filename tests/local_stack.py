"""The real local stack, as `make run` starts it: `manage.py run` in a subprocess on free ports,
with its state folder (stack record, saved data, admin password) in a temporary directory, so a
developer's own `.local/` is never touched.

Used by the browser journeys, the schemathesis run and tests/test_local_stack.py. The stack gets a
clean environment: the in-process test settings (moto mock credentials, test table names, cheap
bcrypt) are not passed on, so the server runs with the local defaults and the production bcrypt
cost, as a developer's does.
"""

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from chalicelib.config import APP_LIMIT_VARIABLES

ROOT = Path(__file__).resolve().parent.parent
ADMIN_USERNAME = "stackadmin"
ADMIN_PASSWORD = "a long admin passphrase"  # local moto stack only; made up per run
START_TIMEOUT_SECONDS = 60
STOP_TIMEOUT_SECONDS = 60  # a clean stop saves every table, object and parameter first
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
    "LOCAL_STATE_DIR",
)


@dataclass(frozen=True)
class LocalStack:
    base_url: str
    aws_url: str
    admin_username: str
    admin_password: str
    log_path: Path
    state_dir: Path

    def url(self, path: str) -> str:
        return self.base_url + path

    def manage(self, *args: str, stdin: str = "") -> subprocess.CompletedProcess:
        """`python manage.py --local ...` in another process, as a developer runs it beside `make run`."""
        return subprocess.run(
            [sys.executable, "manage.py", "--local", *args],
            cwd=ROOT,
            env=clean_environment(LOCAL_STATE_DIR=str(self.state_dir)),
            input=stdin,
            capture_output=True,
            text=True,
            timeout=600,
        )


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


def clean_environment(**extra: str) -> dict[str, str]:
    """This environment without the in-process test settings, plus `extra`."""
    env = {key: value for key, value in os.environ.items() if key not in _TEST_ONLY_VARIABLES}
    return {**env, "PYTHONUNBUFFERED": "1", **extra}


# Every journey of the run comes from one address to one session-wide stack: the app limits
# (tested in-process, tests/test_limits.py) must not turn later journeys into 429s.
NO_APP_LIMITS = dict.fromkeys(APP_LIMIT_VARIABLES, "100000")


def _stack_environment(port: int, aws_port: int, state_dir: Path) -> dict[str, str]:
    return clean_environment(
        PORT=str(port),
        LOCAL_AWS_PORT=str(aws_port),
        LOCAL_ADMIN_USERNAME=ADMIN_USERNAME,
        LOCAL_ADMIN_PASSWORD=ADMIN_PASSWORD,
        LOCAL_STATE_DIR=str(state_dir),
        **NO_APP_LIMITS,
    )


@contextmanager
def running_stack(state_dir: Path, log_path: Path, *arguments: str) -> Iterator[LocalStack]:
    """`manage.py run` until the block ends, then a clean stop (SIGTERM, as Ctrl-C would: the
    data is saved into `state_dir` for the next start)."""
    port, aws_port = _free_port(), _free_port()
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            [sys.executable, "manage.py", "run", *arguments],
            cwd=ROOT,
            env=_stack_environment(port, aws_port, state_dir),
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
                state_dir=state_dir,
            )
        finally:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=STOP_TIMEOUT_SECONDS)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@pytest.fixture(scope="session")
def local_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    folder = tmp_path_factory.mktemp("stack")
    with running_stack(folder / "state", folder / "stack.log") as stack:
        yield stack
