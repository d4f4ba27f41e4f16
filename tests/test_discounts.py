"""Discount codes: every rule and message of services.pricing's code terms, the code model
(services.discounts), uses taken inside the order's transaction (also under concurrency), and given
back once by a cancel."""

import threading
from datetime import UTC, datetime, timedelta

import pytest

from chalicelib import clock
from chalicelib.models import Order
from chalicelib.models.pricing import DiscountCode
from chalicelib.services import cart, checkout, discounts, fulfilment, pricing
from chalicelib.services.errors import Conflict, ValidationFailed
from tests.factories import ADDRESS, make_shoe, make_user
from tests.test_cart_line_cap import atomic_moto_with_latency  # noqa: F401 (fixture: DynamoDB-atomic calls)

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def line(cents: int, quantity: int = 1, brand: str = "Fleet", department: str = "men") -> pricing.PricedLine:
    return pricing.PricedLine(
        shoe_id=f"{brand}-{department}-{cents}",
        name="Runner",
        brand=brand,
        size="42",
        unit_price_cents=cents,
        quantity=quantity,
        department=department,
    )


def terms(**fields) -> pricing.CodeTerms:
    return pricing.CodeTerms(**{"code": "SAVE", "kind": pricing.PERCENT, "value": 10, **fields})


def quoted(lines, **fields) -> pricing.Quote:
    return pricing.quote(lines, ["save"], offers=[terms(**fields)], now=NOW)


# -- the money rules ---------------------------------------------------------------------------------


def test_a_percent_code_takes_its_share_and_is_named_on_the_quote():
    quote = quoted([line(8000), line(2000)])
    assert quote.code == "SAVE" and quote.code_problem is None
    assert quote.discounts == (pricing.Discount("code:SAVE", "Code SAVE (10% off)", 1000),)
    assert quote.total_cents == 10000 - 1000  # 9000 goods: free Standard shipping over 75.00


def test_a_fixed_code_never_makes_a_total_negative():
    quote = quoted([line(1500)], kind=pricing.FIXED, value=5000)
    assert quote.discount_cents == 1500 and quote.total_cents == 0 and quote.shipping_cents == 0


def test_the_code_text_is_case_insensitive_and_length_limited():
    assert pricing.normalise_code("  save ") == "SAVE"
    assert discounts.check_code_text("Spring-10") == "SPRING-10"
    for bad in ("", "x" * 33, "10% OFF", None):
        with pytest.raises(ValidationFailed, match="at most 32 letters"):
            discounts.check_code_text(bad)


def test_a_restricted_code_applies_to_the_matching_lines_only():
    basket = [line(6000, brand="Fleet"), line(4000, brand="Stride", department="women")]
    assert quoted(basket, brands=frozenset({"fleet"})).discount_cents == 600  # brand: any case
    assert quoted(basket, departments=frozenset({"women"})).discount_cents == 400
    fixed = quoted(basket, kind=pricing.FIXED, value=5000, departments=frozenset({"women"}))
    assert fixed.discount_cents == 4000  # never more than the matching lines cost


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"active": False}, "The code SAVE is no longer valid."),
        ({"starts_at": NOW + timedelta(hours=1)}, "The code SAVE is valid from 01 Dec 2026 13:00 UTC."),
        ({"ends_at": NOW}, "The code SAVE expired on 01 Dec 2026 12:00 UTC."),
        ({"max_uses": 5, "uses": 5}, "The code SAVE has been used up."),
        ({"per_customer": 1, "customer_uses": 1}, "can be used once per customer, and you have used it already"),
        ({"brands": frozenset({"Stride"})}, "The code SAVE is for Stride shoes only, and none are in your cart."),
        ({"min_spend_cents": 5000}, "The code SAVE needs a spend of $50.00: add $10.00 more."),
        (
            {"min_spend_cents": 5000, "departments": frozenset({"men"})},
            "needs a spend of $50.00 on the shoes it applies to: add $10.00 more.",
        ),
    ],
)
def test_every_refusal_says_why_and_takes_nothing_off(fields, message):
    quote = quoted([line(4000), line(3000, department="kids")] if "departments" in fields else [line(4000)], **fields)
    assert quote.discount_cents == 0 and quote.code is None
    assert message in quote.code_problem


