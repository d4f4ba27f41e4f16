"""Carts: lines keyed by (shoe, size), capped by stock and limits; guest carts and merging.
Prices are never stored in a cart: reading one costs a Query and a BatchGetItem.
"""

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from pynamodb.exceptions import DeleteError, DoesNotExist, PutError, UpdateError
from pynamodb.expressions.update import Action

from chalicelib import clock
from chalicelib.config import get_settings
from chalicelib.models import CartLine, CartLineCount, Shoe, Stock, dynamo
from chalicelib.models.base import batch_get_raw
from chalicelib.models.dynamo import condition_failed
from chalicelib.services.errors import Conflict, NotFound, ValidationFailed
from chalicelib.services.shoes import NO_SUCH_SHOE, SHOE_ID_RE
from chalicelib.sizes import is_valid as is_valid_size

QUANTITY_TEXT_MAX = 6  # "abc", "1e999" and a megabyte of digits all fail before int()
NOT_IN_CART = "That line is not in your cart."
# A line changed in another tab, expired or never this cart's: the cart page says so (no 404 page).
GONE_FROM_CART = "That item is no longer in your cart (it may have been removed in another tab)."
EMPTY_CART = "Your cart is empty. Add a pair of shoes first."
WRITE_ATTEMPTS = 3  # optimistic writes lose a race only to another request of the same shopper
# A new line can also lose to a recount of the cart's line slots (one per request racing at the cap).
NEW_LINE_ATTEMPTS = 6
LINE_ROLE = "line"
COUNT_ROLE = "line-count"


def user_owner(user_id: str) -> str:
    return f"USER#{user_id}"


def guest_owner(guest_id: str) -> str:
    return f"GUEST#{guest_id}"


def is_guest(owner: str) -> bool:
    return owner.startswith("GUEST#")


def line_label(name: str, size: str) -> str:
    return f"{name} (EU {size})"


def parse_quantity(raw: Any, field_name: str = "quantity") -> int:
    """A whole number from 1 to the per-line limit, from a form or JSON."""
    limit = get_settings().cart_max_quantity
    message = f"Choose a quantity from 1 to {limit}."
    if isinstance(raw, bool) or raw is None:
        raise ValidationFailed({field_name: message})
    if isinstance(raw, int):
        value = raw
    else:
        text = str(raw).strip()
        if not text or len(text) > QUANTITY_TEXT_MAX or not text.lstrip("-").isdigit() or not text.isascii():
            raise ValidationFailed({field_name: message})
        value = int(text)
    if not 1 <= value <= limit:
        raise ValidationFailed({field_name: message})
    return value


def check_line_key(shoe_id: Any, size: Any) -> tuple[str, str]:
    """Shape checks before any read: a malformed id or size never reaches DynamoDB."""
    errors = {}
    shoe_id = shoe_id.strip() if isinstance(shoe_id, str) else ""
    size = size.strip() if isinstance(size, str) else ""
    if not SHOE_ID_RE.match(shoe_id):
        errors["shoe_id"] = NO_SUCH_SHOE
    if not is_valid_size(size):
        errors["size"] = "Choose one of the sizes offered."
    if errors:
        raise ValidationFailed(errors)
    return shoe_id, size


def split_line_id(line_id: Any) -> tuple[str, str]:
    if not isinstance(line_id, str) or line_id.count("#") != 1:
        raise NotFound(NOT_IN_CART)
    shoe_id, size = line_id.split("#")
    try:
        return check_line_key(shoe_id, size)
    except ValidationFailed as error:
        raise NotFound(NOT_IN_CART) from error


