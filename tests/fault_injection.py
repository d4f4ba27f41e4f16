"""Inject DynamoDB failures through botocore's `before-send` hook on the shared client.

The hook answers in place of DynamoDB with a real error response (status, JSON body), so botocore
parses it, applies its retry policy and raises exactly what production code would see.

moto's in-process mock is itself a `before-send` handler, and botocore calls every handler of the
event: a failed request must not reach moto (a throttled write is not applied). The injector runs
first and points a failing request at a URL moto ignores, and a last handler puts it back for the
retry.
"""

import json
from dataclasses import dataclass, field
from types import SimpleNamespace

import pytest
from botocore.awsrequest import AWSResponse

from chalicelib import aws

PREFIX = "com.amazonaws.dynamodb.v20120810#"


@dataclass(frozen=True)
class Fault:
    status: int
    code: str
    message: str
    extra: dict = field(default_factory=dict)
    xml: bool = False  # S3 answers errors in XML, DynamoDB in JSON

    def body(self) -> bytes:
        if self.xml:
            return f"<Error><Code>{self.code}</Code><Message>{self.message}</Message></Error>".encode()
        return json.dumps({"__type": PREFIX + self.code, "message": self.message, **self.extra}).encode()

    @property
    def content_type(self) -> str:
        return "application/xml" if self.xml else "application/x-amz-json-1.0"


THROUGHPUT = Fault(400, "ProvisionedThroughputExceededException", "The level of configured provisioned throughput ...")
THROTTLING = Fault(400, "ThrottlingException", "Rate of requests exceeds the allowed throughput.")
SERVER_ERROR = Fault(500, "InternalServerError", "Internal server error")
CONFLICT = Fault(400, "TransactionConflictException", "Transaction is ongoing for the item")
S3_UNAVAILABLE = Fault(503, "ServiceUnavailable", "Please reduce your request rate.", xml=True)
S3_SLOW_DOWN = Fault(503, "SlowDown", "Please reduce your request rate.", xml=True)
S3_SERVER_ERROR = Fault(500, "InternalError", "We encountered an internal error. Please try again.", xml=True)


def transaction_conflict(actions: int, conflicting: int = 0) -> Fault:
    """TransactionCanceledException naming TransactionConflict for one action, as DynamoDB does."""
    reasons = [{"Code": "None"}] * actions
    reasons[conflicting] = {"Code": "TransactionConflict", "Message": "Transaction is ongoing for the item"}
    listed = ", ".join(r["Code"] for r in reasons)
    return Fault(
        400,
        "TransactionCanceledException",
        f"Transaction cancelled, please refer cancellation reasons for specific reasons [{listed}]",
        {"CancellationReasons": reasons},
    )


class _Raw:
    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_: object):
        yield self._body


class DynamoFaults:
    """Fail chosen DynamoDB operations: `fail("GetItem", THROTTLING, times=1)`; records every call.
    With `service="s3"` the same for the S3 client (`fail("GetObject", S3_UNAVAILABLE)`)."""

    def __init__(self, service: str = "dynamodb") -> None:
        self.calls: list[str] = []
        self._plans: dict[str, list] = {}
        self._service = service
        client = aws.dynamodb_client() if service == "dynamodb" else aws.s3_client()
        self._events = client.meta.events
        self._events.register_first(f"before-send.{service}", self._before_send)
        self._events.register_last("before-send", self._restore_url)  # after moto's own handler

    def fail(self, operation: str, fault: Fault, times: int | None = None, after: int = 0) -> "DynamoFaults":
        """Fail `operation` `times` times (None: always), after letting `after` calls through."""
        self._plans[operation] = [fault, times, after]
        return self

    def clear(self) -> None:
        self._plans.clear()

    def count(self, operation: str) -> int:
        return self.calls.count(operation)

    def close(self) -> None:
        self._events.unregister(f"before-send.{self._service}", self._before_send)
        self._events.unregister("before-send", self._restore_url)

    @staticmethod
    def _restore_url(request, **_: object) -> None:
        original = getattr(request, "_fault_original_url", None)
        if original is not None:
            request.url = original
            del request._fault_original_url

    def _before_send(self, request, event_name: str, **_: object):
        operation = event_name.rsplit(".", 1)[-1]
        self.calls.append(operation)
        plan = self._plans.get(operation)
        if plan is None:
            return None
        fault, times, after = plan
        if after > 0:
            plan[2] -= 1
            return None
        if times is not None:
            if times <= 0:
                return None
            plan[1] -= 1
        headers = {"Content-Type": fault.content_type, "x-amzn-RequestId": "injected-fault"}
        response = AWSResponse(request.url, fault.status, headers, _Raw(fault.body()))
        request._fault_original_url = request.url
        request.url = "http://injected-fault.invalid/"  # matches none of moto's URL patterns
        return response


@pytest.fixture
def no_backoff(monkeypatch) -> list[float]:
    """The back-off between DynamoDB attempts (models.dynamo), recorded instead of slept."""
    from chalicelib.models import dynamo

    pauses: list[float] = []
    monkeypatch.setattr(dynamo, "sleep", pauses.append)
    monkeypatch.setattr(dynamo, "monotonic", lambda: 0.0)  # no time passes: the pauses are not slept
    return pauses


@pytest.fixture
def retry_sleeps(monkeypatch) -> list[float]:
    """botocore's retry back-off, recorded instead of slept (tests stay fast, delays stay visible)."""
    import botocore.endpoint

    slept: list[float] = []
    monkeypatch.setattr(botocore.endpoint, "time", SimpleNamespace(sleep=slept.append))
    return slept


@pytest.fixture
def faults(aws_backend, retry_sleeps):
    injector = DynamoFaults()
    yield injector
    injector.close()


@pytest.fixture
def s3_faults(aws_backend, retry_sleeps):
    injector = DynamoFaults(service="s3")
    yield injector
    injector.close()