def test_an_unknown_code_is_named():
    quote = pricing.quote([line(4000)], ["nope"], now=NOW)
    assert quote.code_problem == "We don't know the code NOPE. Check its spelling."


def test_a_code_works_from_its_start_and_until_just_before_its_end():
    window = {"starts_at": NOW, "ends_at": NOW + timedelta(days=1)}
    assert quoted([line(4000)], **window).discount_cents == 400
    late = pricing.quote([line(4000)], ["SAVE"], offers=[terms(**window)], now=NOW + timedelta(days=1))
    assert late.discount_cents == 0 and "expired" in late.code_problem


def test_the_minimum_spend_is_met_exactly_at_it():
    assert quoted([line(5000)], min_spend_cents=5000).discount_cents == 500


# -- stored codes and the order transaction -----------------------------------------------------------


def make_code(code: str = "SAVE10", **fields) -> DiscountCode:
    values = {"sk": code, "kind": pricing.PERCENT, "value": 10, "min_spend_cents": 0, **fields}
    for name in ("starts_at", "ends_at", "max_uses", "per_customer", "brands", "departments"):
        values.setdefault(name, None)
    return discounts.create_code(values)


def order_with_code(user, shoe, key: str, code: str = "save10", quantity: int = 1) -> checkout.Placed:
    cart.add_item(cart.user_owner(user.user_id), shoe.shoe_id, "42", str(quantity))
    return checkout.place_order(user, key, discount_code=code)


def uses(code: str = "SAVE10") -> int:
    return int(discounts.get_code(code).uses)


def test_an_order_stores_its_code_and_amount_and_takes_one_use():
    make_code(max_uses=3)
    shoe = make_shoe(price_cents=9000, stock={"42": 5})
    alice = make_user("alice", address=ADDRESS)
    order = order_with_code(alice, shoe, "key-code-1").order
    stored = Order.get(order.order_id)
    assert (stored.discount_code, int(stored.discount_cents), int(stored.total_cents)) == ("SAVE10", 900, 8100)
    assert uses() == 1


def test_a_refused_code_stops_the_order_with_its_message_and_orders_nothing():
    make_code(min_spend_cents=20000)
    shoe = make_shoe(price_cents=9000, stock={"42": 5})
    alice = make_user("alice", address=ADDRESS)
    with pytest.raises(ValidationFailed, match=r"needs a spend of \$200.00: add \$110.00 more"):
        order_with_code(alice, shoe, "key-code-2")
    assert list(Order.by_user.query(alice.user_id)) == [] and uses() == 0


def test_an_edited_code_after_review_stops_the_order(monkeypatch):
    make_code()
    shoe = make_shoe(price_cents=9000, stock={"42": 5})
    alice = make_user("alice", address=ADDRESS)
    read = discounts.load_terms

    def then_edited(code, customer):
        found = read(code, customer)
        discounts.set_active(code, False)  # the owner disables it between the read and the order
        return found

    monkeypatch.setattr(discounts, "load_terms", then_edited)
    with pytest.raises(discounts.CodeUnavailable, match="used up or changed just now"):
        order_with_code(alice, shoe, "key-code-3")
    assert list(Order.by_user.query(alice.user_id)) == [] and uses() == 0


