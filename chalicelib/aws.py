"""AWS clients, created lazily once per warm Lambda (never at import) and replaceable in tests."""

import os
from functools import lru_cache
from typing import Any

# 3 attempts x (2 s connect + 5 s read) plus backoff stays under 25 s, inside API Gateway's 29 s.
# The read timeout is a setting (AWS_READ_TIMEOUT_SECONDS): the local moto stack is far slower.
CONNECT_TIMEOUT_SECONDS = 2
MAX_ATTEMPTS = 3


@lru_cache(maxsize=1)
def botocore_session() -> Any:
    import botocore.session

    return botocore.session.get_session()


def _client_config(**extra: Any) -> Any:
    from botocore.config import Config

    from chalicelib.config import get_settings

    return Config(
        connect_timeout=CONNECT_TIMEOUT_SECONDS,
        read_timeout=get_settings().aws_read_timeout_seconds,
        retries={"mode": "standard", "total_max_attempts": MAX_ATTEMPTS},
        **extra,
    )


_clients: dict[str, Any] = {}


def dynamodb_client() -> Any:
    """The single DynamoDB client every PynamoDB model and transaction shares."""
    if "dynamodb" not in _clients:
        from chalicelib.config import get_settings

        _clients["dynamodb"] = botocore_session().create_client(
            "dynamodb",
            region_name=get_settings().region,
            config=_client_config(parameter_validation=False),
        )
    return _clients["dynamodb"]


def local_endpoint_url() -> str:
    """The local AWS stand-in (moto server) when one is configured, else ""."""
    return os.environ.get("AWS_ENDPOINT_URL", "").rstrip("/")


def bucket_origin(bucket: str, region: str) -> str:
    """The bucket's own virtual-hosted origin in AWS: every S3 URL the browser gets (presigned GETs
    and upload POSTs) is on it, so the CSP can name this host and no other bucket's."""
    return f"https://{bucket}.s3.{region}.amazonaws.com"


def s3_client() -> Any:
    """boto3's S3 client (boto3 adds generate_presigned_post); imported only when a route needs S3.
    In AWS: virtual-hosted URLs on the regional endpoint (bucket_origin; botocore would otherwise
    use the global `<bucket>.s3.amazonaws.com` in us-east-1). Locally: path style on the endpoint."""
    if "s3" not in _clients:
        import boto3

        from chalicelib.config import get_settings

        region = get_settings().region
        if local_endpoint_url():
            endpoint_url, style = None, "path"  # botocore takes AWS_ENDPOINT_URL itself
        else:
            endpoint_url, style = f"https://s3.{region}.amazonaws.com", "virtual"
        _clients["s3"] = boto3.session.Session().client(
            "s3",
            region_name=region,
            endpoint_url=endpoint_url,
            config=_client_config(signature_version="s3v4", s3={"addressing_style": style}),
        )
    return _clients["s3"]


def ssm_client() -> Any:
    if "ssm" not in _clients:
        from chalicelib.config import get_settings

        _clients["ssm"] = botocore_session().create_client(
            "ssm", region_name=get_settings().region, config=_client_config()
        )
    return _clients["ssm"]


def sesv2_client() -> Any:
    """SES v2, for the outbox's sender only (never on a request's path: requests only enqueue)."""
    if "sesv2" not in _clients:
        from chalicelib.config import get_settings

        _clients["sesv2"] = botocore_session().create_client(
            "sesv2", region_name=get_settings().region, config=_client_config()
        )
    return _clients["sesv2"]


def set_client(name: str, client: Any) -> None:
    """Replace a client (tests inject stubs); None forgets it so the next call builds a new one."""
    if client is None:
        _clients.pop(name, None)
    else:
        _clients[name] = client


def reset_clients() -> None:
    _clients.clear()
    botocore_session.cache_clear()
