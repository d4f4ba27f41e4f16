"""What a cart costs, in integer cents: subtotal, discounts, shipping and total, in one Quote that
the cart page, the checkout review, order placement and the API all show.

Adding a discount: write a rule (a function from a Basket to a Discount or None), list it in
DISCOUNT_RULES, test it in tests/test_pricing.py; the totals templates already list
`quote.discounts`. A rule that needs a code from the shopper reads `basket.codes` (a form field
passed to quote_cart). Shipping methods will replace `shipping_cents` here.
"""

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from chalicelib.config import get_settings
from chalicelib.services.cart import CartItem, CartView


@dataclass(frozen=True)
class PricedLine:
    """One line as priced (and as an order records it)."""

    shoe_id: str
    name: str
    brand: str
    size: str
    unit_price_cents: int
    quantity: int
    image_key: str | None = None

    @property
    def line_total_cents(self) -> int:
        return self.unit_price_cents * self.quantity


@dataclass(frozen=True)
class Basket:
    """What a discount rule sees."""

    lines: tuple[PricedLine, ...]
    subtotal_cents: int
    codes: tuple[str, ...] = ()  # discount codes the shopper entered


@dataclass(frozen=True)
class Discount:
    rule: str  # a stable name, e.g. "spring-10"
    label: str  # words on the page, e.g. "Spring sale (10%)"
    amount_cents: int  # taken off the subtotal; positive


DiscountRule = Callable[[Basket], Discount | None]
DISCOUNT_RULES: tuple[DiscountRule, ...] = ()  # none yet


@dataclass(frozen=True)
class Quote:
    lines: tuple[PricedLine, ...]
    subtotal_cents: int
    discounts: tuple[Discount, ...]
    shipping_cents: int

    @property
    def discount_cents(self) -> int:
        return sum(discount.amount_cents for discount in self.discounts)

    @property
    def total_cents(self) -> int:
        return self.subtotal_cents - self.discount_cents + self.shipping_cents


def shipping_cents(goods_cents: int) -> int:
    """Flat rate, free from the threshold on (on what is paid for the goods, after discounts)."""
    settings = get_settings()
    if goods_cents <= 0 or goods_cents >= settings.free_shipping_over_cents:
        return 0
    return settings.shipping_flat_cents


def quote(lines: Iterable[PricedLine], codes: Sequence[str] = (), rules: Sequence[DiscountRule] | None = None) -> Quote:
    priced = tuple(lines)
    subtotal = sum(line.line_total_cents for line in priced)
    basket = Basket(lines=priced, subtotal_cents=subtotal, codes=tuple(codes))
    discounts: list[Discount] = []
    for rule in DISCOUNT_RULES if rules is None else rules:
        discount = rule(basket)
        if discount is not None and discount.amount_cents > 0:
            discounts.append(discount)
    # Discounts never take the goods below zero, whatever the rules say.
    room = subtotal
    capped = []
    for discount in discounts:
        amount = min(discount.amount_cents, room)
        room -= amount
        if amount > 0:
            capped.append(Discount(discount.rule, discount.label, amount))
    return Quote(lines=priced, subtotal_cents=subtotal, discounts=tuple(capped), shipping_cents=shipping_cents(room))


def priced_line(item: CartItem) -> PricedLine:
    shoe = item.shoe
    return PricedLine(
        shoe_id=item.line.shoe_id,
        name=item.name,
        brand=shoe.brand if shoe is not None else "",
        size=item.line.size,
        unit_price_cents=item.unit_price_cents,
        quantity=item.quantity,
        image_key=item.image_key,
    )


def quote_items(items: Iterable[CartItem], codes: Sequence[str] = ()) -> Quote:
    return quote((priced_line(item) for item in items), codes)


def quote_cart(view: CartView, codes: Sequence[str] = ()) -> Quote:
    """The cart as it can be ordered: lines with a problem (sold out, short, no longer sold) are
    shown but not priced."""
    return quote_items((item for item in view.items if item.problem is None), codes)


@dataclass(frozen=True)
class ShippingProgress:
    """How far a quote is from free shipping (the cart page's note)."""

    goods_cents: int  # what the goods cost after discounts: what the threshold is measured on
    threshold_cents: int

    @property
    def remaining_cents(self) -> int:
        return max(0, self.threshold_cents - self.goods_cents)

    @property
    def ships_free(self) -> bool:
        return self.remaining_cents == 0


def free_shipping_progress(totals: Quote) -> ShippingProgress | None:
    """None for an empty quote; else the goods' value against the free-shipping threshold (the same
    measure as shipping_cents: goods after discounts)."""
    goods = totals.subtotal_cents - totals.discount_cents
    if goods <= 0:
        return None
    return ShippingProgress(goods_cents=goods, threshold_cents=get_settings().free_shipping_over_cents)
