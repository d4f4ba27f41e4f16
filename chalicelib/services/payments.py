"""Payment behind a small interface: pay on delivery today; a card provider would be another
PaymentProvider (docs/checkout.md).
"""

from dataclasses import dataclass
from typing import Protocol


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
    method = "pay_on_delivery"

    def prepare(self, request: PaymentRequest) -> PaymentDecision:
        return PaymentDecision(method=self.method, status="placed", note="Pay on delivery")


_provider: PaymentProvider = PayOnDelivery()


def provider() -> PaymentProvider:
    return _provider


def set_provider(new: PaymentProvider | None) -> None:
    """Install another provider (tests, or a future card provider); None restores pay on delivery."""
    global _provider
    _provider = new or PayOnDelivery()


METHOD_LABELS = {PayOnDelivery.method: "Pay on delivery"}


def offered_methods() -> list[str]:
    """What shoppers can pay with on this stage, as labels (the footer lists them). Another
    provider (a card provider) adds its label here."""
    method = provider().method
    return [METHOD_LABELS.get(method, method.replace("_", " ").capitalize())]