@dataclass
class CartItem:
    line: CartLine
    shoe: Shoe | None
    in_stock: int  # units on hand for this size now

    @property
    def available(self) -> bool:
        return self.shoe is not None and self.shoe.is_active and self.line.size in (self.shoe.sizes or [])

    @property
    def unit_price_cents(self) -> int:
        return int(self.shoe.price_cents) if self.shoe is not None else 0

    @property
    def quantity(self) -> int:
        return int(self.line.quantity)

    @property
    def line_total_cents(self) -> int:
        return self.unit_price_cents * self.quantity

    @property
    def problem(self) -> str | None:
        """Words for the shopper when this line cannot be ordered as it stands."""
        if not self.available:
            return "No longer sold"
        if self.in_stock <= 0:
            return "Sold out"
        if self.in_stock < self.quantity:
            return f"Only {self.in_stock} left"
        return None

    @property
    def name(self) -> str:
        return self.shoe.name if self.shoe is not None else "A shoe no longer in the shop"

    @property
    def image_key(self) -> str | None:
        if self.shoe is None or not self.shoe.images:
            return None
        return self.shoe.images[0].thumb_key


@dataclass
class CartView:
    owner: str
    items: list[CartItem] = field(default_factory=list)

    @property
    def units(self) -> int:
        return sum(item.quantity for item in self.items)

    @property
    def problems(self) -> list[CartItem]:
        return [item for item in self.items if item.problem is not None]

    @property
    def is_empty(self) -> bool:
        return not self.items


def _live_lines(owner: str) -> list[CartLine]:
    """Strongly consistent, so a page right after a change shows it; expired guest lines are skipped."""
    now = clock.now()
    lines = list(CartLine.query(owner, consistent_read=True))
    return [line for line in lines if line.expires_at is None or line.expires_at > now]


def batch_read(keys: list[tuple[str, str]]) -> tuple[dict[str, Shoe], dict[tuple[str, str], Stock]]:
    """Shoes and stock for (shoe_id, size) pairs in one BatchGetItem (at most 50 keys)."""
    shoes: dict[str, Shoe] = {}
    stock: dict[tuple[str, str], Stock] = {}
    if not keys:
        return shoes, stock
    shoe_table = Shoe.Meta.table_name
    stock_table = Stock.Meta.table_name
    request = {
        shoe_table: {"Keys": [{"shoe_id": {"S": shoe_id}} for shoe_id in sorted({k[0] for k in keys})]},
        stock_table: {
            "Keys": [{"shoe_id": {"S": shoe_id}, "size": {"S": size}} for shoe_id, size in sorted(set(keys))],
            "ConsistentRead": True,  # stock moves with every order: show what is on hand now
        },
    }
    found = batch_get_raw(request)
    for item in found[shoe_table]:
        shoe = Shoe.from_raw_data(item)
        shoes[shoe.shoe_id] = shoe
    for item in found[stock_table]:
        row = Stock.from_raw_data(item)
        stock[(row.shoe_id, row.size)] = row
    return shoes, stock


def load_cart(owner: str | None) -> CartView:
    if owner is None:
        return CartView(owner="")
    lines = _live_lines(owner)
    return _view(owner, lines)


def _view(owner: str, lines: list[CartLine]) -> CartView:
    shoes, stock = batch_read([(line.shoe_id, line.size) for line in lines])
    items = [
        CartItem(
            line=line,
            shoe=shoes.get(line.shoe_id),
            in_stock=max(0, int(stock[(line.shoe_id, line.size)].quantity))
            if (line.shoe_id, line.size) in stock
            else 0,
        )
        for line in sorted(lines, key=lambda line: line.added_at)
    ]
    return CartView(owner=owner, items=items)


def count_units(owner: str | None) -> int:
    if owner is None:
        return 0
    return sum(int(line.quantity) for line in _live_lines(owner))


@dataclass
class CartChange:
    message: str
    capped: bool = False


def _sellable(shoe_id: str, size: str) -> tuple[Shoe, int]:
    """The shoe and units on hand; NotFound/ValidationFailed when that size cannot be sold."""
    shoes, stock = batch_read([(shoe_id, size)])
    shoe = shoes.get(shoe_id)
    if shoe is None or not shoe.is_active:
        raise NotFound(NO_SUCH_SHOE)
    if size not in (shoe.sizes or []):
        raise ValidationFailed({"size": "That size is not offered for this shoe. Choose another size."})
    row = stock.get((shoe_id, size))
    return shoe, max(0, int(row.quantity)) if row is not None else 0


