"""Back-office orders: lists by status and the moves shipped, delivered, cancelled (restocking),
each conditioned on the status and version read.
"""

from datetime import timedelta

from pynamodb.exceptions import DoesNotExist, UpdateError
from pynamodb.expressions.condition import Condition
from pynamodb.expressions.update import Action

from chalicelib import clock
from chalicelib.models import Order, StatusChange, Stock, dynamo
from chalicelib.services import audit, events, payments, unpaid_orders
from chalicelib.services.errors import Conflict, NotFound, ValidationFailed
from chalicelib.services.paging import Page, query_page
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
NOT_REVENUE = (CANCELLED, PENDING_PAYMENT, PAYMENT_EXPIRED)
NOTE_MAX = 200
NO_SUCH_ORDER = "We could not find that order."
ORDERS_PAGE_SIZE = 20
CANCEL_ATTEMPTS = dynamo.RETRY_ATTEMPTS
ACTION_LABELS = {SHIPPED: "marked shipped", DELIVERED: "marked delivered", CANCELLED: "cancelled"}


def get_order(order_id: str) -> Order:
    if not order_id or len(order_id) > 100:
        raise NotFound(NO_SUCH_ORDER)
    try:
        return Order.get(order_id, consistent_read=True)
    except DoesNotExist as error:
        raise NotFound(NO_SUCH_ORDER) from error


def list_orders(status: str, start: dict | None = None) -> Page:
    """Newest first through the `by-status` index: one Query of 20 items per page."""
    if status not in STATUSES:
        status = PLACED
    return query_page(
        Order, Order.by_status, status, ("order_id", "status", "created_sort"), ORDERS_PAGE_SIZE, start_key=start
    )


def _refused(order: Order, target: str) -> Conflict:
    last = order.history[-1] if order.history else None
    who = f" by {last.by}" if last and order.status not in (PLACED, PAID) else ""
    state = STATUS_LABELS.get(order.status, order.status).lower()
    return Conflict(f"This order is {state}{who}, so it cannot be {ACTION_LABELS.get(target, target)}.")


def transition(order_id: str, target: str, admin: str, note: str = "", seen_version: int | None = None) -> Order:
    """Move an order on; `seen_version` (from the admin's page) refuses a stale button press."""
    if target not in (SHIPPED, DELIVERED, CANCELLED):
        raise ValidationFailed({"status": "Choose shipped, delivered or cancelled."}, "Unknown order status.")
    note = clean_text(note)
    if len(note) > NOTE_MAX:
        raise ValidationFailed({"note": f"Use at most {NOTE_MAX} characters."})
    order = get_order(order_id)
    if seen_version is not None and order.version != seen_version:
        raise Conflict("This order changed since you loaded the page. Check its status below and try again.")
    if target not in MOVES.get(order.status, ()):
        raise _refused(order, target)
    refund_id = None
    if target == CANCELLED and order.payment_method == payments.CARD:
        refund_id = _refund_first(order)  # recorded on the order before anything is restocked
        order = get_order(order_id)  # recording it changed the version
        if order.status != PAID or order.refund_id != refund_id:
            raise _refused(order, target)
        note = _refund_note(note)
    now = clock.now()
    change = StatusChange(status=target, at=now, by=admin, note=note or None)
    actions: list[Action] = [
        Order.status.set(target),
        Order.updated_at.set(now),
        Order.history.set(Order.history.append([change])),
    ]
    if target == SHIPPED and note:
        actions.append(Order.tracking_note.set(note))
    from_status = order.status
    # Conditioned on the status read and (added by PynamoDB) the version read.
    condition = Order.status == from_status
    if refund_id is not None:
        condition = condition & (Order.refund_id == refund_id)
    slot_owner = order.unpaid_slot_owner if target in (DELIVERED, CANCELLED) else None
    try:
        if target == CANCELLED:
            restock_with(order, actions, condition, slot_owner)
        elif slot_owner:
            restock_with(order, actions, condition, slot_owner, restock=False)  # delivered: slot back
        else:
            order.update(actions=actions, condition=condition)
    except dynamo.ConditionsFailed as error:
        raise _refused(get_order(order_id), target) from error
    except UpdateError as error:
        if not dynamo.condition_failed(error):
            raise  # throttled or DynamoDB unavailable: nothing changed, the busy page says try again
        raise _refused(get_order(order_id), target) from error
    audit.record(admin, f"order.{target}", order_id=order_id, from_status=from_status, note=note, refund_id=refund_id)
    return get_order(order_id)


def order_quantities(order: Order) -> dict[tuple[str, str], int]:
    """Pairs per (shoe, size): one stock action per item, lines of the same shoe and size merged."""
    quantities: dict[tuple[str, str], int] = {}
    for line in order.lines:
        key = (line.shoe_id, line.size)
        quantities[key] = quantities.get(key, 0) + int(line.quantity)
    return quantities


def _refund_first(order: Order) -> str:
    from chalicelib.services import card_payments  # stripe loads only on this path

    try:
        return card_payments.record_refund(order)
    except card_payments.PaymentUnavailable as error:
        raise Conflict("The refund could not be made, so the order was not cancelled. Try again.") from error


def _refund_note(note: str) -> str:
    return f"Refunded in full. {note}".strip()


def restock_with(
    order: Order, actions: list[Action], condition: Condition, slot_owner: str | None = None, restock: bool = True
) -> None:
    """One transaction: the conditioned status change, the lines' quantities ADDed back, the
    unpaid-order slot freed. Cancelled by a conflict or throttling, nothing was written and the
    status condition still guards: it is tried again."""
    quantities = order_quantities(order) if restock else {}
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

    dynamo.transact(build, attempts=CANCEL_ATTEMPTS)
    for shoe_id in {shoe for shoe, _ in quantities}:
        events.publish(events.STOCK_CHANGED, shoe_id=shoe_id, sizes=[s for k, s in quantities if k == shoe_id])


def status_counts() -> dict[str, int]:
    """A COUNT Query per status partition (no items returned; DynamoDB still reads the index)."""
    return {status: Order.by_status.count(status) for status in STATUSES}


def recent_totals(days: int = 7) -> dict[str, int]:
    """Orders and revenue (not cancelled) of the last `days`: a range Query per status."""
    since = (clock.now() - timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    count = 0
    revenue = 0
    for status in STATUSES:
        for order in Order.by_status.query(
            status, Order.created_sort >= since, attributes_to_get=["total_cents", "order_id"]
        ):
            count += 1
            if status not in NOT_REVENUE:
                revenue += int(order.total_cents or 0)
    return {"orders": count, "revenue_cents": revenue}
