"""Returns and size exchanges (docs/checkout.md "Returns and exchanges", docs/admin.md "Returns").

A shopper returns whole lines of a delivered order, within the return window, each with a reason,
for a refund or for another size of the same shoe. An exchange reserves the new size at once: the
stock decrement (conditioned on enough pairs) and the order update (conditioned on the version
read) are one transaction, so it never oversells and a double submit makes one return. Every step
is one transaction of the order (version-conditioned: whichever of two racing steps commits first
wins, the other re-reads and says what happened), its stock changes, its history entry and its
email. The parcel must be marked received by the deadline; the sweep releases a return that never
arrived and puts its reserved pairs back on sale, once.

Open returns put their order in the sparse `by-return-due` index: shard `RETURN#requested` while a
parcel is awaited (sorted by the earliest deadline: what the sweep reads), `RETURN#received` while
a received parcel waits for its refund or new size; neither once every return is closed.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from pynamodb.expressions.update import Action

from chalicelib import clock
from chalicelib.config import get_settings
from chalicelib.formatting import format_date
from chalicelib.models import Order, Shoe, StatusChange, Stock, dynamo
from chalicelib.models.orders import ReturnLine, ReturnRequest
from chalicelib.services import audit, emails, fulfilment, outbox, refunds
from chalicelib.services.errors import Conflict, NotFound, ValidationFailed

REASONS = {
    "too_small": "Too small",
    "too_big": "Too big",
    "changed_mind": "Changed my mind",
    "faulty": "Faulty",
}
REFUND, EXCHANGE = "refund", "exchange"
RESOLUTIONS = {REFUND: "A refund", EXCHANGE: "Another size of the same shoe"}
REQUESTED, RECEIVED, REFUNDED, EXCHANGE_SHIPPED, RELEASED = (
    "requested",
    "received",
    "refunded",
    "exchange_shipped",
    "released",
)
OPEN = (REQUESTED, RECEIVED)
STATUS_LABELS = {
    REQUESTED: "Return requested",
    RECEIVED: "Parcel received",
    REFUNDED: "Refunded",
    EXCHANGE_SHIPPED: "New size shipped",
    RELEASED: "Closed: the parcel did not arrive in time",
}
# The order history's entries for each step (rendering.py shows these labels)
HISTORY_STATUSES = {
    REQUESTED: "return_requested",
    RECEIVED: "return_received",
    REFUNDED: "return_refunded",
    EXCHANGE_SHIPPED: "exchange_shipped",
    RELEASED: "return_released",
}
HISTORY_LABELS = {HISTORY_STATUSES[status]: label for status, label in STATUS_LABELS.items()} | {
    "return_released": "Return closed"
}
REQUESTED_SHARD, RECEIVED_SHARD = "RETURN#requested", "RETURN#received"
RETURN_REQUESTED, RETURN_RECEIVED, EXCHANGE_SHIPPED_EMAIL, RETURN_RELEASED = (
    "return_requested",
    "return_received",
    "exchange_shipped",
    "return_released",
)
MAX_RETURNS = 20  # per order: more is a matter for the shop's staff
ATTEMPTS = 4  # re-reads when another change of the order won the version race
SWEEP_LIMIT = 50
ADMIN_PAGE_SIZE = 20
SHOPPER = "shopper"
NO_SUCH_RETURN = "We could not find that return."
REFUND_UNDER_WAY = "A refund of this order is being made right now. Reload the page in a moment."


# -- reading ------------------------------------------------------------------------------------


def delivered_at(order: Order) -> datetime | None:
    """When the order was marked delivered (its history's last "delivered" entry)."""
    moments = [change.at for change in order.history or [] if change.status == fulfilment.DELIVERED]
    return moments[-1] if moments else None


def window_ends(order: Order) -> datetime | None:
    delivered = delivered_at(order)
    if order.status != fulfilment.DELIVERED or delivered is None:
        return None
    return delivered + timedelta(days=get_settings().return_window_days)


def lines_in_returns(order: Order) -> set[int]:
    """Lines of a return that is open or done (a released return's lines can be returned again)."""
    return {
        int(line.line) for request in order.returns or [] if request.status != RELEASED for line in request.lines or []
    }


def returnable_lines(order: Order) -> list[int]:
    """Lines not refunded, not put back in stock, not in a return already."""
    taken = lines_in_returns(order) | refunds.refunded_lines(order)
    taken |= {int(index) for index in order.restocked_lines or []}
    return [index for index in range(len(order.lines)) if index not in taken]


def why_not_returnable(order: Order) -> str | None:
    """None when the shopper may ask for a return now; else what to tell them."""
    ends = window_ends(order)
    if ends is None:
        return "A return can be asked for once the order is delivered."
    if clock.now() > ends:
        return f"The return window of this order closed on {format_date(ends)}."
    if len(order.returns or []) >= MAX_RETURNS:
        return "This order has had many returns: contact us for another."
    if not returnable_lines(order):
        return "Every pair of this order is returned or refunded already."
    return None


def can_return(order: Order) -> bool:
    return why_not_returnable(order) is None


def find_return(order: Order, number: int) -> ReturnRequest:
    for request in order.returns or []:
        if int(request.number) == number:
            return request
    raise NotFound(NO_SUCH_RETURN)


def exchange_sizes(order: Order) -> dict[int, list[str]]:
    """Per returnable line, the sizes of its shoe with pairs for the whole line (not its own size):
    one GetItem and one Query per shoe of the order."""
    wanted = returnable_lines(order)
    by_shoe: dict[str, list[int]] = {}
    for index in wanted:
        by_shoe.setdefault(order.lines[index].shoe_id, []).append(index)
    sizes: dict[int, list[str]] = {}
    for shoe_id, indexes in by_shoe.items():
        try:
            shoe = Shoe.get(shoe_id)
        except Shoe.DoesNotExist:
            continue
        if shoe.status != "active":
            continue
        on_hand = {row.size: int(row.quantity or 0) for row in Stock.query(shoe_id)}
        for index in indexes:
            line = order.lines[index]
            sizes[index] = [
                size for size in shoe.sizes or [] if size != line.size and on_hand.get(size, 0) >= int(line.quantity)
            ]
    return sizes


# -- the order's index, history and emails -------------------------------------------------------


def index_actions(order_id: str, requests: list[ReturnRequest]) -> list[Action]:
    """Where the order stands in `by-return-due` given its returns."""
    awaited = [request.deadline for request in requests if request.status == REQUESTED]
    received = [request.deadline for request in requests if request.status == RECEIVED]
    if not awaited and not received:
        return [Order.return_due_shard.remove(), Order.return_due_sort.remove()]
    shard = REQUESTED_SHARD if awaited else RECEIVED_SHARD
    return [
        Order.return_due_shard.set(shard),
        Order.return_due_sort.set(f"{clock.sortable(min(awaited or received))}#{order_id}"),
    ]


def describe(order: Order, request: ReturnRequest) -> str:
    parts = []
    for line in request.lines or []:
        ordered = order.lines[int(line.line)]
        text = f"{ordered.name} size {ordered.size} ({REASONS.get(str(line.reason), line.reason)})"
        if line.exchange_size:
            text += f" for size {line.exchange_size}"
        parts.append(text)
    return ", ".join(parts)


def _history(status: str, by: str, note: str) -> Action:
    change = StatusChange(status=HISTORY_STATUSES[status], at=clock.now(), by=by, note=note)
    return Order.history.set(Order.history.append([change]))


def return_context(order: Order, request: ReturnRequest) -> dict[str, Any]:
    """What the return emails show, in plain values."""
    return {
        "return_number": int(request.number),
        "resolution": str(request.resolution),
        "deadline": format_date(request.deadline),
        "return_address_lines": return_address_lines(),
        "returned_lines": [
            {
                "name": order.lines[int(line.line)].name,
                "size": order.lines[int(line.line)].size,
                "quantity": int(order.lines[int(line.line)].quantity),
                "reason": REASONS.get(str(line.reason), str(line.reason)),
                "exchange_size": line.exchange_size or "",
            }
            for line in request.lines or []
        ],
    }


def _email(order: Order, request: ReturnRequest, kind: str, **extra: Any) -> list[outbox.Message]:
    recipient = emails.order_recipient(order)
    if recipient is None:
        return []
    context = {**emails.order_context(order), **return_context(order, request), **extra}
    return [
        outbox.Message(
            kind=kind, recipient=recipient, context=context, dedupe_key=f"{kind}#{order.order_id}#{int(request.number)}"
        )
    ]


def _replaced(order: Order, number: int, **changes: Any) -> list[ReturnRequest]:
    """The order's returns with return `number` changed."""
    requests = []
    for request in order.returns or []:
        if int(request.number) == number:
            request = ReturnRequest(**{**request.attribute_values, **changes})
        requests.append(request)
    return requests


def _exchange_quantities(order: Order, request: ReturnRequest) -> dict[tuple[str, str], int]:
    """Pairs reserved per (shoe, new size) by an exchange."""
    quantities: dict[tuple[str, str], int] = {}
    for line in request.lines or []:
        if line.exchange_size:
            ordered = order.lines[int(line.line)]
            key = (ordered.shoe_id, str(line.exchange_size))
            quantities[key] = quantities.get(key, 0) + int(ordered.quantity)
    return quantities


def _commit(
    order: Order,
    actions: list[Action],
    stock: dict[tuple[str, str], int],
    messages: list[outbox.Message],
    reserve: bool = False,
) -> None:
    """One transaction: the order (its version read, added by PynamoDB), the stock changes (a
    reservation conditioned on enough pairs), the emails."""
    now = clock.now()

    def build(transaction: dynamo.Transaction) -> None:
        transaction.update("order", order, actions=list(actions))
        for (shoe_id, size), quantity in stock.items():
            change = -quantity if reserve else quantity
            transaction.update(
                f"stock:{shoe_id}#{size}",
                Stock(shoe_id=shoe_id, size=size),
                actions=[Stock.quantity.add(change), Stock.updated_at.set(now)],
                condition=(Stock.quantity >= quantity) if reserve else None,
            )
        for message in messages:
            outbox.add(transaction, message)

    dynamo.transact(build)


def _step(order_id: str, decide: Callable[[Order], tuple[list[Action], dict, list[outbox.Message]] | None]) -> Order:
    """Read the order, decide (raises Conflict when the step no longer applies, None: nothing to
    do), commit; another change of the order in between makes it read and decide again."""
    for _attempt in range(ATTEMPTS):
        order = fulfilment.get_order(order_id)
        if order.pending_refund is not None:  # its finishing transaction must not lose the version race
            raise Conflict(REFUND_UNDER_WAY)
        decided = decide(order)
        if decided is None:
            return order
        actions, stock, messages = decided
        try:
            _commit(order, actions, stock, messages)
            return fulfilment.get_order(order_id)
        except dynamo.ConditionsFailed as error:
            if not error.failed("order"):  # its email is queued already: a racing request did it
                raise Conflict("Another request just did this. Reload the page.") from error
    raise Conflict("This order is changing right now. Reload the page and try again.")


# -- the shopper asks ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ReturnForm:
    resolution: str = ""
    lines: tuple[int, ...] = ()
    reasons: dict[int, str] = field(default_factory=dict)
    sizes: dict[int, str] = field(default_factory=dict)  # exchange: the new size per line


def _clean(order: Order, form: ReturnForm) -> list[ReturnLine]:
    errors: dict[str, str] = {}
    if form.resolution not in RESOLUTIONS:
        errors["resolution"] = "Choose a refund or another size."
    allowed = set(returnable_lines(order))
    chosen = sorted(set(form.lines))
    if not chosen:
        errors["lines"] = "Choose the pairs to send back."
    elif any(index not in allowed for index in chosen):
        raise Conflict("Some of those pairs are returned or refunded already. Check your order below.")
    sizes = exchange_sizes(order) if form.resolution == EXCHANGE else {}
    lines = []
    for index in chosen:
        reason = form.reasons.get(index, "")
        if reason not in REASONS:
            errors[f"reason-{index}"] = "Choose why you send this pair back."
        new_size = None
        if form.resolution == EXCHANGE:
            new_size = form.sizes.get(index, "")
            if not new_size:
                errors[f"size-{index}"] = "Choose the size you want instead."
            elif new_size == order.lines[index].size:
                errors[f"size-{index}"] = "Choose another size than the one you have."
            elif new_size not in sizes.get(index, []):
                errors[f"size-{index}"] = f"Size {new_size} is not in stock now: choose another."
        lines.append(ReturnLine(line=index, reason=reason, exchange_size=new_size or None))
    if errors:
        raise ValidationFailed(errors)
    return lines


def request_return(order: Order, form: ReturnForm) -> Order:
    """The shopper's return: validated, then one transaction (order, reserved sizes, email)."""
    why = why_not_returnable(order)
    if why is not None:
        raise Conflict(why)
    if order.pending_refund is not None:
        raise Conflict(REFUND_UNDER_WAY)
    lines = _clean(order, form)
    now = clock.now()
    request = ReturnRequest(
        number=max((int(r.number) for r in order.returns or []), default=0) + 1,
        lines=lines,
        resolution=form.resolution,
        status=REQUESTED,
        created_at=now,
        deadline=now + timedelta(days=get_settings().exchange_hold_days),
    )
    requests = [*(order.returns or []), request]
    actions = [
        Order.returns.set(requests),
        _history(REQUESTED, SHOPPER, f"Return {int(request.number)}: {describe(order, request)}"),
        Order.updated_at.set(now),
        *index_actions(order.order_id, requests),
    ]
    try:
        _commit(
            order, actions, _exchange_quantities(order, request), _email(order, request, RETURN_REQUESTED), reserve=True
        )
    except dynamo.ConditionsFailed as error:
        gone = error.with_prefix("stock:")
        if gone:
            sold_out = {(shoe_id, size) for shoe_id, _, size in (role.partition("#") for role in gone)}
            errors = {
                f"size-{int(line.line)}": f"Size {line.exchange_size} just sold out: choose another."
                for line in lines
                if (order.lines[int(line.line)].shoe_id, str(line.exchange_size)) in sold_out
            }
            raise ValidationFailed(errors) from error
        raise Conflict("This order changed while you were asking (a return sent twice?). Check it below.") from error
    return fulfilment.get_order(order.order_id)


# -- the back office ------------------------------------------------------------------------------


def _open_return(order: Order, number: int, wanted: str) -> ReturnRequest:
    request = find_return(order, number)
    if request.status == wanted:
        return request
    state = STATUS_LABELS.get(str(request.status), str(request.status)).lower()
    by = f" by {request.closed_by or request.received_by}" if request.closed_by or request.received_by else ""
    raise Conflict(f"Return {number} is {state}{by}, so this step no longer applies. Reload the page.")


def mark_received(order_id: str, number: int, admin: str) -> Order:
    """The parcel is in: the return waits for its refund or its new size."""

    def decide(order: Order) -> tuple[list[Action], dict, list[outbox.Message]]:
        request = _open_return(order, number, REQUESTED)
        now = clock.now()
        requests = _replaced(order, number, status=RECEIVED, received_at=now, received_by=admin)
        actions = [
            Order.returns.set(requests),
            _history(RECEIVED, admin, f"Return {number}: parcel received"),
            Order.updated_at.set(now),
            *index_actions(order_id, requests),
        ]
        return actions, {}, _email(order, request, RETURN_RECEIVED)

    order = _step(order_id, decide)
    audit.record(admin, "order.return_received", order_id=order_id, return_number=number)
    return order


def refund_return(order_id: str, number: int, admin: str, seen_version: int | None = None) -> Order:
    """A received refund return: its lines refunded and restocked through refunds.refund (the
    provider once: a double submit finds the version moved or the return refunded); the refund's
    own transaction closes the return (refunded_actions)."""
    order = fulfilment.get_order(order_id)
    request = _open_return(order, number, RECEIVED)
    if request.resolution != REFUND:
        raise Conflict(f"Return {number} is an exchange: ship the new size instead.")
    lines = tuple(int(line.line) for line in request.lines or [])
    refund_request = refunds.RefundRequest(lines=lines, restock=True, note=f"Return {number}", return_number=number)
    return refunds.refund(order_id, admin, refund_request, seen_version)


def refunded_actions(order: Order, number: int, refund_key: str, admin: str) -> list[Action]:
    """For refunds._finish: return `number` closed as refunded in the refund's transaction."""
    request = find_return(order, number)
    if request.status != RECEIVED:
        raise Conflict(f"Return {number} is not waiting for a refund.")
    now = clock.now()
    requests = _replaced(
        order, number, status=REFUNDED, closed_at=now, closed_by=admin, refund_key=refund_key, restocked=True
    )
    return [Order.returns.set(requests), *index_actions(order.order_id, requests)]


def ship_exchange(order_id: str, number: int, admin: str, carrier: str, tracking_number: str) -> Order:
    """A received exchange: the reserved new size leaves on a new shipment of the same order (no
    payment: its pairs were taken when the return was asked for) and the returned pairs go back in
    stock, both once: the step is conditioned on the return still being received."""
    carrier, tracking_number = fulfilment.clean_tracking(carrier, tracking_number)
    errors = {}
    if not carrier:
        errors["carrier"] = "Choose the carrier of the new parcel."
    if not tracking_number:
        errors["tracking_number"] = "Enter the new parcel's tracking number."
    if errors:
        raise ValidationFailed(errors)

    def decide(order: Order) -> tuple[list[Action], dict, list[outbox.Message]]:
        request = _open_return(order, number, RECEIVED)
        if request.resolution != EXCHANGE:
            raise Conflict(f"Return {number} is for a refund: refund it instead.")
        now = clock.now()
        lines = [int(line.line) for line in request.lines or []]
        requests = _replaced(
            order,
            number,
            status=EXCHANGE_SHIPPED,
            closed_at=now,
            closed_by=admin,
            carrier=carrier,
            tracking_number=tracking_number,
            restocked=True,
        )
        name = emails.CARRIERS[carrier][0]
        actions = [
            Order.returns.set(requests),
            _history(EXCHANGE_SHIPPED, admin, f"Return {number}: new size sent, {name} {tracking_number}"),
            Order.restocked_lines.set(Order.restocked_lines.append(lines)),  # never restocked again
            Order.updated_at.set(now),
            *index_actions(order_id, requests),
        ]
        returned = fulfilment.order_quantities(order, only=lines)
        tracking = emails.tracking_details(carrier, tracking_number)
        return actions, returned, _email(order, request, EXCHANGE_SHIPPED_EMAIL, **tracking)

    order = _step(order_id, decide)
    audit.record(
        admin,
        "order.exchange_shipped",
        order_id=order_id,
        return_number=number,
        carrier=carrier,
        tracking=tracking_number,
    )
    return order


def release(order_id: str, number: int, now: datetime | None = None) -> bool:
    """A requested return past its deadline: closed, its reserved sizes back on sale, once (True
    when this call released it; a return received or released meanwhile changes nothing)."""
    moment = now or clock.now()
    released = False

    def decide(order: Order) -> tuple[list[Action], dict, list[outbox.Message]] | None:
        nonlocal released
        released = False  # an attempt that lost the race to another change released nothing
        request = find_return(order, number)
        if request.status != REQUESTED or request.deadline > moment:
            return None
        requests = _replaced(
            order, number, status=RELEASED, closed_at=clock.now(), closed_by="sweep", reservation_released=True
        )
        actions = [
            Order.returns.set(requests),
            _history(RELEASED, "sweep", f"Return {number}: no parcel by {format_date(request.deadline)}"),
            Order.updated_at.set(clock.now()),
            *index_actions(order_id, requests),
        ]
        released = True
        return actions, _exchange_quantities(order, request), _email(order, request, RETURN_RELEASED)

    try:
        _step(order_id, decide)
    except (Conflict, NotFound):
        return False
    return released


def sweep(now: datetime | None = None) -> list[str]:
    """Requested returns past their deadline, from the sparse index (shard RETURN#requested,
    oldest deadline first); "<order id>#<number>" of each released."""
    moment = now or clock.now()
    cutoff = f"{clock.sortable(moment)}#~"
    done = []
    for due in Order.by_return_due.query(REQUESTED_SHARD, Order.return_due_sort <= cutoff, limit=SWEEP_LIMIT):
        order = fulfilment.get_order(due.order_id)
        for request in order.returns or []:
            due = request.status == REQUESTED and request.deadline <= moment
            if due and release(order.order_id, int(request.number), moment):
                done.append(f"{order.order_id}#{int(request.number)}")
    return done


def open_returns(start: dict | None = None) -> Any:
    """The back office's list: orders with an open return, the earliest deadline first (both
    shards merged, about one Query each per page)."""
    from chalicelib.services.paging import merged_query_page

    page = merged_query_page(
        Order,
        Order.by_return_due,
        (REQUESTED_SHARD, RECEIVED_SHARD),
        "return_due_sort",
        ("order_id", "return_due_shard", "return_due_sort"),
        ADMIN_PAGE_SIZE,
        start,
        newest_first=False,
    )
    return page


# -- views --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReturnView:
    request: ReturnRequest
    label: str
    lines: list[dict[str, Any]]
    next_step: str


def next_step(request: ReturnRequest) -> str:
    """What happens next, for the shopper."""
    status = request.status
    if status == REQUESTED:
        hold = " We hold your new size until then." if request.resolution == EXCHANGE else ""
        return f"Send the pairs back so they reach us by {format_date(request.deadline)}.{hold}"
    if status == RECEIVED:
        if request.resolution == EXCHANGE:
            return "Your parcel arrived: we send your new size, with its tracking number by email."
        return "Your parcel arrived: we refund you, usually within two working days."
    if status == REFUNDED:
        return "Refunded to your original payment method: banks usually show it within 5 to 10 days."
    if status == EXCHANGE_SHIPPED:
        return "Your new size is on its way."
    return "Nothing arrived by the deadline, so the return is closed and any size held for you is back on sale."


def views(order: Order) -> list[ReturnView]:
    shown = []
    for request in order.returns or []:
        lines = []
        for line in request.lines or []:
            ordered = order.lines[int(line.line)]
            lines.append(
                {
                    "index": int(line.line),
                    "name": ordered.name,
                    "brand": ordered.brand,
                    "size": ordered.size,
                    "quantity": int(ordered.quantity),
                    "reason": REASONS.get(str(line.reason), str(line.reason)),
                    "exchange_size": line.exchange_size,
                }
            )
        shown.append(
            ReturnView(request, STATUS_LABELS.get(str(request.status), str(request.status)), lines, next_step(request))
        )
    return shown


def return_address_lines() -> list[str]:
    return [part.strip() for part in get_settings().return_address.split("|") if part.strip()]
