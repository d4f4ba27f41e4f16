"""DynamoDB calls and app time per route, the inputs of the cost estimate in docs/operations.md.

    python -m bench.route_costs [--runs 15]

Runs the app in-process against moto (mock_aws) with bcrypt at the deployed cost (12), counts the
DynamoDB operations each request makes (a before-call hook on the shared client) and reports the
median wall time per route. Under moto, AWS calls cost about a millisecond each; in Lambda they
cost a few milliseconds each (same region), which the estimate adds separately.
"""

import os
import statistics
import sys
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
        "UPLOAD_BUCKET": "shoeshop-bench-uploads",
        "BCRYPT_ROUNDS": "12",
    }
)
os.environ.pop("AWS_ENDPOINT_URL", None)
os.environ.pop("SSM_PREFIX", None)


def main() -> None:
    runs = int(sys.argv[sys.argv.index("--runs") + 1]) if "--runs" in sys.argv else 15
    from chalice.test import Client
    from moto import mock_aws

    with mock_aws():
        from chalicelib import aws
        from devtools.tables import create_bucket, create_tables

        create_tables()
        create_bucket()
        calls: Counter = Counter()
        aws.dynamodb_client().meta.events.register(
            "before-call.dynamodb", lambda model, **_: calls.update([model.name])
        )
        from app import app
        from tests.conftest import WebClient

        with Client(app) as client:
            web = WebClient(client)
            assert web.register("bench", password="bench passphrase 1").status_code == 303  # noqa: S106
            routes = {
                "GET / (signed in)": lambda: web.get("/"),
                "GET /account": lambda: web.get("/account"),
                "GET /login (anonymous)": lambda: anonymous.get("/login"),
                "POST /login (right password)": lambda: anonymous.login("bench", "bench passphrase 1"),
                "POST /login (wrong password)": lambda: anonymous.login("bench", "wrong passphrase 1"),
            }
            anonymous = WebClient(client)
            print("| route | DynamoDB calls per request | app time, median ms |\n|---|---|---:|")
            for label, request in routes.items():
                anonymous.cookies.clear()
                timings = []
                for _ in range(runs):
                    if "POST /login" in label:
                        anonymous.cookies.clear()
                        anonymous.get("/login")  # its CSRF cookie, outside the measured call counts
                    calls.clear()
                    started = time.perf_counter()
                    request()
                    timings.append((time.perf_counter() - started) * 1000)
                    per_request = dict(calls)
                    if "POST /login (wrong" in label:
                        # reset the failure counter so the lockout never kicks in during the bench
                        from chalicelib.models import UniqueClaim, User

                        claim = UniqueClaim.get(UniqueClaim.username_key("bench"))
                        User.get(User.key_for(claim.user_id)).update(actions=[User.failed_logins.set(0)])
                shown = ", ".join(f"{name} {count}" for name, count in sorted(per_request.items())) or "none"
                print(f"| {label} | {shown} | {statistics.median(timings):.1f} |")


if __name__ == "__main__":
    main()
