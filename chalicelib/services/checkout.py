"""Checkout: address, totals, and the order placed in one transaction (docs/checkout.md); the
order id derives from an idempotency key, so a double submit finds the first order.
"""

import base64
import hashlib
import hmac
import re
import secrets
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from pynamodb.exceptions import DeleteError, DoesNotExist, UpdateError

from chalicelib import clock, tokens
from chalicelib.config import get_settings
from chalicelib.models import CartLine, Order, OrderLine, OrderNumberClaim, StatusChange, Stock, User, dynamo
from chalicelib.models.base import plain_dict
from chalicelib.secrets import get_secrets
from chalicelib.services import cart as cart_service
from chalicelib.services import (
    customers,
    discounts,
    emails,
    order_numbers,
    outbox,
    payments,
    pricing,
    shipping,
    unpaid_orders,
)
from chalicelib.services.errors import Conflict, ServiceError, ValidationFailed
from chalicelib.services.validation import COUNTRIES as COUNTRIES  # re-exported: the address form lists them
from chalicelib.services.validation import COUNTRY_NAMES, check_mailable_email, clean_text, normalised_email

# field name → (label, required, max length)
ADDRESS_FIELDS = {
    "full_name": ("Full name", True, 100),
    "line1": ("Address line 1", True, 100),
    "line2": ("Address line 2", False, 100),
    "city": ("City", True, 60),
    "region": ("Region", False, 60),
    "postal_code": ("Postal code", True, 12),
    "country": ("Country", True, 2),
    "phone": ("Phone", False, 20),
}
POSTAL_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 -]{1,10}[A-Za-z0-9]$")
PHONE_RE = re.compile(r"^\+?[0-9 ()./-]{6,20}$")


def clean_address(raw: dict[str, Any]) -> dict[str, str]:
    address: dict[str, str] = {}
    errors: dict[str, str] = {}
    for name, (label, required, max_length) in ADDRESS_FIELDS.items():
        value = raw.get(name)
        value = clean_text(value if isinstance(value, str) else "").replace("\n", " ")
        if not value:
            if required:
                errors[name] = f"Enter your {label.lower()}." if name != "country" else "Choose a country."
            continue
        if len(value) > max_length:
            errors[name] = f"Use at most {max_length} characters."
            continue
        address[name] = value
    country = address.get("country", "").upper()
    if country and country not in COUNTRY_NAMES:
        errors["country"] = "Choose a country from the list."
    elif country:
        address["country"] = country
    if "postal_code" in address and not POSTAL_RE.match(address["postal_code"]):
        errors["postal_code"] = "Enter a postal code of letters, digits, spaces or dashes."
    if "phone" in address and not PHONE_RE.match(address["phone"]):
        errors["phone"] = "Enter a phone number of digits, spaces and an optional leading +."
    if errors:
        raise ValidationFailed(errors)
    return address


@dataclass(frozen=True)
class Buyer:
    """Who an order belongs to: a shopper's account, or a guest known by their cart and email."""

    key: str  # order ids and checkout keys derive from it: the user id, or the guest cart's "GUEST#<random>"
    cart_owner: str
    user: User | None = None
    email: str | None = None  # a guest's, checked by clean_guest_email
    address: dict[str, str] = field(default_factory=dict)  # the saved or given shipping address

    @property
    def user_id(self) -> str | None:
        return self.user.user_id if self.user is not None else None

    @property
    def owner_key(self) -> str:
        """Whose limits an order counts against: `USER#<id>`, or `EMAIL#<normalised email>` for a
        guest (open pay-on-delivery orders, placements)."""
        if self.user is not None:
            return unpaid_orders.owner_key_for_user(self.user.user_id)
        return f"EMAIL#{normalised_email(self.email or '')}"

    @property
    def contact_email(self) -> str | None:
        """Where the order's emails go: the account's address, or the guest's (None: nowhere)."""
        return (self.user.email if self.user is not None else self.email) or None

    def owns(self, order: Order) -> bool:
        if self.user is not None:
            return order.user_id == self.user.user_id
        return order.guest_email is not None and order.guest_email == self.email


def account_buyer(user: User) -> Buyer:
    return Buyer(
        key=user.user_id, cart_owner=cart_service.user_owner(user.user_id), user=user, address=address_of(user)
    )


