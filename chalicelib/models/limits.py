"""Counters for app limits: one item per (scope, key, window start), so each window is a new key."""

from pynamodb.attributes import NumberAttribute, TTLAttribute, UnicodeAttribute

from chalicelib.models.base import StoreModel, table_meta


class RateCounter(StoreModel):
    """Attempts taken in one fixed window. Key `<scope>#<key>#<window start epoch>`; the TTL
    deletes old windows late, which never matters: a later window has another key."""

    Meta = table_meta("limits")

    pk = UnicodeAttribute(hash_key=True)
    taken = NumberAttribute(default=0)  # slots taken in the window
    expires_at = TTLAttribute()
