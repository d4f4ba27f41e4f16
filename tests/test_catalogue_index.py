"""The sharded catalogue read model: the stream consumer, catch-up reads, crash and race safety."""

import threading

import pytest

from chalicelib import streams
from chalicelib.models import CatalogueIndexPart, Shoe, Stock
from chalicelib.product_links import product_path
from chalicelib.services import catalogue_index, search_terms
from chalicelib.services.catalogue import ListingQuery, list_shoes
from chalicelib.streams import INSERT, MODIFY, REMOVE, Change
from tests.catalogue_fixtures import dynamodb_calls, seed
from tests.factories import numbered_shoe
from tests.test_cart_line_cap import atomic_moto_with_latency  # DynamoDB's per-call atomicity

__all__ = ["atomic_moto_with_latency", "dynamodb_calls"]


def _stock_change(shoe_id: str, size: str, before: int | None, after: int | None, sequence: str = "") -> Change:
    keys = {"shoe_id": shoe_id, "size": size}
    old = None if before is None else {**keys, "quantity": before}
    new = None if after is None else {**keys, "quantity": after}
    kind = INSERT if old is None else REMOVE if new is None else MODIFY
    return Change("stock", kind, keys, old, new, sequence)


def _shoe_change(before: Shoe | None, after: Shoe | None) -> Change:
    """The record the shoes table's stream carries for this change, decoded as the handler does."""
    shoe = after or before
    assert shoe is not None
    table = Shoe.Meta.table_name
    data: dict = {"Keys": {"shoe_id": {"S": shoe.shoe_id}}}
    if before is not None:
        data["OldImage"] = before.serialize()
    if after is not None:
        data["NewImage"] = after.serialize()
    kind = INSERT if before is None else REMOVE if after is None else MODIFY
    record = {
        "eventName": kind,
        "eventSourceARN": f"arn:aws:dynamodb:us-east-1:1:table/{table}/stream/x",
        "dynamodb": data,
    }
    return streams.decode(record, table.removesuffix("shoes"))


def _sell(shoe_id: str, size: str, units: int = 1) -> tuple[int, int]:
    """What checkout does to one stock row: a conditional decrement. (before, after)."""
    row = Stock.get(shoe_id, size)
    row.update(actions=[Stock.quantity.add(-units)], condition=Stock.quantity >= units)
    return int(row.quantity) + units, int(row.quantity)


def _in_size(size: str) -> list[str]:
    return [card.shoe_id for card in list_shoes(ListingQuery(size=size), "", 48).cards]


def test_a_sell_out_from_the_stream_takes_the_size_out_of_the_filters(dynamodb_calls):
    shoe = numbered_shoe(1, department="men", sizes=["41", "42"])
    seed([shoe], {shoe.shoe_id: {"41": 5, "42": 1}})
    assert _in_size("42") == [shoe.shoe_id]
    version = catalogue_index.current().version
    before, after = _sell(shoe.shoe_id, "42")
    dynamodb_calls.reset()
    catalogue_index.apply_changes([_stock_change(shoe.shoe_id, "42", before, after)])
    # Read the shard, the shoe and its stock; write the shard and publish its version.
    assert dict(dynamodb_calls.calls) == {"GetItem": 1, "BatchGetItem": 2, "PutItem": 1, "UpdateItem": 1}
    assert _in_size("42") == []
    assert _in_size("41") == [shoe.shoe_id]
    assert catalogue_index.current().version == version + 1


def test_stock_changes_that_no_card_shows_cost_no_call(dynamodb_calls):
    shoe = numbered_shoe(1, department="men", sizes=["42"])
    seed([shoe], {shoe.shoe_id: {"42": 5}})
    before, after = _sell(shoe.shoe_id, "42")
    description = Shoe.get(shoe.shoe_id)
    edited = Shoe.get(shoe.shoe_id)
    edited.description = "New words"
    dynamodb_calls.reset()
    catalogue_index.apply_changes(
        [
            _stock_change(shoe.shoe_id, "42", before, after),
            _shoe_change(description, edited),
            Change("orders", INSERT, {}, None, {}),
        ]
    )
    assert dynamodb_calls.total_calls == 0


