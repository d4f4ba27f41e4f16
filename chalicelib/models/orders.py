"""Cart lines and orders."""

import zlib
from typing import Any

from pynamodb.attributes import (
    BooleanAttribute,
    ListAttribute,
    MapAttribute,
    NumberAttribute,
    TTLAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
    VersionAttribute,
)
from pynamodb.expressions.update import Action
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex

from chalicelib.models.base import StoreModel, table_meta


class CartLine(StoreModel):
    """One (shoe, size) line of a cart; owner `USER#<id>` or `GUEST#<random>`. No prices here."""

    Meta = table_meta("carts")

    owner = UnicodeAttribute(hash_key=True)
    line_id = UnicodeAttribute(range_key=True)  # "<shoe_id>#<size>"
    shoe_id = UnicodeAttribute()
    size = UnicodeAttribute()
    quantity = NumberAttribute()
    added_at = UTCDateTimeAttribute()
    expires_at = TTLAttribute(null=True)  # guest carts only

    @staticmethod
    def line_key(shoe_id: str, size: str) -> str:
        return f"{shoe_id}#{size}"


class CartLineCount(StoreModel):
    """How many lines a cart holds, never fewer than it really holds: every new line takes a slot in
    the same transaction as its put (condition: under the cap), so parallel adds cannot pass the cap.
    Its own partition (`LINES#<owner>`) in the carts table, so a query of a cart's lines never sees it.
    A missing item means "not counted yet": the cart service counts the lines and creates it."""

    Meta = table_meta("carts")
    KEY = "#count"

    owner = UnicodeAttribute(hash_key=True)  # "LINES#<cart owner>"
    line_id = UnicodeAttribute(range_key=True, default=KEY)
    line_count = NumberAttribute()
    expires_at = TTLAttribute(null=True)  # guest carts only, as their lines

    @staticmethod
    def key_for(cart_owner: str) -> str:
        return f"LINES#{cart_owner}"


class OrderLine(MapAttribute):
    """A snapshot: what was bought at what price, whatever happens to the product later."""

    shoe_id = UnicodeAttribute()
    name = UnicodeAttribute()
    brand = UnicodeAttribute()
    size = UnicodeAttribute()
    unit_price_cents = NumberAttribute()
    quantity = NumberAttribute()
    image_key = UnicodeAttribute(null=True)
    department = UnicodeAttribute(null=True)  # what a code restricted to departments matched


class StatusChange(MapAttribute):
    status = UnicodeAttribute()
    at = UTCDateTimeAttribute()
    by = UnicodeAttribute()  # "shopper" or the admin's username
    note = UnicodeAttribute(null=True)


class OrdersByUser(GlobalSecondaryIndex):
    class Meta:
        index_name = "by-user"
        projection = AllProjection()

    user_id = UnicodeAttribute(hash_key=True)
    created_sort = UnicodeAttribute(range_key=True)


# Orders of one status are spread over this many index partitions (`<status>#<n>`, n from the
# order id), so placement is not capped by one partition's write rate; listings merge the shards.
STATUS_SHARDS = 4


def status_shard(order_id: str, status: str) -> str:
    return f"{status}#{zlib.crc32(order_id.encode()) % STATUS_SHARDS}"


def status_shards(status: str) -> tuple[str, ...]:
    return tuple(f"{status}#{n}" for n in range(STATUS_SHARDS))


class OrdersByStatus(GlobalSecondaryIndex):
    class Meta:
        index_name = "by-status-shard"
        projection = AllProjection()

    status_shard = UnicodeAttribute(hash_key=True)
    created_sort = UnicodeAttribute(range_key=True)


class OrdersByPaymentDue(GlobalSecondaryIndex):
    """Sparse: only orders awaiting a card payment carry these, for the expiry sweep."""

    class Meta:
        index_name = "by-payment-due"
        projection = AllProjection()

    payment_due_shard = UnicodeAttribute(hash_key=True)
    payment_due_sort = UnicodeAttribute(range_key=True)


class OrdersByEmail(GlobalSecondaryIndex):
    """Orders by the casefolded email they were placed with (account or guest), newest first."""

    class Meta:
        index_name = "by-email"
        projection = AllProjection()

    email_key = UnicodeAttribute(hash_key=True)
    created_sort = UnicodeAttribute(range_key=True)


