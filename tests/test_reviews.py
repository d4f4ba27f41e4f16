"""Reviews with fit (services/reviews.py): who may review, once per shoe, the summary the stream
consumer keeps (idempotent under redelivery and replay; hidden reviews leave it), the fit verdict
and the size suggestion (services/my_size.py) as pure functions."""

import threading
import uuid
from types import SimpleNamespace

import pytest

from chalicelib import clock
from chalicelib.models import Order, OrderLine, Review, ReviewSummary, StatusChange
from chalicelib.services import checkout, my_size, reviews
from chalicelib.services.errors import Conflict, NotFound, ValidationFailed
from tests.catalogue_fixtures import dynamodb_calls  # noqa: F401 (a fixture)
from tests.factories import make_shoe, make_user
from tests.stream_replay import changes_of, replay
from tests.test_cart_line_cap import atomic_moto_with_latency  # noqa: F401 (a fixture)

RUNS_SMALL = reviews.ReviewInput(rating="4", fit="small", text="Lovely, but order a size up.")


def delivered_order(user, *shoes, status: str = "delivered", size: str = "42") -> Order:
    """An order of `user` for one pair of each shoe, in `status`, shipped to "Alice Example"."""
    now = clock.now()
    order_id = checkout.order_id_for(user.user_id, uuid.uuid4().hex)  # an id the shopper's routes accept
    order = Order(
        order_id=order_id,
        user_id=user.user_id,
        status=status,
        created_at=now,
        created_sort=f"{clock.sortable(now)}#{order_id}",
        updated_at=now,
        lines=[
            OrderLine(
                shoe_id=shoe.shoe_id, name=shoe.name, brand=shoe.brand, size=size, unit_price_cents=5000, quantity=1
            )
            for shoe in shoes
        ],
        address={"full_name": "Alice Example", "line1": "1 High Street", "city": "Springfield", "postal_code": "1"},
        customer_name="Alice Example",
        subtotal_cents=5000 * len(shoes),
        shipping_cents=0,
        total_cents=5000 * len(shoes),
        history=[StatusChange(status="placed", at=now, by="shopper")],
    )
    order.save()
    return order


def stored_summary(shoe_id: str) -> reviews.FitSummary:
    return reviews.summary_for(shoe_id)


# -- fit_verdict and the sentence -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("small", "true", "large", "minimum", "verdict"),
    [
        (4, 0, 0, 5, None),  # under the threshold: nothing to say
        (5, 0, 0, 5, reviews.RUNS_SMALL),
        (3, 2, 0, 5, reviews.RUNS_SMALL),  # more than half
        (2, 2, 0, 4, reviews.MIXED),  # half is not most
        (1, 4, 1, 5, reviews.TRUE_TO_SIZE),
        (0, 1, 4, 5, reviews.RUNS_LARGE),
        (2, 2, 2, 5, reviews.MIXED),
        (1, 0, 0, 1, reviews.RUNS_SMALL),  # the local stage's threshold
        (0, 0, 0, 0, None),  # no votes is never a verdict
    ],
)
def test_the_fit_verdict_is_what_most_votes_say_once_there_are_enough(small, true, large, minimum, verdict):
    assert reviews.fit_verdict(small, true, large, minimum) == verdict


def test_other_too_small_votes_add_into_the_same_signal():
    summary = reviews.FitSummary("s1", count=4, rating_total=16, small=2, true=2, large=0)
    assert summary.verdict(5) is None
    assert summary.verdict(5, extra_small=2) == reviews.RUNS_SMALL  # e.g. two "too small" returns
    assert summary.verdict(5, extra_large=3) == reviews.MIXED


def test_the_sentence_says_how_many_answers_it_rests_on():
    assert reviews.fit_sentence(reviews.RUNS_SMALL, 8, 3, 1) == "Most buyers say it runs small: 8 of 12 fit answers."
    assert "true to size" in reviews.fit_sentence(reviews.TRUE_TO_SIZE, 0, 5, 0)
    assert "divided" in reviews.fit_sentence(reviews.MIXED, 2, 2, 2) and "6 answers" in reviews.fit_sentence(
        reviews.MIXED, 2, 2, 2
    )
    assert reviews.fit_sentence(reviews.RUNS_LARGE, 0, 0, 1) == "Most buyers say it runs large: 1 of 1 fit answer."
    assert reviews.fit_sentence(None, 1, 0, 0) == ""