def _get_line(owner: str, line_id: str) -> CartLine | None:
    try:
        line = CartLine.get(owner, line_id, consistent_read=True)
    except DoesNotExist:
        return None
    if line.expires_at is not None and line.expires_at <= clock.now():
        return None
    return line


def _guest_expiry(owner: str) -> Any:
    if not is_guest(owner):
        return None
    return clock.now() + timedelta(seconds=get_settings().session_absolute_seconds)


class CartFull(Exception):
    """Every line slot of the cart is taken (the cap is settings.cart_max_lines)."""


def _cart_full_error() -> ValidationFailed:
    limit = get_settings().cart_max_lines
    words = f"Your cart holds at most {limit} different items. Remove one first."
    return ValidationFailed({"cart": words}, message=words)


def _counter(owner: str) -> CartLineCount:
    return CartLineCount(owner=CartLineCount.key_for(owner), line_id=CartLineCount.KEY)


def _line(owner: str, shoe_id: str, size: str, quantity: int, previous: CartLine | None) -> CartLine:
    return CartLine(
        owner=owner,
        line_id=CartLine.line_key(shoe_id, size),
        shoe_id=shoe_id,
        size=size,
        quantity=quantity,
        added_at=previous.added_at if previous is not None else clock.now(),
        expires_at=_guest_expiry(owner),
    )


def _write_line(owner: str, shoe_id: str, size: str, quantity: int, previous: CartLine | None) -> None:
    """Optimistic write: only if the line is still as read, so two tabs cannot both add past a cap.
    A new line also takes one of the cart's line slots in the same transaction (CartFull when none
    is left). Raises PutError (or ConditionsFailed) when the line changed under us."""
    line = _line(owner, shoe_id, size, quantity, previous)
    if previous is not None:
        line.save(condition=CartLine.quantity == int(previous.quantity))
        return
    for _attempt in range(NEW_LINE_ATTEMPTS):
        try:
            _put_new_line(owner, line)
            return
        except dynamo.ConditionsFailed as failed:
            if failed.failed(LINE_ROLE):
                raise  # the line appeared meanwhile (another tab): the caller reads again
            if not _recount_lines(owner):
                raise CartFull() from failed
    raise Conflict("Your cart changed while we were updating it. Please try again.")


def _put_new_line(owner: str, line: CartLine) -> None:
    cap = get_settings().cart_max_lines
    now = clock.now()
    slot_actions: list[Action] = [CartLineCount.line_count.add(1)]
    if is_guest(owner):
        slot_actions.append(CartLineCount.expires_at.set(_guest_expiry(owner)))

    def build(transaction: dynamo.Transaction) -> None:
        # A guest line past its TTL may still be stored (TTL deletes late): it counts as absent.
        transaction.save(LINE_ROLE, line, condition=CartLine.line_id.does_not_exist() | (CartLine.expires_at <= now))
        # A missing counter fails this condition too: _recount_lines creates it.
        transaction.update(COUNT_ROLE, _counter(owner), actions=slot_actions, condition=CartLineCount.line_count < cap)

    dynamo.transact(build)


def _recount_lines(owner: str) -> bool:
    """Bring the line counter down to the lines really stored (checkout, expiry and old carts leave it
    high or missing); False when the cart is full. The counter is read before the lines and written
    only if unchanged since, and every new line moves it: so it never ends below the real count."""
    cap = get_settings().cart_max_lines
    try:
        counter: CartLineCount | None = CartLineCount.get(
            CartLineCount.key_for(owner), CartLineCount.KEY, consistent_read=True
        )
    except DoesNotExist:
        counter = None
    live = len(_live_lines(owner))
    if counter is not None and int(counter.line_count) <= live:
        return live < cap
    try:
        if counter is None:
            fresh = _counter(owner)
            fresh.line_count = live
            fresh.expires_at = _guest_expiry(owner)
            fresh.save(condition=CartLineCount.owner.does_not_exist())
        else:
            counter.update(
                actions=[CartLineCount.line_count.set(live)],
                condition=CartLineCount.line_count == int(counter.line_count),
            )
    except (PutError, UpdateError) as error:
        if not condition_failed(error):
            raise
    return True  # counted afresh, or someone else moved the counter meanwhile: try the add again


