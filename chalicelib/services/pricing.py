"""What a cart costs, in integer cents: subtotal, discounts, shipping and total, in one Quote that
the cart page, the checkout review, order placement and the API all show.

Adding a discount: write a rule (a function from a Basket to a Discount or None), list it in
DISCOUNT_RULES, test it in tests/test_pricing.py; the totals templates already list
`quote.discounts`. A rule that needs a code from the shopper reads `basket.codes` (a form field
passed to quote_cart) and the terms of those codes (`basket.offers`, loaded by services/discounts.py).

Codes (`code_rule`): percent or fixed, on the lines of their brands/departments (all if none), from
a minimum spend on those lines, from start to (before) end, within total and per-customer uses;
`code_refusal` says why not. Shipping: the method's price, free from its threshold (goods after
discounts); services/shipping.py finds the zone's methods.
"""

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from chalicelib.config import get_settings
from chalicelib.formatting import format_money as money
from chalicelib.services.cart import CartItem, CartView

CODE_MAX_LENGTH = 32
PERCENT = "percent"
FIXED = "fixed"


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
    department: str | None = None

    @property
    def line_total_cents(self) -> int:
        return self.unit_price_cents * self.quantity


@dataclass(frozen=True)
class Basket:
    """What a discount rule sees."""

    lines: tuple[PricedLine, ...]
    subtotal_cents: int
    codes: tuple[str, ...] = ()  # discount codes the shopper entered
    offers: tuple["CodeTerms", ...] = ()  # the stored terms of those codes (unknown codes: none)
    now: datetime | None = None


@dataclass(frozen=True)
class Discount:
    rule: str  # a stable name, e.g. "spring-10"; a code's is "code:<CODE>"
    label: str  # words on the page, e.g. "Spring sale (10%)"
    amount_cents: int  # taken off the subtotal; positive


@dataclass(frozen=True)
class CodeTerms:
    """A discount code as stored (models.pricing.DiscountCode), with this customer's uses of it."""

    code: str
    kind: str  # PERCENT or FIXED
    value: int  # a percent (1-100) or cents
    min_spend_cents: int = 0
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    max_uses: int | None = None
    per_customer: int | None = None
    uses: int = 0
    customer_uses: int = 0
    brands: frozenset[str] = field(default_factory=frozenset)
    departments: frozenset[str] = field(default_factory=frozenset)
    active: bool = True
    revision: int = 1

    @property
    def words(self) -> str:
        return f"{self.value}%" if self.kind == PERCENT else money(self.value)

    def eligible_cents(self, basket: Basket) -> int:
        """What the lines of the code's brands and departments (all, if it names none) cost."""
        brands = {brand.casefold() for brand in self.brands}
        return sum(
            line.line_total_cents
            for line in basket.lines
            if (not brands or line.brand.casefold() in brands)
            and (not self.departments or line.department in self.departments)
        )


def normalise_code(raw: object) -> str:
    """Codes are case-insensitive: stored and compared upper case, spaces trimmed."""
    return raw.strip().upper() if isinstance(raw, str) else ""


def _when(moment: datetime) -> str:
    return moment.strftime("%d %b %Y %H:%M UTC")


def code_refusal(code: str, terms: CodeTerms | None, basket: Basket) -> str | None:
    """Why `code` takes nothing off this basket, in the shopper's words; None when it applies."""
    if terms is None:
        return f"We don't know the code {code}. Check its spelling."
    if not terms.active:
        return f"The code {code} is no longer valid."
    now = basket.now
    if now is not None and terms.starts_at is not None and now < terms.starts_at:
        return f"The code {code} is valid from {_when(terms.starts_at)}."
    if now is not None and terms.ends_at is not None and now >= terms.ends_at:
        return f"The code {code} expired on {_when(terms.ends_at)}."
    if terms.max_uses is not None and terms.uses >= terms.max_uses:
        return f"The code {code} has been used up."
    if terms.per_customer is not None and terms.customer_uses >= terms.per_customer:
        times = "once" if terms.per_customer == 1 else f"{terms.per_customer} times"
        return f"The code {code} can be used {times} per customer, and you have used it already."
    eligible = terms.eligible_cents(basket)
    if not eligible:
        what = ", ".join(sorted([*terms.brands, *(d.capitalize() for d in terms.departments)]))
        return f"The code {code} is for {what} shoes only, and none are in your cart."
    if eligible < terms.min_spend_cents:
        short = money(terms.min_spend_cents - eligible)
        on = " on the shoes it applies to" if terms.brands or terms.departments else ""
        return f"The code {code} needs a spend of {money(terms.min_spend_cents)}{on}: add {short} more."
    return None


def code_amount(terms: CodeTerms, basket: Basket) -> int:
    """Never more than the lines it applies to cost."""
    eligible = terms.eligible_cents(basket)
    amount = eligible * terms.value // 100 if terms.kind == PERCENT else terms.value
    return max(0, min(amount, eligible))


def code_rule(basket: Basket) -> Discount | None:
    """The first code the shopper entered, when its terms apply (one code per order)."""
    if not basket.codes:
        return None
    code = basket.codes[0]
    terms = next((offer for offer in basket.offers if offer.code == code), None)
    if terms is None or code_refusal(code, terms, basket) is not None:
        return None
    return Discount(
        rule=f"code:{code}", label=f"Code {code} ({terms.words} off)", amount_cents=code_amount(terms, basket)
    )


