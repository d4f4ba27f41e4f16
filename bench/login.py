"""Login time at the production bcrypt cost (12), in process against moto.

Times the service (`authenticate`: one claim read, one user read, one bcrypt check) and the whole
POST /login through Chalice's test client, for a right password, a wrong one and an unknown user
(the last two must cost the same as the first: no account enumeration by timing).

    python -m bench.login [--runs 15] [--rounds 12]
"""

import argparse
import contextlib
import statistics
import sys
import time

from bench import use_bench_environment
from chalicelib.config import APP_LIMIT_VARIABLES


def _setup_environment(rounds: int) -> None:
    # Many wrong passwords in a row from one address are the point here, not the app limits.
    use_bench_environment(BCRYPT_ROUNDS=str(rounds), **dict.fromkeys(APP_LIMIT_VARIABLES, "100000"))


def _interleaved_ms(actions: dict, runs: int) -> dict[str, tuple[float, float]]:
    """Median and p90 per action, the actions taking turns so machine noise hits all alike."""
    times: dict[str, list[float]] = {name: [] for name in actions}
    for _ in range(runs):
        for name, action in actions.items():
            started = time.perf_counter()
            action()
            times[name].append((time.perf_counter() - started) * 1000)
    result = {}
    for name, samples in times.items():
        samples.sort()
        result[name] = (statistics.median(samples), samples[min(len(samples) - 1, int(len(samples) * 0.9))])
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--rounds", type=int, default=12)
    args = parser.parse_args(argv)
    _setup_environment(args.rounds)

    from urllib.parse import urlencode

    from moto import mock_aws

    with mock_aws():
        from chalice.test import Client

        from chalicelib.services import accounts, passwords
        from devtools.tables import create_bucket, create_tables

        create_tables()
        create_bucket()
        password = "a long enough bench password"
        started = time.perf_counter()
        accounts.register(accounts.Registration("bencher", "bench@example.com", password, password))
        register_ms = (time.perf_counter() - started) * 1000
        passwords.burn_equal_time("warm the dummy hash")  # computed once per warm Lambda

        def attempt(identifier: str, secret: str):
            def run():
                with contextlib.suppress(accounts.LoginFailed):
                    accounts.authenticate(identifier, secret)

            return run

        service = {
            "service: right password": attempt("bencher", password),
            "service: wrong password": attempt("bencher", "not the password"),
            "service: unknown user": attempt("nobody", password),
            "bcrypt check alone (the floor)": lambda: passwords.burn_equal_time(password),
        }
        from app import app

        with Client(app) as client:
            headers = {"host": "127.0.0.1", "content-type": "application/x-www-form-urlencoded"}

            def post_login():
                page = client.http.get("/login", headers={"host": "127.0.0.1"})
                anon = page.headers["Set-Cookie"]
                anon = (anon[0] if isinstance(anon, list) else anon).split(";", 1)[0]
                token = page.body.decode().split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
                body = urlencode({"identifier": "bencher", "password": password, "csrf_token": token})
                response = client.http.post("/login", headers={**headers, "cookie": anon}, body=body)
                assert response.status_code == 303, response.status_code

            rows = _interleaved_ms({**service, "GET /login + POST /login (whole requests)": post_login}, args.runs)

    print(f"Login at bcrypt cost {args.rounds}, {args.runs} interleaved runs each, in process against moto")
    print()
    print("| What | Median | p90 |")
    print("|---|---|---|")
    for name, (median, p90) in rows.items():
        print(f"| {name} | {median:.0f} ms | {p90:.0f} ms |")
    print(f"| register (one bcrypt hash + one transaction), single run | {register_ms:.0f} ms | |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
