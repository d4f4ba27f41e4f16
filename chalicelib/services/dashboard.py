"""The admin dashboard's figures, maintained by stream consumers instead of read by scans.

Each counted thing (an order, a stock row, a shoe) has a tally marker holding what it adds to the
counters now; a change computes the thing's new contribution, and one transaction writes the marker
(conditioned on the revision read) and ADDs the difference to the counter items. Contributions are
absolute, so a batch delivered twice changes nothing the second time:
- orders: from the stream image, guarded by the record's sequence number (records of one item
  arrive in order; an older record replayed after a newer one is skipped);
- stock rows and shoes: from fresh reads of the row and its shoe, so the marker always converges to
  what the tables hold, whatever order the orders, stock and shoes streams deliver in.
The dashboard reads every figure in one BatchGetItem; the low-stock view Queries the sparse
`by-alert` index, which holds exactly the low and sold-out sizes. Layout: models/counters.py.
"""

import functools
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from chalicelib import clock, streams
from chalicelib.aws import dynamodb_client
from chalicelib.models import Shoe, Stock
from chalicelib.models.base import batch_get_raw
from chalicelib.models.catalogue import ACTIVE
from chalicelib.models.counters import STOCK_ALERT, Tally
from chalicelib.models.dynamo import AWS_BUSY_CODES, CONDITION_FAILED, backoff_seconds
from chalicelib.services.shoes import LOW_STOCK

ORDERS_BY_STATUS = "orders-by-status"
ORDERS_DAY = "orders-day#"
SHOES_BY_STATUS = "shoes-by-status"
STOCK_ALERTS = "stock-alerts"
LOW, SOLD_OUT = "low", "sold_out"
# Orders that are not (or no longer) a sale: they count in their status, not in orders or revenue.
# A rule, not the list of statuses: any other status (placed, paid, shipped...) is a sale.
NOT_SALES = frozenset({"cancelled", "payment_expired", "pending_payment"})
RECENT_DAYS = 7
TALLY_ATTEMPTS = 8
LOW_STOCK_PAGE_SIZE = 50

# {counter item key: {figure: amount}}
Figures = dict[str, dict[str, int]]
# The marker's other attributes (the low-stock view's fields), in DynamoDB JSON.
Listing = dict[str, dict[str, str]]
sleep: Callable[[float], None] = time.sleep  # tests replace it


# -- writing --------------------------------------------------------------------------------------


def _table() -> str:
    return str(Tally.Meta.table_name)


def table_name() -> str:
    """The counters table (services/return_reasons.py keeps its tallies there too)."""
    return _table()


def _decode_figures(raw: dict[str, Any] | None) -> Figures:
    figures: Figures = {}
    for counter, values in (raw or {}).get("M", {}).items():
        figures[counter] = {name: int(value["N"]) for name, value in values.get("M", {}).items()}
    return figures


def _encode_figures(figures: Figures) -> dict[str, Any]:
    return {
        "M": {
            counter: {"M": {name: {"N": str(amount)} for name, amount in values.items()}}
            for counter, values in figures.items()
        }
    }


def difference(new: Figures, old: Figures) -> Figures:
    """new - old per counter and figure, zeros left out."""
    delta: Figures = {}
    for counter in new.keys() | old.keys():
        names = new.get(counter, {}).keys() | old.get(counter, {}).keys()
        changes = {name: new.get(counter, {}).get(name, 0) - old.get(counter, {}).get(name, 0) for name in names}
        changes = {name: amount for name, amount in changes.items() if amount}
        if changes:
            delta[counter] = changes
    return delta


def _counter_update(counter: str, changes: dict[str, int]) -> dict[str, Any]:
    names = sorted(changes)
    return {
        "Update": {
            "TableName": _table(),
            "Key": {"key": {"S": counter}},
            "UpdateExpression": "ADD " + ", ".join(f"#f{i} :f{i}" for i in range(len(names))),
            "ExpressionAttributeNames": {f"#f{i}": name for i, name in enumerate(names)},
            "ExpressionAttributeValues": {f":f{i}": {"N": str(changes[name])} for i, name in enumerate(names)},
        }
    }


