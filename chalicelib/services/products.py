"""The back office's product rules; every write is conditioned (on the version or count seen, or
stock >= 0), never read-modify-write.
"""

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pynamodb.exceptions import UpdateError
from pynamodb.transactions import TransactWrite

from chalicelib import clock, sizes
from chalicelib.formatting import plural
from chalicelib.models import Shoe, Stock, dynamo, shared_connection
from chalicelib.models.catalogue import ACTIVE, ARCHIVED, DRAFT
from chalicelib.models.dynamo import condition_failed
from chalicelib.services import audit
from chalicelib.services.errors import Conflict, ValidationFailed
from chalicelib.services.paging import Page, query_page
from chalicelib.services.shoes import CATEGORIES, DEPARTMENTS, LOW_STOCK, format_price, get_shoe, parse_price
from chalicelib.services.validation import clean_text

STATUSES = (DRAFT, ACTIVE, ARCHIVED)
MAX_STOCK = 100_000
MAX_PRICE_CENTS = 10_000_00
LIMITS = {"name": 80, "brand": 40, "colour": 30, "description": 2000}
BAD_PAIRS = "Enter a whole number of pairs, 0 or more."
ADMIN_PAGE_SIZE = 20
SEARCH_MAX = 60


def stock_field(size: str) -> str:
    return f"stock_{size}"


@dataclass
class ProductInput:
    name: str
    brand: str
    colour: str
    category: str
    department: str
    description: str
    price: str


class StaleEdit(Conflict):
    """Someone saved the shoe after this admin loaded it; `current` is the newer shoe."""

    def __init__(self, current: Shoe) -> None:
        super().__init__(
            "Someone else saved this shoe while you were editing it. Their version is shown below; "
            "re-apply your changes and save again."
        )
        self.current = current


def _clean_product(data: ProductInput) -> tuple[dict[str, Any], dict[str, str]]:
    values: dict[str, Any] = {
        "name": clean_text(data.name),
        "brand": clean_text(data.brand),
        "colour": clean_text(data.colour),
        "description": clean_text(data.description),
        "category": clean_text(data.category),
        "department": clean_text(data.department),
    }
    errors: dict[str, str] = {}
    for name, label in (("name", "a name"), ("brand", "a brand"), ("colour", "a colour")):
        if not values[name]:
            errors[name] = f"Enter {label}."
    for name, limit in LIMITS.items():
        if len(values[name]) > limit:
            errors[name] = f"Use at most {limit} characters."
    if values["category"] not in CATEGORIES:
        errors["category"] = "Choose a category."
    if values["department"] not in DEPARTMENTS:
        errors["department"] = "Choose men, women or kids."
    cents = parse_price(data.price)
    if cents is None:
        errors["price"] = "Enter a price in dollars, like 89.95."
    elif cents < 1 or cents > MAX_PRICE_CENTS:
        errors["price"] = f"Enter a price between 0.01 and {format_price(MAX_PRICE_CENTS)}."
    values["price_cents"] = cents
    return values, errors


def parse_whole_number(text: str, allow_negative: bool = False) -> int | None:
    text = (text or "").strip()
    if not re.fullmatch(r"[+-]?\d{1,6}", text):
        return None
    value = int(text)
    if value < 0 and not allow_negative:
        return None
    return value


def _clean_stock(department: str, stock: dict[str, str]) -> tuple[dict[str, int], dict[str, str]]:
    quantities: dict[str, int] = {}
    errors: dict[str, str] = {}
    for size in sizes.sizes_for(department):
        raw = stock.get(size, "")
        quantity = 0 if not raw.strip() else parse_whole_number(raw)
        if quantity is None or quantity > MAX_STOCK:
            errors[stock_field(size)] = BAD_PAIRS
        else:
            quantities[size] = quantity
    return quantities, errors


