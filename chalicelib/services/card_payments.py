"""Card payments through Stripe Checkout (docs/checkout.md); imports `stripe` inside functions only.

pending_payment -> paid (verified event only) or -> payment_expired (stock back in the same
transaction). Each step decides from the state read and writes conditioned on it, so duplicate or
out-of-order events change nothing. A late "paid" for an expired order is refunded.
"""

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from pynamodb.exceptions import PutError, UpdateError
from pynamodb.expressions.update import Action

from chalicelib import clock
from chalicelib.config import get_settings
from chalicelib.logs import log_event
from chalicelib.models import Order, PaymentEvent, StatusChange, dynamo
from chalicelib.secrets import get_secrets
from chalicelib.services import emails, fulfilment, outbox, payments
from chalicelib.services.errors import Conflict, ServiceError

if TYPE_CHECKING:
    import stripe

PENDING, PAID, EXPIRED = payments.PENDING_PAYMENT, "paid", "payment_expired"
TIMEOUT = (3.05, 10.0)  # connect, read: inside API Gateway's 29 s


class PaymentUnavailable(ServiceError):
    pass


class BadSignature(Exception):
    pass


@lru_cache(maxsize=2)
def _client_for(api_key: str, api_base: str) -> "stripe.StripeClient":
    import stripe

    return stripe.StripeClient(
        api_key,
        base_addresses={"api": api_base} if api_base else {},
        max_network_retries=1,
        http_client=stripe.RequestsClient(timeout=TIMEOUT),
    )


def _call(what: str, call: Callable[["stripe.StripeClient"], Any]) -> Any:
    import stripe

    key = get_secrets().stripe_secret_key
    if not key:
        raise PaymentUnavailable("Card payments are not available right now.")
    try:
        return call(_client_for(key, get_settings().stripe_api_base))
    except stripe.StripeError as error:
        log_event("stripe_error", logging.WARNING, call=what, error=type(error).__name__)
        raise PaymentUnavailable("We could not reach the card payment service. Nothing was charged.") from error


@dataclass(frozen=True)
class ReturnUrls:
    success: str
    cancel: str


def start_checkout(order: Order, urls: ReturnUrls) -> str:
    """The session URL; every field from the stored order, the idempotency key from its id."""
    params: Any = {
        "mode": "payment",
        "client_reference_id": order.order_id,
        "line_items": [
            {
                "quantity": 1,
                "price_data": {
                    "currency": get_settings().currency.lower(),
                    "unit_amount": int(order.total_cents),
                    "product_data": {"name": f"Stride Shoes order {order.order_id}"},
                },
            }
        ],
        "metadata": {"order_id": order.order_id},
        "success_url": urls.success,
        "cancel_url": urls.cancel,
        "expires_at": int(payments.session_expires_at(order.created_at).timestamp()),
    }
    options: Any = {"idempotency_key": f"checkout-session-{order.order_id}"}
    session = _call("sessions.create", lambda c: c.v1.checkout.sessions.create(params=params, options=options))
    if order.checkout_session_id != session.id:
        _settle(order.order_id, lambda o: [Order.checkout_session_id.set(session.id)] if o.status == PENDING else None)
    return str(session.url)


def _get(order_id: str) -> Order | None:
    try:
        return Order.get(order_id, consistent_read=True)
    except Order.DoesNotExist:
        return None


def _settle(
    order_id: str,
    decide: Callable[[Order], list[Action] | None],
    restock: bool = False,
    email: Callable[[Order], outbox.Message | None] | None = None,
) -> Order | None:
    """Read, decide (None: nothing to do), write conditioned on the state read (with the
    shopper's email in the same transaction); retry on a race."""
    for _attempt in range(5):
        order = _get(order_id)
        actions = decide(order) if order is not None else None
        if order is None or actions is None:
            return order
        actions.append(Order.updated_at.set(clock.now()))
        condition = Order.status == order.status
        message = email(order) if email is not None else None
        try:
            if restock:
                fulfilment.restock_with(order, actions, condition, message=message)
            elif message is not None:
                fulfilment.move_with(order, actions, condition, message)
            else:
                order.update(actions=actions, condition=condition)
            return _get(order_id)
        except dynamo.ConditionsFailed:
            continue
        except UpdateError as error:
            if not dynamo.condition_failed(error):
                raise
    raise Conflict("This order is changing right now. Please try again in a moment.")


def _moved(order: Order, status: str, note: str) -> list[Action]:
    change = StatusChange(status=status, at=clock.now(), by="payment", note=note)
    return [
        *order.status_actions(status),
        Order.history.set(Order.history.append([change])),
        Order.payment_due_shard.remove(),  # out of the sweep's index
        Order.payment_due_sort.remove(),
    ]


def _payment_received(order: Order) -> outbox.Message | None:
    """The card order's confirmation: "payment received", with its lines and total."""
    recipient = emails.order_recipient(order)
    return emails.payment_received(order, recipient) if recipient else None


def settle_paid(order_id: str, session: dict[str, Any]) -> Order | None:
    intent = str(session.get("payment_intent") or "")
    currency = get_settings().currency.lower()

    def decide(order: Order) -> list[Action] | None:
        if order.status != PENDING:
            return None
        if session.get("amount_total") != int(order.total_cents) or session.get("currency") != currency:
            log_event("payment_amount_mismatch", logging.ERROR, order_id=order_id)
            return None
        return [
            *_moved(order, PAID, "Card payment confirmed by Stripe"),
            Order.paid_at.set(clock.now()),
            Order.payment_intent_id.set(intent),
        ]

    order = _settle(order_id, decide, email=_payment_received)
    if order is not None and order.status == EXPIRED and order.refund_id is None and intent:
        refund_id = create_refund(order_id, intent)

        def record(current: Order) -> list[Action] | None:
            if current.refund_id is not None:
                return None
            note = StatusChange(status=EXPIRED, at=clock.now(), by="payment", note="Paid late: refunded in full")
            return [
                Order.refund_id.set(refund_id),
                Order.payment_intent_id.set(intent),
                Order.history.set(Order.history.append([note])),
            ]

        order = _settle(order_id, record)
        log_event("late_payment_refunded", order_id=order_id)
    return order


