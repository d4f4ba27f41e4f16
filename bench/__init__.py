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
    """In-process moto settings for a benchmark, and the models bound to its tables."""
    os.environ.update({**BENCH_ENVIRONMENT, **extra})
    os.environ.pop("AWS_ENDPOINT_URL", None)
    os.environ.pop("SSM_PREFIX", None)
    from chalicelib.config import get_settings
    from chalicelib.models import bind_tables

    get_settings.cache_clear()
    bind_tables(get_settings())