def create_shoe(data: ProductInput, stock: dict[str, str], admin: str) -> Shoe:
    values, errors = _clean_product(data)
    quantities, stock_errors = _clean_stock(values["department"], stock) if "department" not in errors else ({}, {})
    errors.update(stock_errors)
    if errors:
        raise ValidationFailed(errors)
    now = clock.now()
    shoe = Shoe(
        shoe_id=uuid.uuid4().hex[:16],
        name=values["name"],
        brand=values["brand"],
        colour=values["colour"],
        department=values["department"],
        category=values["category"],
        description=values["description"],
        price_cents=values["price_cents"],
        sizes=sizes.sizes_for(values["department"]),
        images=[],
        status=DRAFT,
        created_at=now,
        updated_at=now,
    )
    shoe.set_sort_keys()
    with TransactWrite(connection=shared_connection()) as transaction:
        transaction.save(shoe, condition=Shoe.shoe_id.does_not_exist())
        for size, quantity in quantities.items():
            item = Stock(shoe_id=shoe.shoe_id, size=size, quantity=quantity, sold=0, updated_at=now)
            transaction.save(item, condition=Stock.size.does_not_exist())
    audit.record(admin, "shoe.create", shoe_id=shoe.shoe_id, name=shoe.name)
    return shoe


def update_shoe(shoe_id: str, data: ProductInput, seen_version: str, admin: str) -> Shoe:
    """Save the form over the version the admin loaded; a newer save raises StaleEdit."""
    values, errors = _clean_product(data)
    if errors:
        raise ValidationFailed(errors)
    shoe = get_shoe(shoe_id)
    if str(shoe.version) != str(seen_version).strip():
        raise StaleEdit(shoe)
    now = clock.now()
    old_sizes = list(shoe.sizes)
    fields = ("name", "brand", "colour", "category", "department", "description", "price_cents")
    for name in fields:
        setattr(shoe, name, values[name])
    shoe.sizes = sizes.sizes_for(values["department"])
    shoe.updated_at = now
    shoe.set_sort_keys()
    extra = ("sizes", "updated_at", "price_sort", "search_text")
    actions = [getattr(Shoe, name).set(getattr(shoe, name)) for name in fields + extra]
    try:
        # update() adds `version = <loaded version>` and increments it: a save in between fails.
        shoe.update(actions=actions)
    except UpdateError as error:
        if condition_failed(error):
            raise StaleEdit(get_shoe(shoe_id)) from error
        raise
    for size in set(shoe.sizes) - set(old_sizes):  # a new size system's rows (ADD 0 creates, never changes)
        Stock(shoe_id=shoe_id, size=size).update(actions=[Stock.quantity.add(0), Stock.sold.add(0)])
    audit.record(admin, "shoe.update", shoe_id=shoe_id, version=shoe.version)
    return shoe


NO_PHOTO = "Add a photo first, or tick “Publish without a photo”: shoppers would see an empty grey box."
STATUS_ACTIONS = {ACTIVE: "restore", ARCHIVED: "archive"}


def _set_status(shoe_id: str, status: str, admin: str, action: str = "") -> Shoe:
    shoe = get_shoe(shoe_id)
    if shoe.status == status:
        return shoe
    try:
        shoe.update(actions=[Shoe.status.set(status), Shoe.updated_at.set(clock.now())])
    except UpdateError as error:
        if condition_failed(error):
            raise Conflict("The shoe changed while you were working. Reload and try again.") from error
        raise
    audit.record(admin, f"shoe.{action or STATUS_ACTIONS[status]}", shoe_id=shoe_id)
    return shoe


def publish_shoe(shoe_id: str, admin: str, without_photo: bool = False) -> Shoe:
    """A draft goes into the shop; with no photo only when the admin says so (`without_photo`)."""
    shoe = get_shoe(shoe_id)
    if shoe.status != DRAFT:
        raise Conflict("Only a draft can be published; this shoe is already " + shoe.status + ".")
    if not shoe.images and not without_photo:
        raise ValidationFailed({"without_photo": NO_PHOTO}, NO_PHOTO)
    return _set_status(shoe_id, ACTIVE, admin, "publish")


def archive_shoe(shoe_id: str, admin: str) -> Shoe:
    """Archived shoes leave the listing indexes' `active` partition; orders keep their lines.
    A draft was never in the shop: it is published or deleted, not archived."""
    if get_shoe(shoe_id).status == DRAFT:
        raise Conflict("This shoe is a draft, not in the shop: publish it or delete it.")
    return _set_status(shoe_id, ARCHIVED, admin)


def restore_shoe(shoe_id: str, admin: str) -> Shoe:
    if get_shoe(shoe_id).status == DRAFT:
        raise Conflict("This shoe is a draft: publish it to put it in the shop.")
    return _set_status(shoe_id, ACTIVE, admin)