def test_a_per_customer_limit_counts_accounts_and_guest_emails_apart():
    make_code(per_customer=1)
    shoe = make_shoe(price_cents=9000, stock={"42": 9})
    alice = make_user("alice", address=ADDRESS)
    order_with_code(alice, shoe, "key-pc-1")
    with pytest.raises(ValidationFailed, match="once per customer"):
        order_with_code(alice, shoe, "key-pc-2")
    guest_owner = cart.guest_owner("guest-cart-for-pc-test")
    cart.add_item(guest_owner, shoe.shoe_id, "42", "1")
    guest = checkout.guest_buyer(guest_owner, "Guest@Example.com", ADDRESS)
    assert checkout.place_order(guest, "key-pc-guest", discount_code="SAVE10").order.discount_claim == (
        "EMAIL#guest@example.com"
    )
    assert uses() == 2


def test_a_cancelled_order_gives_its_use_back_once():
    make_code(max_uses=1, per_customer=1)
    shoe = make_shoe(price_cents=9000, stock={"42": 5})
    alice = make_user("alice", address=ADDRESS)
    order = order_with_code(alice, shoe, "key-cancel-1").order
    assert uses() == 1
    fulfilment.transition(order.order_id, "cancelled", "boss", "shopper asked")
    assert uses() == 0
    with pytest.raises(Conflict):  # a second cancel is refused by the order's status condition
        fulfilment.transition(order.order_id, "cancelled", "boss", "again")
    assert uses() == 0
    assert order_with_code(alice, shoe, "key-cancel-2").order.discount_code == "SAVE10"  # claim back too
    assert uses() == 1


def _race(place, n: int) -> list[str]:
    outcomes: list[str] = []
    barrier = threading.Barrier(n)

    def run(i: int) -> None:
        barrier.wait()
        try:
            place(i)
            outcomes.append("placed")
        except Exception as error:
            outcomes.append(type(error).__name__)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


def test_a_codes_last_use_goes_to_exactly_one_of_many_concurrent_checkouts(atomic_moto_with_latency):  # noqa: F811
    make_code(max_uses=1)
    shoe = make_shoe(price_cents=9000, stock={"42": 50})
    shoppers = [make_user(f"shopper{i}", address=ADDRESS) for i in range(6)]
    for user in shoppers:
        cart.add_item(cart.user_owner(user.user_id), shoe.shoe_id, "42", "1")

    outcomes = _race(lambda i: checkout.place_order(shoppers[i], f"key-race-{i}", discount_code="SAVE10"), 6)
    assert outcomes.count("placed") == 1, outcomes
    assert set(outcomes) <= {"placed", "CodeUnavailable", "ValidationFailed"}  # used up, said either way
    placed = [order for user in shoppers for order in Order.by_user.query(user.user_id)]
    assert len(placed) == 1 and placed[0].discount_code == "SAVE10" and uses() == 1


def test_a_per_customer_limit_holds_under_concurrent_checkouts(atomic_moto_with_latency):  # noqa: F811
    """One guest email, five guest carts (five browsers): the code goes to one order of theirs."""
    make_code(per_customer=1)
    shoe = make_shoe(price_cents=9000, stock={"42": 50})
    buyers = []
    for i in range(5):
        owner = cart.guest_owner(f"guest-cart-race-{i}")
        cart.add_item(owner, shoe.shoe_id, "42", "1")
        buyers.append(checkout.guest_buyer(owner, "same@example.com", ADDRESS))

    outcomes = _race(lambda i: checkout.place_order(buyers[i], f"key-mine-{i}", discount_code="SAVE10"), 5)
    assert outcomes.count("placed") == 1, outcomes
    assert uses() == 1


def test_uses_only_change_in_orders_so_an_edit_keeps_them():
    make_code(max_uses=5)
    DiscountCode(sk="SAVE10").update(actions=[DiscountCode.uses.set(3)])
    form = {"kind": "fixed", "value": "5.00", "max_uses": "10"}
    discounts.update_code("save10", discounts.clean_code_form(lambda name: form.get(name, ""), creating=False))
    item = discounts.get_code("SAVE10")
    assert (item.kind, int(item.value), int(item.max_uses), int(item.uses), int(item.revision)) == (
        "fixed",
        500,
        10,
        3,
        2,
    )
    assert clock.now() >= item.updated_at