def _reasons(error: Exception) -> list[str]:
    response = getattr(error, "response", {}) or {}
    codes = [reason.get("Code", "") for reason in response.get("CancellationReasons", []) or []]
    return [*codes, response.get("Error", {}).get("Code", "")]


def apply_tally(key: str, compute: Callable[[], tuple[Figures, Listing]], guard: str = "") -> bool:
    """Make the counters hold `compute()`'s contribution for the marker `key`; True if it wrote.

    `compute` runs after the marker is read, on every attempt, so what it reads is at least as new
    as the marker's last write. A non-empty `guard` (a zero-padded stream sequence number) skips the
    change when the marker already holds that record or a later one."""
    from botocore.exceptions import ClientError

    client = dynamodb_client()
    for attempt in range(TALLY_ATTEMPTS):
        item = client.get_item(TableName=_table(), Key={"key": {"S": key}}, ConsistentRead=True).get("Item")
        read_guard = item.get("guard", {}).get("S", "") if item else ""
        if guard and read_guard >= guard:
            return False  # this record, or a later one of the same item, is already counted
        contribution, listing = compute()
        old = _decode_figures(item.get("applied")) if item else {}
        delta = difference(contribution, old)
        old_listing = {name: value for name, value in (item or {}).items() if name in LISTING_FIELDS}
        if item is not None and not delta and old_listing == listing:
            return False  # nothing to change (an older record replayed later is still behind the guard)
        revision = int(item["revision"]["N"]) if item else 0
        marker: dict[str, Any] = {
            "key": {"S": key},
            "revision": {"N": str(revision + 1)},
            "applied": _encode_figures(contribution),
            **listing,
        }
        if guard or read_guard:
            marker["guard"] = {"S": max(guard, read_guard)}
        put: dict[str, Any] = {"TableName": _table(), "Item": marker}
        if item is None:
            put["ConditionExpression"] = "attribute_not_exists(#k)"
            put["ExpressionAttributeNames"] = {"#k": "key"}
        else:
            put["ConditionExpression"] = "revision = :revision"
            put["ExpressionAttributeValues"] = {":revision": {"N": str(revision)}}
        actions = [{"Put": put}, *(_counter_update(counter, changes) for counter, changes in sorted(delta.items()))]
        try:
            client.transact_write_items(TransactItems=actions)
            return True
        except ClientError as error:
            reasons = _reasons(error)
            if CONDITION_FAILED in reasons:
                continue  # another writer changed the marker: read it again
            if not AWS_BUSY_CODES.intersection(reasons) or attempt == TALLY_ATTEMPTS - 1:
                raise  # the stream retries the batch; the tally is unchanged
            sleep(backoff_seconds(attempt))
    raise RuntimeError(f"tally {key}: too many concurrent writers")


LISTING_FIELDS = ("alert", "shoe_id", "size", "quantity", "state")


def _latest(changes: Iterable[streams.Change], key: Callable[[streams.Change], tuple[str, ...] | None]) -> list:
    """The last change of each item in the batch (records of one item arrive in order)."""
    latest: dict[tuple[str, ...], streams.Change] = {}
    for change in changes:
        item_key = key(change)
        if item_key is not None:
            latest.pop(item_key, None)
            latest[item_key] = change
    return list(latest.values())


def guard_of(change: streams.Change) -> str:
    """The change's stream position as apply_tally's guard (records of one item arrive in order)."""
    return change.sequence.zfill(40) if change.sequence else ""


# -- orders ---------------------------------------------------------------------------------------


def day_key(day: str) -> str:
    return f"{ORDERS_DAY}{day}"


def order_figures(order: dict[str, Any] | None) -> Figures:
    """What one order adds: 1 to its status; if a sale, 1 order and its total to its day."""
    if not order or not order.get("status"):
        return {}
    status = str(order["status"])
    figures: Figures = {ORDERS_BY_STATUS: {status: 1}}
    if status not in NOT_SALES:
        day = str(order.get("created_at") or order.get("created_sort") or "")[:10]
        figures[day_key(day)] = {"orders": 1, "revenue_cents": int(order.get("total_cents") or 0)}
    return figures


def _given(contribution: tuple[Figures, Listing]) -> tuple[Figures, Listing]:
    return contribution


