"""The pricing table (`pk`, `sk`): a code is (`CODE`, code upper case), one GetItem, the list one
Query, `uses` changed only in order transactions; a claim (`CLAIM#<code>`, `USER#<id>`|`EMAIL#<a>`);
a zone (`ZONE`, zone id) with its countries and methods, all zones one Query."""

from pynamodb.attributes import (
    ListAttribute,
    MapAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UnicodeSetAttribute,
    UTCDateTimeAttribute,
)

from chalicelib.models.base import StoreModel, table_meta

CODE_PK = "CODE"
ZONE_PK = "ZONE"


class DiscountCode(StoreModel):
    Meta = table_meta("pricing")

    pk = UnicodeAttribute(hash_key=True, default=CODE_PK)
    sk = UnicodeAttribute(range_key=True)  # the code, upper case
    kind = UnicodeAttribute()  # "percent" or "fixed"
    value = NumberAttribute()  # a percent (1-100) or cents
    min_spend_cents = NumberAttribute(default=0)
    starts_at = UTCDateTimeAttribute(null=True)
    ends_at = UTCDateTimeAttribute(null=True)  # exclusive
    max_uses = NumberAttribute(null=True)  # None: unlimited
    per_customer = NumberAttribute(null=True)  # None: unlimited
    uses = NumberAttribute(default=0)
    brands = UnicodeSetAttribute(null=True)  # None: every brand
    departments = UnicodeSetAttribute(null=True)  # None: every department
    active = NumberAttribute(default=1)  # 0: disabled by an admin
    revision = NumberAttribute(default=1)  # bumped by every admin edit; an order is conditioned on it
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()


class DiscountClaim(StoreModel):
    Meta = table_meta("pricing")

    pk = UnicodeAttribute(hash_key=True)  # "CLAIM#<code>"
    sk = UnicodeAttribute(range_key=True)  # the customer key
    uses = NumberAttribute(default=0)

    @staticmethod
    def key_for(code: str) -> str:
        return f"CLAIM#{code}"


class ShippingMethodItem(MapAttribute):
    method_id = UnicodeAttribute()
    label = UnicodeAttribute()
    price_cents = NumberAttribute()
    free_over_cents = NumberAttribute(null=True)
    days_min = NumberAttribute()
    days_max = NumberAttribute()


class ShippingZoneItem(StoreModel):
    Meta = table_meta("pricing")

    pk = UnicodeAttribute(hash_key=True, default=ZONE_PK)
    sk = UnicodeAttribute(range_key=True)  # the zone id
    name = UnicodeAttribute()
    countries = UnicodeSetAttribute()
    methods = ListAttribute(of=ShippingMethodItem, default=list)
    updated_at = UTCDateTimeAttribute()
