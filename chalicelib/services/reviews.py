"""Verified reviews with a fit answer, and the fit signal they give (docs/checkout.md "Reviews and fit").

- A shopper reviews a shoe of one of their own delivered orders, once per shoe: one PutItem
  conditioned on attribute_not_exists on the key (shoe, `USER#<id>`). The size comes from the order.
- Each shoe's summary (count, rating total, fit answers) is changed only by `on_review_changes`,
  the reviews stream consumer: per changed review it reads the review and, if the summary does not
  hold it as it should (shown: counted; hidden: not), flips the review's `counted` flag and ADDs
  its rating and fit to the summary in one transaction conditioned on the flag and the hide it
  read. Redelivered or replayed records find nothing to do, so nothing is counted twice.
- Pages read summaries in O(1): the product page one item, a listing one BatchGetItem for its
  page's shoes (reused for `review_summary_cache_seconds` by a warm Lambda).
- `fit_verdict` turns fit votes into "runs small / true to size / runs large"; its inputs are plain
  counts, so other votes (returns as "too small" / "too big") can be added to the same signal.
"""

import logging
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from pynamodb.attributes import NumberAttribute
from pynamodb.exceptions import DoesNotExist, PutError, UpdateError

from chalicelib import clock, streams
from chalicelib.config import get_settings
from chalicelib.logs import log_event
from chalicelib.models import Order, OrderLine, Review, ReviewSummary, User, dynamo
from chalicelib.models.base import batch_get_raw
from chalicelib.models.dynamo import condition_failed
from chalicelib.models.reviews import FIT_ANSWERS, GUEST_PREFIX, SUMMARY_KEY, USER_PREFIX
from chalicelib.services import audit, cursors
from chalicelib.services import orders as order_service
from chalicelib.services.errors import Conflict, NotFound, ValidationFailed
from chalicelib.services.paging import Page, query_page
from chalicelib.services.validation import clean_text

TABLE = "reviews"
PAGE_SIZE = 10  # reviews per product page
ADMIN_PAGE_SIZE = 25
TEXT_MAX = 1000
HIDE_REASON_MAX = 200
DISPLAY_NAME_MAX = 40
DELIVERED = "delivered"  # services.fulfilment.DELIVERED (not imported: it pulls in payments and email)
ANONYMOUS = "Verified buyer"
FIT_LABELS = {"small": "Runs small", "true": "True to size", "large": "Runs large"}
RATING_CHOICES = ("5", "4", "3", "2", "1")

# fit_verdict's answers
RUNS_SMALL, TRUE_TO_SIZE, RUNS_LARGE, MIXED = "runs_small", "true_to_size", "runs_large", "mixed"
VERDICT_WORDS = {RUNS_SMALL: "runs small", TRUE_TO_SIZE: "is true to size", RUNS_LARGE: "runs large"}

NOT_DELIVERED = "You can review this shoe once the order is delivered."
ALREADY_REVIEWED = "You have reviewed this shoe already: each buyer reviews a shoe once."
NOT_IN_ORDER = "That shoe is not in this order."
NO_SUCH_REVIEW = "We could not find that review."


def fit_verdict(small: int, true: int, large: int, minimum: int) -> str | None:
    """What the fit votes say: None under `minimum` votes (too few to say anything), else the
    answer more than half the votes give (RUNS_SMALL, TRUE_TO_SIZE, RUNS_LARGE), else MIXED.

    The votes are plain counts: reviews' fit answers, plus any other "too small" (into `small`)
    and "too big" (into `large`) votes, such as returns for those reasons."""
    small, true, large = max(0, small), max(0, true), max(0, large)
    total = small + true + large
    if total < max(1, minimum):
        return None
    for verdict, votes in ((RUNS_SMALL, small), (TRUE_TO_SIZE, true), (RUNS_LARGE, large)):
        if votes * 2 > total:
            return verdict
    return MIXED


