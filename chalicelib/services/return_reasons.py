"""Return reasons per shoe and size, maintained by a consumer of the orders stream and read with one
GetItem per shoe (the admin product page; the product page reads the fit totals in its review
summaries' BatchGetItem, services/reviews.summaries_for, for the size suggestion).

The dashboard's tally machinery (services/dashboard.apply_tally) does the counting: each order has a
marker `tally#returns#<order id>` holding what its returns add now, computed from the stream's new
image and guarded by the record's sequence number, so a replayed or redelivered batch changes
nothing. The counter item `return-reasons#<shoe id>` (counters table) holds one number per
"<size>#<reason>" (pairs returned) and the shoe's totals "total#too_small" and "total#too_big".
A released return (the parcel never came) does not count.
"""

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from chalicelib import streams
from chalicelib.services import dashboard

PREFIX = "return-reasons#"
TOTAL = "total#"
FIT_REASONS = ("too_small", "too_big")
NOT_COUNTED = frozenset({"released"})


def table_name() -> str:
    return dashboard.table_name()


def counter_key(shoe_id: str) -> str:
    return f"{PREFIX}{shoe_id}"


def order_figures(order: dict[str, Any] | None) -> dashboard.Figures:
    """Pairs per shoe, size and reason in the order's returns (plain stream image values)."""
    figures: dashboard.Figures = {}
    if not order:
        return figures
    lines = order.get("lines") or []
    for request in order.get("returns") or []:
        if request.get("status") in NOT_COUNTED:
            continue
        for returned in request.get("lines") or []:
            index, reason = returned.get("line"), str(returned.get("reason") or "")
            if not isinstance(index, int) or not 0 <= index < len(lines) or not reason:
                continue
            line = lines[index]
            pairs = int(line.get("quantity") or 1)
            counts = figures.setdefault(counter_key(str(line.get("shoe_id"))), {})
            name = f"{line.get('size')}#{reason}"
            counts[name] = counts.get(name, 0) + pairs
            if reason in FIT_REASONS:
                counts[TOTAL + reason] = counts.get(TOTAL + reason, 0) + pairs
    return figures


def _given(contribution: tuple[dashboard.Figures, dashboard.Listing]) -> tuple[dashboard.Figures, dashboard.Listing]:
    return contribution


def on_order_changes(changes: Sequence[streams.Change]) -> None:
    """Stream consumer of the orders table: only orders that have (or had) returns are tallied."""
    for change in changes:
        order_id = change.keys.get("order_id")
        if not order_id or not ((change.new or {}).get("returns") or (change.old or {}).get("returns")):
            continue
        contribution: tuple[dashboard.Figures, dashboard.Listing] = (order_figures(change.new), {})
        dashboard.apply_tally(
            f"tally#returns#{order_id}", functools.partial(_given, contribution), guard=dashboard.guard_of(change)
        )


@dataclass(frozen=True)
class ReturnReasons:
    """One shoe's returns: pairs per size per reason, and its fit totals."""

    by_size: dict[str, dict[str, int]]
    too_small: int
    too_big: int


def reasons_of(item: dict[str, Any] | None) -> ReturnReasons:
    by_size: dict[str, dict[str, int]] = {}
    totals = dict.fromkeys(FIT_REASONS, 0)
    for name, value in (item or {}).items():
        if "N" not in value or "#" not in name:
            continue
        first, _, reason = name.partition("#")
        if first == TOTAL.rstrip("#"):
            totals[reason] = int(value["N"])
        elif int(value["N"]):
            by_size.setdefault(first, {})[reason] = int(value["N"])
    return ReturnReasons(dict(sorted(by_size.items(), key=lambda pair: _size_order(pair[0]))), **totals)


def _size_order(size: str) -> tuple[float, str]:
    try:
        return float(size), size
    except ValueError:
        return float("inf"), size


def for_shoes(shoe_ids: Sequence[str]) -> dict[str, ReturnReasons]:
    """Every shoe's return reasons in one BatchGetItem (up to 100 shoes)."""
    from chalicelib.models.base import batch_get_raw

    wanted = list(dict.fromkeys(shoe_ids))[:100]
    if not wanted:
        return {}
    table = dashboard.table_name()
    found = batch_get_raw({table: {"Keys": [{"key": {"S": counter_key(shoe_id)}} for shoe_id in wanted]}})[table]
    by_key = {item["key"]["S"]: item for item in found}
    return {shoe_id: reasons_of(by_key.get(counter_key(shoe_id))) for shoe_id in wanted}


def for_shoe(shoe_id: str) -> ReturnReasons:
    return for_shoes([shoe_id])[shoe_id]
