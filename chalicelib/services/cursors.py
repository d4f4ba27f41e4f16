"""Page cursors for every listing: a signed token holding where the next page starts, bound to
the listing it was made for and to what selects that listing's items (the shopper, the status,
the filters). A cursor for another listing, another shopper or other filters is refused like a
damaged one, with InvalidCursor; a page may fall back to its first page, and under /api/ the
middleware answers it with a 400 `InvalidCursor`.
"""

from collections.abc import Mapping
from typing import Any

from chalicelib import tokens
from chalicelib.services.errors import ValidationFailed

BAD_CURSOR = "That page cursor is out of date or damaged. Start from the first page."

# The listings; each name is also the token purpose, so no other token passes for a cursor.
CATALOGUE = "catalogue"
ORDERS = "orders"  # a shopper's order history
ADMIN_SHOES = "admin-shoes"
ADMIN_ORDERS = "admin-orders"
ADMIN_LOW_STOCK = "admin-low-stock"
ADMIN_CUSTOMERS = "admin-customers"
ADMIN_CUSTOMER_ORDERS = "admin-customer-orders"
ADMIN_ORDER_SEARCH = "admin-order-search"
ADMIN_AUDIT = "admin-audit"
ADMIN_RETURNS = "admin-returns"
REVIEWS = "reviews"  # a shoe's reviews on its product page
ADMIN_REVIEWS = "admin-reviews"


class InvalidCursor(ValidationFailed):
    """A cursor that is damaged, expired by a key rotation, or made for another listing."""

    def __init__(self, message: str = BAD_CURSOR) -> None:
        super().__init__({"cursor": message}, message=message)


def _purpose(listing: str) -> str:
    return f"cursor:{listing}"


def encode(listing: str, position: Mapping[str, Any] | None, bound_to: Mapping[str, Any] | None = None) -> str | None:
    """A cursor continuing `listing` at `position` (for example DynamoDB's LastEvaluatedKey);
    None when there is no position, at the end of the listing."""
    if position is None:
        return None
    return tokens.dumps(_purpose(listing), {"b": dict(bound_to or {}), "p": dict(position)})


def decode(
    listing: str, token: str | None, bound_to: Mapping[str, Any] | None = None, message: str = BAD_CURSOR
) -> dict[str, Any] | None:
    """The position in a cursor from encode() for the same listing and binding; None for no cursor
    (the first page); InvalidCursor(message) for anything else."""
    if not token:
        return None
    try:
        data = tokens.loads(_purpose(listing), token)
    except tokens.InvalidToken:
        raise InvalidCursor(message) from None
    if not isinstance(data, dict) or data.get("b") != dict(bound_to or {}) or not isinstance(data.get("p"), dict):
        raise InvalidCursor(message)
    return data["p"]