class Refund(MapAttribute):
    """One refund of an order (services/refunds.py): lines refunded (indexes into `lines`), the amount."""

    key = UnicodeAttribute()  # "<order_id>-<n>": the payment provider's idempotency key
    amount_cents = NumberAttribute()
    lines = ListAttribute[int](of=NumberAttribute, default=list)  # type: ignore[arg-type]  # PynamoDB types `of` as the element type
    restock = BooleanAttribute(default=False)
    method = UnicodeAttribute()  # "card" (through Stripe) or "manual" (pay on delivery: paid back by hand)
    refund_id = UnicodeAttribute(null=True)  # Stripe's
    by = UnicodeAttribute()
    at = UTCDateTimeAttribute()
    note = UnicodeAttribute(null=True)
    return_number = NumberAttribute(null=True)  # the return (Order.returns) this refund settles


class OrdersByReturnDue(GlobalSecondaryIndex):
    """Sparse: only orders with an open return (services/returns.py): shard `RETURN#requested` (a
    parcel is awaited; sorted by the earliest deadline, for the sweep) or `RETURN#received` (the
    parcel is in, a refund or the new size is to be sent). The back office lists both."""

    class Meta:
        index_name = "by-return-due"
        projection = AllProjection()

    return_due_shard = UnicodeAttribute(hash_key=True)
    return_due_sort = UnicodeAttribute(range_key=True)


class ReturnLine(MapAttribute):
    """One line of a return: the order line (index into `lines`, all its pairs), why, and for an
    exchange the size sent instead (its pairs reserved when the return was asked for)."""

    line = NumberAttribute()
    reason = UnicodeAttribute()  # too_small, too_big, changed_mind, faulty
    exchange_size = UnicodeAttribute(null=True)


class ReturnRequest(MapAttribute):
    """A return of some lines (services/returns.py): requested -> received -> refunded or
    exchange_shipped; requested -> released when the deadline passes without the parcel."""

    number = NumberAttribute()  # 1, 2... within the order
    lines = ListAttribute(of=ReturnLine)
    resolution = UnicodeAttribute()  # refund or exchange
    status = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    deadline = UTCDateTimeAttribute()  # the parcel must be marked received by then
    received_at = UTCDateTimeAttribute(null=True)
    received_by = UnicodeAttribute(null=True)
    closed_at = UTCDateTimeAttribute(null=True)  # refunded, shipped or released
    closed_by = UnicodeAttribute(null=True)
    refund_key = UnicodeAttribute(null=True)  # the Refund's key (refunds.py) once refunded
    carrier = UnicodeAttribute(null=True)  # the exchange shipment: a code of emails.CARRIERS
    tracking_number = UnicodeAttribute(null=True)
    restocked = BooleanAttribute(default=False)  # the returned pairs are back in stock (once)
    reservation_released = BooleanAttribute(default=False)  # the exchange sizes are back on sale (once)


