"""Back-office orders: lists by status and the moves shipped, delivered, cancelled (restocking),
each conditioned on the status and version read.
"""

from pynamodb.exceptions import DoesNotExist
from pynamodb.expressions.condition import Condition
from pynamodb.expressions.update import Action

from chalicelib import clock
from chalicelib.models import Order, StatusChange, Stock, dynamo
from chalicelib.models.orders import status_shards
from chalicelib.services import audit, discounts, emails, outbox, payments, unpaid_orders
from chalicelib.services.errors import Conflict, NotFound, ValidationFailed
from chalicelib.services.paging import Page, merged_query_page
from chalicelib.services.validation import clean_text

PLACED, SHIPPED, DELIVERED, CANCELLED = "placed", "shipped", "delivered", "cancelled"
PENDING_PAYMENT, PAID, PAYMENT_EXPIRED = payments.PENDING_PAYMENT, "paid", "payment_expired"
STATUSES = (PLACED, PAID, SHIPPED, DELIVERED, CANCELLED, PENDING_PAYMENT, PAYMENT_EXPIRED)
# Pending and expired card orders move only by payment events.
MOVES = {PLACED: (SHIPPED, CANCELLED), PAID: (SHIPPED, CANCELLED), SHIPPED: (DELIVERED,)}
STATUS_LABELS = {
    PLACED: "Placed",
    PENDING_PAYMENT: "Awaiting payment",
    PAID: "Paid",
    PAYMENT_EXPIRED: "Payment not completed",
    SHIPPED: "Shipped",
    DELIVERED: "Delivered",
    CANCELLED: "Cancelled",
}
NOTE_MAX = 200
NO_SUCH_ORDER = "We could not find that order."
ORDERS_PAGE_SIZE = 20
CANCEL_ATTEMPTS = dynamo.RETRY_ATTEMPTS
CARRIER_CHOICES = [("", "Choose a carrier"), *((code, name) for code, (name, _) in emails.CARRIERS.items())]
ACTION_LABELS = {SHIPPED: "marked shipped", DELIVERED: "marked delivered", CANCELLED: "cancelled"}
# Why an admin cancels: code -> (the admin's choice, what the shopper's email says). "other" takes text.
CANCEL_REASONS = {
    "customer_request": ("The customer asked to cancel", "you asked us to cancel it"),
    "out_of_stock": ("Out of stock", "we no longer have a pair in stock"),
    "payment_problem": ("A problem with the payment", "there was a problem with the payment"),
    "undeliverable": ("We cannot deliver to the address", "we cannot deliver to the address given"),
    "other": ("Other (say why below)", ""),
}
CANCEL_REASON_MAX = 200


def get_order(order_id: str) -> Order:
    if not order_id or len(order_id) > 100:
        raise NotFound(NO_SUCH_ORDER)
    try:
        return Order.get(order_id, consistent_read=True)
    except DoesNotExist as error:
        raise NotFound(NO_SUCH_ORDER) from error


def list_orders(status: str, start: dict | None = None) -> Page:
    """Newest first through the sharded `by-status-shard` index: about one small Query per shard
    per page of 20, merged (services/paging.merged_query_page)."""
    if status not in STATUSES:
        status = PLACED
    return merged_query_page(
        Order,
        Order.by_status,
        status_shards(status),
        "created_sort",
        ("order_id", "status_shard", "created_sort"),
        ORDERS_PAGE_SIZE,
        start,
    )


def _refused(order: Order, target: str) -> Conflict:
    last = order.history[-1] if order.history else None
    who = f" by {last.by}" if last and order.status not in (PLACED, PAID) else ""
    state = STATUS_LABELS.get(order.status, order.status).lower()
    return Conflict(f"This order is {state}{who}, so it cannot be {ACTION_LABELS.get(target, target)}.")


def clean_tracking(carrier: str, tracking_number: str) -> tuple[str, str]:
    carrier = clean_text(carrier).lower()
    tracking_number = clean_text(tracking_number)
    if carrier and carrier not in emails.CARRIERS:
        raise ValidationFailed({"carrier": "Choose a carrier from the list."})
    if tracking_number and not emails.TRACKING_NUMBER_RE.match(tracking_number):
        raise ValidationFailed({"tracking_number": "Enter 4 to 40 letters, digits, spaces or dashes."})
    return carrier, tracking_number


