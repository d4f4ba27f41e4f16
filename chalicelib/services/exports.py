"""CSV export of a date range's orders. Lambda cannot stream a large response (6 MB, 29 s): up to
INLINE_MAX_ROWS are answered directly, more go to S3 (exports/) behind a presigned link."""

import csv
import io
import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any

from chalicelib import clock
from chalicelib.config import get_settings
from chalicelib.models import Order
from chalicelib.models.base import plain_dict
from chalicelib.models.orders import status_shards
from chalicelib.services import customers, fulfilment
from chalicelib.services.errors import ValidationFailed
from chalicelib.services.order_search import created_between

INLINE_MAX_ROWS = 500  # more than this goes through S3
MAX_ROWS = 50_000  # one export; a longer range is refused with a message
LINK_SECONDS = 15 * 60
COLUMNS = "order_id placed_at status customer email ship_to_name country payment_method pairs subtotal".split()  # noqa: SIM905
COLUMNS += ["discount", "shipping", "total", "refunded"]
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class Export:
    filename: str
    rows: int
    body: str | None = None  # the CSV, when small enough to answer directly
    url: str | None = None  # else a presigned link to it in S3


def safe_cell(value: Any) -> str:
    """A cell a spreadsheet shows as text: one starting like a formula gets a leading quote."""
    text = "" if value is None else str(value)
    return f"'{text}" if text.startswith(FORMULA_STARTS) else text


def _money(cents: Any) -> str:
    cents = int(cents or 0)
    return f"{'-' if cents < 0 else ''}{abs(cents) // 100}.{abs(cents) % 100:02d}"


def order_row(order: Order) -> list[str]:
    address = plain_dict(order.address)
    values = [
        order.order_id,
        order.created_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        order.status,
        customers.customer_label(order),
        order.customer_email or order.guest_email or "",
        address.get("full_name", ""),
        address.get("country", ""),
        order.payment_method,
        sum(int(line.quantity) for line in order.lines),
        _money(order.subtotal_cents),
        _money(order.discount_cents),
        _money(order.shipping_cents),
        _money(order.total_cents),
        _money(order.refunded_cents),
    ]
    return [safe_cell(value) for value in values]


def orders_between(start: date, end: date, status: str | None = None) -> list[Order]:
    """Every order placed in the range, oldest first: one paged Query per status shard."""
    statuses = [status] if status else list(fulfilment.STATUSES)
    condition = created_between(start, end)
    found: list[Order] = []
    for value in statuses:
        for shard in status_shards(value):
            for order in Order.by_status.query(shard, condition):
                found.append(order)
                if len(found) > MAX_ROWS:
                    raise ValidationFailed({"to": f"That range holds more than {MAX_ROWS} orders: choose fewer days."})
    return sorted(found, key=lambda order: order.created_sort)


def to_csv(orders: list[Order]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    writer.writerows(order_row(order) for order in orders)
    return out.getvalue()


def export_orders(start: date | None, end: date | None, status: str | None = None) -> Export:
    if start is None or end is None:
        raise ValidationFailed({"from": "Choose the first and last day of the export."})
    if status is not None and status not in fulfilment.STATUSES:
        raise ValidationFailed({"status": "Choose a status from the list."})
    orders = orders_between(start, end, status)
    filename = f"orders-{start.isoformat()}-to-{end.isoformat()}{'-' + status if status else ''}.csv"
    body = to_csv(orders)
    if len(orders) <= INLINE_MAX_ROWS:
        return Export(filename, len(orders), body=body)
    return Export(filename, len(orders), url=_store(filename, body))


def _store(filename: str, body: str) -> str:
    from chalicelib.aws import s3_client

    bucket = get_settings().upload_bucket
    key = f"exports/{clock.now().strftime('%Y-%m-%d')}/{uuid.uuid4().hex}/{filename}"
    client = s3_client()
    client.put_object(
        Bucket=bucket,
        Key=key,
        Body=body.encode(),
        ContentType="text/csv; charset=utf-8",
        ContentDisposition=f'attachment; filename="{filename}"',
    )
    return str(
        client.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": key}, ExpiresIn=LINK_SECONDS)
    )
