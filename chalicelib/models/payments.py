"""The payments table: the ledger of processed Stripe events and the open-unpaid-orders counters."""

from pynamodb.attributes import NumberAttribute, TTLAttribute, UnicodeAttribute, UTCDateTimeAttribute

from chalicelib.models.base import StoreModel, table_meta


class PaymentEvent(StoreModel):
    """One processed Stripe event (`EVENT#<evt id>`), put with attribute_not_exists: a redelivered
    event finds it and changes nothing. Stripe retries for 3 days; the TTL keeps 30."""

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
    """How many pay-on-delivery orders an owner has open (`UNPAID#<owner key>`, the owner key being
    `USER#<id>` or `EMAIL#<address>`): changed only inside the order transactions, condition-guarded."""

    Meta = table_meta("payments")

    pk = UnicodeAttribute(hash_key=True)
    open_orders = NumberAttribute(default=0)

    @staticmethod
    def key_for(owner_key: str) -> str:
        return f"UNPAID#{owner_key}"
