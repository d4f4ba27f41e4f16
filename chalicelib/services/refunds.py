"""Refunds per line or in full: reserve (refunded_cents + pending_refund, conditioned on the version
read), refund at Stripe (or by hand), finish (history, restock, email) in one transaction.
docs/checkout.md, "Refunds"."""

from dataclasses import dataclass
from datetime import timedelta
from typing import Any, cast

from pynamodb.exceptions import UpdateError
from pynamodb.expressions.update import Action

from chalicelib import clock
from chalicelib.config import get_settings
from chalicelib.formatting import format_money
from chalicelib.models import Order, StatusChange, dynamo
from chalicelib.models.orders import Refund
from chalicelib.services import audit, emails, fulfilment, payments, pricing
from chalicelib.services.errors import Conflict, ValidationFailed
from chalicelib.services.validation import clean_text

CARD, MANUAL = "card", "manual"
NOTE_MAX = 200
STALE_PENDING = timedelta(minutes=2)  # a reservation older than this was left by a crash
NOTHING_LEFT = "Everything paid for this order is refunded already."
PENDING: Any = cast(Any, Order.pending_refund)  # its fields as paths for conditions and updates


@dataclass(frozen=True)
class RefundRequest:
    lines: tuple[int, ...] = ()  # indexes into order.lines; empty with full=True
    full: bool = False  # everything not refunded yet, shipping included
    restock: bool = False
    note: str = ""
    return_number: int | None = None  # a return (services/returns.py) this refund closes


OPEN_RETURN = "This order has a line in an open return: settle the return below first."


def refunded_lines(order: Order) -> set[int]:
    return {int(index) for refund in order.refunds or [] for index in refund.lines}


def open_return_lines(order: Order) -> set[int]:
    """Lines in a return not closed yet (services/returns.py settles them)."""
    return {
        int(line.line)
        for request in order.returns or []
        if request.status in ("requested", "received")
        for line in request.lines or []
    }


def line_total(order: Order, index: int) -> int:
    """What was paid for a line: its price times quantity, less its share of the order's discount."""
    totals = [int(line.unit_price_cents) * int(line.quantity) for line in order.lines]
    return totals[index] - pricing.discount_shares(totals, int(order.discount_cents or 0))[index]


def refund_method(order: Order) -> str:
    """How this order can be refunded now; a Conflict says why not."""
    if order.payment_method == payments.CARD:
        if order.paid_at is None or not order.payment_intent_id or order.status == fulfilment.CANCELLED:
            raise Conflict("This order has no card payment left to refund.")
        return CARD
    if order.status != fulfilment.DELIVERED:
        raise Conflict("A pay-on-delivery order is paid when it is delivered: cancel it instead.")
    return MANUAL


def plan(order: Order, request: RefundRequest) -> tuple[list[int], int]:
    """The lines and amount a request refunds: line totals, never more than is left of what was paid."""
    left = fulfilment.remaining_cents(order)
    if left <= 0:
        raise Conflict(NOTHING_LEFT)
    done = refunded_lines(order)
    if request.full:
        if request.return_number is None and open_return_lines(order):
            raise Conflict(OPEN_RETURN)
        return [i for i in range(len(order.lines)) if i not in done], left
    if not request.lines:
        message = "Choose the lines to refund, or refund in full."
        raise ValidationFailed({"lines": message}, message)
    if any(i < 0 or i >= len(order.lines) for i in request.lines):
        raise ValidationFailed({"lines": "Choose lines of this order."}, "Choose lines of this order.")
    again = [i for i in request.lines if i in done]
    if request.return_number is None and set(request.lines) & open_return_lines(order):
        raise Conflict(OPEN_RETURN)
    if again:
        raise Conflict("That line is refunded already." if len(again) == 1 else "Those lines are refunded already.")
    lines = sorted(set(request.lines))
    return lines, min(left, sum(line_total(order, i) for i in lines))


def is_owner(admin: str) -> bool:
    """The admin's role, read from its record (models.accounts.Admin.is_owner) at each refund."""
    from chalicelib.services.admins import get_admin

    record = get_admin(admin)
    return record is not None and record.is_owner


def check_limit(admin: str, amount_cents: int) -> None:
    """The one place the staff refund limit is checked: above it, owners only."""
    limit = get_settings().admin_staff_refund_limit_cents
    if amount_cents > limit and not is_owner(admin):
        raise Conflict(f"Refunds over {format_money(limit)} are for an owner. Ask an owner to make this one.")


