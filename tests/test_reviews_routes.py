"""Reviews through the pages: the review form from a delivered order, the product page's summary,
reviews, structured data and size suggestion, the cards' ratings, and hiding in the back office."""

import html
import re

import pytest

from chalicelib.config import get_settings
from chalicelib.models import AuditEntry, Review
from chalicelib.product_links import product_path
from chalicelib.services import catalogue_index, reviews
from tests.catalogue_fixtures import dynamodb_calls  # noqa: F401 (a fixture)
from tests.factories import make_admin, make_shoe, make_user
from tests.test_orders_routes import user_named
from tests.test_reviews import delivered_order
from tests.test_seo import head


def text(response) -> str:
    return html.unescape(response.body.decode())


def review_path(order, shoe) -> str:
    return f"/orders/{order.order_id}/reviews/{shoe.shoe_id}"


@pytest.fixture
def fit_threshold(monkeypatch):
    """Set FIT_SUMMARY_MIN_ANSWERS for one test."""

    def set_to(value: int) -> None:
        monkeypatch.setenv("FIT_SUMMARY_MIN_ANSWERS", str(value))
        get_settings.cache_clear()

    yield set_to
    monkeypatch.delenv("FIT_SUMMARY_MIN_ANSWERS", raising=False)
    get_settings.cache_clear()


def review_via_form(client, order, shoe, rating="4", fit="small", words="Snug: go a size up."):
    return client.post_form(
        review_path(order, shoe), {"rating": rating, "fit": fit, "text": words}, csrf_page=review_path(order, shoe)
    )


# -- Writing a review ------------------------------------------------------------------------------


def test_a_delivered_orders_page_links_each_shoe_to_its_review_form(shopper):
    shoe = make_shoe({"42": 3}, name="Glide Runner")
    order = delivered_order(user_named("alice"), shoe)
    page = text(shopper.get(f"/orders/{order.order_id}"))
    assert f'href="{review_path(order, shoe)}"' in page and "Review this shoe" in page
    form = text(shopper.get(review_path(order, shoe)))
    assert "Review Stride Glide Runner" in form and "EU 42" in form  # the size from the order, not typed
    assert 'name="size"' not in form
    assert form.count('type="radio" id="field-rating-') == 5 and form.count('type="radio" id="field-fit-') == 3
    assert 'maxlength="1000"' in form and "Up to 1,000 characters" in form
    assert "Alice E., verified buyer" in form


def test_an_order_not_delivered_offers_no_review(shopper):
    shoe = make_shoe({"42": 3})
    order = delivered_order(user_named("alice"), shoe, status="shipped")
    assert "Review this shoe" not in text(shopper.get(f"/orders/{order.order_id}"))
    response = shopper.get(review_path(order, shoe))
    assert response.status_code == 409 and "once the order is delivered" in text(response)
    response = review_via_form(shopper, order, shoe)
    assert response.status_code == 409 and list(Review.query(shoe.shoe_id)) == []


def test_the_form_keeps_what_was_typed_and_says_what_is_missing_beside_each_field(shopper):
    shoe = make_shoe({"42": 3})
    order = delivered_order(user_named("alice"), shoe)
    response = review_via_form(shopper, order, shoe, rating="", fit="", words="Comfy <b>shoe</b>")
    page = text(response)
    assert response.status_code == 400
    assert re.search(r'id="field-rating-error">Choose a rating from 1 to 5 stars', page)
    assert re.search(r'id="field-fit-error">Choose how it fits', page)
    assert "Comfy <b>shoe</b></textarea>" in page  # kept, and escaped in the HTML
    assert "Comfy &lt;b&gt;shoe&lt;/b&gt;" in response.body.decode()
    long = review_via_form(shopper, order, shoe, words="x" * 1001)
    assert long.status_code == 400 and 'id="field-text-error">Keep your review to 1,000 characters' in text(long)
    assert re.search(r'value="4" required\s*checked', text(long))  # the rating chosen stays chosen
    assert list(Review.query(shoe.shoe_id)) == []


