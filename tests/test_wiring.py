"""The app's wiring is explicit (chalicelib.wiring.wire): exactly these handlers, steps and hooks,
the same after a second call, and none from merely importing a module."""

import json
import os
import subprocess
import sys
from pathlib import Path

from chalicelib import streams, wiring
from chalicelib.blueprints import account as account_pages
from chalicelib.services import (
    accounts,
    back_in_stock,
    cart_session,
    catalogue_index,
    dashboard,
    mailer,
    orders,
    return_reasons,
    reviews,
)
from chalicelib.web import my_size

ROOT = Path(__file__).resolve().parent.parent


def _fresh_python(code: str) -> dict:
    """Run `code` in a new interpreter with in-process moto and the test tables; its last line
    of output is JSON."""
    env = {key: value for key, value in os.environ.items() if key not in ("SSM_PREFIX", "AWS_ENDPOINT_URL")}
    env.update({"TABLE_PREFIX": "shoeshop-wiringtest-", "BCRYPT_ROUNDS": "4", "AWS_DEFAULT_REGION": "us-east-1"})
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_wire_connects_exactly_the_apps_handlers_and_a_second_call_changes_nothing():
    for _ in range(2):
        wiring.wire()
        assert streams.consumers("shoes") == (catalogue_index.apply_changes, dashboard.on_shoe_changes)
        assert streams.consumers("stock") == (
            catalogue_index.apply_changes,
            back_in_stock.on_stock_changes,
            dashboard.on_stock_changes,
        )
        assert streams.consumers("orders") == (dashboard.on_order_changes, return_reasons.on_order_changes)
        assert streams.consumers("outbox") == (mailer.send_changes,)
        assert streams.consumers("reviews") == (reviews.on_review_changes,)
        assert accounts.deletion_steps() == (accounts.discard_cart, reviews.anonymise_reviews, orders.detach_orders)
        assert tuple(account_pages.after_login_hooks) == (cart_session.merge_after_login, my_size.adopt_after_login)


def test_importing_every_module_registers_nothing():
    code = """
import importlib, json, pkgutil
import chalicelib
for module in pkgutil.walk_packages(chalicelib.__path__, "chalicelib."):
    if module.name != "chalicelib.wiring":
        importlib.import_module(module.name)
from chalicelib.blueprints import account
from chalicelib import streams
from chalicelib.services import accounts
print(json.dumps({
    "stream_consumers": {table: len(streams.consumers(table)) for table in ("shoes", "stock", "orders")},
    "deletion_steps": len(accounts.deletion_steps()),
    "login_hooks": len(account.after_login_hooks),
}))
"""
    seen = _fresh_python(code)
    assert seen == {"stream_consumers": {"shoes": 0, "stock": 0, "orders": 0}, "deletion_steps": 0, "login_hooks": 0}


def test_deleting_an_account_detaches_its_orders_even_where_services_orders_was_never_imported():
    """A process that is not the web app (an operator command, a worker) used to delete accounts
    without the order-detaching step: it was registered only when services/orders got imported."""
    code = """
import json, os, sys
os.environ.update({"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_REGION": "us-east-1"})
from moto import mock_aws
with mock_aws():
    from devtools.tables import create_tables
    create_tables()
    from chalicelib.models import Order
    from chalicelib.services import accounts, cart, checkout
    from tests.factories import make_shoe
    password = "correct horse battery"
    user = accounts.register(accounts.Registration("carol", "carol@example.com", password, password))
    checkout.save_address(user, checkout.clean_address({
        "full_name": "Carol Example", "line1": "1 Main Street", "city": "Dublin", "postal_code": "D02 X285",
        "country": "IE",
    }))
    shoe = make_shoe(stock={"42": 3})
    cart.add_item(cart.user_owner(user.user_id), shoe.shoe_id, "42", "1")
    order_id = checkout.place_order(user, "key-wiring-0001").order.order_id
    imported_first = "chalicelib.services.orders" in sys.modules
    from chalicelib import wiring
    wiring.wire()  # what every entry point does: app.py, manage.py, bench, the tests
    accounts.delete_account(accounts.get_user(user.user_id), password)
    order = Order.get(order_id)
    seen = {"imported_first": imported_first, "user_id": order.user_id, "address": order.address is not None}
    print(json.dumps(seen))
"""
    seen = _fresh_python(code)
    assert seen == {"imported_first": False, "user_id": None, "address": False}