# -- The size suggestion ---------------------------------------------------------------------------

STOCKED = {"41": 3, "42": 3, "43": 2, "44": 0}


@pytest.mark.parametrize(
    ("mine", "verdict", "chosen", "expected"),
    [
        ("42", reviews.RUNS_SMALL, "", ("43", True, True, True)),  # one size up, preselected
        ("42", reviews.RUNS_LARGE, "", ("41", True, True, True)),  # one size down
        ("43", reviews.RUNS_SMALL, "", ("44", True, False, False)),  # sold out: said, not preselected
        ("44", reviews.RUNS_SMALL, "", ("45", False, False, False)),  # not made in it
        ("42", reviews.RUNS_SMALL, "42", ("43", True, True, False)),  # the shopper's own choice wins
    ],
)
def test_the_suggestion_follows_the_verdict_and_the_shoppers_size(mine, verdict, chosen, expected):
    suggestion = my_size.suggest_size(mine, "men", verdict, STOCKED, chosen)
    assert suggestion is not None
    assert (suggestion.size, suggestion.offered, suggestion.in_stock, suggestion.preselect) == expected
    assert suggestion.verdict == verdict


@pytest.mark.parametrize(
    ("mine", "department", "verdict"),
    [
        ("42", "men", reviews.TRUE_TO_SIZE),
        ("42", "men", reviews.MIXED),
        ("42", "men", None),  # too few answers
        ("", "men", reviews.RUNS_SMALL),  # no size set
        ("47", "men", reviews.RUNS_SMALL),  # the largest size has no size up
        ("36", "women", reviews.RUNS_LARGE),
        ("30", "men", reviews.RUNS_SMALL),  # a kids' size is no man's size
    ],
)
def test_no_suggestion_without_a_size_a_direction_or_a_next_size(mine, department, verdict):
    assert my_size.suggest_size(mine, department, verdict, {"36": 1, "42": 1, "43": 1, "47": 1}) is None


# -- Who may review --------------------------------------------------------------------------------


def test_the_buyer_of_a_delivered_order_reviews_a_shoe_with_the_size_from_the_order():
    shoe = make_shoe({"42": 3})
    alice = make_user("alice")
    order = delivered_order(alice, shoe)
    review = reviews.write_review(alice, order.order_id, shoe.shoe_id, RUNS_SMALL)
    stored = Review.get(shoe.shoe_id, f"USER#{alice.user_id}")
    assert (stored.rating, stored.fit, stored.size, stored.order_id) == (4, "small", "42", order.order_id)
    assert stored.display_name == "Alice E." and stored.text == RUNS_SMALL.text
    assert stored.listed_shoe == shoe.shoe_id and stored.counted is False
    assert review.created_sort == stored.listed_sort


@pytest.mark.parametrize("status", ["placed", "paid", "shipped", "cancelled"])
def test_an_order_not_delivered_cannot_be_reviewed(status):
    shoe = make_shoe({"42": 3})
    alice = make_user("alice")
    order = delivered_order(alice, shoe, status=status)
    with pytest.raises(Conflict, match="once the order is delivered"):
        reviews.write_review(alice, order.order_id, shoe.shoe_id, RUNS_SMALL)
    assert list(Review.query(shoe.shoe_id)) == []


