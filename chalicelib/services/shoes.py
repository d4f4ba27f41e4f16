"""Shoe rules the shop window, the cart and the back office share: ids, labels, prices, loading."""

import re

from chalicelib.models.catalogue import Shoe, Stock
from chalicelib.services.errors import NotFound

DEPARTMENTS = {"men": "Men", "women": "Women", "kids": "Kids"}
CATEGORIES = {"sneakers": "Sneakers", "running": "Running", "boots": "Boots", "sandals": "Sandals", "formal": "Formal"}
LOW_STOCK = 3  # "Only N left" at this many pairs or fewer
SHOE_ID_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
NO_SUCH_SHOE = "We could not find that shoe."
# What a price field takes, here and in the OpenAPI document (the same regex, so they cannot
# disagree): spaces around, one optional "$", up to six whole digits (thousands may be grouped with
# commas: "1,299"), then optional cents (".9", ".95"). ASCII digits only: `\d` would take "٨٠".
PRICE_PATTERN = r"^\s*\$?\s*([0-9]{1,6}|[0-9]{1,3},[0-9]{3})(?:\.([0-9]{1,2}))?\s*$"
PRICE_RE = re.compile(PRICE_PATTERN)
PRICE_MAX_UNITS = 999_999  # six whole digits: the most PRICE_PATTERN reads


def get_shoe(shoe_id: str, consistent_read: bool = True) -> Shoe:
    """The shoe, archived or not; a malformed or unknown id is NotFound without a read."""
    if not SHOE_ID_RE.match(shoe_id or ""):
        raise NotFound(NO_SUCH_SHOE)
    try:
        return Shoe.get(shoe_id, consistent_read=consistent_read)
    except Shoe.DoesNotExist as error:
        raise NotFound(NO_SUCH_SHOE) from error


def stock_by_size(shoe_id: str) -> dict[str, int]:
    return {row.size: int(row.quantity) for row in Stock.query(shoe_id)}


def parse_price(text: str) -> int | None:
    """ "89.95", "$89.9", "$ 1,299" or "89" to integer cents; None if PRICE_PATTERN refuses it.
    `search` with the pattern's anchors is how a JSON Schema `pattern` is applied: same answers."""
    match = PRICE_RE.search(text or "")
    if not match:
        return None
    return int(match.group(1).replace(",", "")) * 100 + int(((match.group(2) or "") + "00")[:2])


def format_price(cents: int, drop_zero_cents: bool = False) -> str:
    """Cents as the text a price field takes back: "89.95", "80.00" (or "80")."""
    whole, part = divmod(int(cents), 100)
    return str(whole) if drop_zero_cents and not part else f"{whole}.{part:02d}"