def cancel_reason(code: str, other: str) -> str:
    """The shopper-facing reason for a cancellation, from the list or the admin's own words."""
    other = clean_text(other)
    if code not in CANCEL_REASONS:
        raise ValidationFailed({"reason": "Choose why the order is cancelled."}, "Choose a reason to cancel.")
    if code != "other":
        return CANCEL_REASONS[code][1]
    if not other:
        raise ValidationFailed({"reason_other": "Say why the order is cancelled."}, "Say why the order is cancelled.")
    if len(other) > CANCEL_REASON_MAX:
        raise ValidationFailed({"reason_other": f"Use at most {CANCEL_REASON_MAX} characters."})
    return other


def cancel(order_id: str, admin: str, code: str, other: str = "", seen_version: int | None = None) -> Order:
    """Cancel with a reason, recorded in the history and told to the shopper."""
    reason = cancel_reason(code, other)
    return transition(order_id, CANCELLED, admin, f"Reason: {reason}", seen_version, reason=reason)


def _status_email(
    order: Order,
    target: str,
    note: str,
    carrier: str,
    tracking_number: str,
    refund_id: str | None = None,
    reason: str = "",
    refund_cents: int = 0,
) -> list[outbox.Message]:
    """The shopper's email about this move, written in the move's own transaction."""
    recipient = emails.order_recipient(order)
    if recipient is None:
        return []  # the account is gone: nobody to tell
    if target == SHIPPED:
        return [emails.order_shipped(order, recipient, carrier, tracking_number, note)]
    if target == DELIVERED:
        return [emails.order_delivered(order, recipient)]
    cancelled = emails.order_cancelled(order, recipient, reason)
    if refund_id is not None:  # a paid card order: cancelled, and what was left refunded
        return [cancelled, emails.order_refunded(order, recipient, refund_cents, refund_id)]
    return [cancelled]


def transition(
    order_id: str,
    target: str,
    admin: str,
    note: str = "",
    seen_version: int | None = None,
    carrier: str = "",
    tracking_number: str = "",
    reason: str = "",
) -> Order:
    """Move an order on and queue the shopper's email in the same transaction; `seen_version` (from
    the admin's page) refuses a stale button press. Shipping may name a carrier and tracking number."""
    if target not in (SHIPPED, DELIVERED, CANCELLED):
        raise ValidationFailed({"status": "Choose shipped, delivered or cancelled."}, "Unknown order status.")
    note = clean_text(note)
    if len(note) > NOTE_MAX:
        raise ValidationFailed({"note": f"Use at most {NOTE_MAX} characters."})
    carrier, tracking_number = clean_tracking(carrier, tracking_number) if target == SHIPPED else ("", "")
    order = get_order(order_id)
    if seen_version is not None and order.version != seen_version:
        raise Conflict("This order changed since you loaded the page. Check its status below and try again.")
    if target not in MOVES.get(order.status, ()):
        raise _refused(order, target)
    if order.pending_refund is not None:
        raise Conflict("A refund of this order is being made right now. Reload the page in a moment.")
    refund_id = None
    refund_cents = remaining_cents(order)
    if target == CANCELLED and order.payment_method == payments.CARD and refund_cents > 0:
        refund_id = _refund_first(order)  # recorded on the order before anything is restocked
        order = get_order(order_id)  # recording it changed the version
        if order.status != PAID or order.refund_id != refund_id:
            raise _refused(order, target)
        note = _refund_note(note)
    now = clock.now()
    change = StatusChange(status=target, at=now, by=admin, note=note or None)
    actions: list[Action] = [
        *order.status_actions(target),
        Order.updated_at.set(now),
        Order.history.set(Order.history.append([change])),
    ]
    tracking = " ".join(part for part in (emails.CARRIERS.get(carrier, ("",))[0], tracking_number) if part)
    if target == SHIPPED and (note or tracking):
        actions.append(Order.tracking_note.set(note or tracking))  # the shopper's order page shows it
    if target == SHIPPED and tracking_number:  # the order pages link it to the carrier
        actions.append(Order.tracking_number.set(tracking_number))
        if carrier:
            actions.append(Order.carrier.set(carrier))
    from_status = order.status
    # Conditioned on the status read and (added by PynamoDB) the version read.
    condition = Order.status == from_status
    if refund_id is not None:
        condition = condition & (Order.refund_id == refund_id)
    slot_owner = order.unpaid_slot_owner if target in (DELIVERED, CANCELLED) else None
    messages = _status_email(order, target, note, carrier, tracking_number, refund_id, reason, refund_cents)
    try:
        if target == CANCELLED:
            restock_with(order, actions, condition, slot_owner, messages=messages)
        elif slot_owner:  # delivered: the unpaid-order slot back
            restock_with(order, actions, condition, slot_owner, restock=False, messages=messages)
        else:
            move_with(order, actions, condition, *messages)
    except dynamo.ConditionsFailed as error:
        raise _refused(get_order(order_id), target) from error
    # Throttled or DynamoDB unavailable: nothing changed (no email either), the busy page says try again.
    audit.record(admin, f"order.{target}", order_id=order_id, from_status=from_status, note=note, refund_id=refund_id)
    return get_order(order_id)


