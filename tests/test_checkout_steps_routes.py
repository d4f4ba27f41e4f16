"""The checkout's stepper and order summary on every step, and the server's messages next to the
field (typed values kept) on every checkout form."""

import re

import pytest

from chalicelib.models import ShoeImage
from tests.factories import make_shoe
from tests.test_cart_routes import ADDRESS, add, checkout_to_review, text
from tests.test_guest_checkout_routes import give_details, place, review_form


@pytest.fixture
def runner():
    image = ShoeImage(image_id="img1", thumb_key="images/s1/img1-480w.webp", large_key="images/s1/img1-1200w.webp")
    return make_shoe(name="Harbour Runner", price_cents=6000, stock={"42": 5}, images=[image])


def current_step(body: str) -> str:
    return re.search(
        r'<li class="step-current" aria-current="step"><span class="step-number">\d</span> ([^<]+)</li>', body
    ).group(1)


def assert_summary(body: str) -> None:
    summary = body[body.index('<aside class="order-summary"') : body.index("</aside>")]
    assert "Order summary" in summary and "Harbour Runner" in summary and "EU 42 · Qty 2" in summary
    assert re.search(r'<img src="[^"]+" alt="" width="64" height="48"', summary)  # the cart's thumbnail
    assert '<dd class="total">$120.00</dd>' in summary


def test_every_checkout_step_of_a_guest_has_the_stepper_and_the_summary(web, runner):
    add(web, runner.shoe_id, "42", "2")
    for path, step in (("/checkout", "Details"), ("/checkout/guest", "Details")):
        body = text(web.get(path))
        assert current_step(body) == step, path
        assert_summary(body)
        assert body.count('aria-current="step"') == 1
        assert '<a href="/cart"><span class="step-number">1</span> Cart</a>' in body
    give_details(web)
    review = text(web.get("/checkout/review"))
    assert current_step(review) == "Review" and '<span class="step-number">2</span> Details</a>' in review
    assert_summary(review)
    response = place(web, review_form(web))
    confirmation = text(web.get(response.headers["Location"]))
    assert current_step(confirmation) == "Pay/Confirm"


def test_an_account_sees_the_stepper_and_summary_on_its_address_and_review_steps(shopper, runner):
    add(shopper, runner.shoe_id, "42", "2")
    body = text(shopper.get("/checkout"))
    assert current_step(body) == "Details"
    assert_summary(body)
    checkout_to_review(shopper)
    review = text(shopper.get("/checkout/review"))
    assert current_step(review) == "Review"
    assert_summary(review)


def test_the_guest_form_answers_every_error_next_to_its_field_and_keeps_what_was_typed(web, runner):
    add(web, runner.shoe_id, "42", "2")
    response = give_details(web, email="wanda@", postal_code="!!", city="", line1="12 Quay <Road>")
    assert response.status_code == 400
    body = text(response)
    for field, words in (("email", "email"), ("postal_code", "postal code"), ("city", "Enter your city.")):
        error = re.search(rf'<p class="field-error" id="field-{field}-error">([^<]+)</p>', body)
        assert error and words.lower() in error.group(1).lower(), field
        assert f'aria-describedby="field-{field}-error"' in body or f'-hint field-{field}-error"' in body
    assert 'value="wanda@"' in body and 'value="12 Quay &lt;Road&gt;"' in body and 'value="!!"' in body
    assert "<form" in body and "novalidate" in body  # the server answers, not the browser's bubbles
    assert_summary(body)


def test_the_account_address_form_keeps_typed_values_beside_its_errors(shopper, runner):
    add(shopper, runner.shoe_id, "42", "2")
    response = shopper.post_form("/checkout", {**ADDRESS, "phone": "call me", "country": ""}, csrf_page="/cart")
    assert response.status_code == 400
    body = text(response)
    assert 'id="field-phone-error"' in body and 'id="field-country-error">Choose a country.' in body
    assert 'value="call me"' in body and 'value="Alice Example"' in body
    assert_summary(body)


def test_a_payment_choice_that_is_not_offered_is_said_next_to_the_choice(shopper, runner):
    add(shopper, runner.shoe_id, "42", "2")
    checkout_to_review(shopper)
    form = {**review_form(shopper), "payment_method": "bitcoin"}
    response = place(shopper, form)
    assert response.status_code == 400
    body = text(response)
    assert re.search(r'<p class="field-error" id="field-payment_method-error">Choose how to pay: [^<]+</p>', body)
    assert 'aria-describedby="field-payment_method-error"' in body
    assert_summary(body)


def test_the_cart_quantity_error_keeps_the_typed_number(shopper, runner):
    add(shopper, runner.shoe_id, "42", "2")
    response = shopper.post_form(
        "/cart/update", {"line_id": f"{runner.shoe_id}#42", "quantity": "11"}, csrf_page="/cart"
    )
    assert response.status_code == 400
    body = text(response)
    assert 'value="11"' in body and "Choose a quantity from 1 to 10." in body and 'aria-invalid="true"' in body
