"""services.pricing: subtotal, discounts, shipping and total in cents, and proof that the cart
page, the checkout review, the placed order and the API show the same Quote."""

import dataclasses
import json
import re

import pytest

from chalicelib.config import get_settings
from chalicelib.models import Order, Stock
from chalicelib.services import cart, pricing
from tests.factories import make_shoe
from tests.test_cart_routes import add, checkout_to_review, text


def line(unit_cents: int, quantity: int = 1, name: str = "Runner") -> pricing.PricedLine:
    return pricing.PricedLine(
        shoe_id="s1", name=name, brand="Fleet", size="42", unit_price_cents=unit_cents, quantity=quantity
    )


@pytest.fixture
def shipping() -> tuple[int, int]:
    settings = get_settings()
    return settings.shipping_flat_cents, settings.free_shipping_over_cents


def test_an_empty_cart_costs_nothing_not_even_shipping():
    quote = pricing.quote([])
    assert (quote.subtotal_cents, quote.discount_cents, quote.shipping_cents, quote.total_cents) == (0, 0, 0, 0)


def test_shipping_is_flat_just_below_the_threshold_and_free_at_it(shipping):
    flat, free_over = shipping
    below = pricing.quote([line(free_over - 1)])
    assert (below.subtotal_cents, below.shipping_cents, below.total_cents) == (
        free_over - 1,
        flat,
        free_over - 1 + flat,
    )
    at = pricing.quote([line(free_over // 2, 2), line(free_over % 2)])
    assert (at.subtotal_cents, at.shipping_cents, at.total_cents) == (free_over, 0, free_over)
    assert pricing.shipping_cents(0) == 0 and pricing.shipping_cents(1) == flat


def test_lines_are_priced_by_unit_times_quantity_and_kept_in_order():
    quote = pricing.quote([line(3000, 2, "A"), line(1999, 3, "B")])
    assert [(priced.name, priced.line_total_cents) for priced in quote.lines] == [("A", 6000), ("B", 5997)]
    assert quote.subtotal_cents == 11997


def test_a_quote_cannot_be_changed_after_it_is_made():
    quote = pricing.quote([line(1000)])
    with pytest.raises(dataclasses.FrozenInstanceError):
        quote.shipping_cents = 0  # type: ignore[misc]


def test_lines_with_a_problem_are_shown_but_not_priced():
    runner = make_shoe(name="Runner", price_cents=4000, stock={"42": 5})
    short = make_shoe(name="Loafer", price_cents=3000, stock={"40": 5})
    owner = cart.user_owner("someone")
    cart.add_item(owner, runner.shoe_id, "42", "2")
    cart.add_item(owner, short.shoe_id, "40", "3")
    Stock.get(short.shoe_id, "40").update(actions=[Stock.quantity.set(1)])
    view = cart.load_cart(owner)
    quote = pricing.quote_cart(view)
    assert [priced.name for priced in quote.lines] == ["Runner"] and quote.subtotal_cents == 8000
    assert len(view.items) == 2  # the short line is still in the cart, with its problem


# -- the discount hook: rules plug in here ------------------------------------------------------


def ten_percent(basket: pricing.Basket) -> pricing.Discount | None:
    return pricing.Discount("ten", "Ten percent off", basket.subtotal_cents // 10)


def with_code(basket: pricing.Basket) -> pricing.Discount | None:
    return pricing.Discount("code", "Welcome code", 500) if "WELCOME" in basket.codes else None


def test_the_only_discount_rule_is_the_shoppers_code_and_no_code_takes_nothing_off():
    assert (pricing.code_rule,) == pricing.DISCOUNT_RULES
    assert pricing.quote([line(9000)]).discounts == ()


def test_a_discount_rule_lowers_the_total_and_shipping_follows_what_is_paid(shipping):
    flat, free_over = shipping
    quote = pricing.quote([line(free_over)], rules=[ten_percent])
    assert quote.discounts == (pricing.Discount("ten", "Ten percent off", free_over // 10),)
    assert quote.subtotal_cents == free_over and quote.discount_cents == free_over // 10
    assert quote.shipping_cents == flat  # below the threshold once discounted
    assert quote.total_cents == free_over - free_over // 10 + flat


def test_a_rule_can_read_the_codes_the_shopper_entered():
    assert pricing.quote([line(9000)], rules=[with_code]).discounts == ()
    assert pricing.quote([line(9000)], codes=["WELCOME"], rules=[with_code]).discount_cents == 500


def test_discounts_never_take_the_goods_below_zero():
    def too_generous(basket: pricing.Basket) -> pricing.Discount:
        return pricing.Discount("big", "Huge", 10_000)

    quote = pricing.quote([line(300)], rules=[too_generous, ten_percent])
    assert quote.discounts == (pricing.Discount("big", "Huge", 300),)  # the second rule has nothing left
    assert (quote.total_cents, quote.shipping_cents) == (0, 0)


# -- every surface shows the same totals --------------------------------------------------------


def _shown(page: str, css_class: str) -> str:
    return re.search(rf'<dd class="{css_class}">([^<]+)</dd>', page).group(1)


@pytest.mark.parametrize(("price_cents", "quantity"), [(2000, 1), (3750, 2)])  # pays shipping; free at 7500
def test_cart_page_review_placed_order_and_api_agree(shopper, price_cents, quantity):
    shoe = make_shoe(name="Runner", price_cents=price_cents, stock={"42": 5})
    add(shopper, shoe.shoe_id, "42", str(quantity))
    expected = pricing.quote([line(price_cents, quantity)])
    money = {
        "subtotal": f"${expected.subtotal_cents / 100:,.2f}",
        "shipping": "Free" if expected.shipping_cents == 0 else f"${expected.shipping_cents / 100:,.2f}",
        "total": f"${expected.total_cents / 100:,.2f}",
    }

    cart_page = text(shopper.get("/cart"))
    assert _shown(cart_page, "subtotal") == money["subtotal"] and _shown(cart_page, "total") == money["total"]
    assert _shown(cart_page, "shipping").startswith(money["shipping"])

    api_cart = json.loads(shopper.get("/api/v1/cart").body)
    assert (api_cart["subtotal_cents"], api_cart["shipping_cents"], api_cart["total_cents"]) == (
        expected.subtotal_cents,
        expected.shipping_cents,
        expected.total_cents,
    )
    assert api_cart["discount_cents"] == 0

    key = checkout_to_review(shopper)
    review = text(shopper.get("/checkout/review"))
    assert {name: _shown(review, name) for name in money} == money
    assert f'name="reviewed_total" value="{expected.total_cents}"' in review

    placed = shopper.post_form(
        "/checkout/place", {"idempotency_key": key, "reviewed_total": str(expected.total_cents)}, csrf_page="/cart"
    )
    assert "/orders/" in placed.headers["Location"]
    order = Order.scan().next()
    assert (order.subtotal_cents, order.discount_cents, order.shipping_cents, order.total_cents) == (
        expected.subtotal_cents,
        0,
        expected.shipping_cents,
        expected.total_cents,
    )
    confirmation = text(shopper.get(placed.headers["Location"]))
    assert {name: _shown(confirmation, name) for name in money} == money
    api_order = json.loads(shopper.get(f"/api/v1/orders/{order.order_id}").body)
    assert (api_order["subtotal_cents"], api_order["shipping_cents"], api_order["total_cents"]) == (
        expected.subtotal_cents,
        expected.shipping_cents,
        expected.total_cents,
    )


def test_free_shipping_progress_says_how_much_more_and_when_it_ships_free():
    def progress(*cents: int):
        return pricing.free_shipping_progress(pricing.quote(line(price) for price in cents))

    assert progress() is None  # nothing to ship
    short = progress(6295)
    assert (short.remaining_cents, short.ships_free, short.threshold_cents) == (1205, False, 7500)
    assert progress(7500).ships_free and progress(7500).remaining_cents == 0
    assert progress(4000, 4000).ships_free