def move_with(order: Order, actions: list[Action], condition: Condition, *messages: outbox.Message | None) -> None:
    def build(transaction: dynamo.Transaction) -> None:
        transaction.update("order", order, actions=list(actions), condition=condition)  # PynamoDB appends to it
        for message in messages:
            if message is not None:
                outbox.add(transaction, message)

    dynamo.transact(build)


def order_quantities(order: Order, only: list[int] | None = None) -> dict[tuple[str, str], int]:
    """Pairs per (shoe, size): one stock action per item, lines of the same shoe and size merged.
    Lines already put back (a refund that restocked them) are left out; `only`: just these lines."""
    quantities: dict[tuple[str, str], int] = {}
    restocked = {int(index) for index in order.restocked_lines or []}
    for index, line in enumerate(order.lines):
        if index in restocked or (only is not None and index not in only):
            continue
        key = (line.shoe_id, line.size)
        quantities[key] = quantities.get(key, 0) + int(line.quantity)
    return quantities


def remaining_cents(order: Order) -> int:
    """What was paid (or is to be paid) and not refunded yet."""
    return int(order.total_cents) - int(order.refunded_cents or 0)


def _refund_first(order: Order) -> str:
    from chalicelib.services import card_payments  # stripe loads only on this path

    try:
        return card_payments.record_refund(order)
    except card_payments.PaymentUnavailable as error:
        raise Conflict("The refund could not be made, so the order was not cancelled. Try again.") from error


def _refund_note(note: str) -> str:
    return f"Refunded in full. {note}".strip()


def restock_with(
    order: Order,
    actions: list[Action],
    condition: Condition,
    slot_owner: str | None = None,
    restock: bool = True,
    message: outbox.Message | None = None,
    messages: list[outbox.Message] | None = None,
    lines: list[int] | None = None,
) -> None:
    """One transaction: the conditioned status change, the lines' quantities ADDed back, the
    unpaid-order slot freed, the shopper's email queued. Cancelled by a conflict or throttling,
    nothing was written and the status condition still guards: it is tried again."""
    quantities = order_quantities(order, only=lines) if restock else {}
    now = clock.now()

    def build(transaction: dynamo.Transaction) -> None:
        transaction.update("order", order, actions=list(actions), condition=condition)  # PynamoDB appends to it
        for (shoe_id, size), quantity in quantities.items():
            transaction.update(
                f"stock:{shoe_id}#{size}",
                Stock(shoe_id=shoe_id, size=size),
                actions=[Stock.quantity.add(quantity), Stock.updated_at.set(now)],
            )
        if slot_owner:
            unpaid_orders.give_back_slot(transaction, slot_owner)
        discounts.give_back_use(transaction, order)  # once: the status condition above guards it
        for each in [message, *(messages or [])]:
            if each is not None:
                outbox.add(transaction, each)

    dynamo.transact(build, attempts=CANCEL_ATTEMPTS)