def discount_shares(line_totals: Sequence[int], discount_cents: int) -> list[int]:
    """The order's discount spread over its lines in proportion to their totals, in whole cents that
    add up to the discount (the largest remainders take the odd cents): what refunding a line gives
    back is what was paid for it, never its full price after a discount."""
    subtotal = sum(line_totals)
    if subtotal <= 0 or discount_cents <= 0:
        return [0] * len(line_totals)
    discount = min(discount_cents, subtotal)
    shares = [discount * total // subtotal for total in line_totals]
    by_remainder = sorted(range(len(line_totals)), key=lambda i: -(discount * line_totals[i] % subtotal))
    for index in by_remainder[: discount - sum(shares)]:
        shares[index] += 1
    return shares


DiscountRule = Callable[[Basket], Discount | None]
DISCOUNT_RULES: tuple[DiscountRule, ...] = (code_rule,)


@dataclass(frozen=True)
class ShippingMethod:
    method_id: str
    label: str
    price_cents: int
    free_over_cents: int | None = None  # free when the goods (after discounts) cost at least this
    days_min: int = 3
    days_max: int = 5

    @property
    def estimate(self) -> str:
        days = f"{self.days_min}" if self.days_min == self.days_max else f"{self.days_min}-{self.days_max}"
        return f"{days} working day{'' if days == '1' else 's'}"

    def price_for(self, goods_cents: int) -> int:
        if goods_cents <= 0 or (self.free_over_cents is not None and goods_cents >= self.free_over_cents):
            return 0
        return self.price_cents


STANDARD = "standard"
EXPRESS = "express"
DEFAULT_EXPRESS_CENTS = 1495


def default_methods() -> tuple[ShippingMethod, ...]:
    """No zone set up (and the demo zone): Standard at the flat rate, free over the threshold; Express."""
    settings = get_settings()
    return (
        ShippingMethod(STANDARD, "Standard", settings.shipping_flat_cents, settings.free_shipping_over_cents, 3, 5),
        ShippingMethod(EXPRESS, "Express", DEFAULT_EXPRESS_CENTS, None, 1, 2),
    )


@dataclass(frozen=True)
class Quote:
    lines: tuple[PricedLine, ...]
    subtotal_cents: int
    discounts: tuple[Discount, ...]
    shipping_cents: int
    shipping: ShippingMethod | None = None
    code: str | None = None  # the code that took money off
    code_problem: str | None = None  # why the entered code did not

    @property
    def goods_cents(self) -> int:
        return self.subtotal_cents - self.discount_cents

    def shipping_options(self, methods: Sequence[ShippingMethod]) -> list[tuple[ShippingMethod, int]]:
        """Each method with its price for these goods (the review page's radio group)."""
        return [(method, method.price_for(self.goods_cents)) for method in methods]

    @property
    def discount_cents(self) -> int:
        return sum(discount.amount_cents for discount in self.discounts)

    @property
    def total_cents(self) -> int:
        return self.subtotal_cents - self.discount_cents + self.shipping_cents


def shipping_cents(goods_cents: int) -> int:
    """The default Standard method's price (the cart page's estimate before an address is known)."""
    return default_methods()[0].price_for(goods_cents)


def quote(
    lines: Iterable[PricedLine],
    codes: Sequence[str] = (),
    rules: Sequence[DiscountRule] | None = None,
    offers: Sequence[CodeTerms] = (),
    shipping: ShippingMethod | None = None,
    now: datetime | None = None,
) -> Quote:
    """`shipping` None: the default Standard method (the cart page, an address not yet known)."""
    priced = tuple(lines)
    subtotal = sum(line.line_total_cents for line in priced)
    codes = tuple(normalise_code(code) for code in codes if normalise_code(code))
    basket = Basket(lines=priced, subtotal_cents=subtotal, codes=codes, offers=tuple(offers), now=now)
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
    code = codes[0] if codes else None
    applied = code if any(discount.rule == f"code:{code}" for discount in capped) else None
    problem = None
    if code is not None and applied is None:
        terms = next((offer for offer in basket.offers if offer.code == code), None)
        problem = code_refusal(code, terms, basket) or f"The code {code} takes nothing off this order."
    method = shipping or default_methods()[0]
    return Quote(
        lines=priced,
        subtotal_cents=subtotal,
        discounts=tuple(capped),
        shipping_cents=method.price_for(room),
        shipping=method,
        code=applied,
        code_problem=problem,
    )


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
        department=shoe.department if shoe is not None else None,
    )


def quote_items(
    items: Iterable[CartItem],
    codes: Sequence[str] = (),
    offers: Sequence[CodeTerms] = (),
    shipping: ShippingMethod | None = None,
    now: datetime | None = None,
) -> Quote:
    return quote((priced_line(item) for item in items), codes, offers=offers, shipping=shipping, now=now)


def quote_cart(
    view: CartView,
    codes: Sequence[str] = (),
    offers: Sequence[CodeTerms] = (),
    shipping: ShippingMethod | None = None,
    now: datetime | None = None,
) -> Quote:
    """The cart as it can be ordered: lines with a problem (sold out, short, no longer sold) are
    shown but not priced."""
    items = (item for item in view.items if item.problem is None)
    return quote_items(items, codes, offers=offers, shipping=shipping, now=now)


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
