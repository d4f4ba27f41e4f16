"""Catalogue test data: shoes and stock seeded with batch writes, and a DynamoDB call counter."""

import pytest

from chalicelib.models import Shoe, Stock
from chalicelib.services import catalogue_index
from tests.factories import numbered_shoe


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
        shoes.append(numbered_shoe(n, status=status))
    stock = {shoe.shoe_id: stock_for(shoe, n) for n, shoe in enumerate(shoes)}
    seed(shoes, stock)
    return shoes, stock


@pytest.fixture
def dynamodb_calls():
    """The benchmark harness's meter: DynamoDB operations and items read on the shared client."""
    from bench.harness import AwsMeter

    with AwsMeter() as meter:
        yield meter