def test_a_batch_applied_twice_or_late_leaves_the_newest_cards(dynamodb_calls):
    shoe = numbered_shoe(1, department="men", sizes=["42"])
    seed([shoe], {shoe.shoe_id: {"42": 1}})
    sold = _sell(shoe.shoe_id, "42")
    batch = [_stock_change(shoe.shoe_id, "42", *sold)]
    catalogue_index.apply_changes(batch)
    version = catalogue_index.current(force=True).version
    dynamodb_calls.reset()
    catalogue_index.apply_changes(batch)  # delivered again
    assert "PutItem" not in dynamodb_calls.calls and "UpdateItem" not in dynamodb_calls.calls
    # Restocked; then the old sell-out arrives late (a replay): the tables' newest state wins.
    Stock.get(shoe.shoe_id, "42").update(actions=[Stock.quantity.set(3)])
    catalogue_index.apply_changes([_stock_change(shoe.shoe_id, "42", 0, 3)])
    catalogue_index.apply_changes(batch)
    assert _in_size("42") == [shoe.shoe_id]
    assert catalogue_index.current(force=True).version == version + 1


def test_shoe_changes_add_edit_and_remove_cards():
    seed([numbered_shoe(0)], {})
    shoe = numbered_shoe(7, department="women", sizes=["38"], brand="Zephyr")
    seed([shoe], {shoe.shoe_id: {"38": 2}}, rebuild=False)
    catalogue_index.apply_changes([_shoe_change(None, shoe)])
    assert [c.shoe_id for c in list_shoes(ListingQuery(brand="zephyr")).cards] == [shoe.shoe_id]
    renamed = Shoe.get(shoe.shoe_id)
    renamed.update(actions=[Shoe.name.set("Harbour Gumboot")])
    catalogue_index.apply_changes([_shoe_change(shoe, renamed)])
    assert [c.name for c in list_shoes(ListingQuery(q="gumboot")).cards] == ["Harbour Gumboot"]
    archived = Shoe.get(shoe.shoe_id)
    archived.update(actions=[Shoe.status.set("archived")])
    catalogue_index.apply_changes([_shoe_change(renamed, archived)])
    assert list_shoes(ListingQuery(brand="zephyr")).cards == []
    assert "Zephyr" not in catalogue_index.current().brands


def test_a_warm_lambda_catches_up_on_a_change_in_two_reads(dynamodb_calls):
    shoes = [numbered_shoe(n, department="men", sizes=["42"]) for n in range(300)]
    seed(shoes, {shoe.shoe_id: {"42": 1} for shoe in shoes})
    catalogue_index.current()  # warm
    sold = _sell(shoes[5].shoe_id, "42")
    catalogue_index.apply_changes([_stock_change(shoes[5].shoe_id, "42", *sold)])
    catalogue_index.forget()
    catalogue_index.current()  # another Lambda, warm before the change...
    dynamodb_calls.reset()
    Stock.get(shoes[9].shoe_id, "42").update(actions=[Stock.quantity.set(0)])
    catalogue_index.apply_changes([_stock_change(shoes[9].shoe_id, "42", 1, 0)])
    dynamodb_calls.reset()
    index = catalogue_index.current(force=True)
    # ...reads the `shards` item and the one shard that changed, nothing else.
    assert dict(dynamodb_calls.calls) == {"GetItem": 1, "BatchGetItem": 1}
    assert dynamodb_calls.items_read == 2
    assert index.card(shoes[9].shoe_id).sizes_in_stock == ()
    assert list_shoes(ListingQuery(size="42")).total == 298
    # Updated shard by shard, it answers as one built from scratch does.
    queries = [ListingQuery(size="42"), ListingQuery(q="stride"), ListingQuery(max_price=9000, sort="price_asc")]
    warm = [[c.shoe_id for c in list_shoes(query, "", 48).cards] for query in queries]
    catalogue_index.forget()
    cold = catalogue_index.current()
    assert [[c.shoe_id for c in list_shoes(query, "", 48).cards] for query in queries] == warm
    assert sorted(cold.cards) == sorted(index.cards)


