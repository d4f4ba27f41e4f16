"""The one source of "now" (UTC). Tests replace it with `set_clock` to move time."""

from collections.abc import Callable
from datetime import UTC, datetime

_now: Callable[[], datetime] = lambda: datetime.now(UTC)  # noqa: E731


def now() -> datetime:
    return _now()


# Times in sort keys (`created_sort`, `payment_due_sort`...): fixed width, so text order is time order.
SORTABLE_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"


def sortable(moment: datetime) -> str:
    """`moment` (UTC) as the fixed-width text that sort keys begin with."""
    return moment.strftime(SORTABLE_FORMAT)


def set_clock(func: Callable[[], datetime] | None) -> None:
    """Install a clock (a callable returning an aware UTC datetime); None restores the real one."""
    global _now
    _now = func or (lambda: datetime.now(UTC))
