"""PynamoDB models, one module per area; every table the store uses is listed in ALL_MODELS."""

from chalicelib.models.accounts import Admin, Session, UniqueClaim, User
from chalicelib.models.base import StoreModel, shared_connection
from chalicelib.models.catalogue import CatalogueIndexPart, Shoe, ShoeImage, Stock
from chalicelib.models.orders import CartLine, Order, OrderLine, StatusChange

# One model per table (UniqueClaim shares the users table with User).
TABLE_MODELS = [User, Admin, Session, Shoe, Stock, CartLine, Order, CatalogueIndexPart]
ALL_MODELS = [*TABLE_MODELS, UniqueClaim]

__all__ = [
    "ALL_MODELS",
    "TABLE_MODELS",
    "Admin",
    "CartLine",
    "CatalogueIndexPart",
    "Order",
    "OrderLine",
    "Session",
    "Shoe",
    "ShoeImage",
    "StatusChange",
    "Stock",
    "StoreModel",
    "UniqueClaim",
    "User",
    "shared_connection",
]