def test_a_review_is_written_once_and_a_second_try_says_so(shopper):
    shoe = make_shoe({"42": 3})
    order = delivered_order(user_named("alice"), shoe)
    response = review_via_form(shopper, order, shoe)
    assert response.status_code == 303 and response.headers["Location"] == f"/orders/{order.order_id}"
    page = text(shopper.get(f"/orders/{order.order_id}"))
    assert "your review of" in page and "You reviewed this" in page and "Review this shoe" not in page
    again = review_via_form(shopper, order, shoe, rating="1")
    assert again.status_code == 409 and "reviewed this shoe already" in text(again)
    assert "You reviewed this shoe" in text(shopper.get(review_path(order, shoe)))
    [stored] = Review.query(shoe.shoe_id)
    assert stored.rating == 4


def test_another_shoppers_order_is_not_found_and_guests_must_log_in(shopper, other_web):
    shoe = make_shoe({"42": 3})
    order = delivered_order(user_named("alice"), shoe)
    assert other_web.get(review_path(order, shoe)).headers["Location"].startswith("/login")
    other_web.register("bob")
    assert other_web.get(review_path(order, shoe)).status_code == 404
    token = other_web.csrf_token("/")
    response = other_web.post_form(review_path(order, shoe), {"rating": "1", "fit": "large"}, csrf=token)
    assert response.status_code == 404
    assert shopper.get(f"/orders/{order.order_id}/reviews/someothershoe").status_code == 404
    assert list(Review.query(shoe.shoe_id)) == []


def test_a_guest_reviews_from_the_orders_link(web):
    from tests.test_reviews import guest_order, guest_token

    shoe = make_shoe({"42": 3}, name="Guest Glide")
    token = guest_token(guest_order(shoe))
    link = f"/orders/guest/{token}"
    page = text(web.get(link))
    assert f'href="{link}/reviews/{shoe.shoe_id}"' in page and "Review this shoe" in page
    form = web.get(f"{link}/reviews/{shoe.shoe_id}")
    assert form.status_code == 200 and form.headers["Referrer-Policy"] == "no-referrer"
    assert f'action="{link}/reviews/{shoe.shoe_id}"' in text(form)
    data = {"rating": "5", "fit": "true", "text": "Spot on."}
    assert web.post_form(f"{link}/reviews/{shoe.shoe_id}", data, csrf=False).status_code == 403
    done = web.post_form(f"{link}/reviews/{shoe.shoe_id}", data)
    assert done.status_code == 303 and done.headers["Location"] == link
    assert "You reviewed this" in text(web.get(link))
    again = web.post_form(f"{link}/reviews/{shoe.shoe_id}", data)
    assert again.status_code == 409 and "reviewed this shoe already" in text(again)
    assert web.get(f"/orders/guest/{token[:-2]}zz/reviews/{shoe.shoe_id}").status_code == 404
    [stored] = Review.query(shoe.shoe_id)
    assert stored.reviewer == "GUEST#gina@example.com"


def test_a_review_without_its_csrf_token_is_refused(shopper):
    shoe = make_shoe({"42": 3})
    order = delivered_order(user_named("alice"), shoe)
    response = shopper.post_form(review_path(order, shoe), {"rating": "5", "fit": "true"}, csrf=False)
    assert response.status_code == 403 and list(Review.query(shoe.shoe_id)) == []


# -- The product page ------------------------------------------------------------------------------


def reviewed_shoe(ratings_and_fits, stock=None, **fields):
    """A shoe reviewed by one shopper per (rating, fit), the summary brought up to date."""
    from types import SimpleNamespace

    shoe = make_shoe(stock or {"41": 3, "42": 3, "43": 3}, **fields)
    for n, (rating, fit) in enumerate(ratings_and_fits):
        user = SimpleNamespace(user_id=f"buyer{n:03d}")
        order = delivered_order(user, shoe)
        reviews.write_review(user, order.order_id, shoe.shoe_id, reviews.ReviewInput(str(rating), fit, f"Review {n}"))
    return shoe


def test_the_product_page_shows_the_average_count_and_the_fit_once_there_are_enough_answers(
    web, drain_streams, fit_threshold
):
    shoe = reviewed_shoe([(5, "small"), (4, "small"), (4, "true")])
    drain_streams()
    fit_threshold(5)
    page = text(web.get(product_path(shoe)))
    assert "4.3 out of 5" in page and "3 reviews" in page
    assert "Not enough fit answers for a fit summary yet: 3 so far, and we summarise from 5." in page
    assert "Most buyers say" not in page
    fit_threshold(3)
    page = text(web.get(product_path(shoe)))
    assert "Most buyers say it runs small: 2 of 3 fit answers." in page
    for n in range(3):
        assert f"Review {n}" in page
    assert page.count("Verified buyer") >= 3 and "Size bought: EU 42" in page and "Fit: Runs small" in page


