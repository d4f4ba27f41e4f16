"""A demo catalogue with images drawn here (no third-party photos).

Demo shoe number n is always the same shoe (id, name, brand, colour, price, sizes): seeding N shoes
makes sure the first N exist and adds only the missing ones, so running it twice adds nothing,
and `make run`'s dozen are the first twelve of any larger seed. Names are distinct: a model name
and style per index, with a generation number once the combinations are used up ("Glide Racer 3").
"""

import hashlib
import io
import random
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from chalicelib import sizes
from chalicelib.config import get_settings
from chalicelib.models import Shoe, ShoeImage, Stock, bind_tables
from chalicelib.services.images import publish_image

BRANDS = ["Stride", "Northpeak", "Velora", "Aerofoot", "Kestrel", "Lumen", "Trailcraft", "Urbanite"]
CATEGORIES = ["sneakers", "running", "boots", "sandals", "formal"]
DEPARTMENTS = ["men", "women", "kids"]
COLOURS = {
    "Black": (34, 34, 38),
    "White": (236, 236, 232),
    "Red": (196, 48, 43),
    "Navy": (31, 58, 95),
    "Olive": (104, 112, 60),
    "Tan": (190, 146, 96),
    "Grey": (128, 134, 142),
    "Pink": (232, 140, 170),
    "Blue": (52, 120, 200),
    "Green": (46, 139, 87),
}
MODEL_WORDS = [
    "Glide",
    "Summit",
    "Drift",
    "Pulse",
    "Harbor",
    "Vista",
    "Ember",
    "Tempo",
    "Ridge",
    "Flux",
    "Orbit",
    "Canyon",
    "Breeze",
    "Nova",
    "Atlas",
    "Comet",
    "Aspen",
    "Falcon",
    "Marlin",
    "Quartz",
    "Sierra",
    "Tundra",
    "Zephyr",
    "Cobalt",
]
SUFFIXES = {
    "sneakers": ["Low", "Court", "Classic"],
    "running": ["Run", "Racer", "Trainer"],
    "boots": ["Boot", "Chelsea", "Hiker"],
    "sandals": ["Slide", "Sandal", "Strap"],
    "formal": ["Oxford", "Derby", "Loafer"],
}


# The picture each style gets (devtools/drawing.py draws them).
KINDS = {
    "Low": "sneaker",
    "Court": "sneaker",
    "Classic": "sneaker",
    "Run": "runner",
    "Racer": "runner",
    "Trainer": "runner",
    "Boot": "boot",
    "Chelsea": "chelsea",
    "Hiker": "boot",
    "Slide": "slide",
    "Sandal": "sandal",
    "Strap": "sandal",
    "Oxford": "oxford",
    "Derby": "oxford",
    "Loafer": "loafer",
}
# What descriptions are made of: per kind, what it is and what it is for; materials that suit it.
KIND_WORDS = {
    "sneaker": (
        "a low-top court sneaker",
        ["smooth leather", "canvas", "suede"],
        ["weekends", "the office on a Friday", "city walks"],
    ),
    "runner": (
        "a cushioned running shoe",
        ["engineered mesh", "knit", "ripstop mesh"],
        ["daily runs", "tempo days", "long easy miles"],
    ),
    "boot": (
        "a lace-up boot",
        ["waxed leather", "nubuck", "full-grain leather"],
        ["wet pavements", "trail days", "cold mornings"],
    ),
    "chelsea": (
        "a pull-on Chelsea boot",
        ["suede", "oiled leather", "polished leather"],
        ["evenings out", "autumn in town", "the office"],
    ),
    "slide": (
        "a one-strap slide",
        ["moulded EVA", "soft rubber", "padded webbing"],
        ["the pool", "after training", "lazy summer days"],
    ),
    "sandal": (
        "a strappy sandal",
        ["vegetable-tanned leather", "recycled webbing", "nubuck"],
        ["summer holidays", "warm city days", "the beach path"],
    ),
    "oxford": (
        "a lace-up dress shoe",
        ["polished calfskin", "burnished leather", "patent leather"],
        ["weddings", "the office", "evenings out"],
    ),
    "loafer": (
        "a slip-on loafer",
        ["suede", "polished calfskin", "soft nappa"],
        ["the office", "smart weekends", "travel days"],
    ),
}
SOLES = {
    "sneaker": "a stitched rubber cupsole",
    "runner": "a springy foam midsole and a grippy rubber outsole",
    "boot": "a lugged rubber sole that grips on mud",
    "chelsea": "a low-profile rubber sole",
    "slide": "a contoured footbed",
    "sandal": "a cork footbed that moulds to your foot",
    "oxford": "a leather sole and a stacked heel",
    "loafer": "a flexible leather sole",
}
EXTRAS = [
    "Runs true to size.",
    "Half a size up if you are between sizes.",
    "Light enough to pack.",
    "Easy to clean with a damp cloth.",
    "Made to last and easy to repair.",
    "A removable insole leaves room for your own.",
]


