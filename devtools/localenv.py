"""The local environment: the same variables the app reads in Lambda, pointed at a moto server."""

import os
import secrets as _random
import socket
from typing import Any

LOCAL_DEFAULTS = {
    "AWS_ACCESS_KEY_ID": "local",
    "AWS_SECRET_ACCESS_KEY": "local",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
    "STAGE": "local",
    "TABLE_PREFIX": "shoeshop-local-",
    "UPLOAD_BUCKET": "shoeshop-local-uploads",
    "URL_PREFIX": "",
}


def apply_local_defaults() -> None:
    """Fill in what is not set already (an operator's own settings win)."""
    for key, value in LOCAL_DEFAULTS.items():
        os.environ.setdefault(key, value)
    # Local signing key and pepper: generated per run, never committed.
    for key in ("APP_SIGNING_KEY", "APP_PASSWORD_PEPPER"):
        if not os.environ.get(key):
            import base64

            os.environ[key] = base64.b64encode(_random.token_bytes(32)).decode()


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