def delete_shoe(shoe_id: str, admin: str) -> None:
    """Only a shoe never ordered: the stock rows go on `sold = 0` in the shoe's transaction."""
    from chalicelib.services import images

    shoe = get_shoe(shoe_id)
    rows = stock_rows(shoe_id)
    if any(row.sold for row in rows.values()):
        raise Conflict("This shoe has been ordered, so it cannot be deleted. Archive it instead.")

    def build(transaction: dynamo.Transaction) -> None:
        transaction.delete("shoe", shoe)  # PynamoDB adds the version read
        for row in rows.values():
            transaction.delete(f"stock:{row.size}", row, condition=(Stock.sold == 0) | Stock.sold.does_not_exist())

    try:
        dynamo.transact(build)
    except dynamo.ConditionsFailed as error:
        raise Conflict("The shoe was ordered or changed just now, so it was not deleted. Reload and check.") from error
    for image in shoe.images:
        if owns_image_objects(shoe_id, image):
            images.delete_image_objects(image)
    audit.record(admin, "shoe.delete", shoe_id=shoe_id, name=shoe.name)


def owns_image_objects(shoe_id: str, image: Any) -> bool:
    """Only objects under the shoe's own prefix are deleted: demo data shares pooled images."""
    from chalicelib.services.images import PUBLIC_PREFIX

    return image.thumb_key.startswith(f"{PUBLIC_PREFIX}{shoe_id}/")


def stock_rows(shoe_id: str) -> dict[str, Stock]:
    return {row.size: row for row in Stock.query(shoe_id, consistent_read=True)}


def _check_size(shoe_id: str, size: str) -> None:
    if size not in get_shoe(shoe_id).sizes:
        raise ValidationFailed({stock_field(size): "This shoe is not offered in that size."}, "Unknown size.")


def _update_stock(shoe_id: str, size: str, action: Any, condition: Any, refused: Callable[[int], str]) -> int:
    """One conditioned update of a stock row; a failed condition is a Conflict in `refused`'s words."""
    row = Stock(shoe_id=shoe_id, size=size)
    try:
        row.update(actions=[action, Stock.updated_at.set(clock.now())], condition=condition)
    except UpdateError as error:
        if condition_failed(error):
            now_have = stock_rows(shoe_id).get(size)
            raise Conflict(refused(int(now_have.quantity) if now_have else 0)) from error
        raise
    return int(row.quantity)


def set_stock(shoe_id: str, size: str, quantity: int, expected: int | None, admin: str) -> int:
    """Set the count after a stock take, conditioned on the count the admin saw."""
    _check_size(shoe_id, size)
    if quantity < 0 or quantity > MAX_STOCK:
        raise ValidationFailed({stock_field(size): BAD_PAIRS})
    condition = None
    if expected is not None:
        condition = Stock.quantity == expected
        if expected == 0:
            condition |= Stock.quantity.does_not_exist()
    new_quantity = _update_stock(
        shoe_id,
        size,
        Stock.quantity.set(quantity),
        condition,
        lambda have: f"Stock for size {size} changed to {have} while you were editing. Check the count and save again.",
    )
    audit.record(admin, "stock.set", shoe_id=shoe_id, size=size, quantity=quantity, expected=expected)
    return new_quantity


def adjust_stock(shoe_id: str, size: str, delta: int, admin: str) -> int:
    """ADD delta atomically; a decrease is conditioned on enough stock, so it never goes negative."""
    _check_size(shoe_id, size)
    if delta == 0 or abs(delta) > MAX_STOCK:
        raise ValidationFailed({stock_field(size): "Enter a change like 5 or -2."})
    new_quantity = _update_stock(
        shoe_id,
        size,
        Stock.quantity.add(delta),
        Stock.quantity >= -delta if delta < 0 else None,
        lambda have: (
            f"Only {plural(have, 'pair')} of size {size} {'is' if have == 1 else 'are'} in stock; "
            f"cannot remove {-delta}."
        ),
    )
    audit.record(admin, "stock.adjust", shoe_id=shoe_id, size=size, delta=delta)
    return new_quantity


