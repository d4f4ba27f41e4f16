"""DynamoDB calls, capacity units and app time per route: the inputs of the cost estimate in
docs/operations.md.

    python -m bench.route_costs [--repeat 15] [--products 500]

Runs the app in-process against moto (mock_aws) with bcrypt at the deployed cost (12), a seeded
catalogue, a shopper with a 5-line cart and order history, and an admin (bench/shop.py), and
measures every kind of page view with the same meter as `python -m bench` (bench/harness.py):
operations, items read, read and write capacity units (computed from what is read and written,
see `_read_units`/`_write_units`), and app-side time (request minus time inside AWS calls). In
Lambda each DynamoDB call adds a few milliseconds of waiting, which the estimate adds separately.
"""

import argparse
import statistics
import sys
import time
from urllib.parse import urlencode

from bench import use_bench_environment
from chalicelib.config import APP_LIMIT_VARIABLES

# Many wrong passwords in a row from one address are the point here, not the app limits.
use_bench_environment(BCRYPT_ROUNDS="12", **dict.fromkeys(APP_LIMIT_VARIABLES, "100000"))

FORM = {"content-type": "application/x-www-form-urlencoded"}


def _login_form(password: str):
    def before(context) -> None:
        from bench.harness import Browser

        anonymous: Browser = context.values["anonymous"]
        anonymous.cookies.clear()
        token = Browser.field(anonymous.page("/login"), "csrf_token")
        context.values["login_form"] = urlencode({"identifier": "bencher", "password": password, "csrf_token": token})

    return before


def _product_path(shoe_id: str) -> str:
    """The shoe's canonical page (the bare id answers 301)."""
    from chalicelib.product_links import product_path
    from chalicelib.services.shoes import get_shoe

    return product_path(get_shoe(shoe_id, consistent_read=False))


def _fresh_add(context) -> None:
    """Remove the line the measured request adds back, and read a CSRF token, outside the measurement."""
    from bench.harness import Browser

    shopper: Browser = context.values["shopper"]
    shoe_id, size = context.values["cart_keys"][0]
    shopper.post_form("/cart/remove", {"line_id": f"{shoe_id}#{size}"}, "/cart")
    token = Browser.field(shopper.page("/cart"), "csrf_token")
    context.values["add_form"] = urlencode({"shoe_id": shoe_id, "size": size, "quantity": "1", "csrf_token": token})


def scenarios() -> list:
    from bench import shop
    from bench.harness import Scenario

    def as_role(role: str):
        return lambda context: context.values[role].cookie_header()

    def posting(role: str):
        return lambda context: {**FORM, **context.values[role].cookie_header()}

    by_name = {scenario.name: scenario for scenario in shop.SCENARIOS}
    return [
        Scenario("GET / (anonymous)", "/"),
        Scenario("GET / (signed in)", "/", headers=as_role("shopper")),
        Scenario("GET /?size=42 (filtered, warm read model)", "/?size=42"),
        Scenario("GET /shoes/{id}", lambda context: _product_path(context.values["cart_keys"][0][0])),
        Scenario("GET /cart (5 lines)", "/cart", headers=as_role("shopper")),
        Scenario(
            "POST /cart/items (add to cart, 5 lines)",
            "/cart/items",
            method="POST",
            body=lambda context: context.values["add_form"],
            headers=posting("shopper"),
            before_each=_fresh_add,
            expect_status=303,
        ),
        _renamed(by_name[f"place order, {shop.CART_LINES} lines"], "POST /checkout/place (5 lines)"),
        Scenario("GET /orders", "/orders", headers=as_role("shopper")),
        Scenario("GET /orders/{id}", lambda context: context.values["order_path"], headers=as_role("shopper")),
        Scenario("GET /account", "/account", headers=as_role("shopper")),
        Scenario("GET /login (anonymous)", "/login"),
        _login("POST /login (right password)", shop.SHOPPER_PASSWORD, 303),
        _login("POST /login (wrong password)", "not the password at all", 401),
        Scenario("GET /admin/shoes", "/admin/shoes", headers=as_role("admin")),
        Scenario("GET /admin/orders", "/admin/orders", headers=as_role("admin")),
    ]


def _login(name: str, password: str, status: int):
    from bench.harness import Scenario

    return Scenario(
        name,
        "/login",
        method="POST",
        body=lambda context: context.values["login_form"],
        headers=lambda context: {**FORM, **context.values["anonymous"].cookie_header()},
        before_each=_login_form(password),
        expect_status=status,
    )


def _renamed(scenario, name: str):
    from dataclasses import replace

    return replace(scenario, name=name)


def measure(client, scenario, context, repeat: int, meter) -> dict:
    rows = []
    for index in range(repeat + 2):  # 2 warm-up requests
        if scenario.before_each:
            scenario.before_each(context)
        body = scenario.resolve(scenario.body, context)
        headers = {"host": "127.0.0.1:8000", **scenario.resolve(scenario.headers, context)}
        path = scenario.resolve(scenario.path, context)
        meter.reset()
        started = time.perf_counter()
        response = client.http.request(scenario.method, path, headers=headers, body=body)
        elapsed = time.perf_counter() - started
        assert response.status_code == scenario.expect_status, (scenario.name, response.status_code)
        if index >= 2:
            rows.append((dict(meter.calls), meter.read_units, meter.write_units, (elapsed - meter.aws_seconds) * 1000))
    calls = rows[len(rows) // 2][0]
    return {
        "calls": calls,
        "read_units": statistics.median(row[1] for row in rows),
        "write_units": statistics.median(row[2] for row in rows),
        "app_ms": statistics.median(row[3] for row in rows),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.route_costs")
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--products", type=int, default=500)
    args = parser.parse_args(argv)

    import logging

    from chalice.test import Client
    from moto import mock_aws

    with mock_aws():
        from chalicelib import aws

        aws.reset_clients()
        from devtools.tables import create_bucket, create_tables

        create_tables()
        create_bucket()
        from app import app
        from bench import shop
        from bench.harness import AwsMeter, BenchContext, Browser
        from devtools.demo import seed_demo

        logging.getLogger("shoeshop").setLevel(logging.WARNING)
        seed_demo(args.products)
        with Client(app) as client, AwsMeter() as meter:
            context = BenchContext(catalogue_size=args.products)
            shop.prepare(client, context)
            context.values["anonymous"] = Browser(client)
            print(
                "| route | DynamoDB calls per request | read units | write units | app-side ms, median |\n"
                "|---|---|---:|---:|---:|"
            )
            for scenario in scenarios():
                row = measure(client, scenario, context, args.repeat, meter)
                shown = ", ".join(f"{name} {count}" for name, count in sorted(row["calls"].items())) or "none"
                print(
                    f"| {scenario.name} | {shown} | {row['read_units']:g} | {row['write_units']:g} "
                    f"| {row['app_ms']:.1f} |"
                )
    return 0


if __name__ == "__main__":
    sys.exit(main())