def test_a_crash_between_the_shard_write_and_its_publication_heals_on_the_retry(monkeypatch):
    shoe = numbered_shoe(1, department="men", sizes=["42"])
    seed([shoe], {shoe.shoe_id: {"42": 1}})
    batch = [_stock_change(shoe.shoe_id, "42", *_sell(shoe.shoe_id, "42"))]
    publish = catalogue_index._publish

    def crash(number, version):
        raise RuntimeError("Lambda timed out")

    assert _in_size("42") == [shoe.shoe_id]  # a warm Lambda
    monkeypatch.setattr(catalogue_index, "_publish", crash)
    with pytest.raises(RuntimeError):
        catalogue_index.apply_changes(batch)
    catalogue_index.current(force=True)
    assert _in_size("42") == [shoe.shoe_id]  # not published: warm Lambdas keep the last published shard
    monkeypatch.setattr(catalogue_index, "_publish", publish)
    catalogue_index.apply_changes(batch)  # the stream retries the batch: nothing to write, publish
    catalogue_index.current(force=True)
    assert _in_size("42") == []


def test_a_writer_that_keeps_losing_raises_for_the_stream_to_retry(monkeypatch):
    shoe = numbered_shoe(1, department="men", sizes=["42"])
    seed([shoe], {shoe.shoe_id: {"42": 1}})
    batch = [_stock_change(shoe.shoe_id, "42", *_sell(shoe.shoe_id, "42"))]

    def always_behind(shard, cards):
        raise catalogue_index._Conflict()

    monkeypatch.setattr(catalogue_index, "_put_shard", always_behind)
    monkeypatch.setattr(catalogue_index.time, "sleep", lambda seconds: None)
    with pytest.raises(catalogue_index.ShardBusy):
        catalogue_index.apply_changes(batch)


@pytest.mark.parametrize("shard_count", [1, 4])
def test_concurrent_sell_outs_leave_no_card_showing_a_sold_out_size(monkeypatch, shard_count, atomic_moto_with_latency):
    """Many Lambdas sell the last pair of different shoes at once and apply their stream changes
    at once, colliding on shards: afterwards no card shows a sold-out size in stock."""
    monkeypatch.setattr(catalogue_index, "SHARD_COUNT", shard_count)
    shoes = [numbered_shoe(n, department="men", sizes=["41", "42"]) for n in range(16)]
    seed(shoes, {shoe.shoe_id: {"41": 3, "42": 1} for shoe in shoes})
    assert len(_in_size("42")) == 16
    start = threading.Barrier(len(shoes))
    errors: list[BaseException] = []

    def sell_out(shoe: Shoe) -> None:
        try:
            start.wait()
            change = _stock_change(shoe.shoe_id, "42", *_sell(shoe.shoe_id, "42"))
            for _ in range(5):
                try:
                    catalogue_index.apply_changes([change])
                    return
                except catalogue_index.ShardBusy:
                    continue  # as Lambda does: the failed batch is delivered again
            raise AssertionError("still busy after five deliveries")
        except BaseException as error:  # reported below: a thread's failure must fail the test
            errors.append(error)

    threads = [threading.Thread(target=sell_out, args=(shoe,)) for shoe in shoes]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    catalogue_index.forget()
    assert _in_size("42") == []
    assert len(_in_size("41")) == 16
    stored = CatalogueIndexPart.get(catalogue_index.SHARDS_KEY)
    for number in range(shard_count):  # every shard's last write is published
        assert stored.shard_versions[number] == CatalogueIndexPart.get(catalogue_index.shard_key(number)).version


