"""A reusable harness: count DynamoDB calls and items read per request, and time the app's own share.

App-side time is the request's wall time minus the time spent inside AWS calls (before-call to
after-call on the shared DynamoDB client, the one every PynamoDB model uses). Under moto a Query's
time grows with the table although DynamoDB's does not, so the AWS share is measured and removed.

To benchmark more routes, build `Scenario`s (a name, a path or a function of the `BenchContext`
returning one, optional method, body, headers and a `before_each` hook) and pass them to
`run_scenarios`; see bench/catalogue.py and the SCENARIO_MODULES list in bench/__main__.py.
"""

import statistics
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any


def _items_read(operation: str, parsed: dict) -> int:
    if operation in ("Query", "Scan"):
        return int(parsed.get("ScannedCount", parsed.get("Count", 0)))
    if operation == "GetItem":
        return 1 if parsed.get("Item") else 0
    if operation == "BatchGetItem":
        return sum(len(items) for items in parsed.get("Responses", {}).values())
    if operation == "TransactGetItems":
        return sum(1 for response in parsed.get("Responses", []) if response.get("Item"))
    return 0


class AwsMeter:
    """Counts DynamoDB operations, items read and seconds inside AWS calls on one botocore client."""

    def __init__(self, client: Any = None) -> None:
        if client is None:
            from chalicelib.aws import dynamodb_client

            client = dynamodb_client()
        self.client = client
        self.calls: Counter = Counter()
        self.items_read = 0
        self.aws_seconds = 0.0
        self._started: list[float] = []

    def _before(self, model: Any, **_: Any) -> None:
        self.calls[model.name] += 1
        self._started.append(time.perf_counter())

    def _after(self, model: Any, parsed: dict | None = None, **_: Any) -> None:
        if self._started:
            self.aws_seconds += time.perf_counter() - self._started.pop()
        self.items_read += _items_read(model.name, parsed or {})

    def install(self) -> "AwsMeter":
        events = self.client.meta.events
        events.register("before-call.dynamodb", self._before)
        events.register("after-call.dynamodb", self._after)
        return self

    def uninstall(self) -> None:
        events = self.client.meta.events
        events.unregister("before-call.dynamodb", self._before)
        events.unregister("after-call.dynamodb", self._after)

    def reset(self) -> None:
        self.calls = Counter()
        self.items_read = 0
        self.aws_seconds = 0.0
        self._started = []

    @property
    def total_calls(self) -> int:
        return sum(self.calls.values())

    def __enter__(self) -> "AwsMeter":
        return self.install()

    def __exit__(self, *exc: object) -> None:
        self.uninstall()


@dataclass
class BenchContext:
    """What scenarios may use to build paths: ids and values from the seeded data."""

    catalogue_size: int
    values: dict[str, Any] = field(default_factory=dict)


@dataclass
class Scenario:
    name: str
    path: str | Callable[[BenchContext], str]
    method: str = "GET"
    body: bytes | str | Callable[[BenchContext], bytes | str] = b""
    headers: dict[str, str] | Callable[[BenchContext], dict[str, str]] = field(default_factory=dict)
    before_each: Callable[[BenchContext], None] | None = None
    expect_status: int = 200

    def resolve(self, value: Any, context: BenchContext) -> Any:
        return value(context) if callable(value) else value


@dataclass
class Result:
    scenario: str
    catalogue_size: int
    requests: int
    calls_median: float
    calls_max: int
    operations: dict[str, int]  # per request, from the median request
    items_median: float
    items_max: int
    app_ms_p50: float
    app_ms_p95: float
    total_ms_p50: float


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return 0.0
    position = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[position]


def run_scenario(client: Any, scenario: Scenario, context: BenchContext, repeat: int, meter: AwsMeter) -> Result:
    """Send the scenario `repeat` times through a chalice.test.Client; a wrong status stops the run."""
    calls, items, app_ms, total_ms, operations = [], [], [], [], []
    for _ in range(repeat):
        if scenario.before_each:
            scenario.before_each(context)
        path = scenario.resolve(scenario.path, context)
        body = scenario.resolve(scenario.body, context)
        headers = {"host": "127.0.0.1:8000", **scenario.resolve(scenario.headers, context)}
        meter.reset()
        started = time.perf_counter()
        response = client.http.request(scenario.method, path, headers=headers, body=body)
        elapsed = time.perf_counter() - started
        if response.status_code != scenario.expect_status:
            raise AssertionError(f"{scenario.name}: {path} answered {response.status_code}: {response.body[:500]!r}")
        calls.append(meter.total_calls)
        items.append(meter.items_read)
        operations.append(dict(meter.calls))
        total_ms.append(elapsed * 1000)
        app_ms.append((elapsed - meter.aws_seconds) * 1000)
    median_calls = statistics.median(calls)
    typical = next((ops for ops, n in zip(operations, calls, strict=True) if n == round(median_calls)), operations[-1])
    return Result(
        scenario=scenario.name,
        catalogue_size=context.catalogue_size,
        requests=repeat,
        calls_median=median_calls,
        calls_max=max(calls),
        operations=typical,
        items_median=statistics.median(items),
        items_max=max(items),
        app_ms_p50=percentile(app_ms, 0.5),
        app_ms_p95=percentile(app_ms, 0.95),
        total_ms_p50=percentile(total_ms, 0.5),
    )


def run_scenarios(
    client: Any, scenarios: Iterable[Scenario], context: BenchContext, repeat: int, warmup: int = 3
) -> list[Result]:
    results = []
    with AwsMeter() as meter:
        for scenario in scenarios:
            # Warm-up requests fill per-Lambda caches (templates, presigned URLs) as on a warm Lambda.
            if warmup:
                run_scenario(client, scenario, context, warmup, meter)
            results.append(run_scenario(client, scenario, context, repeat, meter))
    return results


def format_table(results: list[Result]) -> str:
    """A Markdown table; with two catalogue sizes, each row also gets the ratio of app-side p50."""
    sizes = sorted({result.catalogue_size for result in results})
    by_key = {(result.scenario, result.catalogue_size): result for result in results}
    header = (
        "| scenario | products | DynamoDB calls (median / max) | operations | items read (median / max) "
        "| app-side ms p50 | app-side ms p95 | request ms p50 |"
    )
    lines = [header, "|" + "---|" * 8]
    names = list(dict.fromkeys(result.scenario for result in results))
    for name in names:
        for size in sizes:
            result = by_key.get((name, size))
            if result is None:
                continue
            ops = ", ".join(f"{op} {count}" for op, count in sorted(result.operations.items())) or "none"
            lines.append(
                f"| {name} | {size:,} | {result.calls_median:g} / {result.calls_max} | {ops} "
                f"| {result.items_median:g} / {result.items_max} | {result.app_ms_p50:.2f} "
                f"| {result.app_ms_p95:.2f} | {result.total_ms_p50:.2f} |"
            )
    if len(sizes) == 2:
        small, large = sizes
        lines += ["", f"| scenario | app-side p50 ratio {large:,} / {small:,} |", "|---|---|"]
        for name in names:
            if (name, small) in by_key and (name, large) in by_key:
                ratio = by_key[(name, large)].app_ms_p50 / max(by_key[(name, small)].app_ms_p50, 1e-9)
                lines.append(f"| {name} | {ratio:.2f} |")
    return "\n".join(lines)
