"""A reusable harness: count DynamoDB calls and items read per request, and time the app's own share.

App-side time is the request's wall time minus the time spent inside AWS calls (before-call to
after-call on the shared DynamoDB client, the one every PynamoDB model uses). Under moto a Query's
time grows with the table although DynamoDB's does not, so the AWS share is measured and removed.

To benchmark more routes, build `Scenario`s (a name, a path or a function of the `BenchContext`
returning one, optional method, body, headers and a `before_each` hook) and pass them to
`run_scenarios`; see bench/catalogue.py and the SCENARIO_MODULES list in bench/__main__.py.
"""

import json
import math
import statistics
import sys
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


def _size(item: dict) -> int:
    """An item's size as DynamoDB bills it, approximated by its JSON wire form."""
    return len(json.dumps(item, separators=(",", ":"), default=_binary_size))


def _binary_size(value: Any) -> str:
    # Binary attributes (the catalogue read model's chunks) count their bytes.
    return "x" * len(value) if isinstance(value, bytes | bytearray) else str(value)


def _read_units(operation: str, params: dict, parsed: dict) -> float:
    """Read capacity units: 4 KB units per item (GetItem, BatchGetItem) or per response (Query),
    half for eventually consistent reads, double for TransactGetItems."""
    consistent = bool(params.get("ConsistentRead"))
    factor = 1.0 if consistent else 0.5
    if operation in ("Query", "Scan"):
        total = sum(_size(item) for item in parsed.get("Items", []))
        return factor * max(1, math.ceil(total / 4096))
    if operation == "GetItem":
        return factor * max(1, math.ceil(_size(parsed.get("Item", {})) / 4096))
    if operation == "BatchGetItem":
        units = 0.0
        for table, items in parsed.get("Responses", {}).items():
            table_factor = 1.0 if params.get("RequestItems", {}).get(table, {}).get("ConsistentRead") else 0.5
            units += sum(table_factor * max(1, math.ceil(_size(item) / 4096)) for item in items)
        return units
    if operation == "TransactGetItems":
        return 2.0 * sum(max(1, math.ceil(_size(r.get("Item", {})) / 4096)) for r in parsed.get("Responses", []))
    return 0.0


def _write_units(operation: str, params: dict) -> float:
    """Write capacity units: 1 KB units of what is written (an update counts 1, the item's size is
    unknown here), double inside TransactWriteItems; condition checks count as writes too."""
    if operation == "PutItem":
        return max(1, math.ceil(_size(params.get("Item", {})) / 1024))
    if operation in ("UpdateItem", "DeleteItem"):
        return 1.0
    if operation == "BatchWriteItem":
        return float(sum(len(requests) for requests in params.get("RequestItems", {}).values()))
    if operation == "TransactWriteItems":
        units = 0
        for action in params.get("TransactItems", []):
            put = action.get("Put")
            units += max(1, math.ceil(_size(put["Item"]) / 1024)) if put else 1
        return 2.0 * units
    return 0.0


