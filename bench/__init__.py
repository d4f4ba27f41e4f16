"""Benchmarks, run on demand (`python -m bench`); figures go in docs/benchmarks.md."""

import os

BENCH_ENVIRONMENT = {
    "AWS_ACCESS_KEY_ID": "bench",
    "AWS_SECRET_ACCESS_KEY": "bench",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
    "STAGE": "bench",
    "TABLE_PREFIX": "shoeshop-bench-",
    "UPLOAD_BUCKET": "shoeshop-bench-uploads",
}


def use_bench_environment(**extra: str) -> None:
    """In-process moto settings for a benchmark (set before the app is imported)."""
    os.environ.update({**BENCH_ENVIRONMENT, **extra})
    os.environ.pop("AWS_ENDPOINT_URL", None)
    os.environ.pop("SSM_PREFIX", None)
