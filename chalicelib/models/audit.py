"""The back office's audit log: one item per admin action, kept for owners to read and filter."""

from pynamodb.attributes import UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex

from chalicelib.models.base import StoreModel, table_meta


class AuditByAdmin(GlobalSecondaryIndex):
    """One admin's actions, newest first."""

    class Meta:
        index_name = "by-admin"
        projection = AllProjection()

    admin = UnicodeAttribute(hash_key=True)
    at_sort = UnicodeAttribute(range_key=True)


class AuditByAction(GlobalSecondaryIndex):
    """One kind of action ("shoe.delete"), newest first."""

    class Meta:
        index_name = "by-action"
        projection = AllProjection()

    action = UnicodeAttribute(hash_key=True)
    at_sort = UnicodeAttribute(range_key=True)


class AuditEntry(StoreModel):
    """Partitioned by UTC month ("2026-12") and sorted by "<iso time>#<random>": the log reads newest
    first one month at a time, and a month's partition stays small at a back office's pace."""

    Meta = table_meta("audit-log")

    month = UnicodeAttribute(hash_key=True)
    at_sort = UnicodeAttribute(range_key=True)
    at = UTCDateTimeAttribute()
    admin = UnicodeAttribute()
    action = UnicodeAttribute()
    details = UnicodeAttribute(default="{}")  # JSON object of the action's details

    by_admin = AuditByAdmin()
    by_action = AuditByAction()
