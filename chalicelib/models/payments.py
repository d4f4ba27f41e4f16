"""The payments table: the ledger of processed Stripe events and the open-unpaid-orders counters."""

from pynamodb.attributes import NumberAttribute, TTLAttribute, UnicodeAttribute, UTCDateTimeAttribute

from chalicelib.models.base import StoreModel, table_meta


class PaymentEvent(StoreModel):
    """A processed Stripe event (`EVENT#<id>`), put if absent: a redelivery changes nothing."""

    Meta = table_meta("payments")

    pk = UnicodeAttribute(hash_key=True)
    event_type = UnicodeAttribute()
    order_id = UnicodeAttribute(null=True)
    received_at = UTCDateTimeAttribute()
    expires_at = TTLAttribute()

    @staticmethod
    def key_for(event_id: str) -> str:
        return f"EVENT#{event_id}"


class UnpaidOrderCount(StoreModel):
    """Open pay-on-delivery orders of an owner key (`UNPAID#USER#<id>`, `UNPAID#EMAIL#<address>`)."""

    Meta = table_meta("payments")

    pk = UnicodeAttribute(hash_key=True)
    open_orders = NumberAttribute(default=0)

    @staticmethod
    def key_for(owner_key: str) -> str:
        return f"UNPAID#{owner_key}"
