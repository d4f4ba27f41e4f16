"""Payment methods a stage offers and how an order of each starts (docs/checkout.md); card
orders are paid through services/card_payments.py."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Protocol

from chalicelib import clock
from chalicelib.config import get_settings
from chalicelib.secrets import get_secrets

if TYPE_CHECKING:
    from chalicelib.models import Order

CARD = "card"
PAY_ON_DELIVERY = "pay_on_delivery"
METHOD_LABELS = {CARD: "Card", PAY_ON_DELIVERY: "Pay on delivery"}
PENDING_PAYMENT = "pending_payment"


@dataclass(frozen=True)
class PaymentRequest:
    order_id: str  # stable across retries: providers use it as their idempotency key
    user_id: str  # the shopper's id, or a guest's "EMAIL#<address>" (checkout.Buyer.owner_key)
    amount_cents: int
    currency: str


@dataclass(frozen=True)
class PaymentDecision:
    method: str  # stored on the order as payment_method
    status: str  # the order's first status
    redirect_url: str | None = None  # where to send the shopper to pay, if anywhere
    note: str = ""  # shown in the order's history


class PaymentProvider(Protocol):
    method: str

    def prepare(self, request: PaymentRequest) -> PaymentDecision:
        """How the order will be paid, decided before it is written; safe to call again (retries)."""
        ...


class PayOnDelivery:
    method = PAY_ON_DELIVERY

    def prepare(self, request: PaymentRequest) -> PaymentDecision:
        return PaymentDecision(method=self.method, status="placed", note="Pay on delivery")


_provider: PaymentProvider = PayOnDelivery()


def provider() -> PaymentProvider:
    return _provider


def set_provider(new: PaymentProvider | None) -> None:
    """Install another provider (tests, or a future card provider); None restores pay on delivery."""
    global _provider
    _provider = new or PayOnDelivery()


def card_configured() -> bool:
    secrets = get_secrets()
    return bool(secrets.stripe_secret_key and secrets.stripe_webhook_secret)


def available_methods() -> tuple[str, ...]:
    """Enabled by PAYMENT_METHODS and servable (card needs both keys); card first, the default."""
    enabled = get_settings().payment_methods
    methods = []
    if CARD in enabled and card_configured():
        methods.append(CARD)
    if PAY_ON_DELIVERY in enabled:
        methods.append(PAY_ON_DELIVERY)
    return tuple(methods)


def prepare(method: str, request: PaymentRequest) -> PaymentDecision:
    if method == CARD:
        return PaymentDecision(method=CARD, status=PENDING_PAYMENT, note="Waiting for the card payment")
    return provider().prepare(request)


PAYMENT_DUE_SHARD = "DUE"


def session_expires_at(created_at: datetime) -> datetime:
    return created_at + timedelta(minutes=get_settings().card_session_minutes)


def mark_payment_due(order: "Order", created_at: datetime) -> None:
    """Into the sparse by-payment-due index, due after the session's lifetime plus a margin."""
    settings = get_settings()
    due = session_expires_at(created_at) + timedelta(minutes=settings.payment_sweep_margin_minutes)
    order.payment_due_shard = PAYMENT_DUE_SHARD
    order.payment_due_sort = f"{clock.sortable(due)}#{order.order_id}"


METHOD_LABELS = {CARD: "Card", PAY_ON_DELIVERY: "Pay on delivery"}


def offered_methods() -> list[str]:
    """What shoppers can pay with on this stage, as labels (the footer lists them)."""
    return [METHOD_LABELS.get(method, method.replace("_", " ").capitalize()) for method in available_methods()]
