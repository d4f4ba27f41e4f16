"""A demo catalogue with images drawn here (no third-party photos)."""

import io
import random
import uuid
from datetime import UTC, datetime, timedelta

from chalicelib import sizes
from chalicelib.config import get_settings
from chalicelib.models import Shoe, Stock, bind_tables
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


def _image_pool(shoes_needed: int) -> dict[tuple[str, str], dict]:
    """Few products: one image each. Many (load tests): a shared pool, one per (category, colour)."""
    pool = {}
    for category in CATEGORIES:
        for colour_name, rgb in COLOURS.items():
            pool[(category, colour_name)] = publish_image("demo", draw_shoe(rgb, category))
    return pool


def seed_demo(count: int, seed: int = 7, now: datetime | None = None) -> list[str]:
    """Create `count` active shoes with stock; returns their ids."""
    bind_tables(get_settings())
    rng = random.Random(seed)
    now = now or datetime.now(UTC)
    pool = _image_pool(count) if count > 40 else None
    shoe_ids = []
    with Shoe.batch_write() as shoe_batch, Stock.batch_write() as stock_batch:
        for n in range(count):
            brand = rng.choice(BRANDS)
            category = rng.choice(CATEGORIES)
            department = rng.choice(DEPARTMENTS)
            colour = rng.choice(list(COLOURS))
            name = f"{rng.choice(MODEL_WORDS)} {rng.choice(SUFFIXES[category])}"
            if n < 500:
                name = f"{name} {n + 1}" if count > 40 else name
            shoe_id = uuid.uuid4().hex[:16]
            created = now - timedelta(minutes=n * 17 + rng.randint(0, 16))
            price = rng.choice([3995, 4995, 5995, 6995, 7995, 8995, 9995, 11995, 12995, 14995, 17995])
            if department == "kids":
                price = max(2495, (price // 200) * 100 - 5)  # about half, still ending in .95
            offered = sizes.sizes_for(department)
            if pool is not None:
                image = pool[(category, colour)]
            else:
                image = publish_image(shoe_id, draw_shoe(COLOURS[colour], category))
            shoe = Shoe(
                shoe_id=shoe_id,
                name=name,
                brand=brand,
                colour=colour,
                department=department,
                category=category,
                description=(
                    f"The {brand} {name} in {colour.lower()}: a {category} shoe for everyday wear, "
                    "with a cushioned insole and a grippy rubber sole."
                ),
                price_cents=price,
                sizes=offered,
                images=[image],
                status="active",
                created_at=created,
                updated_at=created,
                version=1,
            )
            shoe.set_sort_keys()
            shoe_batch.save(shoe)
            for size in offered:
                roll = rng.random()
                quantity = 0 if roll < 0.15 else rng.randint(1, 3) if roll < 0.35 else rng.randint(4, 20)
                stock_batch.save(Stock(shoe_id=shoe_id, size=size, quantity=quantity, sold=0, updated_at=created))
            shoe_ids.append(shoe_id)
    # The catalogue's filters and search read a compact read model: build it from what was seeded.
    from chalicelib.services import catalogue_index

    catalogue_index.rebuild()
    return shoe_ids


def encode_png(image) -> bytes:
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()
