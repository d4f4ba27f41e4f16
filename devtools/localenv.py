"""The local environment: the same variables the app reads in Lambda, pointed at a moto server.

`manage.py run` (what `make run` does) records where its local AWS listens in the state folder
(`.local/` at the repository root, or `LOCAL_STATE_DIR`), so other processes (`manage.py --local`,
tests, benchmarks) talk to the same stack with the same settings, and read the same secrets from
the local SSM the way a Lambda reads them from SSM.
"""

import json
import os
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
STATE_DIR_VARIABLE = "LOCAL_STATE_DIR"
STACK_FILE = "stack.json"
ADMIN_PASSWORD_FILE = "admin-password"

LOCAL_DEFAULTS = {
    "AWS_ACCESS_KEY_ID": "local",
    "AWS_SECRET_ACCESS_KEY": "local",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
    "STAGE": "local",
    "TABLE_PREFIX": "shoeshop-local-",
    "UPLOAD_BUCKET": "shoeshop-local-uploads",
    "SSM_PREFIX": "/shoeshop/local",
    "URL_PREFIX": "",
    # moto answers a Query over a few thousand items in seconds (DynamoDB in milliseconds): processes
    # using the local AWS wait this long for an answer instead of the deployed 5 s.
    "AWS_READ_TIMEOUT_SECONDS": "60",
    # One shopper's "runs small" is enough for the local fit summary (and size suggestion) to show,
    # so a single demo review shows it on `make run`; deployed stages default to 5.
    "FIT_SUMMARY_MIN_ANSWERS": "1",
}
# What a process needs to talk to the running stack: the defaults above plus the endpoint.
STACK_VARIABLES = (*LOCAL_DEFAULTS, "AWS_ENDPOINT_URL", "SHOP_URL")

NO_STACK_MESSAGE = (
    "No local stack is running{where}. Start one with `make run` in another terminal "
    "(manage.py --local never falls back to real AWS)."
)


class NoLocalStack(Exception):
    """manage.py --local without a running `make run` (manage.py prints it and exits with 2)."""


def state_dir() -> Path:
    """Where the local stack keeps its record, snapshot and admin password (ignored by git)."""
    return Path(os.environ.get(STATE_DIR_VARIABLE) or ROOT / ".local")


def private_dir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    path.chmod(0o700)
    return path


def write_private(path: Path, text: str) -> None:
    """A file only its owner can read (the snapshot and password hold secrets)."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(text)
    path.chmod(0o600)


def apply_local_defaults() -> None:
    """Fill in what is not set already (an operator's own settings win)."""
    for key, value in LOCAL_DEFAULTS.items():
        os.environ.setdefault(key, value)
    _reload_settings()


def _reload_settings() -> None:
    """Settings and AWS clients follow the environment as it is now (clients keep their timeouts)."""
    from chalicelib import aws
    from chalicelib.config import get_settings

    get_settings.cache_clear()
    aws.reset_clients()


@dataclass(frozen=True)
class StackRecord:
    shop_url: str
    aws_endpoint: str
    pid: int
    environment: dict[str, str]


def record_stack(shop_url: str) -> Path:
    """Written by `manage.py run` once the stack serves; removed on a clean stop."""
    record = {
        "shop_url": shop_url,
        "aws_endpoint": os.environ["AWS_ENDPOINT_URL"],
        "pid": os.getpid(),
        "environment": {key: os.environ[key] for key in STACK_VARIABLES if key in os.environ},
    }
    path = private_dir(state_dir()) / STACK_FILE
    write_private(path, json.dumps(record, indent=2) + "\n")
    return path


def forget_stack() -> None:
    path = state_dir() / STACK_FILE
    try:
        record = json.loads(path.read_text())
    except (OSError, ValueError):
        return
    if record.get("pid") == os.getpid():
        path.unlink(missing_ok=True)


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def answers(url: str) -> bool:
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 80), timeout=1):
            return True
    except OSError:
        return False


