"""Cart page and place-order cost: DynamoDB calls, items read, and the app's own time.

Run: `.venv/bin/python -m bench.cart_checkout`. Uses in-process moto, so AWS time is not
DynamoDB's: the time spent inside AWS calls is measured and subtracted, leaving the app's share.
"""

import os
import statistics
import time
from collections import Counter

os.environ.update(
    {
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
        "STAGE": "bench",
        "TABLE_PREFIX": "shoeshop-bench-",
        "BCRYPT_ROUNDS": "4",
    }
)
os.environ.pop("AWS_ENDPOINT_URL", None)

RUNS = 40


class CallClock:
    """Counts DynamoDB operations and the time spent inside them (before-call → after-call)."""

    def __init__(self) -> None:
        self.calls: Counter = Counter()
        self.aws_seconds = 0.0
        self._started = 0.0

    def before(self, model, **_kwargs) -> None:
        self.calls[model.name] += 1
        self._started = time.perf_counter()

    def after(self, **_kwargs) -> None:
        self.aws_seconds += time.perf_counter() - self._started


def main() -> None:
    from moto import mock_aws

    with mock_aws():
        from chalice.test import Client

        from app import app
        from chalicelib import aws
        from devtools.tables import create_bucket, create_tables
        from tests.cart_fixtures import make_shoe
        from tests.conftest import WebClient

        aws.reset_clients()
        create_tables()
        create_bucket()
        shoes = [make_shoe(stock={str(size): 1000 for size in range(36, 48)}) for _ in range(3)]
        keys = [(shoe.shoe_id, str(size)) for shoe in shoes for size in range(36, 48)][:25]
        clock = CallClock()
        events = aws.dynamodb_client().meta.events
        events.register("before-call.dynamodb.*", clock.before)
        events.register("after-call.dynamodb.*", clock.after)
        with Client(app) as client:
            web = WebClient(client)
            web.register("bench")
            for shoe_id, size in keys:
                web.post_form("/cart/items", {"shoe_id": shoe_id, "size": size, "quantity": "1"}, csrf_page="/cart")
            web.get("/cart")
            print(f"cart page, {len(keys)} lines")
            report(lambda: web.get("/cart"), clock)
            web.post_form(
                "/checkout",
                {"full_name": "B", "line1": "1 St", "city": "X", "postal_code": "12345", "country": "US"},
                csrf_page="/cart",
            )
            import re

            def place() -> None:
                review = web.get("/checkout/review").body.decode()
                key = re.search(r'name="idempotency_key" value="([^"]+)"', review).group(1)
                token = re.search(r'name="csrf_token" value="([^"]+)"', review).group(1)
                clock.calls.clear()
                clock.aws_seconds = 0.0
                started = time.perf_counter()
                web.post_form("/checkout/place", {"idempotency_key": key}, csrf=token)
                place.samples.append((time.perf_counter() - started - clock.aws_seconds) * 1000)
                place.calls = dict(clock.calls)
                for shoe_id, size in keys:  # refill the cart for the next run
                    web.post_form("/cart/items", {"shoe_id": shoe_id, "size": size, "quantity": "1"}, csrf=token)

            place.samples = []
            for _ in range(10):
                place()
            print(f"place order, {len(keys)} lines")
            print(f"  DynamoDB calls: {place.calls}")
            print(f"  app time (ms, median of {len(place.samples)}): {statistics.median(place.samples):.1f}")


def report(request, clock: CallClock) -> None:
    samples = []
    for _ in range(RUNS):
        clock.calls.clear()
        clock.aws_seconds = 0.0
        started = time.perf_counter()
        request()
        samples.append((time.perf_counter() - started - clock.aws_seconds) * 1000)
    print(f"  DynamoDB calls per request: {dict(clock.calls)}")
    median, p90 = statistics.median(samples), sorted(samples)[int(RUNS * 0.9)]
    print(f"  app time (ms, median of {RUNS}): {median:.1f}, p90 {p90:.1f}")


if __name__ == "__main__":
    main()