def guest_buyer(guest_cart_owner: str, email: str, address: dict[str, str]) -> Buyer:
    if not cart_service.is_guest(guest_cart_owner):
        raise ValueError("a guest buyer needs a guest cart")
    return Buyer(key=guest_cart_owner, cart_owner=guest_cart_owner, email=email, address=dict(address))


def clean_guest_email(raw: Any) -> str:
    value, problem = check_mailable_email(raw)
    if problem:
        raise ValidationFailed({"email": problem})
    return value


def clean_guest_details(raw: dict[str, Any]) -> tuple[str, dict[str, str]]:
    """A guest's email and address, or ValidationFailed naming every bad field of both."""
    errors: dict[str, str] = {}
    email = address = None
    try:
        email = clean_guest_email(raw.get("email"))
    except ValidationFailed as error:
        errors.update(error.errors)
    try:
        address = clean_address(raw)
    except ValidationFailed as error:
        errors.update(error.errors)
    if errors or email is None or address is None:
        raise ValidationFailed(errors)
    return email, address


def save_address(user: User, address: dict[str, str]) -> None:
    try:
        actions = [User.last_address.set(address), *user.search_actions(full_name=address.get("full_name") or "")]
        user.update(actions=actions, condition=User.pk.exists())
    except UpdateError as error:
        raise ServiceError("Your account could not be found. Please log in again.") from error


def address_of(user: User) -> dict[str, str]:
    return {key: str(value) for key, value in plain_dict(user.last_address).items() if key in ADDRESS_FIELDS}


@dataclass
class Review:
    cart: cart_service.CartView
    quote: pricing.Quote
    shipping_methods: tuple[pricing.ShippingMethod, ...] = ()
    shipping_problem: str | None = None

    @property
    def can_place(self) -> bool:
        return not self.cart.is_empty and not self.cart.problems and not self.shipping_problem

    @property
    def shipping_options(self) -> list[tuple[pricing.ShippingMethod, int]]:
        return self.quote.shipping_options(self.shipping_methods)

    @property
    def rows(self) -> tuple[pricing.PricedLine, ...]:
        return self.quote.lines


def _order_line(line: pricing.PricedLine) -> OrderLine:
    """The order's snapshot of a priced line (the same fields, by design)."""
    return OrderLine(**asdict(line))


def review(user_id: str) -> Review:
    return review_cart(cart_service.user_owner(user_id))


def review_cart(
    cart_owner: str | None,
    country: str | None = None,
    code: str | None = None,
    method_id: str | None = None,
    customer: str | None = None,
) -> Review:
    """The cart priced for the address's country, the chosen shipping method and discount code."""
    view = cart_service.load_cart(cart_owner)
    if country is None:
        return Review(cart=view, quote=pricing.quote_cart(view))
    methods = shipping.methods_for(country)
    method = shipping.choose(country, method_id) if methods else None
    terms = discounts.load_terms(code, customer) if code else None
    quote = pricing.quote_cart(
        view, [code] if code else (), offers=[terms] if terms else (), shipping=method, now=clock.now()
    )
    problem = None if methods else shipping.no_shipping_message(country)
    return Review(cart=view, quote=quote, shipping_methods=methods, shipping_problem=problem)


KEY_RE = re.compile(r"^[A-Za-z0-9_-]{8,128}$")
ORDER_ID_RE = re.compile(r"^[A-Z2-7]{16}$")
INVALID_KEY_MESSAGE = "This checkout form is no longer valid. Please review your order again."
CHECKOUT_KEY_PURPOSE = "checkout"
CHECKOUT_KEY_MAX_AGE = 24 * 3600  # a review page left open longer is reviewed again


def new_checkout_key(user_id: str) -> str:
    """A key for the review form: a random nonce, signed (with the time) for this shopper."""
    nonce = secrets.token_urlsafe(16)
    return f"{nonce}.{tokens.sign(CHECKOUT_KEY_PURPOSE, f'{user_id}:{nonce}')}"


