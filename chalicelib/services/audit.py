"""Admin actions: who, what, when, which item (strings cut to 200 characters). Each is a JSON log
line and an item in the audit-log table, which owners read and filter at /admin/audit."""

import json
import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from pynamodb.exceptions import PynamoDBException

from chalicelib import clock
from chalicelib.logs import log_event
from chalicelib.models.audit import AuditEntry
from chalicelib.services.paging import Page

PAGE_SIZE = 50
MAX_DAYS = 3 * 366  # the widest date range one listing walks, month by month
DEFAULT_DAYS = 90


def _month(moment: date) -> str:
    return moment.strftime("%Y-%m")


def record(admin: str, action: str, **details: object) -> None:
    at = clock.now()
    entry: dict[str, object] = {"admin": admin, "action": action, "at": at.isoformat()}
    for key, value in details.items():
        entry[key] = value[:200] if isinstance(value, str) else value
    log_event("admin_action", **entry)
    item = AuditEntry(
        month=_month(at),
        at_sort=f"{clock.sortable(at)}#{secrets.token_hex(4)}",
        at=at,
        admin=admin[:200],
        action=action[:100],
        details=json.dumps({k: v for k, v in entry.items() if k not in ("admin", "action", "at")}, default=str),
    )
    try:
        item.save()
    except PynamoDBException as error:
        # The action itself is done and its log line written: failing the request now would
        # report a change that happened as one that did not.
        log_event("audit_write_failed", action=action, admin=admin, error=type(error).__name__)


@dataclass(frozen=True)
class AuditFilter:
    admin: str = ""
    action: str = ""
    since: date | None = None
    until: date | None = None

    def bounds(self) -> tuple[date, date]:
        """The inclusive date range: the last DEFAULT_DAYS by default, at most MAX_DAYS wide."""
        until = self.until or clock.now().date()
        since = self.since or until - timedelta(days=DEFAULT_DAYS - 1)
        return max(since, until - timedelta(days=MAX_DAYS)), until


def details_of(entry: AuditEntry) -> dict[str, object]:
    try:
        loaded = json.loads(entry.details or "{}")
    except ValueError:
        return {}
    return loaded if isinstance(loaded, dict) else {}


def _months(since: date, until: date) -> list[str]:
    """Month partitions from `until` back to `since`, newest first."""
    months = []
    cursor = until.replace(day=1)
    while cursor >= since.replace(day=1):
        months.append(_month(cursor))
        cursor = (cursor - timedelta(days=1)).replace(day=1)
    return months


def list_entries(wanted: AuditFilter, start: dict | None = None) -> Page:
    """One page, newest first. An admin or an action reads its index; otherwise the month
    partitions of the range are read in turn. Never a Scan; the cursor says where to go on."""
    since, until = wanted.bounds()
    low = since.isoformat()
    high = (until + timedelta(days=1)).isoformat()
    in_range = AuditEntry.at_sort.between(low, high)
    start = start or {}
    key = start.get("key") if isinstance(start.get("key"), dict) else None
    if wanted.admin or wanted.action:
        index = AuditEntry.by_admin if wanted.admin else AuditEntry.by_action
        hash_value = wanted.admin if wanted.admin else wanted.action
        also = AuditEntry.action == wanted.action if wanted.admin and wanted.action else None
        items, key = _read(index.query, hash_value, in_range, also, key, PAGE_SIZE)
        return Page(items, {"key": key} if key else None)
    months = _months(since, until)
    month = start.get("month")
    months = months[months.index(month) :] if month in months else months
    items = []
    for current in months:
        found, key = _read(AuditEntry.query, current, in_range, None, key, PAGE_SIZE - len(items))
        items.extend(found)
        if key is not None:
            return Page(items, {"month": current, "key": key})
        if len(items) >= PAGE_SIZE:
            following = months.index(current) + 1
            return Page(items, {"month": months[following], "key": None} if following < len(months) else None)
    return Page(items, None)


def _read(query, hash_value: str, in_range, also, key: dict | None, limit: int) -> tuple[list[AuditEntry], dict | None]:
    results = query(
        hash_value,
        range_key_condition=in_range,
        filter_condition=also,
        scan_index_forward=False,
        limit=limit,
        last_evaluated_key=key,
        page_size=limit if also is None else 100,
    )
    items = list(results)
    more = results.last_evaluated_key
    return items, (more if more and len(items) >= limit else None)


def parse_day(text: str) -> date | None:
    try:
        return datetime.strptime(text.strip(), "%Y-%m-%d").date()
    except ValueError:
        return None
