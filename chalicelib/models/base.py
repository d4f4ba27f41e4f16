"""The base every table model shares: stage-prefixed table names and one shared DynamoDB client.

Table names are not read at import: a model knows only its short name until `bind_tables(settings)`
(chalicelib/models/__init__.py) sets the stage's names and region, once per process.
"""

import random
import time
from collections.abc import Iterable
from typing import Any, cast

from pynamodb.connection import Connection, TableConnection
from pynamodb.models import MetaProtocol, Model

from chalicelib.aws import CONNECT_TIMEOUT_SECONDS, dynamodb_client
from chalicelib.config import Settings


class TablesNotBound(RuntimeError):
    """A model was used before bind_tables(): the process has no stage to name its tables after."""


def table_meta(short_name: str, **extra: Any) -> MetaProtocol:
    """A PynamoDB Meta for one of the stage's tables, unbound (table_name None) until bind_tables();
    no host, so botocore honours AWS_ENDPOINT_URL."""
    attrs = {
        "short_table_name": short_name,
        "table_name": None,
        "region": None,
        "billing_mode": "PAY_PER_REQUEST",
        "connect_timeout_seconds": CONNECT_TIMEOUT_SECONDS,
        "max_retry_attempts": 2,
    }
    attrs.update(extra)
    # PynamoDB reads Meta's attributes off the class itself (its MetaProtocol describes exactly these).
    return cast(MetaProtocol, type("Meta", (), attrs))


def short_table_name(model: type[Model]) -> str:
    """The table's name without the stage prefix ("users"), bound or not."""
    return str(model.Meta.short_table_name)  # type: ignore[attr-defined]  # our own Meta field


_bound_region: str | None = None


def bind_models(settings: Settings, models: Iterable[type[Model]]) -> None:
    """Point each model at the stage's table and region. Idempotent; a change of name or region drops
    the model's cached TableConnection (PynamoDB builds it once per class and keeps its region)."""
    global _bound_region
    _bound_region = settings.region
    for model in models:
        meta = model.Meta
        name = settings.table_name(short_table_name(model))
        if meta.table_name != name or meta.region != settings.region:
            meta.table_name = name
            meta.region = settings.region
            model._connection = None


def bound_region() -> str:
    if _bound_region is None:
        raise TablesNotBound("call chalicelib.models.bind_tables(settings) before using a table")
    return _bound_region


class StoreModel(Model):
    """All models share one DynamoDB client: PynamoDB would build a botocore session and client per
    model class, tens of milliseconds each on a cold Lambda. Tests hook this client too."""

    @classmethod
    def _get_connection(cls) -> TableConnection:
        if cls.Meta.table_name is None:
            raise TablesNotBound(f"{cls.__name__}: call chalicelib.models.bind_tables(settings) first")
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
    connection = Connection(region=bound_region())
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
        time.sleep(random.uniform(0, 0.05 * 2**attempt))  # noqa: S311 - jitter, not a secret  # nosec B311
    return found