def nonce_from_checkout_key(user_id: str, key: Any) -> str:
    """The nonce of a form key; a tampered, expired or another shopper's key is refused."""
    if not isinstance(key, str) or len(key) > 200:
        raise ValidationFailed({"idempotency_key": INVALID_KEY_MESSAGE}, message=INVALID_KEY_MESSAGE)
    nonce, _, signature = key.partition(".")
    if not KEY_RE.match(nonce) or not tokens.verify(
        CHECKOUT_KEY_PURPOSE, f"{user_id}:{nonce}", signature, max_age=CHECKOUT_KEY_MAX_AGE
    ):
        raise ValidationFailed({"idempotency_key": INVALID_KEY_MESSAGE}, message=INVALID_KEY_MESSAGE)
    return nonce


def check_api_key(key: Any) -> str:
    """An API client's own Idempotency-Key: 8 to 128 URL-safe characters."""
    if not isinstance(key, str) or not KEY_RE.match(key):
        message = "Send an Idempotency-Key header of 8 to 128 letters, digits, '-' or '_'."
        raise ValidationFailed({"Idempotency-Key": message}, message=message)
    return key


def order_id_for(user_id: str, key: str) -> str:
    """HMAC of the shopper and key: stable across retries (and signing-key rotations: the id key
    never rotates), unguessable, per shopper."""
    digest = hmac.new(get_secrets().order_id_key, f"order\x00{user_id}\x00{key}".encode(), hashlib.sha256).digest()
    return base64.b32encode(digest[:10]).decode()


def is_order_id(value: Any) -> bool:
    return isinstance(value, str) and bool(ORDER_ID_RE.match(value))


@dataclass
class ShortLine:
    name: str
    size: str
    available: int

    @property
    def words(self) -> str:
        label = cart_service.line_label(self.name, self.size)
        if self.available <= 0:
            return f"{label}: sold out, removed from your cart."
        return f"{label}: only {self.available} left, your cart now has {self.available}."


class OutOfStock(Conflict):
    """Nothing was ordered; the cart was adjusted to what is on hand."""

    def __init__(self, lines: list[ShortLine]) -> None:
        super().__init__("Some items ran out before we could place your order. Nothing was ordered.")
        self.lines = lines


class CartChanged(Conflict):
    pass


class EmptyCart(ServiceError):
    pass


@dataclass
class Placed:
    order: Order
    created: bool  # False when this was a retry of an order already placed
    notes: list[str] = field(default_factory=list)


TRANSACTION_ATTEMPTS = dynamo.RETRY_ATTEMPTS
ORDER_ROLE = "order"
NUMBER_ROLE = "order-number"
NUMBER_ATTEMPTS = 4  # a collision of random order numbers is one in a billion per order placed


def _find_order(buyer: Buyer, order_id: str) -> Order | None:
    try:
        order = Order.get(order_id, consistent_read=True)  # a retry must see the order just placed
    except DoesNotExist:
        return None
    return order if buyer.owns(order) else None


def _address_for_order(buyer: Buyer, address: dict[str, str] | None) -> dict[str, str]:
    if address is not None:
        return clean_address(address)
    saved = buyer.address
    if not saved:
        message = "Enter a shipping address first."
        raise ValidationFailed({"address": message}, message=message)
    return clean_address(saved)


class PricesChanged(Conflict):
    pass


def check_payment_method(method: Any) -> str:
    available = payments.available_methods()
    if method not in available:
        names = " or ".join(payments.METHOD_LABELS[m] for m in available) or "none right now"
        message = f"Choose how to pay: {names}."
        raise ValidationFailed({"payment_method": message}, message=message)
    return str(method)


