"""The demo's reviews (devtools/demo_reviews.py): counted into the summaries once, however often seeded."""

from chalicelib.services import reviews
from devtools.demo import demo_shoe
from devtools.demo_reviews import DEMO_REVIEWS, seed_demo_reviews


def test_demo_reviews_are_counted_once_and_their_orders_are_delivered():
    assert seed_demo_reviews() == len(DEMO_REVIEWS)
    assert seed_demo_reviews() == 0
    first = reviews.summary_for(demo_shoe(0).shoe_id)
    assert (first.count, first.rating_total, first.small, first.true) == (3, 13, 2, 1)
    assert first.verdict(1) == reviews.RUNS_SMALL
    shown, _ = reviews.visible_reviews(demo_shoe(0).shoe_id)
    assert [review.display_name for review in shown] == ["Ines D.", "Tom B.", "Maya R."]
    from chalicelib.services import fulfilment

    assert fulfilment.get_order(shown[0].order_id).status == "delivered"
