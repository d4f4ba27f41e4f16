"""The base every table model shares: stage-prefixed table names and one shared DynamoDB client."""

import random
import time
from typing import Any

from pynamodb.connection import Connection
from pynamodb.models import Model

from chalicelib.aws import CONNECT_TIMEOUT_SECONDS, READ_TIMEOUT_SECONDS, dynamodb_client
from chalicelib.config import get_settings


def table_meta(short_name: str, **extra: Any) -> type:
    """A PynamoDB Meta for the stage's table; no host, so botocore honours AWS_ENDPOINT_URL."""
    settings = get_settings()
    attrs = {
        "table_name": settings.table_name(short_name),
        "region": settings.region,
        "billing_mode": "PAY_PER_REQUEST",
        "connect_timeout_seconds": CONNECT_TIMEOUT_SECONDS,
        "read_timeout_seconds": READ_TIMEOUT_SECONDS,
        "max_retry_attempts": 2,
    }
    attrs.update(extra)
    return type("Meta", (), attrs)


class StoreModel(Model):
    """All models share one DynamoDB client: PynamoDB would build a botocore session and client per
    model class, tens of milliseconds each on a cold Lambda. Tests hook this client too."""

    @classmethod
    def _get_connection(cls) -> Any:
        table_connection = super()._get_connection()
        connection = table_connection.connection
        if connection._client is None:
            connection._client = dynamodb_client()
        return table_connection


def plain_dict(value: Any) -> dict:
    """A map attribute as a plain dict (PynamoDB loads a raw map as a MapAttribute); None is {}."""
    if value is None:
        return {}
    return value.as_dict() if hasattr(value, "as_dict") else dict(value)


def shared_connection() -> Connection:
    """A Connection for TransactWrite/TransactGet that uses the shared client."""
    connection = Connection(region=get_settings().region)
    connection._client = dynamodb_client()
    return connection


def batch_get_raw(request: dict, attempts: int = 5) -> dict[str, list[dict]]:
    """Raw items per table; keys left unprocessed under load are asked for again after a jittered
    pause, so a busy table costs an extra call rather than a wrong page."""
    found: dict[str, list[dict]] = {table: [] for table in request}
    for attempt in range(attempts):
        answer = dynamodb_client().batch_get_item(RequestItems=request)
        for table, items in answer.get("Responses", {}).items():
            found[table].extend(items)
        request = answer.get("UnprocessedKeys") or {}
        if not request:
            break
        time.sleep(random.uniform(0, 0.05 * 2**attempt))  # noqa: S311 - jitter, not a secret
    return found