def on_order_changes(changes: Sequence[streams.Change]) -> None:
    """Stream consumer of the orders table."""
    for change in changes:
        order_id = change.keys.get("order_id")
        if not order_id:
            continue
        contribution: tuple[Figures, Listing] = (order_figures(change.new), {})
        apply_tally(f"tally#orders#{order_id}", functools.partial(_given, contribution), guard=guard_of(change))


# -- stock and shoes ------------------------------------------------------------------------------


def stock_state(quantity: int) -> str | None:
    if quantity <= 0:
        return SOLD_OUT
    return LOW if quantity <= LOW_STOCK else None


def _read_stock_row(shoe_id: str, size: str) -> tuple[int | None, dict[str, Any] | None]:
    client = dynamodb_client()
    row = client.get_item(
        TableName=Stock.Meta.table_name,
        Key={"shoe_id": {"S": shoe_id}, "size": {"S": size}},
        ConsistentRead=True,
        ProjectionExpression="quantity",
    ).get("Item")
    shoe = client.get_item(
        TableName=Shoe.Meta.table_name,
        Key={"shoe_id": {"S": shoe_id}},
        ConsistentRead=True,
        ProjectionExpression="#s, sizes",
        ExpressionAttributeNames={"#s": "status"},
    ).get("Item")
    quantity = int(row.get("quantity", {}).get("N", "0")) if row is not None else None
    return quantity, shoe


def stock_row_tally(shoe_id: str, size: str) -> tuple[Figures, Listing]:
    """A size counts (and is listed) when it is low or sold out, offered, and its shoe is active."""
    quantity, shoe = _read_stock_row(shoe_id, size)
    if quantity is None or shoe is None or shoe.get("status", {}).get("S") != ACTIVE:
        return {}, {}
    offered = {value.get("S") for value in shoe.get("sizes", {}).get("L", [])}
    state = stock_state(quantity) if size in offered else None
    if state is None:
        return {}, {}
    listing = {
        "alert": {"S": STOCK_ALERT},
        "shoe_id": {"S": shoe_id},
        "size": {"S": size},
        "quantity": {"N": str(quantity)},
        "state": {"S": state},
    }
    return {STOCK_ALERTS: {state: 1}}, listing


def retally_stock_row(shoe_id: str, size: str) -> bool:
    return apply_tally(f"tally#stock#{shoe_id}#{size}", functools.partial(stock_row_tally, shoe_id, size))


def on_stock_changes(changes: Sequence[streams.Change]) -> None:
    """Stream consumer of the stock table."""

    def row_key(change: streams.Change) -> tuple[str, ...] | None:
        shoe_id, size = change.keys.get("shoe_id"), change.keys.get("size")
        return (str(shoe_id), str(size)) if shoe_id and size else None

    for change in _latest(changes, row_key):
        retally_stock_row(str(change.keys["shoe_id"]), str(change.keys["size"]))


def _shoe_tally(shoe_id: str) -> tuple[Figures, Listing]:
    item = (
        dynamodb_client()
        .get_item(
            TableName=Shoe.Meta.table_name,
            Key={"shoe_id": {"S": shoe_id}},
            ConsistentRead=True,
            ProjectionExpression="#s",
            ExpressionAttributeNames={"#s": "status"},
        )
        .get("Item")
    )
    status = (item or {}).get("status", {}).get("S")
    return ({SHOES_BY_STATUS: {status: 1}} if status else {}), {}


def _listing_relevant(image: dict[str, Any] | None) -> tuple[Any, Any]:
    return (image or {}).get("status"), tuple((image or {}).get("sizes") or ())


def on_shoe_changes(changes: Sequence[streams.Change]) -> None:
    """Stream consumer of the shoes table: products per status, and a shoe's sizes re-tallied when
    its status or sizes change (an archived shoe's sizes leave the low-stock view)."""
    retally: dict[str, bool] = {}
    for change in changes:
        if change.keys.get("shoe_id"):
            shoe_id = str(change.keys["shoe_id"])
            moved = _listing_relevant(change.old) != _listing_relevant(change.new)
            retally[shoe_id] = retally.get(shoe_id, False) or moved
    for shoe_id, moved in retally.items():
        apply_tally(f"tally#shoes#{shoe_id}", functools.partial(_shoe_tally, shoe_id))
        if moved:
            for row in Stock.query(shoe_id, consistent_read=True, attributes_to_get=["size"]):
                retally_stock_row(shoe_id, row.size)


