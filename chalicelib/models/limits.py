"""Counters for app limits: one item per (scope, key, window start), so each window is a new key."""

from pynamodb.attributes import NumberAttribute, TTLAttribute, UnicodeAttribute

from chalicelib.models.base import StoreModel, table_meta


class RateCounter(StoreModel):
    """Attempts taken in one fixed window. Key `<scope>#<key>#<window start epoch>`; the TTL
    deletes old windows late, which never matters: a later window has another key. A backoff
    (growing delays) uses window 0 and checks its own expiry on every read."""

    Meta = table_meta("limits")

    pk = UnicodeAttribute(hash_key=True)
    taken = NumberAttribute(default=0)  # slots taken in the window (a backoff: attempts so far)
    not_before = NumberAttribute(null=True)  # a backoff's next allowed attempt, epoch seconds
    expires_at = TTLAttribute()
