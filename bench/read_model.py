"""The catalogue read model at scale: `python -m bench.read_model [--sizes 500,5000,50000]`.

Per catalogue size: shard sizes; bytes, calls and write units of an admin edit and of a sell-out
applied by the stream consumer (`catalogue_index.apply_changes`); a cold Lambda's load (app-side
time, with and without the garbage collector paused, and the memory the model keeps); a warm
Lambda's catch-up on one change (calls, items read). The shards are seeded directly (moto's Scan
is far too slow to go through the tables at 50,000); the shoe edited and sold is a real item with
real stock rows, so the consumer re-reads it as it would in production.
"""

import argparse
import statistics
import sys
import time
import tracemalloc
from datetime import UTC, datetime, timedelta

from bench import use_bench_environment
from chalicelib import clock

use_bench_environment()


def demo_cards(count: int) -> list:
    """Cards of demo shoes 0..count-1 as seed_demo makes them, each with its own thumbnail key."""
    import random

    from chalicelib import sizes
    from chalicelib.services.catalogue_index import Card
    from devtools.demo import demo_shoe

    now = datetime(2026, 12, 1, tzinfo=UTC)
    cards = []
    for index in range(count):
        spec = demo_shoe(index)
        created = now - timedelta(minutes=index * 17 + index % 17)
        rng = random.Random(f"stride-demo-stock-{index}")
        in_stock = tuple(size for size in sizes.sizes_for(spec.department) if rng.random() >= 0.15)
        cards.append(
            Card(
                shoe_id=spec.shoe_id,
                name=spec.name,
                brand=spec.brand,
                colour=spec.colour,
                department=spec.department,
                category=spec.category,
                price_cents=spec.price_cents,
                created_sort=f"{clock.sortable(created)}#{spec.shoe_id}",
                price_sort=f"{spec.price_cents:010d}#{spec.shoe_id}",
                thumb_key=f"public/{spec.shoe_id}/{rng.getrandbits(64):016x}-thumb.webp",
                sizes_in_stock=in_stock,
            )
        )
    return cards


def seed_shards(cards: list) -> list[bytes]:
    """Write every shard and the `shards` item directly; the shards' data."""
    from chalicelib import clock
    from chalicelib.models import CatalogueIndexPart
    from chalicelib.services import catalogue_index as ci

    by_shard: dict[int, list] = {number: [] for number in range(ci.SHARD_COUNT)}
    for card in cards:
        by_shard[ci.shard_of(card.shoe_id)].append(card)
    blobs = []
    with CatalogueIndexPart.batch_write() as batch:
        for number, shard_cards in by_shard.items():
            blob = ci._encode(shard_cards)
            blobs.append(blob)
            batch.save(
                CatalogueIndexPart(
                    part=ci.shard_key(number), version=1, data=blob, shoe_count=len(shard_cards), built_at=clock.now()
                )
            )
    CatalogueIndexPart(
        part=ci.SHARDS_KEY, version=ci.SHARD_COUNT, shard_versions=[1] * ci.SHARD_COUNT, built_at=clock.now()
    ).save()
    return blobs


def real_shoe(card) -> None:
    """The shoe behind `card` as a real item with stock rows (one pair left in each size in stock)."""
    from chalicelib.models import Shoe, ShoeImage, Stock

    created = datetime.strptime(card.created_sort.split("#")[0], clock.SORTABLE_FORMAT).replace(tzinfo=UTC)
    shoe = Shoe(
        shoe_id=card.shoe_id,
        name=card.name,
        brand=card.brand,
        colour=card.colour,
        department=card.department,
        category=card.category,
        price_cents=card.price_cents,
        sizes=[*card.sizes_in_stock, "30"],
        images=[ShoeImage(image_id="i", thumb_key=card.thumb_key, large_key=card.thumb_key, width=1, height=1)],
        status="active",
        created_at=created,
        updated_at=created,
    )
    shoe.set_sort_keys()
    shoe.save()
    for size in card.sizes_in_stock:
        Stock(shoe_id=card.shoe_id, size=size, quantity=1, sold=0).save()


