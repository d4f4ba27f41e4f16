"""The outbox: emails to send, each written in the same transaction as the change it tells about,
and the addresses never to mail again. One table (`outbox`), streamed: its stream feeds the sender
(chalicelib.services.outbox.send_changes)."""

from pynamodb.attributes import JSONAttribute, NumberAttribute, TTLAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex

from chalicelib.models.base import StoreModel, table_meta


class UnsentMessages(GlobalSecondaryIndex):
    """Sparse: only messages not yet done carry `queue` (pending, sending, failed), so the operator's
    view of what is stuck or failed is a Query of a small partition, never a Scan of the mail."""

    class Meta:
        index_name = "unsent"
        projection = AllProjection()

    queue = UnicodeAttribute(hash_key=True)
    created_sort = UnicodeAttribute(range_key=True)


class OutboxMessage(StoreModel):
    """One email: what to render (`kind` names the templates, `context` holds plain values) and to
    whom. The key is the caller's dedupe key, and the put is conditioned on attribute_not_exists, so
    a retried transaction or a second enqueue cannot queue the same email twice."""

    Meta = table_meta("outbox")  # streamed (models.STREAMED_MODELS): the sender reads its stream

    message_id = UnicodeAttribute(hash_key=True)  # the dedupe key, e.g. "order-placed#<order id>"
    kind = UnicodeAttribute()
    recipient = UnicodeAttribute()
    context = JSONAttribute()
    status = UnicodeAttribute()  # pending, sending, sent, failed, suppressed
    queue = UnicodeAttribute(null=True)  # = status while unsent; removed once sent or suppressed
    created_at = UTCDateTimeAttribute()
    created_sort = UnicodeAttribute()  # "<iso time>#<message id>"
    attempts = NumberAttribute(default=0)
    claimed_at = UTCDateTimeAttribute(null=True)  # when a sender took it (status sending)
    last_error = UnicodeAttribute(null=True)
    sent_at = UTCDateTimeAttribute(null=True)
    subject = UnicodeAttribute(null=True)  # as sent
    provider_message_id = UnicodeAttribute(null=True)  # SES's MessageId
    expires_at = TTLAttribute(null=True)  # done messages are kept 90 days, then DynamoDB deletes them

    unsent = UnsentMessages()


class EmailSuppression(StoreModel):
    """An address that hard-bounced or complained: never mailed again. Its own partition
    (`SUPPRESS#<address>`) in the outbox table; the sender ignores these items on the stream."""

    Meta = table_meta("outbox")
    PREFIX = "SUPPRESS#"

    key = UnicodeAttribute(hash_key=True, attr_name="message_id")
    reason = UnicodeAttribute()  # "bounce", "complaint" or "operator"
    detail = UnicodeAttribute(null=True)
    suppressed_at = UTCDateTimeAttribute()

    @classmethod
    def key_for(cls, address: str) -> str:
        return f"{cls.PREFIX}{address.strip().lower()}"