def _finish(order: Order, pending: Refund) -> None:
    """Step 3 (the provider has refunded): history, restock, email, in one transaction."""
    now = clock.now()
    lines = [int(i) for i in pending.lines]
    described = ", ".join(f"{order.lines[i].name} size {order.lines[i].size}" for i in lines) or "shipping"
    note = f"Refunded {format_money(int(pending.amount_cents))} ({described})"
    if pending.restock:
        note += ", back in stock"
    if pending.method == MANUAL:
        note += ", paid back by hand"
    if pending.note:
        note += f". {pending.note}"
    done = Refund(**{**pending.attribute_values, "at": now})
    actions: list[Action] = [
        Order.pending_refund.remove(),
        Order.refunds.set(Order.refunds.append([done])),
        Order.history.set(Order.history.append([StatusChange(status=order.status, at=now, by=pending.by, note=note)])),
        Order.updated_at.set(now),
    ]
    if pending.restock and lines:
        actions.append(Order.restocked_lines.set(Order.restocked_lines.append(lines)))
    if pending.return_number is not None:  # the return it settles closes in the same transaction
        from chalicelib.services import returns

        actions.extend(returns.refunded_actions(order, int(pending.return_number), str(pending.key), str(pending.by)))
    recipient = emails.order_recipient(order)
    messages = (
        [emails.order_refunded(order, recipient, int(pending.amount_cents), str(pending.key))] if recipient else []
    )
    try:
        fulfilment.restock_with(
            order, actions, PENDING.key == pending.key, restock=bool(pending.restock), messages=messages, lines=lines
        )
    except dynamo.ConditionsFailed as error:
        raise Conflict("This refund was recorded by another request. Reload the page.") from error
    audit.record(
        str(pending.by),
        "order.refund",
        order_id=order.order_id,
        amount_cents=int(pending.amount_cents),
        lines=lines,
        restock=bool(pending.restock),
        method=str(pending.method),
        refund_id=pending.refund_id,
    )


def _pay_back(order: Order, pending: Refund) -> str | None:
    if pending.method == MANUAL:
        return None
    from chalicelib.services import card_payments  # stripe loads only on this path

    return card_payments.create_refund(
        order.order_id, str(order.payment_intent_id), int(pending.amount_cents), str(pending.key)
    )


def _complete(order_id: str, pending: Refund) -> Order:
    """Steps 2 and 3 for a reservation."""
    from chalicelib.services import card_payments

    order = fulfilment.get_order(order_id)
    try:
        refund_id = _pay_back(order, pending)
    except card_payments.PaymentUnavailable as error:
        _release(order, pending)
        raise Conflict("The payment service did not make the refund, so nothing was refunded. Try again.") from error
    if refund_id is not None:
        order.update(actions=[PENDING.refund_id.set(refund_id)], condition=PENDING.key == pending.key)
        pending.refund_id = refund_id
    _finish(order, pending)
    return fulfilment.get_order(order_id)


def _release(order: Order, pending: Refund) -> None:
    order.update(
        actions=[Order.pending_refund.remove(), Order.refunded_cents.add(-int(pending.amount_cents))],
        condition=PENDING.key == pending.key,
    )


def refund(order_id: str, admin: str, request: RefundRequest, seen_version: int | None = None) -> Order:
    note = clean_text(request.note)
    if len(note) > NOTE_MAX:
        raise ValidationFailed({"note": f"Use at most {NOTE_MAX} characters."})
    order = fulfilment.get_order(order_id)
    pending = order.pending_refund
    if pending is not None:
        if clock.now() - pending.at < STALE_PENDING:
            raise Conflict("A refund of this order is being made right now. Reload the page in a moment.")
        _complete(order_id, pending)  # left by a crash: finish it first, then look again
        raise Conflict("An earlier refund of this order was unfinished and is now done. Check the order and try again.")
    if seen_version is not None and order.version != seen_version:
        raise Conflict("This order changed since you loaded the page (another refund?). Check it and try again.")
    method = refund_method(order)
    lines, amount = plan(order, request)
    check_limit(admin, amount)
    pending = Refund(
        key=f"{order_id}-{len(order.refunds or []) + 1}",
        amount_cents=amount,
        lines=lines,
        restock=request.restock and bool(lines),
        method=method,
        by=admin,
        at=clock.now(),
        note=note or None,
        return_number=request.return_number,
    )
    already = int(order.refunded_cents or 0)
    condition = Order.pending_refund.does_not_exist() & (Order.total_cents >= already + amount)
    condition &= (
        (Order.refunded_cents == already)
        if already
        else (Order.refunded_cents.does_not_exist() | (Order.refunded_cents == 0))
    )
    try:
        # PynamoDB adds the version read to the condition: a second submit of the same page fails here.
        order.update(
            actions=[Order.refunded_cents.set(already + amount), Order.pending_refund.set(pending)], condition=condition
        )
    except UpdateError as error:
        if dynamo.condition_failed(error):
            raise Conflict("This order was refunded or changed by another request. Check it and try again.") from error
        raise
    return _complete(order_id, pending)