def test_concurrent_sell_outs_through_the_streams_leave_no_sold_out_size_in_stock(
    monkeypatch, drain_streams, atomic_moto_with_latency
):
    """End to end: the last pairs of different shoes sell at once; the stream handler, on the
    records moto's streams produced, leaves no card showing a sold-out size."""
    monkeypatch.setattr(catalogue_index, "SHARD_COUNT", 2)
    shoes = [numbered_shoe(n, department="men", sizes=["41", "42"]) for n in range(12)]
    seed(shoes, {shoe.shoe_id: {"41": 3, "42": 1} for shoe in shoes})
    drain_streams()
    assert len(_in_size("42")) == 12
    start = threading.Barrier(len(shoes))

    def sell_out(shoe: Shoe) -> None:
        start.wait()
        _sell(shoe.shoe_id, "42")

    threads = [threading.Thread(target=sell_out, args=(shoe,)) for shoe in shoes]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    drain_streams()
    assert drain_streams.dead_letters == []
    catalogue_index.current(force=True)
    assert _in_size("42") == []
    assert len(_in_size("41")) == 12


# -- the shard encoding ---------------------------------------------------------------------


def _cards_of_every_shape() -> list[catalogue_index.Card]:
    """Cards that exercise each column: shared and odd values, sort keys that do not follow
    from the row, no sizes in stock, and text holding the column separator."""
    card = catalogue_index.Card
    return [
        card("b-2", "Trail Runner", "Stride", "Navy", "men", "running", 8999,
             "2026-11-01T10:00:00.000000Z#b-2", "0000008999#b-2", "public/b-2/t.webp", ("41", "42")),
        card("a-1", "Gum\x1fboot \u00e9t\u00e9", "Zephyr", "Red", "kids", "boots", 2_500_000_000,
             "legacy-created-key", "custom-price-key", "", ()),
        card("c-3", "City Loafer", "Stride", "Navy", "women", "casual", 0,
             "2026-11-02T10:00:00.000000Z#c-3", "0000000000#c-3", "public/c-3/t.webp", ("37", "38", "41")),
    ]  # fmt: skip


def _format_1(cards: list[catalogue_index.Card]) -> bytes:
    """A shard as main stored it before format 2 (zlib'd JSON columns), for the old-format tests."""
    import json
    import zlib

    ordered = sorted(cards, key=lambda card: card.shoe_id)
    values: dict[str, int] = {}

    def code(value: str) -> int:
        return values.setdefault(value, len(values))

    def created(card: catalogue_index.Card) -> str:
        return card.created_sort.removesuffix("#" + card.shoe_id)

    def price(card: catalogue_index.Card) -> str:
        return "" if card.price_sort == f"{card.price_cents:010d}#{card.shoe_id}" else card.price_sort

    columns = [
        [c.shoe_id for c in ordered], [c.name for c in ordered], [code(c.brand) for c in ordered],
        [code(c.colour) for c in ordered], [code(c.department) for c in ordered],
        [code(c.category) for c in ordered], [c.price_cents for c in ordered], [created(c) for c in ordered],
        [price(c) for c in ordered], [c.thumb_key for c in ordered],
        [code(" ".join(c.sizes_in_stock)) for c in ordered],
    ]  # fmt: skip
    return zlib.compress(json.dumps([list(values), *columns]).encode())


def test_a_shard_round_trips_through_the_columnar_encoding():
    cards = _cards_of_every_shape()
    blob = catalogue_index._encode(cards)
    assert blob.startswith(catalogue_index.FORMAT_2)
    assert catalogue_index._decode(blob) == sorted(cards)
    assert catalogue_index._decode(catalogue_index._encode([])) == []
    columns = catalogue_index._decode_columns(blob)
    assert columns.size_bits == {"41": 0b110, "42": 0b010, "37": 0b100, "38": 0b100}  # bit n: card n by id