def fit_sentence(verdict: str | None, small: int, true: int, large: int) -> str:
    """The fit summary as a shopper reads it, saying how many answers it rests on."""
    total = small + true + large
    if verdict is None:
        return ""
    if verdict == MIXED:
        return (
            f"Buyers are divided on the fit: {small} say it runs small, {true} true to size, "
            f"{large} runs large ({total} answers)."
        )
    votes = {RUNS_SMALL: small, TRUE_TO_SIZE: true, RUNS_LARGE: large}[verdict]
    return f"Most buyers say it {VERDICT_WORDS[verdict]}: {votes} of {total} fit answer{'s' if total != 1 else ''}."


@dataclass(frozen=True)
class FitSummary:
    """A shoe's maintained summary (all zero before its first counted review)."""

    shoe_id: str
    count: int = 0
    rating_total: int = 0
    small: int = 0
    true: int = 0
    large: int = 0
    # Pairs returned as "Too small" / "Too big" (services/return_reasons.py): the same fit signal.
    returned_small: int = 0
    returned_large: int = 0

    @property
    def average(self) -> float | None:
        """The average rating to one decimal, or None without reviews."""
        return round(self.rating_total / self.count, 1) if self.count > 0 else None

    @property
    def answers(self) -> int:
        return self.small + self.true + self.large

    def verdict(self, minimum: int | None = None, extra_small: int = 0, extra_large: int = 0) -> str | None:
        """fit_verdict over this summary's answers (plus other votes), at the stage's threshold."""
        threshold = get_settings().fit_summary_min_answers if minimum is None else minimum
        small, large = self.small + self.returned_small + extra_small, self.large + self.returned_large + extra_large
        return fit_verdict(small, self.true, large, threshold)

    def sentence(self, minimum: int | None = None) -> str:
        sentence = fit_sentence(
            self.verdict(minimum), self.small + self.returned_small, self.true, self.large + self.returned_large
        )
        returned = self.returned_small + self.returned_large
        if sentence and returned:  # say what the count rests on: returns are not written answers
            pairs = f"{returned} pair{'s' if returned != 1 else ''}"
            sentence = f"{sentence[:-1]}, counting {pairs} returned as too small or too big."
        return sentence


def _number(item: dict, name: str) -> int:
    return max(0, int(item.get(name, {}).get("N", "0")))


def _summary_of(shoe_id: str, item: dict | None) -> FitSummary:
    if not item:
        return FitSummary(shoe_id)
    return FitSummary(
        shoe_id,
        count=_number(item, "review_count"),
        rating_total=_number(item, "rating_total"),
        small=_number(item, "fit_small"),
        true=_number(item, "fit_true"),
        large=_number(item, "fit_large"),
    )


SUMMARY_ATTRIBUTES = "shoe_id, review_count, rating_total, fit_small, fit_true, fit_large"
_cache: dict[str, tuple[float, FitSummary]] = {}
monotonic = time.monotonic  # tests replace it


def forget_summaries() -> None:
    _cache.clear()


def summary_for(shoe_id: str) -> FitSummary:
    """One shoe's summary: one GetItem (not cached)."""
    try:
        item = ReviewSummary.get(shoe_id, SUMMARY_KEY)
    except DoesNotExist:
        return FitSummary(shoe_id)
    return FitSummary(
        shoe_id,
        count=max(0, int(item.review_count or 0)),
        rating_total=max(0, int(item.rating_total or 0)),
        small=max(0, int(item.fit_small or 0)),
        true=max(0, int(item.fit_true or 0)),
        large=max(0, int(item.fit_large or 0)),
    )


