"""Catalogue test data: shoes and stock seeded with batch writes, and a DynamoDB call counter."""

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest

from chalicelib import sizes
from chalicelib.models import Shoe, Stock
from chalicelib.services import catalogue_index

BASE_TIME = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


def make_shoe(n: int, **overrides) -> Shoe:
    department = overrides.pop("department", ("men", "women", "kids")[n % 3])
    values = {
        "shoe_id": f"shoe{n:05d}",
        "name": f"Model {n}",
        "brand": ("Stride", "Velora", "Kestrel")[n % 3 if n % 2 else (n // 2) % 3],
        "colour": ("Black", "Navy", "Red", "White")[n % 4],
        "department": department,
        "category": ("sneakers", "running", "boots", "sandals", "formal")[n % 5],
        "description": f"Shoe number {n}.",
        # Prices repeat so ties must be broken by id.
        "price_cents": 3000 + (n % 7) * 1000,
        "sizes": sizes.sizes_for(department),
        "images": [],
        "status": "active",
        "created_at": BASE_TIME + timedelta(minutes=n),
        "updated_at": BASE_TIME + timedelta(minutes=n),
    }
    values.update(overrides)
    shoe = Shoe(**values)
    shoe.set_sort_keys()
    return shoe


def stock_for(shoe: Shoe, n: int) -> dict[str, int]:
    """A stock pattern with sold-out, low and plenty sizes that varies by shoe."""
    return {size: (n + i) % 6 for i, size in enumerate(shoe.sizes)}


def seed(shoes: list[Shoe], stock: dict[str, dict[str, int]] | None = None, rebuild: bool = True) -> None:
    with Shoe.batch_write() as shoe_batch, Stock.batch_write() as stock_batch:
        for shoe in shoes:
            shoe_batch.save(shoe)
            for size, quantity in (stock or {}).get(shoe.shoe_id, {}).items():
                stock_batch.save(Stock(shoe_id=shoe.shoe_id, size=size, quantity=quantity, sold=0))
    if rebuild:
        catalogue_index.rebuild()


def seed_catalogue(count: int, archived_every: int = 0) -> tuple[list[Shoe], dict[str, dict[str, int]]]:
    shoes = []
    for n in range(count):
        status = "archived" if archived_every and n % archived_every == archived_every - 1 else "active"
        shoes.append(make_shoe(n, status=status))
    stock = {shoe.shoe_id: stock_for(shoe, n) for n, shoe in enumerate(shoes)}
    seed(shoes, stock)
    return shoes, stock


@dataclass
class CallCounter:
    """DynamoDB operations seen on the shared client (the one every model uses)."""

    calls: Counter = field(default_factory=Counter)

    def __call__(self, model, **_) -> None:
        self.calls[model.name] += 1

    @property
    def total(self) -> int:
        return sum(self.calls.values())

    def reset(self) -> None:
        self.calls.clear()


@pytest.fixture
def dynamodb_calls():
    from chalicelib.aws import dynamodb_client

    counter = CallCounter()
    events = dynamodb_client().meta.events
    events.register("before-call.dynamodb", counter)
    yield counter
    events.unregister("before-call.dynamodb", counter)


@pytest.fixture(autouse=True)
def fresh_catalogue_index():
    """Each test starts with empty tables, so no Lambda copy of the read model may survive."""
    catalogue_index.forget()
    yield
    catalogue_index.forget()