def settle_unpaid(order_id: str, note: str) -> Order | None:
    """A pending order expires, its stock back (once); any other state changes nothing."""
    return _settle(order_id, lambda o: _moved(o, EXPIRED, note) if o.status == PENDING else None, restock=True)


def close_session(order: Order) -> bool:
    """Expire the order's session at Stripe; True once it can no longer be paid."""
    import stripe

    session_id = order.checkout_session_id
    if not session_id:
        return True
    try:
        _call("sessions.expire", lambda c: c.v1.checkout.sessions.expire(session_id))
        return True
    except PaymentUnavailable as error:
        if not isinstance(error.__cause__, stripe.InvalidRequestError):
            raise
    session = _call("sessions.retrieve", lambda c: c.v1.checkout.sessions.retrieve(session_id))
    return str(session.status) == "expired"  # "complete": its "paid" event settles it


def abandon(order: Order, note: str) -> Order | None:
    if order.status != PENDING or not close_session(order):
        return _get(order.order_id)
    return settle_unpaid(order.order_id, note)


def create_refund(order_id: str, payment_intent: str, amount_cents: int | None = None, key: str = "") -> str:
    """A Stripe refund of `amount_cents` (None: all that is left); the idempotency key makes a
    repeated call (a retry, a double submit) the same refund: one key per refund of the order."""
    params: Any = {"payment_intent": payment_intent, "metadata": {"order_id": order_id}}
    if amount_cents is not None:
        params["amount"] = int(amount_cents)
    options: Any = {"idempotency_key": f"refund-{key or order_id}"}
    return str(_call("refunds.create", lambda c: c.v1.refunds.create(params=params, options=options)).id)


def record_refund(order: Order) -> str:
    """Refund what is left of a paid order (all of it, unless lines were refunded before)."""
    if order.refund_id:
        return order.refund_id
    if not order.payment_intent_id:
        raise Conflict("This order has no card payment to refund.")
    remaining = fulfilment.remaining_cents(order)
    refund_id = create_refund(order.order_id, order.payment_intent_id, remaining if order.refunded_cents else None)

    def record(current: Order) -> list[Action] | None:
        if current.refund_id is not None:
            return None
        return [Order.refund_id.set(refund_id), Order.refunded_cents.set(int(current.total_cents))]

    _settle(order.order_id, record)
    return refund_id


def verify(raw_body: bytes, signature: str | None) -> dict[str, Any]:
    """The event, if Stripe signed these exact bytes within 300 s."""
    import stripe

    secret = get_secrets().stripe_webhook_secret
    try:
        stripe.Webhook.construct_event(raw_body.decode(), signature or "", secret)
    except (stripe.SignatureVerificationError, ValueError) as error:
        raise BadSignature(type(error).__name__) from error
    event: dict[str, Any] = json.loads(raw_body)
    return event


def handle_webhook(raw_body: bytes, signature: str | None) -> str:
    """Verify, record the event id (a duplicate does nothing), apply."""
    if not signature or not get_secrets().stripe_webhook_secret:
        raise BadSignature("no signature or secret")
    event = verify(raw_body, signature)
    kind = str(event.get("type") or "")
    session = (event.get("data") or {}).get("object") or {}
    order_id = str(session.get("client_reference_id") or "") if kind.startswith("checkout.session.") else ""
    now = clock.now()
    entry = PaymentEvent(
        pk=PaymentEvent.key_for(str(event.get("id"))),
        event_type=kind,
        order_id=order_id or None,
        received_at=now,
        expires_at=now + timedelta(days=30),
    )
    try:
        entry.save(condition=PaymentEvent.pk.does_not_exist())
    except PutError as error:
        if dynamo.condition_failed(error):
            return "duplicate"
        raise
    try:
        return _apply(kind, order_id, session)
    except Exception:
        entry.delete()  # not applied: Stripe's retry must not look like a duplicate
        raise


def _apply(kind: str, order_id: str, session: dict[str, Any]) -> str:
    order = _get(order_id) if order_id else None
    known = order is not None and order.payment_method == payments.CARD
    if order is None or not known or session.get("id") != (order.checkout_session_id or session.get("id")):
        log_event("webhook_ignored", logging.WARNING, order_id=order_id, event_type=kind)
        return "ignored"
    paid = session.get("payment_status") == "paid"
    if paid and kind in ("checkout.session.completed", "checkout.session.async_payment_succeeded"):
        settle_paid(order_id, session)
        return "paid"
    if kind in ("checkout.session.expired", "checkout.session.async_payment_failed"):
        settle_unpaid(order_id, "The card payment session expired or failed")
        return "expired"
    return "ignored"


def sweep_expired(now: datetime | None = None) -> list[str]:
    """Pending orders past session lifetime + margin, from the sparse by-payment-due index."""
    cutoff = f"{clock.sortable(now or clock.now())}#~"
    expired = []
    for due in Order.by_payment_due.query(payments.PAYMENT_DUE_SHARD, Order.payment_due_sort <= cutoff, limit=50):
        order = _get(due.order_id)
        try:
            if order is None or order.status != PENDING or not close_session(order):
                continue
        except PaymentUnavailable:
            continue
        if settle_unpaid(order.order_id, "No payment arrived in time") is not None:
            expired.append(order.order_id)
    return expired