def summaries_for(shoe_ids: Iterable[str], returns_of: str | None = None) -> dict[str, FitSummary]:
    """The summaries of a page's shoes: one BatchGetItem per 100 shoes not read in the last
    `review_summary_cache_seconds` by this Lambda (a listing page: one call, or none).

    `returns_of` (a product page's own shoe, among `shoe_ids`) also gets its returns for fit
    (services/return_reasons.py), read fresh in the same BatchGetItem: the size suggestion's signal."""
    from chalicelib.services import return_reasons  # only product pages need it; keeps the listing import light

    wanted = list(dict.fromkeys(shoe_ids))
    keep = get_settings().review_summary_cache_seconds
    now = monotonic()
    found: dict[str, FitSummary] = {}
    missing: list[str] = []
    for shoe_id in wanted:
        cached = _cache.get(shoe_id)
        if keep > 0 and cached is not None and now - cached[0] < keep and shoe_id != returns_of:
            found[shoe_id] = cached[1]
        else:
            missing.append(shoe_id)
    table = ReviewSummary.Meta.table_name
    counters = return_reasons.table_name()
    for start in range(0, len(missing), 100):
        chunk = missing[start : start + 100]
        keys = [{"shoe_id": {"S": shoe_id}, "reviewer": {"S": SUMMARY_KEY}} for shoe_id in chunk]
        request: dict = {table: {"Keys": keys, "ProjectionExpression": SUMMARY_ATTRIBUTES}}
        if returns_of in chunk:
            request[counters] = {"Keys": [{"key": {"S": return_reasons.counter_key(str(returns_of))}}]}
        answer = batch_get_raw(request, attempts=3)
        items = {item["shoe_id"]["S"]: item for item in answer[table]}
        for shoe_id in chunk:
            found[shoe_id] = _summary_of(shoe_id, items.get(shoe_id))
            if keep > 0:
                _cache[shoe_id] = (now, found[shoe_id])
        if returns_of in chunk:
            returned = return_reasons.reasons_of(next(iter(answer.get(counters) or []), None))
            found[str(returns_of)] = replace(
                found[str(returns_of)], returned_small=returned.too_small, returned_large=returned.too_big
            )
    if len(_cache) > 5000:  # a warm Lambda keeps recent pages' summaries, not the catalogue's
        _cache.clear()
    return {shoe_id: found[shoe_id] for shoe_id in wanted}


# -- Writing a review -----------------------------------------------------------------------------


@dataclass(frozen=True)
class ReviewInput:
    rating: str = ""
    fit: str = ""
    text: str = ""


def check_review(form: ReviewInput) -> tuple[int, str, str]:
    """(rating, fit, text) or ValidationFailed naming each field's problem."""
    errors: dict[str, str] = {}
    rating = form.rating.strip()
    if rating not in RATING_CHOICES:
        errors["rating"] = "Choose a rating from 1 to 5 stars."
    fit = form.fit.strip()
    if fit not in FIT_ANSWERS:
        errors["fit"] = "Choose how it fits: runs small, true to size or runs large."
    text = clean_text(form.text)
    if len(text) > TEXT_MAX:
        errors["text"] = f"Keep your review to {TEXT_MAX:,} characters (it has {len(text):,})."
    if errors:
        raise ValidationFailed(errors)
    return int(rating), fit, text


def display_name(order: Order) -> str:
    """First name and initial from the order's ship-to name ("Alice E."), else "Verified buyer"."""
    address = order.address.as_dict() if order.address is not None else {}
    name = clean_text(str(order.customer_name or address.get("full_name") or address.get("name") or ""))
    words = name.split()
    if not words:
        return ANONYMOUS
    shown = words[0] + (f" {words[-1][0]}." if len(words) > 1 else "")
    return shown[:DISPLAY_NAME_MAX]


def order_line(order: Order, shoe_id: str) -> OrderLine:
    line = next((line for line in order.lines if line.shoe_id == shoe_id), None)
    if line is None:
        raise NotFound(NOT_IN_ORDER)
    return line


def buyer_keys(order: Order, user_id: str | None) -> tuple[str, ...]:
    """The reviewer keys that are this order's buyer, the one written first: the account's
    (`USER#<id>`) and, for an order placed as a guest (claimed since or not), `GUEST#<email>`."""
    keys = [Review.user_key(user_id)] if user_id else []
    if order.guest_email:
        keys.append(Review.guest_key(order.guest_email))
    return tuple(keys)


@dataclass(frozen=True)
class ReviewTarget:
    """What the review form is about: a delivered order and one of its lines, the key the review
    is written under and the buyer's other key (a claimed guest order's email), if any."""

    order: Order
    line: OrderLine
    reviewer: str
    other_keys: tuple[str, ...]
    reviewed: bool