def _change(table: str, keys: dict, old: dict | None, new: dict | None):
    from chalicelib.streams import MODIFY, Change

    return Change(table, MODIFY, keys, old, new)


class _NoPause:
    """Stands in for the gc module: the collector keeps running during the decode (the old way)."""

    def __init__(self, real) -> None:
        self._real = real

    def disable(self) -> None:
        pass

    def __getattr__(self, name: str):
        return getattr(self._real, name)


def _cold_load(meter, runs: int, pause_gc: bool) -> list[float]:
    import gc

    from chalicelib.services import catalogue_index as ci

    timings = []
    for _ in range(runs):
        ci.forget()
        gc.collect()
        if not pause_gc:
            ci.gc = _NoPause(gc)  # type: ignore[assignment]
        meter.reset()
        started = time.perf_counter()
        try:
            ci.current()
        finally:
            ci.gc = gc
        timings.append((time.perf_counter() - started - meter.aws_seconds) * 1000)
    return timings


def _memory_mb() -> tuple[float, float]:
    """(kept, peak) MB of a cold load, traced."""
    import gc

    from chalicelib.services import catalogue_index as ci

    ci.forget()
    ci._shared.clear()
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    ci.current()
    kept, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return (kept - before) / 1e6, (peak - before) / 1e6


