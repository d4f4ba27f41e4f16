"""The one home for test data: shoes, shoppers, admins and orders, each made one way.

- `make_shoe(stock, **fields)`: a shoe saved with the models, offering the sizes in `stock`.
- `shoe_via_admin(stock, **form)`: a shoe made the way the back-office form makes it (validation,
  every size of the department, audit line, events), for tests of the admin area.
- `numbered_shoe(n, **fields)`: an unsaved shoe whose fields follow from `n`, for bulk seeding
  (tests/catalogue_fixtures.py `seed`).
- `make_user`, `make_admin`, `registration`, `make_order`.
"""

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from chalicelib import clock, sizes
from chalicelib.models import Admin, Order, OrderLine, Shoe, StatusChange, Stock, User
from chalicelib.services import accounts, products

ADMIN = "boss"
ADMIN_PASSWORD = "admin password 1"
PASSWORD = "correct horse battery"
# A valid shipping address (the checkout form's fields).
ADDRESS = {
    "full_name": "Alice Example",
    "line1": "1 Main Street",
    "city": "Dublin",
    "postal_code": "D02 X285",
    "country": "IE",
}
# Seeded catalogues start here, so a shoe's creation time follows from its number.
BASE_TIME = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


def make_shoe(stock: dict[str, int] | None = None, **fields: Any) -> Shoe:
    """A saved shoe offering the sizes in `stock` (default one size, 42, with 5 units) on hand."""
    stock = {"42": 5} if stock is None else stock
    now = clock.now()
    values: dict[str, Any] = {
        "shoe_id": uuid.uuid4().hex[:12],
        "name": "Trail Runner",
        "brand": "Stride",
        "colour": "black",
        "department": "men",
        "category": "running",
        "price_cents": 8999,
        "sizes": sorted(stock, key=float),
        "status": "active",
        "created_at": now,
        "updated_at": now,
    }
    values.update(fields)
    shoe = Shoe(**values)
    shoe.set_sort_keys()
    shoe.save()
    for size, quantity in stock.items():
        Stock(shoe_id=shoe.shoe_id, size=size, quantity=quantity, sold=0).save()
    return shoe


def product_input(**overrides: str) -> products.ProductInput:
    values = {
        "name": "Glide Runner",
        "brand": "Stride",
        "colour": "Blue",
        "category": "running",
        "department": "men",
        "description": "Light and quick.",
        "price": "89.95",
    }
    values.update(overrides)
    return products.ProductInput(**values)


def shoe_via_admin(stock: dict[str, int] | None = None, draft: bool = False, **form: str) -> Shoe:
    """A shoe created by admin `ADMIN` through the products service (no stock unless given). New
    shoes start as drafts; unless `draft`, this one is then put in the shop as if published, but
    without the publish's version bump (tests count versions from the create)."""
    quantities = {size: str(quantity) for size, quantity in (stock or {}).items()}
    shoe = products.create_shoe(product_input(**form), quantities, ADMIN)
    if not draft:
        from chalicelib.aws import dynamodb_client

        dynamodb_client().update_item(
            TableName=Shoe.Meta.table_name,
            Key={"shoe_id": {"S": shoe.shoe_id}},
            UpdateExpression="SET #s = :active",
            ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues={":active": {"S": "active"}},
        )
        shoe.status = "active"
    return shoe


def numbered_shoe(n: int, **fields: Any) -> Shoe:
    """Shoe number `n`, not saved: brands, colours, prices and times vary with n (prices repeat, so
    listings must break ties by id)."""
    department = fields.pop("department", ("men", "women", "kids")[n % 3])
    values: dict[str, Any] = {
        "shoe_id": f"shoe{n:05d}",
        "name": f"Model {n}",
        "brand": ("Stride", "Velora", "Kestrel")[n % 3 if n % 2 else (n // 2) % 3],
        "colour": ("Black", "Navy", "Red", "White")[n % 4],
        "department": department,
        "category": ("sneakers", "running", "boots", "sandals", "formal")[n % 5],
        "description": f"Shoe number {n}.",
        "price_cents": 3000 + (n % 7) * 1000,
        # Five sizes each keeps the stock table (and each test's clean-up) small.
        "sizes": sizes.sizes_for(department)[2:7],
        "images": [],
        "status": "active",
        "created_at": BASE_TIME + timedelta(minutes=n),
        "updated_at": BASE_TIME + timedelta(minutes=n),
    }
    values.update(fields)
    shoe = Shoe(**values)
    shoe.set_sort_keys()
    return shoe


def registration(
    username: str = "alice", email: str | None = None, password: str = PASSWORD, confirm: str | None = None
) -> accounts.Registration:
    return accounts.Registration(
        username=username,
        email=email or f"{username}@example.com",
        password=password,
        confirm_password=password if confirm is None else confirm,
    )


def make_user(
    username: str = "alice", email: str | None = None, password: str = PASSWORD, address: dict | None = None
) -> User:
    """A registered shopper (through the accounts service), with a saved shipping address if given."""
    user = accounts.register(registration(username, email, password))
    if address is not None:
        from chalicelib.services import checkout

        checkout.save_address(user, checkout.clean_address(address))
    found = accounts.get_user(user.user_id)
    assert found is not None
    return found


def make_admin(
    username: str = ADMIN, email: str | None = None, password: str = ADMIN_PASSWORD, role: str = "owner"
) -> Admin:
    return accounts.create_admin(username, email or f"{username}@example.com", password, role)


def make_order(
    lines: list[tuple[str, str, int]], status: str = "placed", minutes_ago: int = 0, total: int = 10000
) -> Order:
    """An order as checkout leaves it: stock already decremented and `sold` counted."""
    now = clock.now() - timedelta(minutes=minutes_ago)
    order_id = uuid.uuid4().hex[:20]
    order = Order(
        order_id=order_id,
        user_id="u1",
        status=status,
        created_at=now,
        created_sort=f"{clock.sortable(now)}#{order_id}",
        updated_at=now,
        lines=[
            OrderLine(shoe_id=shoe_id, name="Glide", brand="Stride", size=size, unit_price_cents=5000, quantity=qty)
            for shoe_id, size, qty in lines
        ],
        address={"name": "Alice Smith", "line1": "1 High Street", "city": "Springfield", "postcode": "12345"},
        subtotal_cents=total,
        shipping_cents=0,
        total_cents=total,
        history=[StatusChange(status="placed", at=now, by="shopper")],
    )
    order.save()
    for shoe_id, size, qty in lines:
        Stock(shoe_id=shoe_id, size=size).update(actions=[Stock.sold.add(qty)])
    return order
