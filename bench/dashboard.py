"""The admin dashboard's cost against the number of orders, in process against moto.

Seeds N orders directly (BatchWriteItem), brings the counters up to date and measures the
dashboard's reads (DynamoDB calls, items read, read units). The counters are seeded by running the
orders stream consumer on every order (`--apply-up-to`, default 5,000 orders: it also reports the
consumer's own calls per order change); above that they are written in bulk from the same
`order_figures` contributions the consumer applies (at 1,000 orders both ways are compared and must
agree). Run on a checkout of the code before the counters (services.fulfilment still has
`status_counts`), the same script measures the old reads instead: a COUNT Query and a range Query
per status over the `by-status` index.

    python -m bench.dashboard [--orders 1000,100000] [--apply-up-to 5000]
"""

import argparse
import sys
import time
import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from bench import use_bench_environment
from chalicelib import clock

STATUS_CYCLE = ("placed",) * 5 + ("shipped",) * 2 + ("delivered",) * 2 + ("cancelled",)


def _order_item(n: int, now: Any) -> dict[str, Any]:
    from chalicelib.models.orders import status_shard

    order_id = uuid.UUID(int=n).hex[-20:]
    created = now - timedelta(minutes=n * 17 % (30 * 24 * 60))  # spread over the last 30 days
    stamp = clock.sortable(created)
    status = STATUS_CYCLE[n % len(STATUS_CYCLE)]
    return {
        "order_id": {"S": order_id},
        "user_id": {"S": f"user{n % 500}"},
        "status": {"S": status},
        "status_shard": {"S": status_shard(order_id, status)},
        "created_at": {"S": created.strftime("%Y-%m-%dT%H:%M:%S.%f+0000")},
        "created_sort": {"S": f"{stamp}#{order_id}"},
        "updated_at": {"S": created.strftime("%Y-%m-%dT%H:%M:%S.%f+0000")},
        "lines": {"L": []},
        "subtotal_cents": {"N": "8995"},
        "discount_cents": {"N": "0"},
        "shipping_cents": {"N": "0"},
        "total_cents": {"N": str(5000 + n % 50 * 100)},
        "payment_method": {"S": "pay_on_delivery"},
        "history": {"L": []},
        "version": {"N": "1"},
    }


def _batch_write(table: str, items: list[dict[str, Any]]) -> None:
    from chalicelib.aws import dynamodb_client

    client = dynamodb_client()
    for start in range(0, len(items), 25):
        request = {table: [{"PutRequest": {"Item": item}} for item in items[start : start + 25]]}
        while request:
            request = client.batch_write_item(RequestItems=request).get("UnprocessedItems") or {}


def _plain(item: dict[str, Any]) -> dict[str, Any]:
    from chalicelib import streams

    return {name: streams._plain(next(iter(value.values()))) for name, value in item.items()}


def _bulk_counters(orders: list[dict[str, Any]]) -> dict[str, dict[str, int]]:
    """The counters as the consumer leaves them: the sum of every order's contribution."""
    from chalicelib.services import dashboard

    totals: dict[str, dict[str, int]] = {}
    for order in orders:
        for counter, figures in dashboard.order_figures(_plain(order)).items():
            for name, amount in figures.items():
                totals.setdefault(counter, {})[name] = totals.setdefault(counter, {}).get(name, 0) + amount
    return totals


def _write_bulk_counters(totals: dict[str, dict[str, int]]) -> None:
    from chalicelib.models import Tally

    items = [
        {"key": {"S": counter}, **{name: {"N": str(amount)} for name, amount in figures.items()}}
        for counter, figures in totals.items()
    ]
    _batch_write(str(Tally.Meta.table_name), items)


def _apply_consumer(orders: list[dict[str, Any]], meter: Any) -> float:
    """Run the orders consumer on an INSERT per order; DynamoDB calls per order change."""
    from chalicelib import streams
    from chalicelib.services import dashboard

    meter.reset()
    for n, order in enumerate(orders):
        change = streams.Change(
            "orders", streams.INSERT, {"order_id": order["order_id"]["S"]}, None, _plain(order), str(n + 1)
        )
        dashboard.on_order_changes([change])
    return sum(meter.calls.values()) / max(1, len(orders))


def _measure(read: Callable[[], Any], meter: Any, repeat: int = 3) -> dict[str, Any]:
    timings = []
    for _ in range(repeat):
        meter.reset()
        started = time.perf_counter()
        read()
        timings.append(time.perf_counter() - started - meter.aws_seconds)
    return {
        "calls": dict(meter.calls),
        "items_read": meter.items_read,
        "read_units": round(meter.read_units, 1),
        "app_ms": round(sorted(timings)[len(timings) // 2] * 1000, 2),
    }


def run(count: int, apply_up_to: int) -> dict[str, Any]:
    from bench.harness import AwsMeter
    from chalicelib import clock
    from chalicelib.models import Order
    from chalicelib.services import fulfilment

    now = clock.now()
    orders = [_order_item(n, now) for n in range(count)]
    started = time.perf_counter()
    _batch_write(str(Order.Meta.table_name), orders)
    result: dict[str, Any] = {"orders": count, "seed_s": round(time.perf_counter() - started, 1)}
    with AwsMeter() as meter:
        if hasattr(fulfilment, "status_counts"):  # the code before the counters
            result["code"] = "before (Query per status)"
            result["read"] = _measure(lambda: (fulfilment.status_counts(), fulfilment.recent_totals(7)), meter, 1)
            return result
        from chalicelib.services import dashboard

        result["code"] = "counters"
        if count <= apply_up_to:
            result["consumer_calls_per_order_change"] = round(_apply_consumer(orders, meter), 2)
            applied = dashboard.figures(fulfilment.STATUSES)
            bulk = _bulk_counters(orders)
            expected = {s: bulk["orders-by-status"].get(s, 0) for s in applied.order_counts}
            assert applied.order_counts == expected, (applied, expected)
        else:
            _write_bulk_counters(_bulk_counters(orders))
        result["read"] = _measure(lambda: dashboard.figures(fulfilment.STATUSES), meter)
        result["low_stock_page"] = _measure(lambda: dashboard.low_stock(), meter)
        figures = dashboard.figures(fulfilment.STATUSES)
        result["figures"] = {"order_counts": figures.order_counts, "recent_orders": figures.recent_orders}
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--orders", default="1000,100000")
    parser.add_argument("--apply-up-to", type=int, default=5000)
    args = parser.parse_args(argv)
    use_bench_environment()
    import json
    import logging

    from moto import mock_aws

    logging.disable(logging.INFO)
    for count in [int(part) for part in args.orders.split(",")]:
        with mock_aws():
            from chalicelib import aws
            from devtools.tables import create_tables

            aws.reset_clients()
            create_tables()
            print(json.dumps(run(count, args.apply_up_to)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
