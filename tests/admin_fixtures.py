"""Helpers for the back-office tests: shoes, orders and images made directly with the models."""

import io
import uuid
from datetime import timedelta

from chalicelib import clock
from chalicelib.config import get_settings
from chalicelib.models import Order, OrderLine, StatusChange, Stock
from chalicelib.services import products

ADMIN = "boss"


def product_input(**overrides: str) -> products.ProductInput:
    values = {
        "name": "Glide Runner",
        "brand": "Stride",
        "colour": "Blue",
        "category": "running",
        "department": "men",
        "description": "Light and quick.",
        "price": "89.95",
    }
    values.update(overrides)
    return products.ProductInput(**values)


def make_shoe(stock: dict[str, int] | None = None, **overrides: str):
    quantities = {size: str(q) for size, q in (stock or {}).items()}
    return products.create_shoe(product_input(**overrides), quantities, ADMIN)


def make_order(lines: list[tuple[str, str, int]], status: str = "placed", minutes_ago: int = 0, total: int = 10000):
    """An order as checkout leaves it: stock already decremented and `sold` counted."""
    now = clock.now() - timedelta(minutes=minutes_ago)
    order_id = uuid.uuid4().hex[:20]
    order = Order(
        order_id=order_id,
        user_id="u1",
        status=status,
        created_at=now,
        created_sort=f"{now.strftime('%Y-%m-%dT%H:%M:%S.%fZ')}#{order_id}",
        updated_at=now,
        lines=[
            OrderLine(shoe_id=shoe_id, name="Glide", brand="Stride", size=size, unit_price_cents=5000, quantity=qty)
            for shoe_id, size, qty in lines
        ],
        address={"name": "Alice Smith", "line1": "1 High Street", "city": "Springfield", "postcode": "12345"},
        subtotal_cents=total,
        shipping_cents=0,
        total_cents=total,
        history=[StatusChange(status="placed", at=now, by="shopper")],
    )
    order.save()
    for shoe_id, size, qty in lines:
        Stock(shoe_id=shoe_id, size=size).update(actions=[Stock.sold.add(qty)])
    return order


def image_bytes(fmt: str = "PNG", size: tuple[int, int] = (640, 480), colour=(200, 40, 40)) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, format=fmt)
    return out.getvalue()


def bomb_png() -> bytes:
    """A small file that claims 100 megapixels (about 12 KB compressed)."""
    from PIL import Image

    out = io.BytesIO()
    Image.new("1", (10_000, 10_000)).save(out, format="PNG", optimize=True)
    return out.getvalue()


def s3():
    from chalicelib.aws import s3_client

    return s3_client()


def put_incoming(key: str, body: bytes, content_type: str = "image/png") -> None:
    s3().put_object(Bucket=get_settings().upload_bucket, Key=key, Body=body, ContentType=content_type)


def object_keys(prefix: str) -> list[str]:
    listing = s3().list_objects_v2(Bucket=get_settings().upload_bucket, Prefix=prefix)
    return [item["Key"] for item in listing.get("Contents", [])]
