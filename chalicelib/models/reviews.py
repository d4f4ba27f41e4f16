"""Reviews with a fit answer, and each shoe's summary of them (services/reviews.py).

One table, hash key `shoe_id`:
- a review per (shoe, reviewer): range key `USER#<user_id>` (an account's) or `GUEST#<casefolded
  email>` (a guest order's, from its signed link), so a buyer reviews a shoe once (the put is
  conditioned on attribute_not_exists). Shown in the shop through the sparse `visible`
  index (`listed_shoe`, `listed_sort` = "<iso created_at>#<reviewer>"), whose attributes a hide
  removes; the back office lists every review of a shoe, hidden ones too, through `by-shoe`.
- the shoe's summary, range key `#summary`: count, rating total and fit answers, changed only by
  the reviews stream consumer with ADD, in the same transaction that flips the review's `counted`.
"""

from pynamodb.attributes import BooleanAttribute, NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex

from chalicelib.models.base import StoreModel, table_meta

SUMMARY_KEY = "#summary"
USER_PREFIX = "USER#"
GUEST_PREFIX = "GUEST#"
# Every reviewer key sorts after this and the summary's before: `reviewer > REVIEWER_FLOOR` skips it.
REVIEWER_FLOOR = "$"
FIT_ANSWERS = ("small", "true", "large")


class VisibleReviews(GlobalSecondaryIndex):
    """Sparse: reviews the shop shows, newest first per shoe."""

    class Meta:
        index_name = "visible"
        projection = AllProjection()

    listed_shoe = UnicodeAttribute(hash_key=True)
    listed_sort = UnicodeAttribute(range_key=True)


class ReviewsByShoe(GlobalSecondaryIndex):
    """Every review of a shoe (hidden ones too), newest first: the back office's list. The summary
    item has no `created_sort`, so it is not in this index."""

    class Meta:
        index_name = "by-shoe"
        projection = AllProjection()

    shoe_id = UnicodeAttribute(hash_key=True)
    created_sort = UnicodeAttribute(range_key=True)


class Review(StoreModel):
    Meta = table_meta("reviews")

    shoe_id = UnicodeAttribute(hash_key=True)
    reviewer = UnicodeAttribute(range_key=True)  # "USER#<user_id>", or "GUEST#<casefolded email>"
    rating = NumberAttribute()  # 1 to 5
    fit = UnicodeAttribute()  # small, true, large
    size = UnicodeAttribute()  # EU size bought, from the order line
    department = UnicodeAttribute(null=True)  # the order line's, to show the size in other systems
    text = UnicodeAttribute(null=True)
    display_name = UnicodeAttribute()  # "Alice E." or "Verified buyer"
    order_id = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    created_sort = UnicodeAttribute()  # "<iso created_at>#<reviewer>"
    listed_shoe = UnicodeAttribute(null=True)  # = shoe_id while shown; removed by a hide
    listed_sort = UnicodeAttribute(null=True)
    hidden_reason = UnicodeAttribute(null=True)
    hidden_by = UnicodeAttribute(null=True)
    hidden_at = UTCDateTimeAttribute(null=True)
    # Whether the summary holds this review now: flipped only by the stream consumer, conditioned
    # on the value it read, in the same transaction as the summary's ADD.
    counted = BooleanAttribute(default=False)

    visible = VisibleReviews()
    by_shoe = ReviewsByShoe()

    @staticmethod
    def user_key(user_id: str) -> str:
        return f"{USER_PREFIX}{user_id}"

    @staticmethod
    def guest_key(email: str) -> str:
        return f"{GUEST_PREFIX}{email.casefold()}"


class ReviewSummary(StoreModel):
    Meta = table_meta("reviews")

    shoe_id = UnicodeAttribute(hash_key=True)
    reviewer = UnicodeAttribute(range_key=True, default=SUMMARY_KEY)
    review_count = NumberAttribute(default=0)
    rating_total = NumberAttribute(default=0)
    fit_small = NumberAttribute(default=0)
    fit_true = NumberAttribute(default=0)
    fit_large = NumberAttribute(default=0)
