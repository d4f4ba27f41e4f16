"""Models get their table names from settings through bind_tables(), never from the import."""

import json
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
from pynamodb.attributes import UnicodeAttribute

from chalicelib.config import get_settings
from chalicelib.models import ALL_MODELS, Shoe, Stock, TablesNotBound, User, bind_tables
from chalicelib.models.base import StoreModel, table_meta

ROOT = Path(__file__).resolve().parent.parent

PROBE = """
import json, os
from chalicelib.models import ALL_MODELS, Shoe, bind_tables
from chalicelib.config import get_settings
import app  # binds to the environment as it is: no TABLE_PREFIX, so the stage default
imported = {model.__name__: model.Meta.table_name for model in ALL_MODELS}
os.environ["TABLE_PREFIX"] = "shoeshop-late-"
os.environ["AWS_REGION"] = "eu-west-1"
get_settings.cache_clear()
bind_tables(get_settings())
bind_tables(get_settings())  # idempotent
connection = Shoe._get_connection()
print(json.dumps({
    "imported": imported,
    "bound": {model.__name__: model.Meta.table_name for model in ALL_MODELS},
    "regions": sorted({model.Meta.region for model in ALL_MODELS}),
    "connection": [connection.table_name, connection.connection.region],
}))
"""


def test_the_app_imports_without_a_table_prefix_and_binds_to_the_one_set_later():
    env = {key: value for key, value in os.environ.items() if key not in ("TABLE_PREFIX", "STAGE", "AWS_REGION")}
    env["AWS_DEFAULT_REGION"] = "us-east-1"
    result = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=True
    )
    found = json.loads(result.stdout)
    assert found["imported"]["Shoe"] == "shoeshop-local-shoes"
    assert found["bound"] == {
        "User": "shoeshop-late-users",
        "UniqueClaim": "shoeshop-late-users",
        "Admin": "shoeshop-late-admins",
        "Session": "shoeshop-late-sessions",
        "Shoe": "shoeshop-late-shoes",
        "Stock": "shoeshop-late-stock",
        "CartLine": "shoeshop-late-carts",
        "CartLineCount": "shoeshop-late-carts",
        "Order": "shoeshop-late-orders",
        "CatalogueIndexPart": "shoeshop-late-catalogue-index",
        "RateCounter": "shoeshop-late-limits",
        "OutboxMessage": "shoeshop-late-outbox",
        "EmailSuppression": "shoeshop-late-outbox",
        "RestockSubscription": "shoeshop-late-restock-subscriptions",
        "RestockWaitCount": "shoeshop-late-restock-subscriptions",
        "PaymentEvent": "shoeshop-late-payments",
        "UnpaidOrderCount": "shoeshop-late-payments",
        "Tally": "shoeshop-late-counters",
        "AuditEntry": "shoeshop-late-audit-log",
        "DiscountCode": "shoeshop-late-pricing",
        "DiscountClaim": "shoeshop-late-pricing",
        "ShippingZoneItem": "shoeshop-late-pricing",
        "OrderNumberClaim": "shoeshop-late-users",
        "Review": "shoeshop-late-reviews",
        "ReviewSummary": "shoeshop-late-reviews",
    }
    assert found["regions"] == ["eu-west-1"]
    # PynamoDB caches a TableConnection per class: the bind dropped the old one.
    assert found["connection"] == ["shoeshop-late-shoes", "eu-west-1"]


def test_rebinding_repoints_cached_connections_and_gsis_and_binding_back_restores_them():
    settings = get_settings()
    before = Shoe._get_connection()
    try:
        bind_tables(replace(settings, table_prefix="shoeshop-other-"))
        assert Shoe._get_connection().table_name == "shoeshop-other-shoes"
        assert Stock.Meta.table_name == "shoeshop-other-stock"
    finally:
        bind_tables(settings)
    assert Shoe._get_connection().table_name == before.table_name == "shoeshop-test-shoes"
    # Binding again with the same settings keeps the cached connection.
    cached = Shoe._get_connection()
    bind_tables(settings)
    assert Shoe._get_connection() is cached
    assert User.Meta.table_name == settings.table_name("users")


def test_an_unbound_model_says_what_to_do_instead_of_calling_a_table_named_none():
    class Unbound(StoreModel):
        Meta = table_meta("nowhere")
        key = UnicodeAttribute(hash_key=True)

    with pytest.raises(TablesNotBound, match="bind_tables"):
        Unbound.get("anything")


def test_every_model_is_bound_in_tests():
    assert all(model.Meta.table_name.startswith("shoeshop-test-") for model in ALL_MODELS)
