"""Demo reviews for `make run`: a few delivered guest orders of the first demo shoes, each with a
review written with the same model and attributes as services/reviews.py writes, then counted into
its shoe's summary by the stream consumer's own step (reviews.reconcile: the local poller starts
after the seed, at the stream's end, as Lambda's LATEST), so the shop shows ratings and a fit
summary from the start. Idempotent: an existing review is left as it is, and counted once."""

import base64
import hashlib
from datetime import UTC, datetime, timedelta

from pynamodb.exceptions import PutError

from chalicelib import clock
from chalicelib.models import Order, OrderLine, Review, StatusChange
from chalicelib.models.orders import status_shard
from chalicelib.services import reviews
from devtools.demo import demo_shoe

# (demo shoe index, shopper name, rating, fit, text)
DEMO_REVIEWS = (
    (0, "Maya Reyes", 5, "small", "Great grip and cushioning. It runs small: I went one size up."),
    (0, "Tom Becker", 4, "small", "Comfortable after a week, but snug at the toes."),
    (0, "Ines Duarte", 4, "true", ""),
    (1, "Sam Okafor", 5, "true", "Exactly my usual size. Light and quick."),
    (1, "Lena Fischer", 4, "true", "Fits as expected; the colour is lovely."),
    (2, "Ravi Patel", 3, "large", "Roomy: half a size smaller would have been better."),
)


def _order(index: int, number: int, name: str, size: str, when: datetime) -> Order:
    spec = demo_shoe(index)
    digest = hashlib.sha256(f"stride-demo-review-{index}-{number}".encode()).digest()
    order_id = base64.b32encode(digest).decode()[:16]  # the shape of a checkout order id
    placed = when - timedelta(days=9)
    order = Order(
        order_id=order_id,
        guest_email=f"demo-reviewer-{number}@example.com",
        status="delivered",
        status_shard=status_shard(order_id, "delivered"),
        created_at=placed,
        created_sort=f"{clock.sortable(placed)}#{order_id}",
        updated_at=when,
        lines=[
            OrderLine(
                shoe_id=spec.shoe_id,
                name=spec.name,
                brand=spec.brand,
                size=size,
                unit_price_cents=spec.price_cents,
                quantity=1,
                department=spec.department,
            )
        ],
        address={"full_name": name, "line1": "1 Demo Street", "city": "Springfield", "postal_code": "12345"},
        customer_name=name,
        customer_email=f"demo-reviewer-{number}@example.com",
        subtotal_cents=spec.price_cents,
        shipping_cents=0,
        total_cents=spec.price_cents,
        history=[
            StatusChange(status="placed", at=placed, by="shopper"),
            StatusChange(status="delivered", at=when, by="demo"),
        ],
    )
    return order


def seed_demo_reviews(now: datetime | None = None) -> int:
    """The demo reviews not there yet, with their orders; how many were added."""
    from chalicelib import sizes

    now = now or datetime.now(UTC)
    added = 0
    for number, (index, name, rating, fit, text) in enumerate(DEMO_REVIEWS):
        spec = demo_shoe(index)
        offered = sizes.sizes_for(spec.department)
        size = offered[len(offered) // 2]
        when = now - timedelta(days=len(DEMO_REVIEWS) - number)
        order = _order(index, number, name, size, when)
        reviewer = Review.user_key(f"demo-{number}")
        created_sort = f"{clock.sortable(when)}#{reviewer}"
        first, last = name.split()[0], name.split()[-1]
        review = Review(
            shoe_id=spec.shoe_id,
            reviewer=reviewer,
            rating=rating,
            fit=fit,
            size=size,
            department=spec.department,
            text=text or None,
            display_name=f"{first} {last[0]}.",
            order_id=order.order_id,
            created_at=when,
            created_sort=created_sort,
            listed_shoe=spec.shoe_id,
            listed_sort=created_sort,
            counted=False,
        )
        try:
            review.save(condition=Review.reviewer.does_not_exist())
            order.save()
            added += 1
        except PutError:
            pass  # seeded by an earlier run
        reviews.reconcile(spec.shoe_id, reviewer)  # counts it unless counted already
    return added
