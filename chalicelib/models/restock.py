""" "Email me when it's back": subscriptions per (shoe, size, email) and a waiting count per size."""

from pynamodb.attributes import NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute

from chalicelib.models.base import StoreModel, table_meta

COUNT_KEY = "#count"
SUBSCRIPTION_PREFIX = "EMAIL#"


def size_key(shoe_id: str, size: str) -> str:
    return f"{shoe_id}#{size}"


class RestockSubscription(StoreModel):
    """One address waiting for one size. Key (`<shoe_id>#<size>`, `EMAIL#<casefolded email>`): one
    subscription per (shoe, size, email), and one Query finds everyone waiting for a size."""

    Meta = table_meta("restock-subscriptions")

    size_key = UnicodeAttribute(hash_key=True)
    subscriber = UnicodeAttribute(range_key=True)
    shoe_id = UnicodeAttribute()
    size = UnicodeAttribute()
    email = UnicodeAttribute()  # as typed (casefolded only in the key)
    user_id = UnicodeAttribute(null=True)  # set when a logged-in shopper subscribed
    created_at = UTCDateTimeAttribute()

    @staticmethod
    def subscriber_key(email: str) -> str:
        return f"{SUBSCRIPTION_PREFIX}{email.casefold()}"


class RestockWaitCount(StoreModel):
    """How many subscriptions a size has, in the same partition (sort key `#count`): changed by ADD in
    the same transaction as each subscribe, unsubscribe and send, so it is never recounted."""

    Meta = table_meta("restock-subscriptions")

    size_key = UnicodeAttribute(hash_key=True)
    subscriber = UnicodeAttribute(range_key=True, default=COUNT_KEY)
    waiting = NumberAttribute(default=0)