class Order(StoreModel):
    """The id derives from the shopper and the idempotency key, and the put is conditioned on
    attribute_not_exists: a double submit cannot make a second order."""

    Meta = table_meta("orders")

    order_id = UnicodeAttribute(hash_key=True)
    user_id = UnicodeAttribute(null=True)  # removed when the shopper deletes their account; None for a guest's
    guest_email = UnicodeAttribute(null=True)  # a guest's order: where its mail goes (kept once claimed)
    # placed (pay on delivery), pending_payment, paid, payment_expired, shipped, delivered, cancelled
    status = UnicodeAttribute()
    status_shard = UnicodeAttribute(null=True)  # "<status>#<n>": set on every save, and by status_actions()
    created_at = UTCDateTimeAttribute()
    created_sort = UnicodeAttribute()  # "<iso time>#<order_id>"
    updated_at = UTCDateTimeAttribute()
    lines = ListAttribute(of=OrderLine)
    address: MapAttribute[str, Any] = MapAttribute(null=True)  # removed when the shopper deletes their account
    subtotal_cents = NumberAttribute()
    discount_cents = NumberAttribute(default=0)  # services.pricing; orders from before discounts read 0
    shipping_cents = NumberAttribute()
    total_cents = NumberAttribute()
    payment_method = UnicodeAttribute(default="pay_on_delivery")
    history = ListAttribute(of=StatusChange, default=list)
    tracking_note = UnicodeAttribute(null=True)
    # Card payments (services/card_payments.py)
    payment_due_shard = UnicodeAttribute(null=True)
    payment_due_sort = UnicodeAttribute(null=True)  # "<iso deadline>#<order_id>"
    checkout_session_id = UnicodeAttribute(null=True)
    payment_intent_id = UnicodeAttribute(null=True)
    paid_at = UTCDateTimeAttribute(null=True)
    refund_id = UnicodeAttribute(null=True)
    # Pay on delivery: the owner key whose unpaid-order slot this order holds (services/unpaid_orders.py)
    unpaid_slot_owner = UnicodeAttribute(null=True)
    # Customer (services/customers.py): who placed it, snapshotted at placement; email_key (casefolded
    # customer_email) feeds the by-email index. Removed with the address when the account is deleted.
    customer_email = UnicodeAttribute(null=True)
    customer_name = UnicodeAttribute(null=True)
    customer_username = UnicodeAttribute(null=True)
    email_key = UnicodeAttribute(null=True)
    # Refunds (services/refunds.py): refunded_cents only grows, conditioned on the value read, so no
    # refund passes what was paid; pending_refund holds the one refund under way at the provider.
    refunded_cents = NumberAttribute(default=0)
    refunds = ListAttribute(of=Refund, default=list)
    pending_refund = Refund(null=True)
    # Returns and exchanges (services/returns.py); return_due_* feed the sparse by-return-due index
    # while a return is open, "<iso deadline>#<order_id>".
    returns = ListAttribute(of=ReturnRequest, default=list)
    return_due_shard = UnicodeAttribute(null=True)
    return_due_sort = UnicodeAttribute(null=True)
    # Line indexes put back in stock (PynamoDB types `of` as the element type)
    restocked_lines = ListAttribute[int](of=NumberAttribute, default=list)  # type: ignore[arg-type]
    # Readable order number and tracking (issue 16): "SS-4F7K-2Q", unique through an OrderNumberClaim
    # written in the placing transaction; orders from before it have none (pages show the order id).
    order_number = UnicodeAttribute(null=True)
    carrier = UnicodeAttribute(null=True)  # a code of emails.CARRIERS, set when shipped
    tracking_number = UnicodeAttribute(null=True)
    # Pricing (services/discounts.py, services/shipping.py): the code whose use this order took
    # (its amount is discount_cents), the customer key of its per-customer claim, the shipping method
    # (its price is shipping_cents). Orders from before read None: Standard shipping, no code.
    discount_code = UnicodeAttribute(null=True)
    discount_claim = UnicodeAttribute(null=True)
    shipping_method_id = UnicodeAttribute(null=True)
    shipping_label = UnicodeAttribute(null=True)
    version = VersionAttribute()

    by_user = OrdersByUser()
    by_status = OrdersByStatus()
    by_payment_due = OrdersByPaymentDue()
    by_email = OrdersByEmail()
    by_return_due = OrdersByReturnDue()

    def serialize(self, null_check: bool = True) -> dict[str, dict[str, Any]]:
        """Every save (plain or in a transaction) writes the shard of the status it saves."""
        if self.order_id and self.status:
            self.status_shard = status_shard(self.order_id, self.status)
        return super().serialize(null_check=null_check)

    @property
    def reference(self) -> str:
        """What a person reads: the order number, or the order id of an order from before numbers."""
        return self.order_number or self.order_id

    def status_actions(self, status: str) -> list[Action]:
        """The update actions that move this order to `status`: an update must set the shard too."""
        return [Order.status.set(status), Order.status_shard.set(status_shard(self.order_id, status))]


class OrderNumberClaim(StoreModel):
    """`ORDERNO#<number>` → order id, in the users table beside the other uniqueness claims; put in
    the order's own transaction on attribute_not_exists, so no two orders share a number; and the
    back office's lookup by number (services.orders.find_by_number) is one GetItem."""

    Meta = table_meta("users")

    pk = UnicodeAttribute(hash_key=True)
    order_id = UnicodeAttribute()

    @staticmethod
    def key_for(number: str) -> str:
        return f"ORDERNO#{number}"