def place_order(
    buyer: User | Buyer,
    idempotency_key: str,
    address: dict[str, str] | None = None,
    expected_total_cents: int | None = None,
    also_write: Callable[[dynamo.Transaction], None] | None = None,
    payment_method: str = payments.PAY_ON_DELIVERY,
    discount_code: str | None = None,
    shipping_method: str | None = None,
) -> Placed:
    """Place the buyer's cart as one order (one per key); a changed reviewed total stops it for a
    new review. A User is a shopper placing from their account's cart. `also_write` adds the
    caller's own actions to the order's transaction (the session's cart count). A discount code
    that does not apply stops the order (ValidationFailed on `discount_code`); its use is taken in
    the order's transaction (services/discounts.py)."""
    settings = get_settings()
    buyer = account_buyer(buyer) if isinstance(buyer, User) else buyer
    order_id = order_id_for(buyer.key, idempotency_key)
    owner = buyer.cart_owner
    view = cart_service.load_cart(owner)
    if view.is_empty:
        existing = _find_order(buyer, order_id)
        if existing is not None:
            return Placed(order=existing, created=False)
        raise EmptyCart(cart_service.EMPTY_CART)
    shipping_address = _address_for_order(buyer, address)
    if len(view.items) > settings.cart_max_lines:
        raise ValidationFailed(
            {"cart": f"A cart holds at most {settings.cart_max_lines} different items."},
            message=f"Remove some items: an order holds at most {settings.cart_max_lines} different items.",
        )
    unavailable = [item for item in view.items if not item.available]
    if unavailable:
        _adjust_cart(owner, [(item, 0) for item in unavailable])
        raise OutOfStock([ShortLine(item.name, item.line.size, 0) for item in unavailable])

    now = clock.now()
    method = shipping.choose(shipping_address["country"], shipping_method)
    code = discounts.check_code_text(discount_code) if discount_code else None
    terms = discounts.load_terms(code, buyer.owner_key) if code else None
    # Every line is priced, short ones too: the transaction's stock conditions refuse those.
    quote = pricing.quote_items(
        view.items, [code] if code else (), offers=[terms] if terms else (), shipping=method, now=now
    )
    if quote.code_problem:
        raise ValidationFailed({"discount_code": quote.code_problem}, message=quote.code_problem)
    if expected_total_cents is not None and expected_total_cents != quote.total_cents:
        raise PricesChanged("Prices or your cart changed since you reviewed your order. Please check the new total.")
    payment_method = check_payment_method(payment_method)
    unpaid_owner = None
    if payment_method == payments.PAY_ON_DELIVERY:
        unpaid_orders.check_pairs((item.line.shoe_id, item.name, item.quantity) for item in view.items)
        unpaid_owner = buyer.owner_key  # USER#<id>, or EMAIL#<address> for a guest
    decision = payments.prepare(
        payment_method,
        payments.PaymentRequest(
            order_id=order_id,
            user_id=buyer.user_id or buyer.owner_key,
            amount_cents=quote.total_cents,
            currency=settings.currency,
        ),
    )
    order = Order(
        order_id=order_id,
        user_id=buyer.user_id,
        guest_email=buyer.email,
        status=decision.status,
        created_at=now,
        created_sort=f"{clock.sortable(now)}#{order_id}",
        updated_at=now,
        lines=[_order_line(line) for line in quote.lines],
        address=shipping_address,
        subtotal_cents=quote.subtotal_cents,
        discount_cents=quote.discount_cents,
        shipping_cents=quote.shipping_cents,
        total_cents=quote.total_cents,
        payment_method=decision.method,
        history=[StatusChange(status=decision.status, at=now, by="shopper", note=decision.note or None)],
        unpaid_slot_owner=unpaid_owner,
        discount_code=quote.code,
        discount_claim=buyer.owner_key if terms is not None and terms.per_customer is not None else None,
        shipping_method_id=method.method_id,
        shipping_label=method.label,
    )
    customers.set_customer(order, buyer.user, buyer.email, shipping_address)
    if decision.status == payments.PENDING_PAYMENT:
        payments.mark_payment_due(order, now)
    # A card order's confirmation is the "payment received" email, once Stripe confirms it.
    recipient = buyer.contact_email
    paid_later = order.status == payments.PENDING_PAYMENT
    code_use = discounts.take_use(terms, buyer.owner_key) if terms is not None else None
    writes = [write for write in (code_use, also_write) if write is not None]

    def extra_writes(transaction: dynamo.Transaction) -> None:
        for write in writes:
            write(transaction)

    for attempt in range(NUMBER_ATTEMPTS):
        order.order_number = order_numbers.new_number()
        confirmation = emails.order_placed(order, recipient) if recipient and not paid_later else None
        try:
            _transact(order, view.items, now, confirmation, extra_writes)
            break
        except dynamo.ConditionsFailed as failed:
            # Only the number was taken (by another order): place it again with another number.
            if failed.roles == (NUMBER_ROLE,) and attempt + 1 < NUMBER_ATTEMPTS:
                continue
            return _after_cancel(failed, buyer, owner, order_id, view.items)
    # The catalogue's read model follows from the stock table's stream (catalogue_index.apply_changes).
    return Placed(order=order, created=True)