def add_item(owner: str, shoe_id: Any, size: Any, quantity: Any) -> CartChange:
    """Add units of a (shoe, size), growing an existing line, capped by the limits and stock."""
    quantity = parse_quantity(quantity)
    shoe_id, size = check_line_key(shoe_id, size)
    settings = get_settings()
    shoe, in_stock = _sellable(shoe_id, size)
    label = line_label(shoe.name, size)
    if in_stock <= 0:
        raise Conflict(f"{label} is sold out.")
    for _attempt in range(WRITE_ATTEMPTS):
        existing = _get_line(owner, CartLine.line_key(shoe_id, size))
        have = int(existing.quantity) if existing is not None else 0
        cap = min(settings.cart_max_quantity, in_stock)
        if have >= cap:
            raise Conflict(_cap_words(label, cap, in_stock, settings.cart_max_quantity, already=True))
        wanted = have + quantity
        new_quantity = min(wanted, cap)
        try:
            _write_line(owner, shoe_id, size, new_quantity, existing)
        except CartFull as error:
            raise _cart_full_error() from error
        except dynamo.ConditionsFailed:
            continue  # the line appeared under us (another tab): read again
        except PutError as error:
            if not condition_failed(error):
                raise  # throttled or unavailable: nothing was written, the busy page says try again
            continue  # the line changed under us (another tab): read again
        if new_quantity < wanted:
            return CartChange(_cap_words(label, new_quantity, in_stock, settings.cart_max_quantity), capped=True)
        return CartChange(f"Added {pairs(quantity)} of {label} to your cart.")
    raise Conflict("Your cart changed while we were updating it. Please try again.")


def pairs(n: int) -> str:
    return "1 pair" if n == 1 else f"{n} pairs"


def _cap_words(label: str, cap: int, in_stock: int, limit: int, already: bool = False) -> str:
    reason = f"only {in_stock} left" if in_stock < limit else f"at most {limit} per order"
    if already:
        return f"You already have {pairs(cap)} of {label} in your cart ({reason})."
    return f"Your cart now has {pairs(cap)} of {label} ({reason})."


def set_quantity(owner: str, line_id: Any, quantity: Any) -> CartChange:
    """Change a line's quantity; a line id from another cart is NotFound."""
    shoe_id, size = split_line_id(line_id)
    quantity = parse_quantity(quantity)
    line = _get_line(owner, CartLine.line_key(shoe_id, size))
    if line is None:
        raise NotFound(NOT_IN_CART)
    shoe, in_stock = _sellable(shoe_id, size)
    label = line_label(shoe.name, size)
    if in_stock <= 0:
        raise Conflict(f"{label} is sold out. Remove it from your cart.")
    new_quantity = min(quantity, in_stock)
    actions: list[Action] = [CartLine.quantity.set(new_quantity)]
    if is_guest(owner):
        actions.append(CartLine.expires_at.set(_guest_expiry(owner)))  # an active guest keeps the cart
    try:
        line.update(actions=actions, condition=CartLine.line_id.exists())
    except UpdateError as error:
        if not condition_failed(error):
            raise
        raise NotFound(NOT_IN_CART) from error
    if new_quantity < quantity:
        return CartChange(f"Only {in_stock} left of {label}: your cart now has {new_quantity}.", capped=True)
    return CartChange(f"{label}: quantity is now {new_quantity}.")


def change_quantity(owner: str, line_id: Any, quantity: Any) -> CartChange:
    """The cart page's quantity box: 0 removes the line, any other value is set_quantity's."""
    if isinstance(quantity, str) and quantity.strip() in ("0", "00"):
        return remove_line(owner, line_id)
    return set_quantity(owner, line_id, quantity)


