"""Shoes and their stock per size."""

from pynamodb.attributes import (
    BinaryAttribute,
    ListAttribute,
    MapAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
    VersionAttribute,
)
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex

from chalicelib import clock
from chalicelib.models.base import StoreModel, table_meta

DRAFT = "draft"  # new shoes: only the back office sees them until published
ACTIVE = "active"
ARCHIVED = "archived"


class ShoeImage(MapAttribute):
    """One verified image: S3 keys of its re-encoded sizes (never the uploaded original)."""

    image_id = UnicodeAttribute()
    thumb_key = UnicodeAttribute()
    large_key = UnicodeAttribute()
    width = NumberAttribute(default=0)
    height = NumberAttribute(default=0)


class ShoesByNewest(GlobalSecondaryIndex):
    """Listing by status, newest first (ScanIndexForward=False)."""

    class Meta:
        index_name = "by-newest"
        projection = AllProjection()

    status = UnicodeAttribute(hash_key=True)
    created_sort = UnicodeAttribute(range_key=True)


class ShoesByPrice(GlobalSecondaryIndex):
    """Listing by status, by price either way."""

    class Meta:
        index_name = "by-price"
        projection = AllProjection()

    status = UnicodeAttribute(hash_key=True)
    price_sort = UnicodeAttribute(range_key=True)


class Shoe(StoreModel):
    Meta = table_meta("shoes")

    shoe_id = UnicodeAttribute(hash_key=True)
    name = UnicodeAttribute()
    brand = UnicodeAttribute()
    colour = UnicodeAttribute()
    department = UnicodeAttribute()  # services/shoes.py DEPARTMENTS
    category = UnicodeAttribute()  # services/shoes.py CATEGORIES
    description = UnicodeAttribute(default="")
    price_cents = NumberAttribute()
    # Sizes offered, in size order.
    sizes = ListAttribute[str](of=UnicodeAttribute, default=list)  # type: ignore[arg-type]  # PynamoDB types `of` as the element type
    images = ListAttribute(of=ShoeImage, default=list)  # first is the primary
    status = UnicodeAttribute(default=ACTIVE)  # DRAFT, ACTIVE (in the shop) or ARCHIVED
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()
    version = VersionAttribute()
    # Index sort keys, derived on save so ties never collide: "<iso time>#<id>", "<10-digit cents>#<id>".
    created_sort = UnicodeAttribute()
    price_sort = UnicodeAttribute()
    # The back office's search text, and the image list's own counter (a new photo must not make
    # an open edit form stale by bumping `version`).
    search_text = UnicodeAttribute(null=True)
    images_version = NumberAttribute(default=0)

    by_newest = ShoesByNewest()
    by_price = ShoesByPrice()

    def set_sort_keys(self) -> None:
        self.created_sort = f"{clock.sortable(self.created_at)}#{self.shoe_id}"
        self.price_sort = f"{int(self.price_cents):010d}#{self.shoe_id}"
        self.search_text = " ".join([self.name, self.brand, self.colour, self.category]).casefold()

    @property
    def is_active(self) -> bool:
        return self.status == ACTIVE


class Stock(StoreModel):
    """Pairs on hand for one (shoe, size): its own item, so checkout decrements each size under its
    own condition and two sizes never collide in a transaction."""

    Meta = table_meta("stock")

    shoe_id = UnicodeAttribute(hash_key=True)
    size = UnicodeAttribute(range_key=True)
    quantity = NumberAttribute(default=0)
    sold = NumberAttribute(default=0)  # units ever ordered; a shoe with sales is never hard-deleted
    updated_at = UTCDateTimeAttribute(null=True)


class CatalogueIndexPart(StoreModel):
    """The catalogue read model (services/catalogue_index.py): the `shards` item (every shard's
    version and a change counter) and one `shard#<nnn>` item per shard (its cards, compressed)."""

    Meta = table_meta("catalogue-index")

    part = UnicodeAttribute(hash_key=True)
    # A shard's own version; on `shards`, a counter of shard writes published (the model's version).
    version = NumberAttribute(default=0)
    shard_versions = ListAttribute[int](of=NumberAttribute, default=list)  # type: ignore[arg-type]  # PynamoDB types `of` as the element type
    shoe_count = NumberAttribute(default=0)
    built_at = UTCDateTimeAttribute(null=True)
    data = BinaryAttribute(null=True, legacy_encoding=False)
