"""Card payments through Stripe Checkout (docs/checkout.md, "Card payments").

The only module that imports `stripe`, and only inside its functions: `import app` never loads it
(tests/test_card_payments.py proves it). The same `StripeClient` talks to api.stripe.com or, with
STRIPE_API_BASE set, to the local stand-in (devtools/stripe_standin.py).

Payment states (the order's status): `pending_payment` -> `paid` (only from a verified Stripe
event) or -> `payment_expired` (session expired, cancelled or declined, or swept past its
deadline; the stock returns in the same transaction). Every settle step reads the order, decides
from its current state, and writes conditioned on that state and version, so a duplicate, a late
or an out-of-order event finds "already done" and changes nothing. A "paid" event for an order
that already expired (its stock went back) is refunded in full: re-reserving stock that may have
been sold meanwhile could oversell.
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
from chalicelib.models import Order, PaymentEvent, StatusChange, Stock, dynamo
from chalicelib.secrets import get_secrets
from chalicelib.services import events, fulfilment, payments
from chalicelib.services.errors import Conflict, ServiceError

if TYPE_CHECKING:
    import stripe

PENDING_PAYMENT = payments.PENDING_PAYMENT
PAID = "paid"
PAYMENT_EXPIRED = "payment_expired"
LEDGER_DAYS = 30
HTTP_TIMEOUT_SECONDS = (3.05, 10.0)  # connect, read: well inside API Gateway's 29 s
SETTLE_ATTEMPTS = 5
SWEEP_BATCH = 50
BY = "payment"  # who the history says made a payment change


class PaymentUnavailable(ServiceError):
    """Stripe could not be reached or refused the request: nothing was charged."""


class BadSignature(Exception):
    """A webhook whose signature or timestamp does not verify: answered 400, logged."""


@lru_cache(maxsize=2)
def _client_for(api_key: str, api_base: str) -> "stripe.StripeClient":
    import stripe

    return stripe.StripeClient(
        api_key,
        base_addresses={"api": api_base} if api_base else {},
        max_network_retries=1,
        http_client=stripe.RequestsClient(timeout=HTTP_TIMEOUT_SECONDS),
    )


def client() -> "stripe.StripeClient":
    """One client per warm Lambda (keyed on the key and base address, which tests change)."""
    secret_key = get_secrets().stripe_secret_key
    if not secret_key:
        raise PaymentUnavailable("Card payments are not available in this shop right now.")
    return _client_for(secret_key, get_settings().stripe_api_base)


def _stripe_call(what: str, call: Callable[[], Any]) -> Any:
    import stripe

    try:
        return call()
    except stripe.StripeError as error:
        # The message names no key: Stripe's errors carry ids and a reason only.
        log_event("stripe_error", logging.WARNING, call=what, error=type(error).__name__, code=error.code or "")
        raise PaymentUnavailable("We could not reach the card payment service. Nothing was charged.") from error


# -- starting a payment ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ReturnUrls:
    success: str  # the order page ("{CHECKOUT_SESSION_ID}" is filled in by Stripe)
    cancel: str  # back to the review step, with a signed token for this order


def start_checkout(order: Order, urls: ReturnUrls) -> str:
    """The Checkout Session's URL for a `pending_payment` order. Everything sent derives from the
    stored order, and the idempotency key from its id: a retried submit gets the same session."""
    settings = get_settings()
    expires_at = payments.session_expires_at(order.created_at)
    params: dict[str, Any] = {
        "mode": "payment",
        "client_reference_id": order.order_id,
        "line_items": [
            {
                "quantity": 1,
                "price_data": {
                    "currency": settings.currency.lower(),
                    "unit_amount": int(order.total_cents),
                    "product_data": {"name": f"Stride Shoes order {order.order_id}"},
                },
            }
        ],
        "metadata": {"order_id": order.order_id},
        "payment_intent_data": {"metadata": {"order_id": order.order_id}},
        "success_url": urls.success,
        "cancel_url": urls.cancel,
        "expires_at": int(expires_at.timestamp()),
    }
    session = _stripe_call(
        "checkout.sessions.create",
        lambda: client().v1.checkout.sessions.create(
            params=params,  # type: ignore[arg-type]  # a plain dict of the documented fields
            options={"idempotency_key": f"checkout-session-{order.order_id}"},
        ),
    )
    if order.checkout_session_id != session.id:
        _record_session(order.order_id, session.id)
    return str(session.url)


def _record_session(order_id: str, session_id: str) -> None:
    def decide(order: Order) -> list[Action] | None:
        if order.status != PENDING_PAYMENT or order.checkout_session_id == session_id:
            return None
        return [Order.checkout_session_id.set(session_id), Order.updated_at.set(clock.now())]

    _settle(order_id, decide)


# -- the state machine -----------------------------------------------------------------------------


def _get(order_id: str) -> Order | None:
    try:
        return Order.get(order_id, consistent_read=True)
    except Order.DoesNotExist:
        return None


def _settle(order_id: str, decide: Callable[[Order], Any], restock: bool = False) -> Order | None:
    """Read, decide from the current state, write conditioned on that state (and the version
    PynamoDB adds); a concurrent change makes us read and decide again. `decide` returns None for
    "nothing to do" (already done) or the actions; with `restock` the lines go back to stock in
    the same transaction."""
    for _attempt in range(SETTLE_ATTEMPTS):
        order = _get(order_id)
        if order is None:
            return None
        actions = decide(order)
        if actions is None:
            return order
        condition = Order.status == order.status
        try:
            if restock:
                _update_and_restock(order, actions, condition)
            else:
                order.update(actions=actions, condition=condition)
        except dynamo.ConditionsFailed:
            continue
        except UpdateError as error:
            if not dynamo.condition_failed(error):
                raise
            continue
        return _get(order_id)
    raise Conflict("This order is changing right now. Please try again in a moment.")


def _update_and_restock(order: Order, actions: list[Action], condition: Any) -> None:
    quantities = fulfilment.order_quantities(order)
    now = clock.now()

    def build(transaction: dynamo.Transaction) -> None:
        transaction.update("order", order, actions=list(actions), condition=condition)
        for (shoe_id, size), quantity in quantities.items():
            transaction.update(
                f"stock:{shoe_id}#{size}",
                Stock(shoe_id=shoe_id, size=size),
                actions=[Stock.quantity.add(quantity), Stock.sold.add(-quantity), Stock.updated_at.set(now)],
            )

    dynamo.transact(build)
    for shoe_id in {shoe for shoe, _ in quantities}:
        events.publish(events.STOCK_CHANGED, shoe_id=shoe_id, sizes=[s for k, s in quantities if k == shoe_id])


def _history(status: str, note: str) -> Action:
    return Order.history.set(Order.history.append([StatusChange(status=status, at=clock.now(), by=BY, note=note)]))


def _leave_due_index() -> list[Action]:
    return [Order.payment_due_shard.remove(), Order.payment_due_sort.remove()]


def settle_paid(order_id: str, session: dict[str, Any]) -> Order | None:
    """A verified "paid" for this order's Checkout Session (the webhook only). Already paid (or
    moved on since): nothing. Expired meanwhile: refunded, as the module docstring says."""
    amount = session.get("amount_total")
    currency = str(session.get("currency") or "")

    def decide(order: Order) -> list[Action] | None:
        if order.status != PENDING_PAYMENT:
            return None
        if amount != int(order.total_cents) or currency != get_settings().currency.lower():
            log_event("payment_amount_mismatch", logging.ERROR, order_id=order_id, amount=amount, currency=currency)
            return None
        now = clock.now()
        return [
            Order.status.set(PAID),
            Order.paid_at.set(now),
            Order.updated_at.set(now),
            Order.checkout_session_id.set(str(session.get("id"))),
            Order.payment_intent_id.set(str(session.get("payment_intent") or "")),
            _history(PAID, "Card payment confirmed by Stripe"),
            *_leave_due_index(),
        ]

    order = _settle(order_id, decide)
    if order is not None and order.status == PAYMENT_EXPIRED and order.refund_id is None:
        _refund_late_payment(order, str(session.get("payment_intent") or ""))
    return order


def _refund_late_payment(order: Order, payment_intent: str) -> None:
    if not payment_intent:
        log_event("late_payment_without_intent", logging.ERROR, order_id=order.order_id)
        return
    refund_id = create_refund(order.order_id, payment_intent)

    def decide(current: Order) -> list[Action] | None:
        if current.refund_id is not None or current.status != PAYMENT_EXPIRED:
            return None
        return [
            Order.refund_id.set(refund_id),
            Order.payment_intent_id.set(payment_intent),
            Order.updated_at.set(clock.now()),
            _history(PAYMENT_EXPIRED, "Paid after the payment window closed: refunded in full"),
        ]

    _settle(order.order_id, decide)
    log_event("late_payment_refunded", logging.WARNING, order_id=order.order_id, refund_id=refund_id)


def settle_unpaid(order_id: str, note: str) -> Order | None:
    """The session expired, failed or was cancelled (webhook, cancel return, sweep): a pending
    order becomes `payment_expired` and its stock returns in the same transaction, exactly once.
    Any other state (paid included: an `expired` after `paid`) changes nothing."""

    def decide(order: Order) -> list[Action] | None:
        if order.status != PENDING_PAYMENT:
            return None
        return [
            Order.status.set(PAYMENT_EXPIRED),
            Order.updated_at.set(clock.now()),
            _history(PAYMENT_EXPIRED, note),
            *_leave_due_index(),
        ]

    return _settle(order_id, decide, restock=True)


def close_session(order: Order) -> bool:
    """Ask Stripe to expire the order's open session; True when it can no longer be paid (expired
    now or before, or never created). False when it was completed: its "paid" event settles it."""
    if not order.checkout_session_id:
        return True
    import stripe

    session_id = order.checkout_session_id
    try:
        client().v1.checkout.sessions.expire(session_id)
        return True
    except stripe.InvalidRequestError:
        session = _stripe_call("checkout.sessions.retrieve", lambda: client().v1.checkout.sessions.retrieve(session_id))
        return str(session.status) == "expired"
    except stripe.StripeError as error:
        log_event("stripe_error", logging.WARNING, call="checkout.sessions.expire", error=type(error).__name__)
        raise PaymentUnavailable("We could not reach the card payment service. Please try again.") from error


def abandon(order: Order, note: str) -> Order | None:
    """The shopper came back without paying (cancelled, or declined at the stand-in)."""
    if order.status != PENDING_PAYMENT:
        return order
    if not close_session(order):
        return _get(order.order_id)  # completed after all: the webhook will say paid
    return settle_unpaid(order.order_id, note)


# -- refunds ---------------------------------------------------------------------------------------


def create_refund(order_id: str, payment_intent: str) -> str:
    """One refund per order, whatever the retries: the idempotency key is the order id."""
    refund = _stripe_call(
        "refunds.create",
        lambda: client().v1.refunds.create(
            params={"payment_intent": payment_intent, "metadata": {"order_id": order_id}},
            options={"idempotency_key": f"refund-{order_id}"},
        ),
    )
    return str(refund.id)


def record_refund(order: Order) -> str:
    """Before an admin cancels a paid order: the refund is made (once) and recorded on the order;
    only then may the cancellation restock. A second click finds the refund recorded."""
    if order.refund_id:
        return order.refund_id
    if not order.payment_intent_id:
        raise Conflict("This order has no card payment to refund.")
    refund_id = create_refund(order.order_id, order.payment_intent_id)

    def decide(current: Order) -> list[Action] | None:
        if current.refund_id is not None:
            return None
        if current.status != PAID:
            raise Conflict(f"This order is {current.status}, so it cannot be refunded.")
        return [Order.refund_id.set(refund_id), Order.updated_at.set(clock.now())]

    _settle(order.order_id, decide)
    return refund_id


# -- webhooks --------------------------------------------------------------------------------------

COMPLETED = "checkout.session.completed"
ASYNC_SUCCEEDED = "checkout.session.async_payment_succeeded"
ASYNC_FAILED = "checkout.session.async_payment_failed"
EXPIRED = "checkout.session.expired"


def verify(raw_body: bytes, signature_header: str | None) -> dict[str, Any]:
    """The event, if Stripe signed these exact bytes within the tolerance (300 s)."""
    import stripe

    secret = get_secrets().stripe_webhook_secret
    if not secret or not signature_header:
        raise BadSignature("missing signature or webhook secret")
    try:
        stripe.Webhook.construct_event(raw_body.decode("utf-8"), signature_header, secret)
    except (stripe.SignatureVerificationError, ValueError, UnicodeDecodeError) as error:
        raise BadSignature(type(error).__name__) from error
    event: dict[str, Any] = json.loads(raw_body)
    return event


def handle_webhook(raw_body: bytes, signature_header: str | None) -> str:
    """Verify, record the event id (a duplicate does nothing), apply it. Returns what happened."""
    event = verify(raw_body, signature_header)
    event_id = str(event.get("id") or "")
    event_type = str(event.get("type") or "")
    session = (event.get("data") or {}).get("object") or {}
    order_id = str(session.get("client_reference_id") or "") if event_type.startswith("checkout.session.") else ""
    now = clock.now()
    entry = PaymentEvent(
        pk=PaymentEvent.key_for(event_id),
        event_type=event_type,
        order_id=order_id or None,
        received_at=now,
        expires_at=now + timedelta(days=LEDGER_DAYS),
    )
    try:
        entry.save(condition=PaymentEvent.pk.does_not_exist())
    except PutError as error:
        if dynamo.condition_failed(error):
            return "duplicate"
        raise
    try:
        return _apply(event_type, order_id, session)
    except Exception:
        entry.delete()  # not applied: Stripe's retry must find no ledger entry
        raise


def _apply(event_type: str, order_id: str, session: dict[str, Any]) -> str:
    if not order_id:
        return "ignored"
    order = _get(order_id)
    if order is None or order.payment_method != payments.CARD:
        log_event("webhook_unknown_order", logging.WARNING, order_id=order_id, event_type=event_type)
        return "ignored"
    if order.checkout_session_id and session.get("id") != order.checkout_session_id:
        log_event("webhook_other_session", logging.WARNING, order_id=order_id, event_type=event_type)
        return "ignored"
    if event_type in (COMPLETED, ASYNC_SUCCEEDED) and session.get("payment_status") == "paid":
        settle_paid(order_id, session)
        return "paid"
    if event_type in (EXPIRED, ASYNC_FAILED):
        settle_unpaid(order_id, "The card payment session expired or failed")
        return "expired"
    return "ignored"


# -- the expiry sweep ------------------------------------------------------------------------------


def sweep_expired(now: datetime | None = None) -> list[str]:
    """Orders whose deadline (session lifetime + margin) passed with no event: read through the
    sparse by-payment-due index, oldest deadline first, never a Scan."""
    now = now or clock.now()
    cutoff = f"{now.strftime('%Y-%m-%dT%H:%M:%S.%fZ')}#~"
    expired: list[str] = []
    due = Order.by_payment_due.query(
        payments.PAYMENT_DUE_SHARD, Order.payment_due_sort <= cutoff, limit=SWEEP_BATCH, page_size=SWEEP_BATCH
    )
    for pending in due:
        order = _get(pending.order_id)
        if order is None or order.status != PENDING_PAYMENT:
            continue
        try:
            closed = close_session(order)
        except PaymentUnavailable:
            continue  # the next sweep tries again
        if closed and settle_unpaid(order.order_id, "No payment arrived in time") is not None:
            expired.append(order.order_id)
    if expired:
        log_event("payments_swept", count=len(expired))
    return expired
