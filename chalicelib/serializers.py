"""One JSON shape per resource, for the API and the account data export.

The admin views extend the shopper views (same fields, plus what only the back office sees), so a
field added to a resource is added once. The shapes are documented in infra/openapi.py
(schemas of the same names); tests/test_serializers.py validates each against its schema.
"""

from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from chalicelib.models.base import plain_dict
from chalicelib.services import pricing
from chalicelib.services.images import image_url

if TYPE_CHECKING:
    from chalicelib.models import Order, Shoe, ShoeImage, Stock
    from chalicelib.services.cart import CartView
    from chalicelib.services.catalogue import Product
    from chalicelib.services.catalogue_index import Card


def iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


# -- shoes ------------------------------------------------------------------------------------------


def card_json(card: "Card", page_url: str) -> dict[str, Any]:
    """A listing card (schema ShoeCard); `page_url` is the shoe's page in the shop."""
    return {
        "shoe_id": card.shoe_id,
        "name": card.name,
        "brand": card.brand,
        "colour": card.colour,
        "department": card.department,
        "category": card.category,
        "price_cents": card.price_cents,
        "image_url": image_url(card.thumb_key) or None,
        "url": page_url,
    }


def _shoe_fields(shoe: "Shoe") -> dict[str, Any]:
    """What every view of a shoe shows."""
    return {
        "shoe_id": shoe.shoe_id,
        "name": shoe.name,
        "brand": shoe.brand,
        "colour": shoe.colour,
        "department": shoe.department,
        "category": shoe.category,
        "description": shoe.description or "",
        "price_cents": int(shoe.price_cents),
    }


def shoe_json(item: "Product") -> dict[str, Any]:
    """The shop's view of one active shoe (schema ShoeDetail): photos as URLs, availability per size."""
    return {
        **_shoe_fields(item.shoe),
        "images": [
            {"thumb_url": image_url(image.thumb_key), "large_url": image_url(image.large_key)}
            for image in item.shoe.images
        ],
        "sizes": [
            {"size": option.size, "label": option.label, "available": option.available, "only_left": option.only_left}
            for option in item.sizes
        ],
    }


def admin_image_json(image: "ShoeImage") -> dict[str, Any]:
    return {
        "image_id": image.image_id,
        "thumb_key": image.thumb_key,
        "large_key": image.large_key,
        "width": image.width,
        "height": image.height,
    }


def admin_shoe_json(shoe: "Shoe", stock: Mapping[str, "Stock"] | None = None) -> dict[str, Any]:
    """The back office's view (schema AdminShoe): the shop's fields plus status, version, S3 keys
    and, given the stock rows, pairs per size."""
    data = {
        **_shoe_fields(shoe),
        "sizes": list(shoe.sizes),
        "status": shoe.status,
        "version": shoe.version,
        "created_at": iso(shoe.created_at),
        "updated_at": iso(shoe.updated_at),
        "images": [admin_image_json(image) for image in shoe.images],
    }
    if stock is not None:
        pairs = {size: int(row.quantity) for size, row in stock.items()}
        data["stock"] = {size: pairs.get(size, 0) for size in data["sizes"]}
    return data


# -- cart and orders --------------------------------------------------------------------------------


def cart_json(view: "CartView") -> dict[str, Any]:
    """The cart with current prices and stock, and its totals as the cart page shows them (schema Cart)."""
    quote = pricing.quote_cart(view)
    return {
        "lines": [
            {
                "line_id": item.line.line_id,
                "shoe_id": item.line.shoe_id,
                "name": item.name,
                "size": item.line.size,
                "quantity": item.quantity,
                "unit_price_cents": item.unit_price_cents,
                "line_total_cents": item.line_total_cents,
                "in_stock": item.in_stock,
                "problem": item.problem,
            }
            for item in view.items
        ],
        "units": view.units,
        "subtotal_cents": quote.subtotal_cents,
        "discount_cents": quote.discount_cents,
        "shipping_cents": quote.shipping_cents,
        "total_cents": quote.total_cents,
    }


def order_json(order: "Order") -> dict[str, Any]:
    """The shopper's view of an order (schema Order), also in the account's data export."""
    return {
        "order_id": order.order_id,
        "order_number": order.order_number,
        "status": order.status,
        "created_at": iso(order.created_at),
        "updated_at": iso(order.updated_at),
        "payment_method": order.payment_method,
        "paid_at": iso(order.paid_at),
        "refunded": order.refund_id is not None,
        "lines": [
            {
                "shoe_id": line.shoe_id,
                "name": line.name,
                "brand": line.brand,
                "size": line.size,
                "unit_price_cents": int(line.unit_price_cents),
                "quantity": int(line.quantity),
                "line_total_cents": int(line.unit_price_cents) * int(line.quantity),
            }
            for line in order.lines
        ],
        "address": plain_dict(order.address) or None,
        "subtotal_cents": int(order.subtotal_cents),
        "discount_cents": int(order.discount_cents or 0),
        "discount_code": order.discount_code,
        "shipping_method": {"id": order.shipping_method_id or "standard", "label": order.shipping_label or "Standard"},
        "shipping_cents": int(order.shipping_cents),
        "total_cents": int(order.total_cents),
        "history": [
            {"status": change.status, "at": iso(change.at), "note": change.note} for change in order.history or []
        ],
        "tracking_note": order.tracking_note,
        "carrier": order.carrier,
        "tracking_number": order.tracking_number,
    }


def admin_order_json(order: "Order") -> dict[str, Any]:
    """The back office's view (schema AdminOrder): the shopper's, plus the version to send back
    with a transition, who made each change, and what the admin order page shows beside: the
    customer (as snapshotted on the order) and the refunds made."""
    return {
        **order_json(order),
        "version": order.version,
        "history": [
            {"status": change.status, "at": iso(change.at), "by": change.by, "note": change.note}
            for change in order.history or []
        ],
        "customer": {
            "user_id": order.user_id,
            "username": order.customer_username,
            "name": order.customer_name,
            "email": order.customer_email or order.guest_email,
            "guest": order.user_id is None and order.guest_email is not None,
        },
        "refunded_cents": int(order.refunded_cents or 0),
        "refunds": [
            {
                "amount_cents": int(refund.amount_cents),
                "at": iso(refund.at),
                "by": refund.by,
                "method": refund.method,
                "refund_id": refund.refund_id,
                "lines": [int(index) for index in refund.lines or []],
                "restock": bool(refund.restock),
                "note": refund.note,
            }
            for refund in order.refunds or []
        ],
    }
