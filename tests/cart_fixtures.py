"""DynamoDB call counting and fault injection for the cart, checkout and order tests (shoes: tests/factories.py)."""

import json
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def count_dynamodb_calls() -> Iterator[Counter]:
    """Count DynamoDB operations (by name, and by "Operation:table") made through the shared client."""
    from chalicelib.aws import dynamodb_client

    calls: Counter = Counter()

    def before_call(model, params, **_kwargs):
        calls[model.name] += 1
        body = params.get("body") or b"{}"
        if isinstance(body, bytes | str):
            body = json.loads(body or b"{}")
        if isinstance(body, dict):
            tables = []
            if "TableName" in body:
                tables = [body["TableName"]]
            elif "RequestItems" in body:
                tables = sorted(body["RequestItems"])
            for table in tables:
                calls[f"{model.name}:{table.rsplit('-', 1)[-1]}"] += 1
        return None

    events = dynamodb_client().meta.events
    events.register("before-call.dynamodb.*", before_call, unique_id="cart-test-counter")
    try:
        yield calls
    finally:
        events.unregister("before-call.dynamodb.*", unique_id="cart-test-counter")


class InjectedResponse:
    status_code = 400


@contextmanager
def fail_operation(operation: str, errors: list[dict]) -> Iterator[list]:
    """Answer the next len(errors) calls of a DynamoDB operation with the given error responses
    (moto never raises TransactionConflict or throttling), then let calls through."""
    from chalicelib.aws import dynamodb_client

    pending = list(errors)
    seen: list = []

    def before_call(**_kwargs):
        if not pending:
            return None
        response = pending.pop(0)
        seen.append(response)
        return InjectedResponse(), response

    events = dynamodb_client().meta.events
    events.register(f"before-call.dynamodb.{operation}", before_call, unique_id="cart-test-fault")
    try:
        yield seen
    finally:
        events.unregister(f"before-call.dynamodb.{operation}", unique_id="cart-test-fault")


def transaction_conflict(actions: int) -> dict:
    return {
        "Error": {"Code": "TransactionCanceledException", "Message": "Transaction cancelled"},
        "CancellationReasons": [{"Code": "TransactionConflict"}] + [{"Code": "None"}] * (actions - 1),
    }


def throttled() -> dict:
    return {"Error": {"Code": "ThrottlingException", "Message": "Rate exceeded"}}


def stored_lines() -> list:
    """Every cart line in the carts table, without the per-cart line counters that share it."""
    from chalicelib.models import CartLine, CartLineCount

    return list(CartLine.scan(filter_condition=CartLine.line_id != CartLineCount.KEY))