CATEGORY_KINDS = {"sneakers": "sneaker", "running": "runner", "boots": "boot", "sandals": "sandal", "formal": "oxford"}


def draw_shoe(colour: tuple[int, int, int], kind: str) -> Any:
    """The demo picture of a `kind` shoe (a devtools.drawing.DRAWERS key, or a category) in `colour`."""
    from devtools.drawing import draw

    return draw(CATEGORY_KINDS.get(kind, kind), colour)


PRICES = [3995, 4995, 5995, 6995, 7995, 8995, 9995, 11995, 12995, 14995, 17995]
STYLES = [(word, category, suffix) for word in MODEL_WORDS for category in CATEGORIES for suffix in SUFFIXES[category]]
random.Random("stride-demo-styles").shuffle(STYLES)
WRITE_CHUNK = 500  # shoes per round of existence check and batch writes


@dataclass(frozen=True)
class DemoShoe:
    index: int
    shoe_id: str
    name: str
    brand: str
    category: str
    department: str
    colour: str
    price_cents: int
    kind: str = "sneaker"  # the picture it gets (KINDS)
    description: str = ""


def describe(index: int, name: str, kind: str, colour: str, department: str) -> str:
    """A description made of the shoe's kind, a material, its colour and a use (the same each time)."""
    rng = random.Random(f"stride-demo-words-{index}")
    what, materials, uses = KIND_WORDS[kind]
    material = rng.choice(materials)
    use = rng.choice(uses if department != "kids" else [*uses[:2], "the school run", "the playground"])
    first = f"The {name} is {what} in {colour.lower()} {material}, made for {use}."
    second = f"It sits on {SOLES[kind]}."
    return f"{first} {second} {rng.choice(EXTRAS)}"