def run_size(count: int, runs: int) -> dict:
    from bench.harness import AwsMeter
    from chalicelib.models import Shoe, Stock
    from chalicelib.services import catalogue_index as ci

    cards = demo_cards(count)
    blobs = seed_shards(cards)
    shard_bytes = [len(blob) for blob in blobs]
    edited, sold = cards[count // 3], cards[count // 2]
    real_shoe(edited)
    real_shoe(sold)
    result: dict = {
        "products": count,
        "shard_max_kb": max(shard_bytes) / 1024,
        "shard_median_kb": statistics.median(shard_bytes) / 1024,
        "model_kb": sum(shard_bytes) / 1024,
    }
    with AwsMeter() as meter:
        cold = _cold_load(meter, runs, pause_gc=True)
        result["cold_calls"] = dict(meter.calls)
        result["cold_items"] = meter.items_read
        result["cold_ms"] = statistics.median(cold)
        result["cold_ms_gc_running"] = statistics.median(_cold_load(meter, runs, pause_gc=False))
        warm = ci.current()  # this Lambda stays warm while others write

        def edit() -> None:
            shoe = Shoe.get(edited.shoe_id)
            old = {"shoe_id": shoe.shoe_id, "name": shoe.name, "status": "active"}
            shoe.update(actions=[Shoe.name.set(shoe.name + " Pro")])
            new = {**old, "name": shoe.name}
            meter.reset()
            ci.apply_changes([_change("shoes", {"shoe_id": shoe.shoe_id}, old, new)])

        def sell_out() -> None:
            size = sold.sizes_in_stock[0]
            Stock.get(sold.shoe_id, size).update(actions=[Stock.quantity.set(0)])
            keys = {"shoe_id": sold.shoe_id, "size": size}
            meter.reset()
            ci.apply_changes([_change("stock", keys, {**keys, "quantity": 1}, {**keys, "quantity": 0})])

        for name, action in (("edit", edit), ("sell_out", sell_out)):
            action()
            result[name] = {
                "calls": dict(meter.calls),
                "bytes": meter.bytes_written,
                "wcu": meter.write_units,
            }
            meter.reset()
            started = time.perf_counter()
            index = ci.current(force=True)
            catch_up_ms = (time.perf_counter() - started - meter.aws_seconds) * 1000
            assert index is warm
            result[name]["catch_up_calls"] = dict(meter.calls)
            result[name]["catch_up_items"] = meter.items_read
            result[name]["catch_up_ms"] = catch_up_ms
        assert ci.current().card(edited.shoe_id).name.endswith(" Pro")
        assert sold.sizes_in_stock[0] not in ci.current().card(sold.shoe_id).sizes_in_stock
    result["kept_mb"], result["peak_mb"] = _memory_mb()
    result["cpu_ms"], result["cpu_decode_ms"], result["cpu_index_ms"] = _median_split(
        _decode_cpu_ms(blobs, runs, pause_gc=True)
    )
    result["cpu_ms_gc_running"] = _median_split(_decode_cpu_ms(blobs, runs, pause_gc=False))[0]
    return result


def _decode_cpu_ms(blobs: list[bytes], runs: int, pause_gc: bool) -> list[tuple[float, float]]:
    """CPU time (this process only, so other work on the machine does not count) of decoding
    every shard, and of concatenating and indexing their columns, as a cold Lambda does after
    its two BatchGetItems (`catalogue_index._load_whole`): [(decode ms, index ms)]."""
    import gc

    from chalicelib.services import catalogue_index as ci

    timings = []
    for _ in range(runs):
        ci._shared.clear()
        gc.unfreeze()
        gc.collect()
        if pause_gc:
            gc.disable()
        started = time.process_time()
        parts = [ci._decode_columns(blob) for blob in blobs]
        decoded = time.process_time()
        ci.CatalogueIndex(ci.concatenate(parts))
        timings.append(((decoded - started) * 1000, (time.process_time() - decoded) * 1000))
        gc.enable()
    return timings


def _median_split(timings: list[tuple[float, float]]) -> tuple[float, float, float]:
    """(total, decode, index) of the run with the median total."""
    decode, index = sorted(timings, key=sum)[len(timings) // 2]
    return decode + index, decode, index


def _calls(calls: dict) -> str:
    return ", ".join(f"{name} {count}" for name, count in sorted(calls.items())) or "none"


def format_results(results: list[dict]) -> str:
    lines = [
        "| products | model KB (all shards) | shard KB median / max | cold load: calls, items "
        "| cold load app-side ms (gc paused / gc running) "
        "| decode + index CPU ms (gc paused: decode + index / gc running) "
        "| model memory MB kept / peak |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in results:
        lines.append(
            f"| {r['products']:,} | {r['model_kb']:,.0f} | {r['shard_median_kb']:.1f} / {r['shard_max_kb']:.1f} | "
            f"{_calls(r['cold_calls'])}; {r['cold_items']} | {r['cold_ms']:.0f} / {r['cold_ms_gc_running']:.0f} | "
            f"{r['cpu_ms']:.0f}: {r['cpu_decode_ms']:.0f} + {r['cpu_index_ms']:.0f} / {r['cpu_ms_gc_running']:.0f} | "
            f"{r['kept_mb']:.1f} / {r['peak_mb']:.1f} |"
        )
    lines += [
        "",
        "| products | change | calls | bytes written | write units | warm catch-up: calls, items read "
        "| catch-up app-side ms |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in results:
        for name, label in (("edit", "admin edit (name)"), ("sell_out", "sell-out of a size")):
            w = r[name]
            lines.append(
                f"| {r['products']:,} | {label} | {_calls(w['calls'])} | {w['bytes']:,} | {w['wcu']:.0f} | "
                f"{_calls(w['catch_up_calls'])}; {w['catch_up_items']} | {w['catch_up_ms']:.1f} |"
            )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.read_model")
    parser.add_argument("--sizes", default="500,5000,50000", help="catalogue sizes, comma separated")
    parser.add_argument("--runs", type=int, default=5, help="cold loads timed per size (median)")
    args = parser.parse_args(argv)

    from moto import mock_aws

    results = []
    with mock_aws():
        from chalicelib import aws

        aws.reset_clients()
        from bench.__main__ import _fresh_tables

        for count in [int(value) for value in args.sizes.split(",")]:
            _fresh_tables()
            started = time.perf_counter()
            results.append(run_size(count, args.runs))
            print(f"{count} products: {time.perf_counter() - started:.1f} s", file=sys.stderr)
    print(format_results(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
