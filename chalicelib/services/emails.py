"""The shop's emails: what each says (Jinja templates in templates/emails/, an HTML and a plain-text
part per kind, in the shop's style) and the builders that turn a state change into an outbox
message. Builders run inside the change's transaction and snapshot plain values into the message's
context, so an email tells what happened even if the order changes again before it is sent.

Adding an email: a subject in SUBJECTS, `emails/<kind>.html` and `emails/<kind>.txt`, and a builder
returning an outbox.Message with a dedupe key that names the change ("<kind>#<id>").
"""

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import quote

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from chalicelib.config import get_settings
from chalicelib.formatting import format_datetime, format_money
from chalicelib.models import Order
from chalicelib.models.base import plain_dict
from chalicelib.services import order_links
from chalicelib.services.outbox import Message

TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "templates"
SHOP_NAME = "Stride Shoes"

ORDER_PLACED = "order_placed"
PAYMENT_RECEIVED = "payment_received"
ORDER_SHIPPED = "order_shipped"
ORDER_DELIVERED = "order_delivered"
ORDER_CANCELLED = "order_cancelled"
ORDER_REFUNDED = "order_refunded"

# kind -> subject (a Jinja string over the message's context; rendered as one line of plain text)
SUBJECTS: dict[str, str] = {
    ORDER_PLACED: "Your Stride Shoes order {{ order_number | default(order_id) }} is confirmed",
    PAYMENT_RECEIVED: "Payment received for order {{ order_number | default(order_id) }}",
    ORDER_SHIPPED: "Your order {{ order_number | default(order_id) }} has shipped",
    ORDER_DELIVERED: "Your order {{ order_number | default(order_id) }} was delivered",
    ORDER_CANCELLED: "Your order {{ order_number | default(order_id) }} is cancelled",
    ORDER_REFUNDED: "Refund for order {{ order_number | default(order_id) }}",
    # Returns and exchanges (builders in chalicelib.services.returns)
    "return_requested": "Your return for order {{ order_number | default(order_id) }}: how to send it",
    "return_received": "We received your return for order {{ order_number | default(order_id) }}",
    "exchange_shipped": "Your new size for order {{ order_number | default(order_id) }} has shipped",
    "return_released": "Your return for order {{ order_number | default(order_id) }} is closed",
    # Accounts and back-in-stock alerts (builders in chalicelib.services.account_emails).
    "password_reset": "Reset your Stride Shoes password",
    "password_changed": "Your Stride Shoes password was changed",
    "email_change_confirm": "Confirm your new email address for Stride Shoes",
    "email_changed": "The email address of your Stride Shoes account was changed",
    "account_deleted": "Your Stride Shoes account is deleted",
    "back_in_stock": "Back in stock: {{ shoe_name }} in {{ size_label }}",
}

# carrier code (the back office's choice) -> (name, tracking page with {number})
CARRIERS: dict[str, tuple[str, str]] = {
    "dhl": ("DHL", "https://www.dhl.com/global-en/home/tracking.html?tracking-id={number}"),
    "dpd": ("DPD", "https://tracking.dpd.de/status/en_US/parcel/{number}"),
    "fedex": ("FedEx", "https://www.fedex.com/fedextrack/?trknbr={number}"),
    "ups": ("UPS", "https://www.ups.com/track?tracknum={number}"),
    "usps": ("USPS", "https://tools.usps.com/go/TrackConfirmAction?tLabels={number}"),
    "an-post": ("An Post", "https://www.anpost.com/Post-Parcels/Track/History?item={number}"),
    "royal-mail": ("Royal Mail", "https://www.royalmail.com/track-your-item#/tracking-results/{number}"),
}
TRACKING_NUMBER_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 -]{2,38}[A-Za-z0-9]$")


class UnknownKind(ValueError):
    """A message whose kind has no templates: it can never be sent (the sender marks it failed)."""


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str


@lru_cache(maxsize=1)
def environment() -> Environment:
    """HTML parts (`.html`) are autoescaped; the plain-text parts and subjects have nothing to escape.
    No rendered text becomes a header unencoded: the subject is collapsed to one line, and the MIME
    encoder refuses line breaks in any header (chalicelib.services.mailer)."""
    env = Environment(
        loader=FileSystemLoader(str(TEMPLATES_DIR)),
        autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False, default=False),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["money"] = format_money
    return env


def one_line(text: str) -> str:
    return " ".join(text.split())