def running_stack() -> StackRecord | None:
    """The stack `make run` recorded in the state folder, if it is still up."""
    try:
        record = json.loads((state_dir() / STACK_FILE).read_text())
        stack = StackRecord(record["shop_url"], record["aws_endpoint"], int(record["pid"]), record["environment"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if not _process_alive(stack.pid) or not answers(stack.aws_endpoint):
        return None
    return stack


def use_running_stack() -> StackRecord:
    """Point this process at the running local stack (its endpoint, tables, bucket and SSM prefix),
    or exit with a clear message: never fall through to whatever AWS account the shell has."""
    stack = running_stack()
    if stack is None:
        raise NoLocalStack(NO_STACK_MESSAGE.format(where=f" (nothing live recorded in {state_dir() / STACK_FILE})"))
    os.environ.update(stack.environment)
    _reload_settings()
    return stack


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_local_aws(port: int) -> Any:
    """An in-process moto server (DynamoDB, S3, SSM) bound to loopback only."""
    import logging

    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per AWS call is noise here

    if not port_is_free(port):
        raise SystemExit(
            f"Port {port} is taken: set LOCAL_AWS_PORT to a free port, or AWS_ENDPOINT_URL to a running moto server."
        )
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    os.environ["AWS_ENDPOINT_URL"] = f"http://127.0.0.1:{port}"
    return server


def ensure_secrets() -> list[str]:
    """The signing key and pepper as SecureStrings under SSM_PREFIX, created once and never
    overwritten (a new pepper would lock every local account out). Returns the names created."""
    from botocore.exceptions import ClientError

    from chalicelib.aws import ssm_client
    from chalicelib.config import get_settings
    from infra.secret import NAMES, generate_secret

    prefix = get_settings().ssm_prefix.rstrip("/")
    created = []
    for name in NAMES:
        try:
            ssm_client().put_parameter(
                Name=f"{prefix}/{name}", Type="SecureString", Value=generate_secret(), Overwrite=False
            )
            created.append(name)
        except ClientError as error:
            if error.response["Error"]["Code"] != "ParameterAlreadyExists":
                raise
    return created


def ensure_resources(cors_origins: list[str] | None = None) -> None:
    """Tables and bucket (idempotent), with CORS so the browser can POST uploads to the bucket."""
    from devtools.tables import create_bucket, create_tables

    create_tables()
    create_bucket()
    if cors_origins:
        from chalicelib.aws import s3_client
        from chalicelib.config import get_settings

        s3_client().put_bucket_cors(
            Bucket=get_settings().upload_bucket,
            CORSConfiguration={
                "CORSRules": [
                    {
                        "AllowedOrigins": cors_origins,
                        "AllowedMethods": ["POST", "GET"],
                        "AllowedHeaders": ["*"],
                        "MaxAgeSeconds": 3000,
                    }
                ]
            },
        )


@dataclass(frozen=True)
class CardPayments:
    mode: str  # "stand-in" or "stripe test mode"
    standin: Any  # devtools.stripe_standin.StandIn when mode is "stand-in"


def _put_secret(name: str, value: str, overwrite: bool) -> None:
    from botocore.exceptions import ClientError

    from chalicelib.aws import ssm_client
    from chalicelib.config import get_settings

    prefix = get_settings().ssm_prefix.rstrip("/")
    try:
        ssm_client().put_parameter(Name=f"{prefix}/{name}", Type="SecureString", Value=value, Overwrite=overwrite)
    except ClientError as error:
        if error.response["Error"]["Code"] != "ParameterAlreadyExists":
            raise


def start_card_payments(shop_url: str, port: int) -> CardPayments:
    """Real Stripe test keys in STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET: the shop talks to
    Stripe's test mode (webhooks forwarded by `stripe listen`). Otherwise the local stand-in on
    `port` with keys made up for this run, and the shop's stripe client pointed at it."""
    from chalicelib import secrets
    from chalicelib.secrets import STRIPE_SECRET_KEY_NAME, STRIPE_WEBHOOK_SECRET_NAME
    from devtools.stripe_standin import StandIn, http_deliverer

    real_key, real_secret = os.environ.get("STRIPE_SECRET_KEY", ""), os.environ.get("STRIPE_WEBHOOK_SECRET", "")
    if real_key and real_secret:
        os.environ.pop("STRIPE_API_BASE", None)
        values, standin, mode = (real_key, real_secret), None, "stripe test mode"
    else:
        values = (f"sk_test_local_{_random_token()}", f"whsec_local_{_random_token()}")
        standin = StandIn(values[0], values[1], http_deliverer(f"{shop_url}/webhooks/stripe"), port=port).serve()
        os.environ["STRIPE_API_BASE"] = standin.base_url
        mode = "stand-in"
    # Into the local SSM, where the app reads them as a deployed Lambda does (overwritten each run).
    _put_secret(STRIPE_SECRET_KEY_NAME, values[0], overwrite=True)
    _put_secret(STRIPE_WEBHOOK_SECRET_NAME, values[1], overwrite=True)
    _reload_settings()
    secrets.reset_secrets()
    return CardPayments(mode=mode, standin=standin)


def _random_token() -> str:
    import secrets as random

    return random.token_hex(12)
