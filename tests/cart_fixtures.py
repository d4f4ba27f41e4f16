"""Shoes, stock and call counting for the cart, checkout and order tests."""

import json
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager

from chalicelib import clock
from chalicelib.models import Shoe, Stock


def make_shoe(
    name: str = "Trail Runner",
    price_cents: int = 8999,
    stock: dict[str, int] | None = None,
    status: str = "active",
    brand: str = "Stride",
) -> Shoe:
    """A shoe offering the sizes in `stock`, with those units on hand."""
    stock = {"42": 5} if stock is None else stock
    now = clock.now()
    shoe = Shoe(
        shoe_id=uuid.uuid4().hex[:12],
        name=name,
        brand=brand,
        colour="black",
        department="men",
        category="running",
        price_cents=price_cents,
        sizes=sorted(stock, key=float),
        status=status,
        created_at=now,
        updated_at=now,
    )
    shoe.set_sort_keys()
    shoe.save()
    for size, quantity in stock.items():
        Stock(shoe_id=shoe.shoe_id, size=size, quantity=quantity, sold=0).save()
    return shoe


def stock_of(shoe_id: str, size: str) -> Stock:
    return Stock.get(shoe_id, size)


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