def _stored_shards() -> list[CatalogueIndexPart]:
    keys = [catalogue_index.shard_key(number) for number in range(catalogue_index.SHARD_COUNT)]
    return [part for part in CatalogueIndexPart.batch_get(keys) if part.data]


def test_a_shard_stored_in_the_old_format_still_loads_and_rebuild_rewrites_it(dynamodb_calls):
    shoes = [numbered_shoe(n, department="men", sizes=["41", "42"]) for n in range(6)]
    seed(shoes, {shoe.shoe_id: {"41": 2, "42": n % 2} for n, shoe in enumerate(shoes)})
    fresh = {card.shoe_id: card for card in catalogue_index.current(force=True).cards}
    for part in _stored_shards():  # every shard back to the old format
        part.update(actions=[CatalogueIndexPart.data.set(_format_1(catalogue_index._decode(part.data)))])
    catalogue_index.forget()
    index = catalogue_index.current()
    assert {card.shoe_id: card for card in index.cards} == fresh
    assert sorted(_in_size("42")) == sorted(shoe.shoe_id for n, shoe in enumerate(shoes) if n % 2)
    catalogue_index.rebuild()
    assert all(part.data.startswith(catalogue_index.FORMAT_2) for part in _stored_shards())
    catalogue_index.forget()
    assert {card.shoe_id: card for card in catalogue_index.current().cards} == fresh


def test_a_cold_load_from_shard_columns_answers_as_a_model_built_from_cards():
    brands, departments = ("Stride", "Zephyr"), ("men", "women")
    shoes = [
        numbered_shoe(n, department=departments[n % 2], sizes=["38", "41", "42"], brand=brands[n % 3 == 0])
        for n in range(40)
    ]
    seed(shoes, {shoe.shoe_id: {"38": n % 3, "41": 1, "42": n % 2} for n, shoe in enumerate(shoes)})
    catalogue_index.forget()
    cold = catalogue_index.current()
    built = catalogue_index.CatalogueIndex(cold.cards)
    assert cold._tokens is None  # the search words wait for the first search
    queries = [
        catalogue_index.Criteria(size="42"),
        catalogue_index.Criteria(brand="zephyr", department="women"),
        catalogue_index.Criteria(terms=(search_terms.meaning("stri"),), min_price=1000),
        catalogue_index.Criteria(size="38", max_price=9000),
    ]
    for criteria in queries:
        for sort in (catalogue_index.NEWEST, catalogue_index.PRICE_ASC, catalogue_index.PRICE_DESC):
            mine, theirs = cold.matching(criteria, sort), built.matching(criteria, sort)
            assert [cold.card_at(n) for n in mine[0]] == [built.card_at(n) for n in theirs[0]], (criteria, sort)
    assert cold.brands == built.brands == ["Stride", "Zephyr"]
    assert cold.facets == built.facets


def test_the_sitemaps_shoe_ids_stay_right_after_a_shoe_leaves_the_model():
    """Slots are kept after a removal (a free slot): `cards[slot]` named the wrong shoe from then on."""
    from chalicelib.services import catalogue

    shoes = [numbered_shoe(n, department="men", sizes=["42"]) for n in range(8)]
    seed(shoes, {shoe.shoe_id: {"42": 1} for shoe in shoes})
    index = catalogue_index.current(force=True)
    gone = shoes[2]
    number = catalogue_index.shard_of(gone.shoe_id)
    kept = [
        card
        for card in index.cards
        if catalogue_index.shard_of(card.shoe_id) == number and card.shoe_id != gone.shoe_id
    ]
    index.replace_shard(number, kept, index.shard_versions.get(number, 0) + 1)
    expected = [card.shoe_id for card in sorted(index.cards, key=lambda card: card.created_sort, reverse=True)]
    assert gone.shoe_id not in expected
    assert catalogue.active_shoe_paths() == [product_path(index.card(shoe_id)) for shoe_id in expected]