def render(kind: str, context: dict[str, Any]) -> Rendered:
    """The email of `kind` for `context`; a missing value raises (jinja2 StrictUndefined)."""
    if kind not in SUBJECTS:
        raise UnknownKind(f"No email templates for kind {kind!r}")
    settings = get_settings()
    values = {"shop_name": SHOP_NAME, "shop_url": settings.shop_url, **context}
    env = environment()
    subject = one_line(env.from_string(SUBJECTS[kind]).render(values))
    text = env.get_template(f"emails/{kind}.txt").render(values, subject=subject)
    html = env.get_template(f"emails/{kind}.html").render(values, subject=subject)
    return Rendered(subject=subject, text=re.sub(r"\n{3,}", "\n\n", text).strip() + "\n", html=html)


# -- order emails -----------------------------------------------------------------------------
def order_url(order: Order) -> str:
    """The one link back to an order, in every order email: a guest order's signed link, or the
    account's order page."""
    return f"{get_settings().shop_url}{order_links.order_link(order)}"


def _address_lines(address: dict[str, Any]) -> list[str]:
    from chalicelib.services.checkout import COUNTRY_NAMES  # checkout imports this module

    city = " ".join(
        part
        for part in (
            str(address.get("city", "")) + ("," if address.get("region") else ""),
            str(address.get("region", "")),
            str(address.get("postal_code", "")),
        )
        if part
    )
    country = COUNTRY_NAMES.get(str(address.get("country", "")), str(address.get("country", "")))
    parts = [address.get("full_name"), address.get("line1"), address.get("line2"), city, country]
    return [str(part) for part in parts if part]


def order_context(order: Order) -> dict[str, Any]:
    """The order as its emails show it, in plain values."""
    return {
        "order_id": order.order_id,
        "order_number": order.reference,
        "order_url": order_url(order),
        "placed_on": format_datetime(order.created_at),
        "status": order.status,
        "payment_method": order.payment_method,
        "lines": [
            {
                "name": line.name,
                "brand": line.brand,
                "size": line.size,
                "quantity": int(line.quantity),
                "unit_price_cents": int(line.unit_price_cents),
                "line_total_cents": int(line.unit_price_cents) * int(line.quantity),
            }
            for line in order.lines
        ],
        "subtotal_cents": int(order.subtotal_cents),
        "discount_cents": int(order.discount_cents or 0),
        "discount_code": order.discount_code,
        "shipping_cents": int(order.shipping_cents),
        "shipping_label": order.shipping_label,
        "total_cents": int(order.total_cents),
        "address_lines": _address_lines(plain_dict(order.address)),
    }


def _order_message(kind: str, order: Order, recipient: str, key_suffix: str = "", **extra: Any) -> Message:
    return Message(
        kind=kind,
        recipient=recipient,
        context={**order_context(order), **extra},
        dedupe_key=f"{kind}#{order.order_id}{key_suffix}",
    )


def order_placed(order: Order, recipient: str) -> Message:
    return _order_message(ORDER_PLACED, order, recipient)


def payment_received(order: Order, recipient: str, amount_cents: int | None = None) -> Message:
    """For branch i13-stripe's webhook, in the transaction that records the payment."""
    amount = int(order.total_cents) if amount_cents is None else int(amount_cents)
    return _order_message(PAYMENT_RECEIVED, order, recipient, amount_cents=amount)


def tracking_details(carrier: str, tracking_number: str) -> dict[str, str]:
    """Carrier name and tracking link for the shipped email; an unknown carrier has no link."""
    name, url = CARRIERS.get(carrier, ("", ""))
    number = one_line(tracking_number)
    return {
        "carrier": carrier,
        "carrier_name": name,
        "tracking_number": number,
        "tracking_url": url.format(number=quote(number.replace(" ", ""), safe="")) if url and number else "",
    }


def order_shipped(
    order: Order, recipient: str, carrier: str = "", tracking_number: str = "", note: str = ""
) -> Message:
    return _order_message(
        ORDER_SHIPPED, order, recipient, **tracking_details(carrier, tracking_number), tracking_note=note
    )


def order_delivered(order: Order, recipient: str) -> Message:
    return _order_message(ORDER_DELIVERED, order, recipient)


def order_cancelled(order: Order, recipient: str, reason: str = "") -> Message:
    return _order_message(ORDER_CANCELLED, order, recipient, reason=reason)


def order_refunded(order: Order, recipient: str, amount_cents: int, refund_id: str) -> Message:
    """For branch i13-stripe's refunds: one email per refund (`refund_id` keeps partial refunds apart)."""
    return _order_message(ORDER_REFUNDED, order, recipient, key_suffix=f"#{refund_id}", amount_cents=int(amount_cents))


def order_recipient(order: Order) -> str | None:
    """Where an order's emails go: a guest order's own address, else the shopper's current address
    (none once the account is gone)."""
    guest_email = order.guest_email
    if guest_email:
        return str(guest_email)
    if not order.user_id:
        return None
    from chalicelib.services.accounts import get_user

    user = get_user(order.user_id)
    return user.email if user is not None else None