def test_a_shoe_without_reviews_says_so_and_reads_no_reviews(web, dynamodb_calls, drain_streams):  # noqa: F811
    shoe = make_shoe({"42": 3})
    drain_streams()  # the catalogue's read model knows the shoe
    web.get(product_path(shoe))
    dynamodb_calls.reset()
    page = text(web.get(product_path(shoe)))
    assert "No reviews yet" in page
    # The shoe, its stock, and one BatchGetItem of this shoe's and the related cards' summaries.
    assert dict(dynamodb_calls.calls) == {"GetItem": 1, "Query": 1, "BatchGetItem": 1}


def test_reviews_are_newest_first_and_paged_with_a_cursor_link(web, drain_streams, frozen_clock, dynamodb_calls):  # noqa: F811
    from types import SimpleNamespace

    shoe = make_shoe({"42": 3})
    for n in range(reviews.PAGE_SIZE + 3):
        user = SimpleNamespace(user_id=f"buyer{n:03d}")
        order = delivered_order(user, shoe)
        reviews.write_review(user, order.order_id, shoe.shoe_id, reviews.ReviewInput("5", "true", f"Number {n:02d}"))
        frozen_clock.advance(minutes=5)
    drain_streams()
    web.get(product_path(shoe))
    dynamodb_calls.reset()
    first = text(web.get(product_path(shoe)))
    assert dict(dynamodb_calls.calls) == {"GetItem": 1, "Query": 2, "BatchGetItem": 1}  # + one page of reviews
    numbers = re.findall(r"Number (\d\d)", first)
    assert numbers == [f"{n:02d}" for n in range(reviews.PAGE_SIZE + 2, 2, -1)]
    more = re.search(r'href="([^"]+)" rel="next">More reviews', first).group(1)
    assert more.endswith("#reviews")
    second = text(web.get(more.split("#")[0]))
    assert re.findall(r"Number (\d\d)", second) == ["02", "01", "00"]
    assert "More reviews" not in second and "Newest reviews" in second
    damaged = text(web.get(product_path(shoe) + "?reviews=nonsense"))
    assert re.findall(r"Number (\d\d)", damaged)[0] == f"{reviews.PAGE_SIZE + 2:02d}"  # the first page


def test_review_text_is_shown_as_text(web, drain_streams):
    from types import SimpleNamespace

    shoe = make_shoe({"42": 3})
    user = SimpleNamespace(user_id="mallory")
    order = delivered_order(user, shoe)
    reviews.write_review(
        user, order.order_id, shoe.shoe_id, reviews.ReviewInput("1", "large", "<script>alert(1)</script>")
    )
    drain_streams()
    body = web.get(product_path(shoe)).body.decode()
    assert "<script>alert(1)</script>" not in body and "&lt;script&gt;alert(1)&lt;/script&gt;" in body


def test_structured_data_carries_the_aggregate_rating_once_reviewed(web, drain_streams):
    shoe = make_shoe({"42": 3})
    assert "aggregateRating" not in head(web.get(product_path(shoe))).json_ld[0]
    rated = reviewed_shoe([(5, "true"), (4, "true")])
    drain_streams()
    product = head(web.get(product_path(rated))).json_ld[0]
    assert product["aggregateRating"] == {
        "@type": "AggregateRating",
        "ratingValue": 4.5,
        "reviewCount": 2,
        "bestRating": 5,
        "worstRating": 1,
    }


def checked_size(page: str) -> str | None:
    found = re.search(r'name="size" id="size-(\d+)" value="\d+" required\s*checked', page)
    return found.group(1) if found else None


