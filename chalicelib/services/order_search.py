"""Back-office order search: one order by its id (or another key, see LOOKUPS), orders by the email
they were placed with, and the status lists filtered by a date range. All paged Queries, no Scan."""

from collections.abc import Callable
from datetime import date

from pynamodb.expressions.condition import Condition

from chalicelib.models import Order
from chalicelib.models.accounts import search_key
from chalicelib.models.orders import status_shards
from chalicelib.services import fulfilment, orders
from chalicelib.services.errors import NotFound, ValidationFailed
from chalicelib.services.paging import Page, merged_query_page, query_page

ANY_STATUS = "all"
DATE_MAX_DAYS = 366 * 5
EMAIL_MAX = 254


def _by_id(term: str) -> Order | None:
    try:
        return fulfilment.get_order(term)
    except NotFound:
        return None


# What an order search box can name, tried in turn: the readable number a shopper reads out
# ("SS-4F7K-2Q", any case, dashes optional), then the order id.
LOOKUPS: tuple[Callable[[str], Order | None], ...] = (orders.find_by_number, _by_id)


def find_order(term: str) -> Order | None:
    term = term.strip()
    if not term or len(term) > 100:
        return None
    for lookup in LOOKUPS:
        found = lookup(term)
        if found is not None:
            return found
    return None


def parse_date(text: str, field: str) -> date | None:
    text = text.strip()
    if not text:
        return None
    try:
        parsed = date.fromisoformat(text) if len(text) == 10 else None
    except ValueError:
        parsed = None
    if parsed is None:
        raise ValidationFailed({field: "Enter a date like 2026-03-31."})
    return parsed


def date_range(from_text: str, to_text: str) -> tuple[date | None, date | None]:
    """The From and To dates of a filter form (UTC days, both included); To before From is refused."""
    start, end = parse_date(from_text, "from"), parse_date(to_text, "to")
    if start and end and end < start:
        raise ValidationFailed({"to": "The end date is before the start date."})
    if start and end and (end - start).days > DATE_MAX_DAYS:
        raise ValidationFailed({"to": "Choose at most five years."})
    return start, end


def created_between(start: date | None, end: date | None) -> Condition | None:
    """A sort-key condition on created_sort ("<iso time>#<order id>"): whole UTC days, both ends in."""
    if start is None and end is None:
        return None
    low = start.isoformat() if start else "0"
    high = f"{end.isoformat()}T~" if end else "~"
    return Order.created_sort.between(low, high)


def list_orders(
    status: str, start_date: date | None = None, end_date: date | None = None, start: dict | None = None
) -> Page:
    """One status (or ANY_STATUS), newest first, optionally within the dates: the shards merged
    (4 per status: any status reads 28 small Queries a page, still independent of the order count)."""
    statuses = (
        fulfilment.STATUSES
        if status == ANY_STATUS
        else (status if status in fulfilment.STATUSES else fulfilment.PLACED,)
    )
    return merged_query_page(
        Order,
        Order.by_status,
        tuple(shard for value in statuses for shard in status_shards(value)),
        "created_sort",
        ("order_id", "status_shard", "created_sort"),
        fulfilment.ORDERS_PAGE_SIZE,
        start,
        range_condition=created_between(start_date, end_date),
    )


def orders_by_email(
    email: str,
    status: str = ANY_STATUS,
    start_date: date | None = None,
    end_date: date | None = None,
    start: dict | None = None,
) -> Page:
    """Orders placed with this email (an account's at the time, or a guest's), newest first, one
    partition of the by-email index; a status filter reads at most 500 index items per page."""
    key = search_key(email[:EMAIL_MAX])
    if not key:
        return Page([], None)
    status_filter = Order.status == status if status in fulfilment.STATUSES else None
    return query_page(
        Order,
        Order.by_email,
        key,
        ("order_id", "email_key", "created_sort"),
        fulfilment.ORDERS_PAGE_SIZE,
        start,
        filter_condition=status_filter,
        range_condition=created_between(start_date, end_date),
    )