def _bytes_written(operation: str, params: dict) -> int:
    """Bytes of the items a write sends (PutItem and the puts of a transaction or batch)."""
    if operation == "PutItem":
        return _size(params.get("Item", {}))
    if operation == "TransactWriteItems":
        return sum(_size(action["Put"]["Item"]) for action in params.get("TransactItems", []) if "Put" in action)
    if operation == "BatchWriteItem":
        requests = [request for table in params.get("RequestItems", {}).values() for request in table]
        return sum(_size(request["PutRequest"]["Item"]) for request in requests if "PutRequest" in request)
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
        self.read_units = 0.0
        self.write_units = 0.0
        self.bytes_written = 0
        self.aws_seconds = 0.0
        self._started: list[float] = []
        self._params: list[dict] = []

    def _parameters(self, params: dict, **_: Any) -> None:
        self._params.append(params)

    def _before(self, model: Any, **_: Any) -> None:
        self.calls[model.name] += 1
        self._started.append(time.perf_counter())

    def _after(self, model: Any, parsed: dict | None = None, **_: Any) -> None:
        if self._started:
            self.aws_seconds += time.perf_counter() - self._started.pop()
        params = self._params.pop() if self._params else {}
        self.items_read += _items_read(model.name, parsed or {})
        self.read_units += _read_units(model.name, params, parsed or {})
        self.write_units += _write_units(model.name, params)
        self.bytes_written += _bytes_written(model.name, params)

    def install(self) -> "AwsMeter":
        events = self.client.meta.events
        events.register("before-parameter-build.dynamodb", self._parameters)
        events.register("before-call.dynamodb", self._before)
        events.register("after-call.dynamodb", self._after)
        return self

    def uninstall(self) -> None:
        events = self.client.meta.events
        events.unregister("before-parameter-build.dynamodb", self._parameters)
        events.unregister("before-call.dynamodb", self._before)
        events.unregister("after-call.dynamodb", self._after)

    def reset(self) -> None:
        self.calls = Counter()
        self.items_read = 0
        self.read_units = 0.0
        self.write_units = 0.0
        self.bytes_written = 0
        self.aws_seconds = 0.0
        self._started = []
        self._params = []

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
    # Scenarios whose requests are slow under moto at 5,000 products (its Query scans the whole
    # table) measure fewer requests, so the default run stays within minutes.
    max_repeat: int | None = None

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
            started = time.perf_counter()
            count = min(repeat, scenario.max_repeat) if scenario.max_repeat else repeat
            # Warm-up requests fill per-Lambda caches (templates, presigned URLs) as on a warm Lambda.
            if warmup:
                run_scenario(client, scenario, context, warmup, meter)
            results.append(run_scenario(client, scenario, context, count, meter))
            print(
                f"  {scenario.name} at {context.catalogue_size:,}: {time.perf_counter() - started:.1f} s",
                file=sys.stderr,
            )
    return results


def format_table(results: list[Result]) -> str:
    """A Markdown table; with two catalogue sizes, each row also gets the ratio of app-side p50."""
    sizes = sorted({result.catalogue_size for result in results})
    by_key = {(result.scenario, result.catalogue_size): result for result in results}
    header = (
        "| scenario | products | requests | DynamoDB calls (median / max) | operations "
        "| items read (median / max) | app-side ms p50 | app-side ms p95 | request ms p50 |"
    )
    lines = [header, "|" + "---|" * 9]
    names = list(dict.fromkeys(result.scenario for result in results))
    for name in names:
        for size in sizes:
            result = by_key.get((name, size))
            if result is None:
                continue
            ops = ", ".join(f"{op} {count}" for op, count in sorted(result.operations.items())) or "none"
            lines.append(
                f"| {name} | {size:,} | {result.requests} | {result.calls_median:g} / {result.calls_max} | {ops} "
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


class Browser:
    """A cookie jar and CSRF tokens over chalice.test.Client, for scenarios that need a logged-in
    person. Set-up requests go through here; measured requests send `cookie_header()`."""

    CSRF_MARK = 'name="csrf_token" value="'

    def __init__(self, client: Any) -> None:
        self.client = client
        self.cookies: dict[str, str] = {}

    def cookie_header(self) -> dict[str, str]:
        return {"cookie": "; ".join(f"{name}={value}" for name, value in self.cookies.items())}

    def request(self, method: str, path: str, body: bytes | str = b"", headers: dict | None = None) -> Any:
        sent = {"host": "127.0.0.1:8000", **self.cookie_header(), **(headers or {})}
        response = self.client.http.request(method, path, headers=sent, body=body)
        set_cookie = response.headers.get("Set-Cookie") or []
        for cookie in set_cookie if isinstance(set_cookie, list) else [set_cookie]:
            name, _, value = cookie.split(";", 1)[0].partition("=")
            if "Max-Age=0" in cookie:
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = value
        return response

    def page(self, path: str) -> str:
        response = self.request("GET", path)
        assert response.status_code == 200, f"{path} answered {response.status_code}"
        return response.body.decode()

    @classmethod
    def field(cls, page: str, name: str) -> str:
        mark = f'name="{name}" value="'
        assert mark in page, f"no {name} field on the page"
        return page.split(mark, 1)[1].split('"', 1)[0]

    def post_form(self, path: str, data: dict[str, str], token_page: str, expect: int = 303) -> Any:
        from urllib.parse import urlencode

        token = self.field(self.page(token_page), "csrf_token")
        body = urlencode({**data, "csrf_token": token})
        response = self.request("POST", path, body, {"content-type": "application/x-www-form-urlencoded"})
        assert response.status_code == expect, f"POST {path} answered {response.status_code}: {response.body[:300]!r}"
        return response