def test_my_size_and_a_shoe_that_runs_small_preselect_the_size_up(web, drain_streams, fit_threshold):
    fit_threshold(2)
    shoe = reviewed_shoe([(4, "small"), (5, "small")], stock={"41": 3, "42": 3, "43": 3, "44": 0})
    drain_streams()
    assert checked_size(text(web.get(product_path(shoe)))) is None  # no size of mine: nothing to suggest
    web.cookies["mysize"] = "42"
    page = text(web.get(product_path(shoe)))
    assert "We suggest EU 43: buyers say it runs small." in page and checked_size(page) == "43"
    uk = text(web.get(product_path(shoe) + "?sizes=uk"))
    assert "We suggest UK 9.5: buyers say it runs small." in uk and checked_size(uk) == "43"
    chosen = text(web.get(product_path(shoe) + "?sizes=eu&size=42"))  # the shopper's own choice wins
    assert checked_size(chosen) == "42" and "You chose another size" in chosen
    web.cookies["mysize"] = "43"  # EU 44 is sold out: said, never preselected
    sold_out = text(web.get(product_path(shoe)))
    assert "so we would suggest EU 44, but it is sold out." in sold_out and checked_size(sold_out) is None
    web.cookies["mysize"] = "44"  # EU 45 is not made
    not_made = text(web.get(product_path(shoe)))
    assert "so we would suggest EU 45, but this shoe is not made in it." in not_made


def test_a_shoe_true_to_size_keeps_my_size_preselected(web, drain_streams, fit_threshold):
    fit_threshold(2)
    shoe = reviewed_shoe([(4, "true"), (5, "true")])
    drain_streams()
    web.cookies["mysize"] = "42"
    page = text(web.get(product_path(shoe)))
    assert "We suggest" not in page and checked_size(page) == "42"
    assert "Most buyers say it is true to size: 2 of 2 fit answers." in page


def test_cards_show_the_rating_in_one_batch_get_per_page(web, drain_streams, dynamodb_calls):  # noqa: F811
    rated = reviewed_shoe([(5, "true"), (4, "small")], name="Rated Runner")
    for n in range(5):
        make_shoe({"42": 3}, name=f"Plain {n}", brand="Kestrel", category="boots")
    drain_streams()
    web.get("/")  # the read model into this Lambda
    dynamodb_calls.reset()
    page = text(web.get("/"))
    assert "★ 4.5 (2)" in page and "Rated 4.5 out of 5 from 2 reviews" in page
    assert dynamodb_calls.calls["BatchGetItem"] == 1
    sibling = make_shoe({"42": 3}, name="Sibling", category=rated.category)
    drain_streams()
    catalogue_index.forget()  # this Lambda reloads the read model with the sibling in it
    response = web.get(product_path(sibling))
    product = text(response)
    assert response.status_code == 200, product[-3000:]
    assert "You may also like" in product and "★ 4.5 (2)" in product


# -- The back office -------------------------------------------------------------------------------


def test_admins_list_every_review_and_hide_one_with_a_reason_audited(admin, drain_streams):
    shoe = reviewed_shoe([(1, "large"), (5, "true")])
    drain_streams()
    listing = text(admin.get(f"/admin/shoes/{shoe.shoe_id}/reviews"))
    assert "Review 0" in listing and "Review 1" in listing and listing.count(">Hide<") == 2
    reviewer = "USER#buyer000"
    quoted = "USER%23buyer000"
    hide_page = f"/admin/shoes/{shoe.shoe_id}/reviews/hide?reviewer={quoted}"
    assert "Why it is hidden" in text(admin.get(hide_page))
    path = f"/admin/shoes/{shoe.shoe_id}/reviews/hide"
    missing = admin.post_form(path, {"reviewer": reviewer, "reason": " "}, csrf_page=hide_page)
    assert missing.status_code == 400 and 'id="field-reason-error"' in text(missing)
    too_long = admin.post_form(path, {"reviewer": reviewer, "reason": "x" * 201}, csrf_page=hide_page)
    assert too_long.status_code == 400
    done = admin.post_form(path, {"reviewer": reviewer, "reason": "Off-topic rant"}, csrf_page=hide_page)
    assert done.status_code == 303
    drain_streams()
    listing = text(admin.get(f"/admin/shoes/{shoe.shoe_id}/reviews"))
    assert "Hidden" in listing and "Off-topic rant" in listing and "Show again" in listing
    shop = text(admin.get(product_path(shoe)))
    assert "Review 0" not in shop and "Review 1" in shop and "5.0 out of 5" in shop and "1 review" in shop
    [entry] = [entry for entry in AuditEntry.scan() if entry.action == "review.hide"]
    assert entry.admin == "boss" and "Off-topic rant" in entry.details
    shown = admin.post_form(
        f"/admin/shoes/{shoe.shoe_id}/reviews/show",
        {"reviewer": reviewer},
        csrf_page=f"/admin/shoes/{shoe.shoe_id}/reviews",
    )
    assert shown.status_code == 303
    drain_streams()
    assert "3.0 out of 5" in text(admin.get(product_path(shoe)))
    assert {entry.action for entry in AuditEntry.scan()} >= {"review.hide", "review.show"}