def _target(order: Order, shoe_id: str, user_id: str | None) -> ReviewTarget:
    line = order_line(order, shoe_id)
    if order.status != DELIVERED:
        raise Conflict(NOT_DELIVERED)
    keys = buyer_keys(order, user_id)
    if not keys:
        raise NotFound(NOT_IN_ORDER)
    reviewed = bool(reviewed_shoes(keys, [shoe_id]))
    return ReviewTarget(order, line, keys[0], keys[1:], reviewed)


def review_target(user: User, order_id: str, shoe_id: str) -> ReviewTarget:
    """The shopper's own order (someone else's or unknown: NotFound), one of its shoes (else
    NotFound), delivered (else Conflict); `reviewed` when the buyer reviewed the shoe already."""
    return _target(order_service.get_order(user.user_id, order_id), shoe_id, user.user_id)


def guest_review_target(token: str, shoe_id: str) -> ReviewTarget:
    """As review_target, for a guest's order opened by its signed link (a forged or expired link,
    or an order in an account since: NotFound); the review is the guest email's."""
    order = order_service.order_from_link(token)
    if order.user_id is not None:
        raise NotFound(order_service.LINK_NOT_VALID)
    return _target(order, shoe_id, None)


def write_review(user: User, order_id: str, shoe_id: str, form: ReviewInput) -> Review:
    """The shopper's review of a shoe of their delivered order (see `write`)."""
    return write(review_target(user, order_id, shoe_id), form)


def write_guest_review(token: str, shoe_id: str, form: ReviewInput) -> Review:
    """A guest's review of a shoe of their delivered order, from its signed link (see `write`)."""
    return write(guest_review_target(token, shoe_id), form)


def write(target: ReviewTarget, form: ReviewInput) -> Review:
    """One review per shoe per buyer, whichever order it came in: a PutItem conditioned on
    attribute_not_exists (with a condition check on the buyer's other key, in one transaction, for
    a claimed guest order); a second review is a Conflict and changes nothing."""
    if target.reviewed:
        raise Conflict(ALREADY_REVIEWED)
    rating, fit, text = check_review(form)
    now = clock.now()
    shoe_id = target.line.shoe_id
    created_sort = f"{clock.sortable(now)}#{target.reviewer}"
    review = Review(
        shoe_id=shoe_id,
        reviewer=target.reviewer,
        rating=rating,
        fit=fit,
        size=target.line.size,
        department=target.line.department,
        text=text or None,
        display_name=display_name(target.order),
        order_id=target.order.order_id,
        created_at=now,
        created_sort=created_sort,
        listed_shoe=shoe_id,
        listed_sort=created_sort,
        counted=False,
    )

    def build(transaction: dynamo.Transaction) -> None:
        transaction.save("review", review, condition=Review.reviewer.does_not_exist())
        for n, key in enumerate(target.other_keys):
            transaction.condition_check(f"other:{n}", Review, shoe_id, key, Review.reviewer.does_not_exist())

    try:
        if target.other_keys:
            dynamo.transact(build)
        else:
            review.save(condition=Review.reviewer.does_not_exist())
    except dynamo.ConditionsFailed as error:
        raise Conflict(ALREADY_REVIEWED) from error
    except PutError as error:
        if condition_failed(error):
            raise Conflict(ALREADY_REVIEWED) from error
        raise
    log_event("review_written", shoe_id=shoe_id, order_id=target.order.order_id, rating=rating, fit=fit)
    return review


def reviewed_shoes(reviewers: Sequence[str], shoe_ids: Sequence[str]) -> set[str]:
    """Which of these shoes any of these reviewer keys has reviewed: one BatchGetItem (none for
    no shoes), at most 100 (shoe, reviewer) keys: callers page longer lists."""
    wanted = list(dict.fromkeys(shoe_ids))
    keys = [{"shoe_id": {"S": shoe_id}, "reviewer": {"S": key}} for shoe_id in wanted for key in reviewers][:100]
    if not keys:
        return set()
    table = Review.Meta.table_name
    items = batch_get_raw({table: {"Keys": keys, "ProjectionExpression": "shoe_id"}}, attempts=3)[table]
    return {item["shoe_id"]["S"] for item in items}