def demo_shoe(index: int) -> DemoShoe:
    """Demo shoe number `index` (0-based): the same every time, whatever the seed's size."""
    rng = random.Random(f"stride-demo-{index}")
    word, category, suffix = STYLES[index % len(STYLES)]
    generation = index // len(STYLES) + 1
    department = rng.choice(DEPARTMENTS)
    price = rng.choice(PRICES)
    if department == "kids":
        price = max(2495, (price // 200) * 100 - 5)  # about half, still ending in .95
    name = f"{word} {suffix}" if generation == 1 else f"{word} {suffix} {generation}"
    brand = rng.choice(BRANDS)
    colour = rng.choice(list(COLOURS))
    kind = KINDS[suffix]
    return DemoShoe(
        index=index,
        shoe_id="demo-" + hashlib.sha256(f"stride-demo-{index}".encode()).hexdigest()[:12],
        name=name,
        brand=brand,
        category=category,
        department=department,
        colour=colour,
        price_cents=price,
        kind=kind,
        description=describe(index, f"{brand} {name}", kind, colour, department),
    )


@dataclass(frozen=True)
class SeedReport:
    ids: list[str]  # every demo shoe asked for, in index order
    added: int  # how many of them this run created


DETAIL_BOX = (440, 160, 1160, 700)  # the front of the shoe, 4:3
# The first few demo shoes also get a close-up, so the product page's gallery has views to switch
# between; every picture costs four WebP encodes, so `make run` starts and big seeds stay quick.
CLOSE_UPS = 3


class _ImagePool:
    """Published pictures per (kind, colour): the side view and, for the first CLOSE_UPS shoes, a
    close-up of the toe; each drawn and uploaded on first use in this run."""

    def __init__(self) -> None:
        self._sides: dict[tuple[str, str], dict] = {}
        self._close_ups: dict[tuple[str, str], dict] = {}

    def images_for(self, spec: DemoShoe) -> list[dict]:
        key = (spec.kind, spec.colour)
        drawn = None  # not kept: a big seed would hold dozens of full-size pictures
        if key not in self._sides:
            drawn = draw_shoe(COLOURS[spec.colour], spec.kind)
            self._sides[key] = publish_image("demo", drawn)
        if spec.index >= CLOSE_UPS:
            return [self._sides[key]]
        if key not in self._close_ups:
            side = drawn or draw_shoe(COLOURS[spec.colour], spec.kind)
            self._close_ups[key] = publish_image("demo", side.crop(DETAIL_BOX).resize(side.size))
        return [self._sides[key], self._close_ups[key]]


def _existing_ids(ids: list[str]) -> set[str]:
    return {shoe.shoe_id for shoe in Shoe.batch_get(ids, attributes_to_get=["shoe_id"])}


def _stock_rows(spec: DemoShoe, offered: Iterable[str], created: datetime) -> list[Stock]:
    rng = random.Random(f"stride-demo-stock-{spec.index}")
    rows = []
    for size in offered:
        roll = rng.random()
        quantity = 0 if roll < 0.15 else rng.randint(1, 3) if roll < 0.35 else rng.randint(4, 20)
        rows.append(Stock(shoe_id=spec.shoe_id, size=size, quantity=quantity, sold=0, updated_at=created))
    return rows


def _shoe(spec: DemoShoe, images: list[dict], created: datetime) -> Shoe:
    shoe = Shoe(
        shoe_id=spec.shoe_id,
        name=spec.name,
        brand=spec.brand,
        colour=spec.colour,
        department=spec.department,
        category=spec.category,
        description=spec.description,
        price_cents=spec.price_cents,
        sizes=sizes.sizes_for(spec.department),
        images=[ShoeImage(**image) for image in images],
        status="active",
        created_at=created,
        updated_at=created,
        version=1,
    )
    shoe.set_sort_keys()
    return shoe


def seed_demo_report(count: int, now: datetime | None = None) -> SeedReport:
    """Make sure demo shoes 0..count-1 exist, with stock and images; existing ones are left as
    they are (their stock may have been sold or edited since)."""
    from chalicelib.services import catalogue_index

    bind_tables(get_settings())
    now = now or datetime.now(UTC)
    specs = [demo_shoe(index) for index in range(count)]
    pool = _ImagePool()
    new_cards: list[catalogue_index.Card] = []
    for start in range(0, count, WRITE_CHUNK):
        chunk = specs[start : start + WRITE_CHUNK]
        existing = _existing_ids([spec.shoe_id for spec in chunk])
        missing = [spec for spec in chunk if spec.shoe_id not in existing]
        with Shoe.batch_write() as shoe_batch, Stock.batch_write() as stock_batch:
            for spec in missing:
                created = now - timedelta(minutes=spec.index * 17 + spec.index % 17)
                shoe = _shoe(spec, pool.images_for(spec), created)
                rows = _stock_rows(spec, shoe.sizes, created)
                for row in rows:
                    stock_batch.save(row)
                shoe_batch.save(shoe)
                new_cards.append(catalogue_index.card_for(shoe, {row.size: int(row.quantity) for row in rows}))
    # The catalogue's filters and search read a compact read model: the new shoes' cards go in at
    # once (without reading the tables back); only a model that still lacks some (an earlier run
    # stopped before this step) is rebuilt from the tables.
    if new_cards:
        catalogue_index.put_cards(new_cards)
    index = catalogue_index.current(force=True)
    if any(index.card(spec.shoe_id) is None for spec in specs):
        catalogue_index.rebuild()
    return SeedReport(ids=[spec.shoe_id for spec in specs], added=len(new_cards))


def seed_demo(count: int, now: datetime | None = None) -> list[str]:
    """The ids of demo shoes 0..count-1, creating the missing ones (see seed_demo_report)."""
    return seed_demo_report(count, now).ids


def encode_png(image) -> bytes:
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()