def _transact(
    order: Order,
    items: list[cart_service.CartItem],
    now: Any,
    confirmation: outbox.Message | None,
    also_write: Callable[[dynamo.Transaction], None] | None = None,
) -> None:
    """One TransactWriteItems (the confirmation email included), retried with jittered backoff on
    conflicts and throttling only."""

    def build(transaction: dynamo.Transaction) -> None:
        for item in items:  # one line per (shoe, size): the cart's key guarantees no duplicates
            n = item.quantity
            transaction.update(
                _stock_role(item),
                Stock(shoe_id=item.line.shoe_id, size=item.line.size),
                actions=[
                    Stock.quantity.set(Stock.quantity - n),
                    Stock.sold.set(Stock.sold + n),
                    Stock.updated_at.set(now),
                ],
                condition=Stock.quantity >= n,
            )
        transaction.save(ORDER_ROLE, order, condition=Order.order_id.does_not_exist())
        if order.order_number:
            claim = OrderNumberClaim(pk=OrderNumberClaim.key_for(order.order_number), order_id=order.order_id)
            transaction.save(NUMBER_ROLE, claim, condition=OrderNumberClaim.pk.does_not_exist())
        if confirmation is not None:
            outbox.add(transaction, confirmation)
        for item in items:
            transaction.delete(
                f"cart:{item.line.line_id}",
                CartLine(owner=item.line.owner, line_id=item.line.line_id),
                condition=CartLine.quantity == item.quantity,
            )
        if items:
            cart_service.forget_line_count(transaction, items[0].line.owner)
        if also_write is not None:
            also_write(transaction)
        if order.unpaid_slot_owner:
            unpaid_orders.take_slot(transaction, order.unpaid_slot_owner)

    dynamo.transact(build, attempts=TRANSACTION_ATTEMPTS)


def _stock_role(item: cart_service.CartItem) -> str:
    return f"stock:{item.line.shoe_id}#{item.line.size}"


def _after_cancel(
    failed: dynamo.ConditionsFailed, buyer: Buyer, owner: str, order_id: str, items: list[cart_service.CartItem]
) -> Placed:
    """Why the transaction was cancelled (nothing was written)."""
    if failed.failed(ORDER_ROLE):
        existing = _find_order(buyer, order_id)
        if existing is not None:
            return Placed(order=existing, created=False)
    if failed.failed(unpaid_orders.SLOT_ROLE):
        raise unpaid_orders.TooManyUnpaidOrders(unpaid_orders.limit_message())
    if failed.failed(discounts.CODE_ROLE) or failed.failed(discounts.CLAIM_ROLE):
        raise discounts.CodeUnavailable(
            "Your discount code was used up or changed just now, so nothing was ordered. "
            "Please review your order again."
        )
    short_items = [item for item in items if failed.failed(_stock_role(item))]
    if short_items:
        _, stock = cart_service.batch_read([(item.line.shoe_id, item.line.size) for item in short_items])
        adjustments = []
        for item in short_items:
            row = stock.get((item.line.shoe_id, item.line.size))
            adjustments.append((item, max(0, int(row.quantity)) if row is not None else 0))
        _adjust_cart(owner, adjustments)
        raise OutOfStock([ShortLine(item.name, item.line.size, left) for item, left in adjustments])
    raise CartChanged("Your cart changed while you were checking out. Please review your order again.")


def _adjust_cart(owner: str, adjustments: list[tuple[cart_service.CartItem, int]]) -> None:
    """Bring short lines down to what is on hand; remove lines with nothing left."""
    for item, available in adjustments:
        line = CartLine(owner=owner, line_id=item.line.line_id)
        try:
            if available <= 0:
                line.delete(condition=CartLine.line_id.exists())
            elif available < item.quantity:
                line.update(actions=[CartLine.quantity.set(available)], condition=CartLine.line_id.exists())
        except (DeleteError, UpdateError):
            continue  # the shopper removed the line meanwhile: nothing to adjust