def review_lines(order: Order, user_id: str | None) -> list[tuple[OrderLine, bool]]:
    """For a delivered order, one line per shoe and whether its buyer (the account, or the guest
    email it was placed with) reviewed that shoe already: one BatchGetItem; [] for any other
    order, without a call."""
    if order.status != DELIVERED:
        return []
    lines = list({line.shoe_id: line for line in reversed(order.lines)}.values())[::-1][:50]
    done = reviewed_shoes(buyer_keys(order, user_id), [line.shoe_id for line in lines])
    return [(line, line.shoe_id in done) for line in lines]


def anonymise_reviews(user: User) -> None:
    """Account deletion (before the orders are detached): the shopper's reviews stay, for the
    next buyer and the averages, but say "Verified buyer" instead of the name. Their shoes come
    from the shopper's orders (one Query), their reviews from one BatchGetItem per 100 shoes."""
    shoe_ids = list(
        dict.fromkeys(line.shoe_id for order in order_service.orders_of(user.user_id) for line in order.lines)
    )
    reviewer = Review.user_key(user.user_id)
    for start in range(0, len(shoe_ids), 100):
        for shoe_id in reviewed_shoes([reviewer], shoe_ids[start : start + 100]):
            try:
                Review(shoe_id=shoe_id, reviewer=reviewer).update(
                    actions=[Review.display_name.set(ANONYMOUS)], condition=Review.reviewer.exists()
                )
            except UpdateError as error:
                if not condition_failed(error):
                    raise


# -- Reading reviews --------------------------------------------------------------------------------

VISIBLE_KEYS = ("shoe_id", "reviewer", "listed_shoe", "listed_sort")
ALL_KEYS = ("shoe_id", "reviewer", "created_sort")


def visible_reviews(shoe_id: str, cursor: str | None = None) -> tuple[list[Review], str | None]:
    """A page of the reviews the shop shows, newest first, and the cursor of the next page: one
    Query of the `visible` index. A cursor for another shoe or listing is InvalidCursor."""
    start = cursors.decode(cursors.REVIEWS, cursor, {"shoe": shoe_id})
    page = query_page(Review, Review.visible, shoe_id, VISIBLE_KEYS, PAGE_SIZE, start)
    return page.items, cursors.encode(cursors.REVIEWS, page.next_key, {"shoe": shoe_id})


def all_reviews(shoe_id: str, start: dict | None = None) -> Page:
    """The back office's page of a shoe's reviews, hidden ones too, newest first (one Query)."""
    return query_page(Review, Review.by_shoe, shoe_id, ALL_KEYS, ADMIN_PAGE_SIZE, start)


# -- Hiding -----------------------------------------------------------------------------------------


def get_review(shoe_id: str, reviewer: str) -> Review:
    if not reviewer or len(reviewer) > 300 or not reviewer.startswith((USER_PREFIX, GUEST_PREFIX)):
        raise NotFound(NO_SUCH_REVIEW)
    try:
        return Review.get(shoe_id, reviewer, consistent_read=True)
    except DoesNotExist as error:
        raise NotFound(NO_SUCH_REVIEW) from error


def hide(shoe_id: str, reviewer: str, reason: str, admin: str) -> Review:
    """Take a review out of the shop (and, through the stream consumer, out of the averages), with
    a reason; audited. Hiding a hidden review is a Conflict and changes nothing."""
    reason = clean_text(reason)
    if not reason:
        raise ValidationFailed({"reason": "Say why this review is hidden (the shopper may ask)."})
    if len(reason) > HIDE_REASON_MAX:
        raise ValidationFailed({"reason": f"Keep the reason to {HIDE_REASON_MAX} characters."})
    review = get_review(shoe_id, reviewer)
    now = clock.now()
    try:
        review.update(
            actions=[
                Review.hidden_reason.set(reason),
                Review.hidden_by.set(admin),
                Review.hidden_at.set(now),
                Review.listed_shoe.remove(),
                Review.listed_sort.remove(),
            ],
            condition=Review.reviewer.exists() & Review.hidden_at.does_not_exist(),
        )
    except UpdateError as error:
        if condition_failed(error):
            raise Conflict("This review is hidden already.") from error
        raise
    audit.record(admin, "review.hide", shoe_id=shoe_id, reviewer=reviewer, reason=reason)
    return review