def apply_stock_form(shoe_id: str, form_values: dict[str, tuple[str, str]], admin: str) -> list[str]:
    """The edit page's grid: per size (new value, value seen); changed sizes are set, each
    conditioned on the value seen. Returns the sizes changed."""
    shoe = get_shoe(shoe_id)
    errors: dict[str, str] = {}
    changes: list[tuple[str, int, int]] = []
    for size in shoe.sizes:
        raw, seen = form_values.get(size, ("", ""))
        if not raw.strip():
            continue
        value = parse_whole_number(raw)
        seen_value = parse_whole_number(seen)
        if value is None or value > MAX_STOCK:
            errors[stock_field(size)] = BAD_PAIRS
        elif seen_value is None or value != seen_value:
            changes.append((size, value, seen_value if seen_value is not None else 0))
    if errors:
        raise ValidationFailed(errors)
    changed, conflicts = [], {}
    for size, value, seen_value in changes:
        try:
            set_stock(shoe_id, size, value, seen_value, admin)
            changed.append(size)
        except Conflict as error:
            conflicts[stock_field(size)] = error.message
    if conflicts:
        raise ValidationFailed(conflicts, "Some sizes changed while you were editing; the others were saved.")
    return changed


def list_shoes(status: str, query: str = "", start: dict | None = None) -> Page:
    """One admin page (20, newest first) per status partition of `by-newest`, filtered on
    `search_text`; "all" pages through drafts, active, then archived."""
    statuses = list(STATUSES) if status == "all" else [status if status in STATUSES else ACTIVE]
    start = start or {}
    requested = start.get("status")
    phase = requested if isinstance(requested, str) and requested in statuses else statuses[0]
    key = start.get("key")
    needle = clean_text(query).casefold()[:SEARCH_MAX]
    condition = Shoe.search_text.contains(needle) if needle else None
    items: list[Shoe] = []
    read = 0
    for current in statuses[statuses.index(phase) :]:
        page = query_page(
            Shoe,
            Shoe.by_newest,
            current,
            ("shoe_id", "status", "created_sort"),
            ADMIN_PAGE_SIZE - len(items),
            start_key=key,
            filter_condition=condition,
        )
        items.extend(page.items)
        read += page.items_read
        key = None
        if page.next_key is not None:
            return Page(items, {"status": current, "key": page.next_key}, read)
        if len(items) >= ADMIN_PAGE_SIZE or read >= 500:
            following = statuses.index(current) + 1
            more = {"status": statuses[following], "key": None} if following < len(statuses) else None
            return Page(items, more, read)
    return Page(items, None, read)


def stock_for(shoes: list[Shoe]) -> dict[str, dict[str, Stock]]:
    """Stock rows for a page of shoes by BatchGetItem, not a Query per shoe."""
    keys = [(shoe.shoe_id, size) for shoe in shoes for size in shoe.sizes]
    result: dict[str, dict[str, Stock]] = {shoe.shoe_id: {} for shoe in shoes}
    if keys:
        for row in Stock.batch_get(keys):
            result.setdefault(row.shoe_id, {})[row.size] = row
    return result


def stock_summary(
    shoe: Shoe, rows: dict[str, Stock], waiting: dict[tuple[str, str], int] | None = None
) -> dict[str, Any]:
    """Totals and, per offered size, (size, pairs, shoppers waiting) for the product list."""
    quantities = [int(rows[size].quantity) if size in rows else 0 for size in shoe.sizes]
    waiting = waiting or {}
    return {
        "total": sum(quantities),
        "low": sum(1 for q in quantities if 0 < q <= LOW_STOCK),
        "sold_out": sum(1 for q in quantities if q == 0),
        "sizes": [
            (size, quantity, waiting.get((shoe.shoe_id, size), 0))
            for size, quantity in zip(shoe.sizes, quantities, strict=True)
        ],
    }


def sold_out_sizes(shoes: list[Shoe], stock: dict[str, dict[str, Stock]]) -> list[tuple[str, str]]:
    """(shoe_id, size) of every offered size with none left: the sizes shoppers wait for."""
    found = []
    for shoe in shoes:
        rows = stock.get(shoe.shoe_id, {})
        found += [(shoe.shoe_id, size) for size in shoe.sizes if size not in rows or int(rows[size].quantity) <= 0]
    return found