# -- reading --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DashboardFigures:
    """What the dashboard shows."""

    order_counts: dict[str, int]
    recent_orders: int
    recent_revenue_cents: int
    active_products: int
    low_sizes: int
    sold_out_sizes: int


def recent_days(days: int = RECENT_DAYS) -> list[str]:
    """Today and the days before it, UTC: the "last 7 days" are 7 calendar days."""
    today = clock.now()
    return [(today - timedelta(days=back)).strftime("%Y-%m-%d") for back in range(days)]


def _numbers(item: dict[str, Any] | None) -> dict[str, int]:
    return {name: int(value["N"]) for name, value in (item or {}).items() if "N" in value}


def figures(known_statuses: Sequence[str], days: int = RECENT_DAYS) -> DashboardFigures:
    """Every figure in one BatchGetItem, whatever the number of orders, shoes and stock rows.
    Statuses are shown in `known_statuses` order, then any other status the counters hold."""
    day_keys = [day_key(day) for day in recent_days(days)]
    keys = [ORDERS_BY_STATUS, SHOES_BY_STATUS, STOCK_ALERTS, *day_keys]
    found = batch_get_raw({_table(): {"Keys": [{"key": {"S": key}} for key in keys]}})[_table()]
    by_key = {item["key"]["S"]: item for item in found}
    statuses = _numbers(by_key.get(ORDERS_BY_STATUS))
    order_counts = {status: statuses.get(status, 0) for status in known_statuses}
    order_counts.update({status: count for status, count in sorted(statuses.items()) if count})
    recent = [_numbers(by_key.get(key)) for key in day_keys]
    alerts = _numbers(by_key.get(STOCK_ALERTS))
    return DashboardFigures(
        order_counts=order_counts,
        recent_orders=sum(day.get("orders", 0) for day in recent),
        recent_revenue_cents=sum(day.get("revenue_cents", 0) for day in recent),
        active_products=_numbers(by_key.get(SHOES_BY_STATUS)).get(ACTIVE, 0),
        low_sizes=alerts.get(LOW, 0),
        sold_out_sizes=alerts.get(SOLD_OUT, 0),
    )


@dataclass(frozen=True)
class StockAlert:
    shoe_id: str
    name: str
    size: str
    quantity: int
    state: str


def low_stock(start: dict | None = None, page_size: int = LOW_STOCK_PAGE_SIZE) -> tuple[list[StockAlert], dict | None]:
    """One page of the low and sold-out sizes, by shoe: a Query of the sparse index plus one
    BatchGetItem of the page's shoe names."""
    query: dict[str, Any] = {
        "TableName": _table(),
        "IndexName": Tally.by_alert.Meta.index_name,
        "KeyConditionExpression": "alert = :alert",
        "ExpressionAttributeValues": {":alert": {"S": STOCK_ALERT}},
        "Limit": page_size,
    }
    if start:
        query["ExclusiveStartKey"] = start
    answer = dynamodb_client().query(**query)
    rows = answer.get("Items", [])
    shoe_ids = sorted({row["shoe_id"]["S"] for row in rows})
    names: dict[str, str] = {}
    if shoe_ids:
        table = str(Shoe.Meta.table_name)
        request = {
            table: {
                "Keys": [{"shoe_id": {"S": shoe_id}} for shoe_id in shoe_ids],
                "ProjectionExpression": "shoe_id, #n",
                "ExpressionAttributeNames": {"#n": "name"},
            }
        }
        names = {item["shoe_id"]["S"]: item["name"]["S"] for item in batch_get_raw(request)[table]}
    alerts = [
        StockAlert(
            shoe_id=row["shoe_id"]["S"],
            name=names.get(row["shoe_id"]["S"], row["shoe_id"]["S"]),
            size=row["size"]["S"],
            quantity=int(row["quantity"]["N"]),
            state=row["state"]["S"],
        )
        for row in rows
    ]
    return alerts, answer.get("LastEvaluatedKey")
