"""PynamoDB models, one module per area; every table the store uses is listed in ALL_MODELS."""

from chalicelib.config import Settings
from chalicelib.models.accounts import Admin, Session, UniqueClaim, User
from chalicelib.models.audit import AuditEntry
from chalicelib.models.base import StoreModel, TablesNotBound, bind_models, shared_connection, short_table_name
from chalicelib.models.catalogue import CatalogueIndexPart, Shoe, ShoeImage, Stock
from chalicelib.models.counters import Tally
from chalicelib.models.limits import RateCounter
from chalicelib.models.orders import CartLine, CartLineCount, Order, OrderLine, OrderNumberClaim, StatusChange
from chalicelib.models.outbox import EmailSuppression, OutboxMessage
from chalicelib.models.payments import PaymentEvent, UnpaidOrderCount
from chalicelib.models.pricing import DiscountClaim, DiscountCode, ShippingZoneItem
from chalicelib.models.restock import RestockSubscription, RestockWaitCount
from chalicelib.models.reviews import Review, ReviewSummary

# One model per table (UniqueClaim and OrderNumberClaim share the users table with User, CartLineCount the carts
# table, EmailSuppression the outbox table, RestockWaitCount the restock-subscriptions table, DiscountClaim
# and ShippingZoneItem the pricing table with DiscountCode, ReviewSummary the reviews table with Review).
TABLE_MODELS: list[type[StoreModel]] = [
    User,
    Admin,
    Session,
    Shoe,
    Stock,
    CartLine,
    Order,
    CatalogueIndexPart,
    RateCounter,
    RestockSubscription,
    OutboxMessage,
    Tally,
    PaymentEvent,
    DiscountCode,
    AuditEntry,
    Review,
]
ALL_MODELS: list[type[StoreModel]] = [
    *TABLE_MODELS,
    UniqueClaim,
    CartLineCount,
    RestockWaitCount,
    EmailSuppression,
    UnpaidOrderCount,
    DiscountClaim,
    ShippingZoneItem,
    OrderNumberClaim,
    ReviewSummary,
]
# Tables whose changes stream consumers see (DynamoDB Streams, NEW_AND_OLD_IMAGES), one line each:
# the data stack, the local tables, the stream Lambdas and their policies all follow this list.
STREAMED_MODELS: list[type[StoreModel]] = [
    Shoe,
    Stock,
    Order,
    OutboxMessage,
    Review,
]
STREAM_VIEW_TYPE = "NEW_AND_OLD_IMAGES"


def bind_tables(settings: Settings) -> None:
    """Name every model's table after the stage (settings.table_prefix) and set its region.

    Called once per process by each entry point (app.py, manage.py, devtools, bench, tests) rather
    than at import, so importing the models never depends on the environment. Idempotent."""
    bind_models(settings, ALL_MODELS)


__all__ = [
    "ALL_MODELS",
    "STREAMED_MODELS",
    "STREAM_VIEW_TYPE",
    "TABLE_MODELS",
    "Admin",
    "AuditEntry",
    "CartLine",
    "CartLineCount",
    "CatalogueIndexPart",
    "DiscountClaim",
    "DiscountCode",
    "EmailSuppression",
    "Order",
    "OrderLine",
    "OrderNumberClaim",
    "OutboxMessage",
    "PaymentEvent",
    "RateCounter",
    "RestockSubscription",
    "RestockWaitCount",
    "Review",
    "ReviewSummary",
    "Session",
    "ShippingZoneItem",
    "Shoe",
    "ShoeImage",
    "StatusChange",
    "Stock",
    "StoreModel",
    "TablesNotBound",
    "Tally",
    "UniqueClaim",
    "UnpaidOrderCount",
    "User",
    "bind_tables",
    "shared_connection",
    "short_table_name",
]