def show_again(shoe_id: str, reviewer: str, admin: str) -> Review:
    """Put a hidden review back in the shop (and the averages); audited."""
    review = get_review(shoe_id, reviewer)
    try:
        review.update(
            actions=[
                Review.hidden_reason.remove(),
                Review.hidden_by.remove(),
                Review.hidden_at.remove(),
                Review.listed_shoe.set(shoe_id),
                Review.listed_sort.set(review.created_sort),
            ],
            condition=Review.hidden_at.exists(),
        )
    except UpdateError as error:
        if condition_failed(error):
            raise Conflict("This review is shown already.") from error
        raise
    audit.record(admin, "review.show", shoe_id=shoe_id, reviewer=reviewer)
    return review


# -- The summary's stream consumer ---------------------------------------------------------------

RECONCILE_ATTEMPTS = 3


def _fit_attribute(fit: str) -> NumberAttribute:
    return {"small": ReviewSummary.fit_small, "true": ReviewSummary.fit_true, "large": ReviewSummary.fit_large}[fit]


def _count(review: Review, wanted: bool) -> None:
    """One transaction: the review's flag to `wanted` (conditioned on its old value and on the hide
    read), and its rating and fit added to (or taken from) the summary."""
    step = 1 if wanted else -1
    shown_as_read = Review.hidden_at.does_not_exist() if wanted else Review.hidden_at.exists()

    def build(transaction: dynamo.Transaction) -> None:
        transaction.update(
            "review", review, [Review.counted.set(wanted)], condition=(Review.counted == (not wanted)) & shown_as_read
        )
        transaction.update(
            "summary",
            ReviewSummary(shoe_id=review.shoe_id),
            [
                ReviewSummary.review_count.add(step),
                ReviewSummary.rating_total.add(step * int(review.rating)),
                _fit_attribute(review.fit).add(step),
            ],
        )

    dynamo.transact(build)


def reconcile(shoe_id: str, reviewer: str) -> bool:
    """Make the summary hold this review exactly when it is shown: read it (consistently); if its
    `counted` flag disagrees with its hide, flip the flag and ADD (or take away) its rating and fit
    in one transaction conditioned on the flag and hide read. True when something changed."""
    for _attempt in range(RECONCILE_ATTEMPTS):
        try:
            review = Review.get(shoe_id, reviewer, consistent_read=True)
        except DoesNotExist:
            return False  # reviews are hidden, never deleted: nothing was counted for a missing one
        wanted = review.hidden_at is None
        if bool(review.counted) == wanted or review.fit not in FIT_ANSWERS:
            return False
        try:
            _count(review, wanted)
        except dynamo.ConditionsFailed:
            continue  # hidden, shown or counted meanwhile: read it again
        log_event("review_counted" if wanted else "review_uncounted", shoe_id=shoe_id)
        return True
    return False  # still moving: its next stream record reconciles it


def _only_the_flag_changed(change: streams.Change) -> bool:
    """The consumer's own write (`counted` flipped): nothing for it to do."""
    if change.kind != streams.MODIFY or change.old is None or change.new is None:
        return False
    old = {key: value for key, value in change.old.items() if key != "counted"}
    new = {key: value for key, value in change.new.items() if key != "counted"}
    return old == new


def on_review_changes(changes: Sequence[streams.Change]) -> None:
    """Stream consumer of the reviews table (chalicelib.wiring): each review written, hidden or
    shown again is reconciled with its shoe's summary (see `reconcile`); idempotent, so a
    redelivered or replayed batch changes nothing more."""
    pending: dict[tuple[str, str], None] = {}
    for change in changes:
        reviewer = str(change.keys.get("reviewer", ""))
        if not reviewer or reviewer == SUMMARY_KEY or _only_the_flag_changed(change):
            continue
        pending[(str(change.keys.get("shoe_id", "")), reviewer)] = None
    for shoe_id, reviewer in pending:
        try:
            reconcile(shoe_id, reviewer)
        except Exception:
            log_event("review_reconcile_failed", logging.ERROR, shoe_id=shoe_id)
            raise  # the batch is retried; what was reconciled already is not counted again