def test_only_the_orders_owner_and_only_its_shoes():
    shoe, other_shoe = make_shoe({"42": 3}), make_shoe({"42": 3})
    alice, bob = make_user("alice"), make_user("bob")
    order = delivered_order(alice, shoe)
    with pytest.raises(NotFound):
        reviews.write_review(bob, order.order_id, shoe.shoe_id, RUNS_SMALL)
    with pytest.raises(NotFound):
        reviews.write_review(alice, order.order_id, other_shoe.shoe_id, RUNS_SMALL)
    with pytest.raises(NotFound):
        reviews.write_review(alice, "not-an-order", shoe.shoe_id, RUNS_SMALL)
    assert list(Review.query(shoe.shoe_id)) == [] and list(Review.query(other_shoe.shoe_id)) == []


def test_once_per_shoe_even_from_a_second_order():
    shoe = make_shoe({"42": 3})
    alice = make_user("alice")
    first, second = delivered_order(alice, shoe), delivered_order(alice, shoe)
    reviews.write_review(alice, first.order_id, shoe.shoe_id, RUNS_SMALL)
    with pytest.raises(Conflict, match="once"):
        reviews.write_review(alice, second.order_id, shoe.shoe_id, reviews.ReviewInput("1", "large", "Changed"))
    [stored] = Review.query(shoe.shoe_id)
    assert stored.rating == 4 and stored.order_id == first.order_id