def remove_line(owner: str, line_id: Any) -> CartChange:
    """Delete a live line and give back its line slot in one transaction."""
    shoe_id, size = split_line_id(line_id)
    line = CartLine(owner=owner, line_id=CartLine.line_key(shoe_id, size))
    # Only a live line: an expired guest line is not in the cart, nor (after a recount) in the counter.
    live = CartLine.line_id.exists() & (CartLine.expires_at.does_not_exist() | (CartLine.expires_at > clock.now()))

    def build(transaction: dynamo.Transaction) -> None:
        transaction.delete(LINE_ROLE, line, condition=live)
        transaction.update(
            COUNT_ROLE,
            _counter(owner),
            actions=[CartLineCount.line_count.add(-1)],
            condition=CartLineCount.line_count > 0,
        )

    try:
        dynamo.transact(build)
    except dynamo.ConditionsFailed as failed:
        if failed.failed(LINE_ROLE):
            raise NotFound(NOT_IN_CART) from failed
        _delete_uncounted(line, live)
    return CartChange("Removed from your cart.")


def _delete_uncounted(line: CartLine, live: Any) -> None:
    """A cart without a counter (from before it, or just checked out): the next new line recounts."""
    try:
        line.delete(condition=live)
    except DeleteError as error:
        if not condition_failed(error):
            raise
        raise NotFound(NOT_IN_CART) from error


def empty_cart(owner: str) -> None:
    """Every line and the line counter (a missing counter is recounted by the next new line)."""
    with CartLine.batch_write() as batch:
        for line in CartLine.query(owner, attributes_to_get=["owner", "line_id"]):
            batch.delete(line)
    _counter(owner).delete()


def forget_line_count(transaction: dynamo.Transaction, owner: str) -> None:
    """Checkout deletes lines in its transaction: dropping the counter there (one more action, no
    extra call) makes the next new line recount the cart rather than trust a stale count."""
    transaction.delete(COUNT_ROLE, _counter(owner))


@dataclass
class MergeResult:
    moved_units: int = 0
    notes: list[str] = field(default_factory=list)
    units: int = 0  # units in the account's cart afterwards


def merge_guest_cart(guest_id: str, user_id: str) -> MergeResult:
    """Move a guest's lines into the account's cart (summed, capped), then delete them."""
    settings = get_settings()
    result = MergeResult()
    source = guest_owner(guest_id)
    target = user_owner(user_id)
    guest_lines = _live_lines(source)
    account_lines = {line.line_id: line for line in _live_lines(target)}
    if guest_lines:
        shoes, stock = batch_read([(line.shoe_id, line.size) for line in guest_lines])
        line_count = len(account_lines)
        for guest_line in sorted(guest_lines, key=lambda line: line.added_at):
            shoe = shoes.get(guest_line.shoe_id)
            row = stock.get((guest_line.shoe_id, guest_line.size))
            in_stock = max(0, int(row.quantity)) if row is not None else 0
            label = line_label(shoe.name, guest_line.size) if shoe is not None else "A shoe"
            if shoe is None or not shoe.is_active or guest_line.size not in (shoe.sizes or []):
                result.notes.append(f"{label} is no longer sold and was left out.")
                continue
            existing = account_lines.get(guest_line.line_id)
            have = int(existing.quantity) if existing is not None else 0
            did_not_fit = f"{label} did not fit: a cart holds at most {settings.cart_max_lines} items."
            if existing is None and line_count >= settings.cart_max_lines:
                result.notes.append(did_not_fit)
                continue
            cap = min(settings.cart_max_quantity, in_stock)
            wanted = have + int(guest_line.quantity)
            new_quantity = min(wanted, cap)
            if new_quantity <= have:
                if in_stock <= 0:
                    result.notes.append(f"{label} is sold out and was left out.")
                else:
                    result.notes.append(f"{label}: you already have {have}, the most you can order.")
                continue
            try:
                _write_line(target, guest_line.shoe_id, guest_line.size, new_quantity, existing)
            except CartFull:
                result.notes.append(did_not_fit)
                line_count = settings.cart_max_lines
                continue
            except (PutError, dynamo.ConditionsFailed) as error:
                if isinstance(error, PutError) and not condition_failed(error):
                    raise
                result.notes.append(f"{label} changed while merging; check its quantity.")
                continue
            if existing is None:
                line_count += 1
            result.moved_units += new_quantity - have
            if new_quantity < wanted:
                result.notes.append(f"{label}: only {new_quantity} could go in your cart.")
        empty_cart(source)
    result.units = count_units(target)
    return result
