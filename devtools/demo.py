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


def draw_shoe(colour: tuple[int, int, int], category: str):
    """A simple shoe illustration: sole, upper, laces, on a soft background."""
    from PIL import Image, ImageDraw

    width, height = 1200, 900
    image = Image.new("RGB", (width, height), (243, 245, 248))
    draw = ImageDraw.Draw(image)
    draw.ellipse((150, 640, 1050, 760), fill=(225, 229, 235))
    dark = tuple(max(0, c - 60) for c in colour)
    top = 300 if category == "boots" else 430
    upper = [(200, 640), (230, top + 80), (420, top), (640, top + 40), (760, 470), (1000, 540), (1020, 640)]
    if category == "sandals":
        draw.rectangle((200, 600, 1020, 650), fill=colour)
        for x in (380, 560, 740):
            draw.rounded_rectangle((x, 470, x + 90, 610), radius=30, fill=dark)
    else:
        draw.polygon(upper, fill=colour, outline=dark)
        for i in range(4):
            x = 470 + i * 55
            draw.line((x, top + 60 + i * 10, x + 40, top + 110 + i * 10), fill=(250, 250, 250), width=10)
    sole = (190, 640, 1030, 690)
    draw.rounded_rectangle(sole, radius=22, fill=(250, 250, 250) if colour != COLOURS["White"] else (60, 60, 60))
    return image


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


def demo_shoe(index: int) -> DemoShoe:
    """Demo shoe number `index` (0-based): the same every time, whatever the seed's size."""
    rng = random.Random(f"stride-demo-{index}")
    word, category, suffix = STYLES[index % len(STYLES)]
    generation = index // len(STYLES) + 1
    department = rng.choice(DEPARTMENTS)
    price = rng.choice(PRICES)
    if department == "kids":
        price = max(2495, (price // 200) * 100 - 5)  # about half, still ending in .95
    return DemoShoe(
        index=index,
        shoe_id="demo-" + hashlib.sha256(f"stride-demo-{index}".encode()).hexdigest()[:12],
        name=f"{word} {suffix}" if generation == 1 else f"{word} {suffix} {generation}",
        brand=rng.choice(BRANDS),
        category=category,
        department=department,
        colour=rng.choice(list(COLOURS)),
        price_cents=price,
    )


@dataclass(frozen=True)
class SeedReport:
    ids: list[str]  # every demo shoe asked for, in index order
    added: int  # how many of them this run created


class _ImagePool:
    """One published image per (category, colour), drawn and uploaded on first use in this run."""

    def __init__(self) -> None:
        self._published: dict[tuple[str, str], dict] = {}

    def image_for(self, spec: DemoShoe) -> dict:
        key = (spec.category, spec.colour)
        if key not in self._published:
            self._published[key] = publish_image("demo", draw_shoe(COLOURS[spec.colour], spec.category))
        return self._published[key]


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


def _shoe(spec: DemoShoe, image: dict, created: datetime) -> Shoe:
    shoe = Shoe(
        shoe_id=spec.shoe_id,
        name=spec.name,
        brand=spec.brand,
        colour=spec.colour,
        department=spec.department,
        category=spec.category,
        description=(
            f"The {spec.brand} {spec.name} in {spec.colour.lower()}: a {spec.category} shoe for everyday wear, "
            "with a cushioned insole and a grippy rubber sole."
        ),
        price_cents=spec.price_cents,
        sizes=sizes.sizes_for(spec.department),
        images=[ShoeImage(**image)],
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
                shoe = _shoe(spec, pool.image_for(spec), created)
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
