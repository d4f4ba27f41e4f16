"""Run the benchmarks: `python -m bench [--sizes 500,5000] [--repeat 20] [--only TEXT]`.

Seeds each catalogue size into in-process moto (fresh tables each time), sends every scenario
through chalice.test.Client and prints a Markdown table of DynamoDB calls, items read and
app-side time. Other areas add a module with `SCENARIOS` (and optionally `prepare`) and list it
in SCENARIO_MODULES.
"""

import argparse
import importlib
import sys
import time

from bench import use_bench_environment

SCENARIO_MODULES = ["bench.catalogue", "bench.shop"]

use_bench_environment()


def _fresh_tables() -> None:
    from chalicelib.models import TABLE_MODELS
    from devtools.tables import create_tables

    for model in TABLE_MODELS:
        if model.exists():
            model.delete_table()
    create_tables()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("--sizes", default="500,5000", help="catalogue sizes, comma separated")
    parser.add_argument("--repeat", type=int, default=20, help="measured requests per scenario (fewer for slow ones)")
    parser.add_argument("--only", default="", help="run scenarios whose name contains this text")
    args = parser.parse_args(argv)

    import logging

    from chalice.test import Client
    from moto import mock_aws

    from bench.harness import BenchContext, format_table, run_scenarios

    results = []
    run_started = time.perf_counter()
    with mock_aws():
        from chalicelib import aws

        aws.reset_clients()
        from devtools.tables import create_bucket

        create_bucket()
        from app import app
        from chalicelib import wiring

        wiring.wire()  # app.py did it already; said here because seed_demo's events rely on it

        logging.getLogger("shoeshop").setLevel(logging.WARNING)  # no access log line per request
        from devtools.demo import seed_demo

        for size in [int(value) for value in args.sizes.split(",")]:
            _fresh_tables()
            started = time.perf_counter()
            seed_demo(size)
            print(f"seeded {size} products in {time.perf_counter() - started:.1f} s", file=sys.stderr)
            with Client(app) as client:
                context = BenchContext(catalogue_size=size)
                for module_name in SCENARIO_MODULES:
                    module = importlib.import_module(module_name)
                    if hasattr(module, "prepare"):
                        module.prepare(client, context)
                    if hasattr(module, "check"):
                        module.check(client, context)
                    chosen = [s for s in module.SCENARIOS if args.only.casefold() in s.name.casefold()]
                    results += run_scenarios(client, chosen, context, args.repeat)
    print(format_table(results))
    print(f"whole run: {time.perf_counter() - run_started:.0f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