def test_parallel_submits_of_one_review_write_it_once(atomic_moto_with_latency):  # noqa: F811
    shoe = make_shoe({"42": 3})
    alice = make_user("alice")
    order = delivered_order(alice, shoe)
    start = threading.Barrier(6)
    outcomes: list[str] = []

    def submit(rating: str) -> None:
        start.wait()
        try:
            reviews.write_review(alice, order.order_id, shoe.shoe_id, reviews.ReviewInput(rating, "true", ""))
            outcomes.append("written")
        except Conflict:
            outcomes.append("conflict")

    threads = [threading.Thread(target=submit, args=(str(1 + n % 5),)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["conflict"] * 5 + ["written"]
    assert len(list(Review.query(shoe.shoe_id))) == 1


@pytest.mark.parametrize(
    ("form", "field"),
    [
        (reviews.ReviewInput("", "small", ""), "rating"),
        (reviews.ReviewInput("6", "small", ""), "rating"),
        (reviews.ReviewInput("0", "small", ""), "rating"),
        (reviews.ReviewInput("4", "tight", ""), "fit"),
        (reviews.ReviewInput("4", "", ""), "fit"),
        (reviews.ReviewInput("4", "small", "x" * 1001), "text"),
    ],
)
def test_a_review_needs_a_rating_a_fit_answer_and_a_short_text(form, field):
    shoe = make_shoe({"42": 3})
    alice = make_user("alice")
    order = delivered_order(alice, shoe)
    with pytest.raises(ValidationFailed) as raised:
        reviews.write_review(alice, order.order_id, shoe.shoe_id, form)
    assert field in raised.value.errors
    assert list(Review.query(shoe.shoe_id)) == []


def test_the_text_is_optional_and_kept_up_to_the_limit():
    shoe = make_shoe({"42": 3})
    alice = make_user("alice")
    order = delivered_order(alice, shoe)
    reviews.write_review(alice, order.order_id, shoe.shoe_id, reviews.ReviewInput("5", "true", "  " + "y" * 1000))
    assert Review.get(shoe.shoe_id, f"USER#{alice.user_id}").text == "y" * 1000


def test_without_a_name_the_reviewer_is_a_verified_buyer():
    shoe = make_shoe({"42": 3})
    alice = make_user("alice")
    order = delivered_order(alice, shoe)
    order.customer_name = None
    order.address = None
    order.save()
    assert reviews.write_review(alice, order.order_id, shoe.shoe_id, RUNS_SMALL).display_name == "Verified buyer"


def test_the_order_page_lines_say_which_shoes_are_reviewed():
    first, second = make_shoe({"42": 3}), make_shoe({"42": 3})
    alice = make_user("alice")
    order = delivered_order(alice, first, second)
    reviews.write_review(alice, order.order_id, first.shoe_id, RUNS_SMALL)
    states = [(line.shoe_id, done) for line, done in reviews.review_lines(order, alice.user_id)]
    assert states == [(first.shoe_id, True), (second.shoe_id, False)]
    assert reviews.review_lines(delivered_order(alice, first, status="shipped"), alice.user_id) == []


def test_deleting_the_account_keeps_the_review_without_the_name(drain_streams):
    from chalicelib.services import accounts

    shoe, other = make_shoe({"42": 3}), make_shoe({"42": 3})
    alice = make_user("alice")
    reviews.write_review(alice, delivered_order(alice, shoe, other).order_id, shoe.shoe_id, RUNS_SMALL)
    drain_streams()
    accounts.delete_account(alice, "correct horse battery")
    [stored] = Review.query(shoe.shoe_id, Review.reviewer.startswith("USER#"))
    assert stored.display_name == "Verified buyer" and stored.rating == 4
    drain_streams()
    assert stored_summary(shoe.shoe_id).count == 1  # still counted, once


def guest_order(*shoes, email: str = "Gina@Example.com", status: str = "delivered") -> Order:
    order = delivered_order(SimpleNamespace(user_id="nobody"), *shoes, status=status)
    order.user_id = None
    order.guest_email = email
    order.save()
    return order


def guest_token(order: Order) -> str:
    from chalicelib.services import order_links

    return order_links.order_link(order).removeprefix("/orders/guest/")


def test_a_guest_reviews_from_the_orders_signed_link_once():
    shoe = make_shoe({"42": 3})
    order = guest_order(shoe)
    token = guest_token(order)
    review = reviews.write_guest_review(token, shoe.shoe_id, RUNS_SMALL)
    assert review.reviewer == "GUEST#gina@example.com" and review.display_name == "Alice E."
    with pytest.raises(Conflict):
        reviews.write_guest_review(token, shoe.shoe_id, RUNS_SMALL)
    with pytest.raises(Conflict):  # another guest order with the same email: the same buyer
        reviews.write_guest_review(guest_token(guest_order(shoe, email="gina@example.com")), shoe.shoe_id, RUNS_SMALL)
    with pytest.raises(NotFound):
        reviews.write_guest_review(token[:-3] + "xyz", shoe.shoe_id, RUNS_SMALL)
    with pytest.raises(Conflict, match="delivered"):
        reviews.write_guest_review(guest_token(guest_order(shoe, status="shipped")), shoe.shoe_id, RUNS_SMALL)
    assert len(list(Review.query(shoe.shoe_id))) == 1


def test_a_guest_order_claimed_into_an_account_is_still_one_review_per_shoe():
    from chalicelib.services import orders

    shoe, other = make_shoe({"42": 3}), make_shoe({"42": 3})
    gina = make_user("gina", email="gina@example.com")
    order = guest_order(shoe, other)
    token = guest_token(order)
    reviews.write_guest_review(token, shoe.shoe_id, RUNS_SMALL)
    orders.claim_guest_order(orders.order_from_link(token), gina)
    with pytest.raises(NotFound):  # the link now opens the account's page; it reviews nothing
        reviews.write_guest_review(token, other.shoe_id, RUNS_SMALL)
    with pytest.raises(Conflict, match="once"):
        reviews.write_review(gina, order.order_id, shoe.shoe_id, RUNS_SMALL)
    states = [(line.shoe_id, done) for line, done in reviews.review_lines(Order.get(order.order_id), gina.user_id)]
    assert states == [(shoe.shoe_id, True), (other.shoe_id, False)]
    # The other shoe: the account's review, conditioned on no review under the guest email either.
    assert reviews.write_review(gina, order.order_id, other.shoe_id, RUNS_SMALL).reviewer == f"USER#{gina.user_id}"
    assert {review.reviewer for review in Review.query(shoe.shoe_id)} == {"GUEST#gina@example.com"}


# -- The summary: the stream consumer --------------------------------------------------------------


def three_reviews(shoe) -> list:
    shoppers = [make_user(name) for name in ("alice", "bob", "carol")]
    for user, (rating, fit) in zip(shoppers, [("5", "small"), ("3", "small"), ("4", "true")], strict=True):
        order = delivered_order(user, shoe)
        reviews.write_review(user, order.order_id, shoe.shoe_id, reviews.ReviewInput(rating, fit, ""))
    return shoppers


def test_the_consumer_keeps_count_rating_and_fit_answers(drain_streams):
    shoe = make_shoe({"42": 3})
    three_reviews(shoe)
    assert stored_summary(shoe.shoe_id).count == 0  # nothing until the stream is handled
    drain_streams()
    summary = stored_summary(shoe.shoe_id)
    assert (summary.count, summary.rating_total, summary.small, summary.true, summary.large) == (3, 12, 2, 1, 0)
    assert summary.average == 4.0
    assert all(review.counted for review in Review.query(shoe.shoe_id, Review.reviewer.startswith("USER#")))


def test_redelivered_and_replayed_records_count_nothing_twice(drain_streams):
    shoe = make_shoe({"42": 3})
    three_reviews(shoe)
    records = drain_streams.read()
    drain_streams.deliver(records)
    drain_streams.deliver(records)  # Lambda redelivers a batch
    drain_streams()  # the consumer's own flag writes
    replay([Review])  # an operator replays the whole table
    drain_streams.deliver(records)
    summary = stored_summary(shoe.shoe_id)
    assert (summary.count, summary.rating_total, summary.small, summary.true) == (3, 12, 2, 1)


def test_a_hidden_review_leaves_the_averages_and_comes_back_when_shown(drain_streams):
    shoe = make_shoe({"42": 3})
    alice, _bob, _carol = three_reviews(shoe)
    drain_streams()
    reviewer = f"USER#{alice.user_id}"
    reviews.hide(shoe.shoe_id, reviewer, "Abusive language", "boss")
    records = drain_streams()
    drain_streams.deliver(records)  # again: still once
    summary = stored_summary(shoe.shoe_id)
    assert (summary.count, summary.rating_total, summary.small, summary.true) == (2, 7, 1, 1)
    shown, _ = reviews.visible_reviews(shoe.shoe_id)
    assert reviewer not in {review.reviewer for review in shown} and len(shown) == 2
    reviews.show_again(shoe.shoe_id, reviewer, "boss")
    drain_streams()
    replay([Review])
    summary = stored_summary(shoe.shoe_id)
    assert (summary.count, summary.rating_total, summary.small) == (3, 12, 2)
    assert len(reviews.visible_reviews(shoe.shoe_id)[0]) == 3


def test_a_hide_between_the_read_and_the_count_is_not_counted(drain_streams, monkeypatch):
    """The consumer's transaction is conditioned on the hide it read: a hide landing in between
    fails it, and the consumer reads again and leaves the review out."""
    shoe = make_shoe({"42": 3})
    alice = make_user("alice")
    order = delivered_order(alice, shoe)
    reviews.write_review(alice, order.order_id, shoe.shoe_id, RUNS_SMALL)
    reviewer = f"USER#{alice.user_id}"
    real_get = Review.get
    hidden = []

    def get_then_hide(*args, **kwargs):
        found = real_get(*args, **kwargs)
        if not hidden:
            hidden.append(True)
            reviews.hide(shoe.shoe_id, reviewer, "Spam", "boss")
        return found

    monkeypatch.setattr(Review, "get", get_then_hide)
    assert reviews.reconcile(shoe.shoe_id, reviewer) is False
    monkeypatch.undo()
    drain_streams()
    assert stored_summary(shoe.shoe_id).count == 0
    assert Review.get(shoe.shoe_id, reviewer).counted is False


def test_hiding_needs_a_reason_within_the_limit_and_is_audited():
    from chalicelib.models import AuditEntry

    shoe = make_shoe({"42": 3})
    alice = make_user("alice")
    order = delivered_order(alice, shoe)
    reviews.write_review(alice, order.order_id, shoe.shoe_id, RUNS_SMALL)
    reviewer = f"USER#{alice.user_id}"
    for reason in ("", "   ", "x" * 201):
        with pytest.raises(ValidationFailed):
            reviews.hide(shoe.shoe_id, reviewer, reason, "boss")
    assert Review.get(shoe.shoe_id, reviewer).hidden_at is None
    reviews.hide(shoe.shoe_id, reviewer, "Names a person", "boss")
    with pytest.raises(Conflict):
        reviews.hide(shoe.shoe_id, reviewer, "Again", "boss")
    with pytest.raises(NotFound):
        reviews.hide(shoe.shoe_id, "USER#nobody", "Spam", "boss")
    stored = Review.get(shoe.shoe_id, reviewer)
    assert (stored.hidden_reason, stored.hidden_by, stored.listed_shoe) == ("Names a person", "boss", None)
    [entry] = [entry for entry in AuditEntry.scan() if entry.action == "review.hide"]
    assert entry.admin == "boss" and "Names a person" in entry.details and shoe.shoe_id in entry.details


def test_the_summary_item_is_not_a_review():
    shoe = make_shoe({"42": 3})
    ReviewSummary(shoe_id=shoe.shoe_id, review_count=1).save()
    assert [change.keys["reviewer"] for change in changes_of(ReviewSummary)] == ["#summary"]
    replay([Review])  # the consumer skips it
    assert reviews.all_reviews(shoe.shoe_id).items == []
    assert stored_summary(shoe.shoe_id).count == 1


def test_summaries_for_a_page_are_one_batch_get(dynamodb_calls, drain_streams):  # noqa: F811
    shoes = [make_shoe({"42": 3}) for _ in range(3)]
    three_reviews(shoes[0])
    drain_streams()
    dynamodb_calls.reset()
    found = reviews.summaries_for([shoe.shoe_id for shoe in shoes])
    assert dict(dynamodb_calls.calls) == {"BatchGetItem": 1}
    assert found[shoes[0].shoe_id].count == 3 and found[shoes[1].shoe_id].count == 0


def test_a_warm_lambda_reuses_summaries_for_a_few_seconds(dynamodb_calls, monkeypatch):  # noqa: F811
    from chalicelib.config import get_settings

    monkeypatch.setenv("REVIEW_SUMMARY_CACHE_SECONDS", "5")
    get_settings.cache_clear()
    now = [100.0]
    monkeypatch.setattr(reviews, "monotonic", lambda: now[0])
    reviews.forget_summaries()
    try:
        shoe = make_shoe({"42": 3})
        dynamodb_calls.reset()
        reviews.summaries_for([shoe.shoe_id])
        reviews.summaries_for([shoe.shoe_id])
        assert dict(dynamodb_calls.calls) == {"BatchGetItem": 1}
        now[0] += 6
        reviews.summaries_for([shoe.shoe_id])
        assert dict(dynamodb_calls.calls) == {"BatchGetItem": 2}
    finally:
        reviews.forget_summaries()
        monkeypatch.delenv("REVIEW_SUMMARY_CACHE_SECONDS")
        get_settings.cache_clear()


def test_visible_reviews_page_newest_first_with_a_cursor_bound_to_the_shoe(frozen_clock):
    from chalicelib.services import cursors

    shoe, other = make_shoe({"42": 3}), make_shoe({"42": 3})
    names = [f"shopper{n:02d}" for n in range(reviews.PAGE_SIZE + 2)]
    for name in names:
        user = SimpleNamespace(user_id=f"id-{name}")  # the service reads only the id (12 registrations pass a limit)
        order = delivered_order(user, shoe)
        reviews.write_review(user, order.order_id, shoe.shoe_id, reviews.ReviewInput("5", "true", name))
        frozen_clock.advance(minutes=1)
    first, cursor = reviews.visible_reviews(shoe.shoe_id)
    assert [review.text for review in first] == names[::-1][: reviews.PAGE_SIZE]
    assert cursor is not None
    rest, end = reviews.visible_reviews(shoe.shoe_id, cursor)
    assert [review.text for review in rest] == names[::-1][reviews.PAGE_SIZE :] and end is None
    with pytest.raises(cursors.InvalidCursor):
        reviews.visible_reviews(other.shoe_id, cursor)