def test_staff_may_hide_and_shoppers_and_visitors_may_not(web, other_web, drain_streams):
    shoe = reviewed_shoe([(1, "large")])
    path = f"/admin/shoes/{shoe.shoe_id}/reviews/hide"
    reviewer = "USER#buyer000"
    quoted = "USER%23buyer000"
    assert web.get(f"/admin/shoes/{shoe.shoe_id}/reviews").status_code in (302, 303)
    make_user("carol")
    other_web.login("carol")
    assert other_web.get(f"/admin/shoes/{shoe.shoe_id}/reviews").status_code == 403
    token = other_web.csrf_token("/")
    assert other_web.post_form(path, {"reviewer": reviewer, "reason": "Mine"}, csrf=token).status_code == 403
    assert Review.get(shoe.shoe_id, reviewer).hidden_at is None
    make_admin("sam", role="staff")
    web.admin_login("sam")
    hide_page = f"{path}?reviewer={quoted}"
    assert web.post_form(path, {"reviewer": reviewer, "reason": "Spam"}, csrf_page=hide_page).status_code == 303
    assert Review.get(shoe.shoe_id, reviewer).hidden_by == "sam"


def test_hiding_an_unknown_review_is_a_404(admin):
    shoe = make_shoe({"42": 3})
    assert admin.get(f"/admin/shoes/{shoe.shoe_id}/reviews/hide?reviewer=USER%23nobody").status_code == 404


def test_the_review_pages_are_valid_html(shopper, other_web, drain_streams, fit_threshold, tmp_path):
    from tests.test_html_validity import validate

    fit_threshold(1)
    shoe = make_shoe({"42": 3, "43": 3})
    order = delivered_order(user_named("alice"), shoe)
    pages = {
        "order with review links": text(shopper.get(f"/orders/{order.order_id}")),
        "review form with errors": text(review_via_form(shopper, order, shoe, rating="", fit="")),
    }
    review_via_form(shopper, order, shoe)
    drain_streams()
    pages["review form, reviewed"] = text(shopper.get(review_path(order, shoe)))
    other_web.cookies["mysize"] = "42"  # a guest's size
    pages["product with reviews and a suggestion"] = other_web.get(product_path(shoe)).body.decode()
    make_admin("sam", role="staff")
    other_web.admin_login("sam")
    pages["admin reviews"] = other_web.get(f"/admin/shoes/{shoe.shoe_id}/reviews").body.decode()
    hide = f"/admin/shoes/{shoe.shoe_id}/reviews/hide"
    pages["admin hide with an error"] = other_web.post_form(
        hide, {"reviewer": f"USER#{user_named('alice').user_id}", "reason": ""}, csrf_page="/admin"
    ).body.decode()
    assert "We suggest EU 43" in pages["product with reviews and a suggestion"]
    assert validate(pages, tmp_path) == {}


def test_returns_as_too_small_feed_the_fit_signal_and_the_suggestion(web, drain_streams, fit_threshold, dynamodb_calls):  # noqa: F811
    """One review says true to size; two pairs came back as too small: the shoe runs small."""
    from chalicelib.services import returns
    from tests import test_returns

    fit_threshold(3)
    shoe = reviewed_shoe([(4, "true")], stock={"41": 9, "42": 9, "43": 9})
    buyer = make_user("bea", "bea@example.com", address=test_returns.ADDRESS)
    for size in ("42", "43"):
        order = test_returns.delivered_order(buyer, shoe, size=size)
        returns.request_return(order, test_returns.refund_form(reason="too_small"))
    drain_streams()
    web.cookies["mysize"] = "42"
    web.get(product_path(shoe))  # the read model into this Lambda
    dynamodb_calls.reset()
    page = text(web.get(product_path(shoe)))
    assert "We suggest EU 43: buyers say it runs small." in page and checked_size(page) == "43"
    assert (
        "Most buyers say it runs small: 2 of 3 fit answers, counting 2 pairs returned as too small or too big." in page
    )
    assert "1 review" in page  # the rating still counts reviews only
    # The summary and the returns tally come in the product page's one BatchGetItem.
    assert dynamodb_calls.calls["BatchGetItem"] == 1
