"""The OpenAPI 3 document for the JSON API under /api/v1, built here at build time.

    python -m infra.openapi           # write chalicelib/data/openapi.json.gz
    python -m infra.openapi --check   # exit 1 if the committed file is not what this builds

The app serves the committed file (blueprints/api/meta.py) and never imports this module, so the
builder costs the Lambda nothing at cold start. Every /api/v1 route is described here, one
`spec.operation(...)` per path and method in its area's section function (nothing is registered
at import: `document()` runs the sections on a fresh `Spec`). Tests check the document and the
app's route table name the same operations, that each serialiser (chalicelib/serializers.py)
answers its schema, and schemathesis checks the running stack answers as documented. Layout:
building blocks (shared schemas and error responses), then one section per area (meta,
catalogue, cart and orders, admin). Limits, patterns and choices come from the services' own
constants, so the document follows them.
"""

import argparse
import gzip
import json
import sys
from copy import deepcopy
from typing import Any

from chalicelib import sizes
from chalicelib.blueprints.api import PREFIX as API_PREFIX
from chalicelib.blueprints.api.meta import OPENAPI_JSON, read_committed_text
from chalicelib.services import catalogue, checkout, fulfilment, pricing, products, refunds, shoes, uploads
from chalicelib.services.catalogue_index import BEST, NEWEST

VERSION = "1.1.0"

ERROR_SCHEMA = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {
                "code": {"type": "string"},
                "message": {"type": "string"},
                "fields": {"type": "object", "additionalProperties": {"type": "string"}},
            },
        }
    },
}

MUTATIONS = {"POST", "PUT", "PATCH", "DELETE"}
PUBLIC, SHOPPER, ADMIN = "public", "shopper", "admin"


def error_response(description: str) -> dict:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }


def json_response(description: str, schema: dict) -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


# -- building blocks --------------------------------------------------------------------------------

# Error answers shared by many operations: what the middleware, the guards and the services'
# exceptions become under /api/ (see chalicelib/web/middleware.py).
ERRORS = {
    400: "The request is malformed: not a JSON object, or bad query parameters (`fields` may name them).",
    401: "No session, or it expired: log in (the shop's /login page) and send the session cookie.",
    403: (
        "Refused: the X-CSRF-Token header is missing or does not belong to this session (code "
        "CSRFFailed; every POST/PUT/PATCH/DELETE), or the session is not allowed here (code Forbidden)."
    ),
    404: "No such item (or not yours).",
    409: "The request conflicts with the current state (sold out, changed meanwhile, wrong status...).",
    410: "No longer sold (code NoLongerSold): the shoe was in the shop and is archived.",
    413: "The body is larger than the shop accepts (64 KB).",
    415: "The body is not sent as application/json.",
    422: "The input is not valid: `fields` maps each bad field to a message.",
    429: "Too many requests (code TooManyRequests): wait the Retry-After header's seconds.",
    503: "The store's database is busy: try again in a moment.",
}
ERROR_NAMES = {
    400: "BadRequest",
    401: "NotAuthenticated",
    403: "Forbidden",
    404: "NotFound",
    409: "Conflict",
    410: "Gone",
    413: "PayloadTooLarge",
    415: "UnsupportedMediaType",
    422: "ValidationFailed",
    429: "TooManyRequests",
    503: "ServiceUnavailable",
}
RESPONSES = {ERROR_NAMES[status]: error_response(text) for status, text in ERRORS.items()}


def ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def nullable(schema: dict) -> dict:
    if "$ref" in schema:  # in OpenAPI 3.0 a $ref's siblings are ignored: wrap it
        return {"allOf": [schema], "nullable": True}
    return {**schema, "nullable": True}


def obj(properties: dict[str, dict], optional: tuple[str, ...] = (), closed: bool = True) -> dict:
    """An object schema; every property is required unless named in `optional`."""
    schema: dict[str, Any] = {"type": "object", "properties": properties}
    required = [name for name in properties if name not in optional]
    if required:
        schema["required"] = required
    if closed:
        schema["additionalProperties"] = False
    return schema


def array(items: dict) -> dict:
    return {"type": "array", "items": items}


STRING = {"type": "string"}
INTEGER = {"type": "integer"}
BOOLEAN = {"type": "boolean"}
CENTS = {"type": "integer", "description": "Money in integer cents."}
TIMESTAMP = {"type": "string", "format": "date-time", "description": "UTC, ISO 8601."}
CURSOR = nullable({"type": "string", "description": "Pass as `cursor` for the next page; null on the last."})
SIZE: dict = {"type": "string", "enum": sizes.ALL_SIZES, "description": "An EU size label."}


def path_parameter(name: str, description: str) -> dict:
    return {"name": name, "in": "path", "required": True, "description": description, "schema": STRING}


def query_parameter(name: str, schema: dict, description: str, required: bool = False) -> dict:
    return {"name": name, "in": "query", "required": required, "description": description, "schema": schema}


CURSOR_PARAMETER = query_parameter(
    "cursor", {"type": "string", "maxLength": 4096}, "`next_cursor` of the previous page."
)


class Spec:
    """The document's paths and component schemas, filled by the area sections below."""

    def __init__(self) -> None:
        self.paths: dict[str, dict[str, dict]] = {}
        self.schemas: dict[str, dict] = {"Error": ERROR_SCHEMA}

    def add_schema(self, name: str, schema: dict) -> None:
        self.schemas[name] = schema

    def operation(
        self,
        method: str,
        path: str,
        operation_id: str,
        summary: str,
        *,
        tag: str,
        ok: dict[int, tuple[str, dict]],
        access: str = PUBLIC,
        errors: tuple[int, ...] = (),
        parameters: list[dict] | None = None,
        body: dict | None = None,
        description: str = "",
        extra_responses: dict[int, dict] | None = None,
        uses_database: bool = True,
    ) -> None:
        """Describe one operation. Errors every caller can meet are added from what it is:
        401/403 from its guard and the CSRF check, 400/413/415 from a JSON body, 503 from DynamoDB."""
        statuses = set(errors) | ({503} if uses_database else set())
        security: list[dict] = []
        mutation = method.upper() in MUTATIONS
        if mutation:
            statuses |= {403, 413}
        if access != PUBLIC:
            statuses.add(401)
            security = [{"session": [], "csrf": []}] if mutation else [{"session": []}]
        if access == ADMIN:
            statuses.add(403)
        spec: dict[str, Any] = {"operationId": operation_id, "summary": summary, "tags": [tag]}
        if description:
            spec["description"] = description
        if parameters:
            spec["parameters"] = parameters
        if body is not None:
            statuses |= {400, 415}
            spec["requestBody"] = {"required": True, "content": {"application/json": {"schema": body}}}
        responses: dict[str, dict] = {str(status): json_response(*answer) for status, answer in ok.items()}
        for status in sorted(statuses):
            responses[str(status)] = {"$ref": f"#/components/responses/{ERROR_NAMES[status]}"}
        for status, answer in (extra_responses or {}).items():
            responses[str(status)] = answer
        spec["responses"] = dict(sorted(responses.items()))
        spec["security"] = security
        self.paths.setdefault(f"{API_PREFIX}{path}", {})[method.lower()] = spec


def document() -> dict[str, Any]:
    spec = Spec()
    for section in SECTIONS:
        section(spec)
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "Stride Shoes API",
            "version": VERSION,
            "description": (
                "JSON API of the Stride Shoes store. Errors are {error: {code, message, fields?}}. "
                "Money is integer cents; times are UTC ISO 8601. Shoppers and admins log in through "
                "the shop's pages (/login, /admin); the API then takes the session cookie (`sid`, "
                "`__Host-sid` over HTTPS). Calls that change data also need the X-CSRF-Token header: "
                "the `csrf_token` value from any page of the same session. Every GET also answers HEAD "
                "(the same status and headers, no body)."
            ),
        },
        "tags": [
            {"name": "meta", "description": "Health and this document."},
            {"name": "catalogue", "description": "The shop window: active shoes, public."},
            {"name": "shop", "description": "The logged-in shopper's cart and orders."},
            {"name": "admin", "description": "The back office: products, stock, images, orders. Admins only."},
        ],
        "paths": deepcopy(spec.paths),
        "components": {
            "schemas": deepcopy(spec.schemas),
            "responses": deepcopy(RESPONSES),
            "securitySchemes": {
                "session": {
                    "type": "apiKey",
                    "in": "cookie",
                    "name": "sid",
                    "description": "The session cookie set by logging in (`__Host-sid` over HTTPS).",
                },
                "csrf": {
                    "type": "apiKey",
                    "in": "header",
                    "name": "X-CSRF-Token",
                    "description": "The session's CSRF token (the `csrf_token` field of its pages).",
                },
            },
        },
    }


# -- meta -------------------------------------------------------------------------------------------


def _meta_section(spec: Spec) -> None:
    spec.operation(
        "GET",
        "/health",
        "health",
        "Liveness check",
        tag="meta",
        ok={200: ("The API answers", obj({"status": {"type": "string", "enum": ["ok"]}}))},
        uses_database=False,
    )
    spec.operation(
        "GET",
        "/openapi.json",
        "openapi",
        "This OpenAPI document",
        tag="meta",
        ok={200: ("The OpenAPI 3 document", {"type": "object", "required": ["openapi", "info", "paths"]})},
        uses_database=False,
    )


# -- catalogue (chalicelib/blueprints/api/catalogue.py) ---------------------------------------------

DEPARTMENT = {"type": "string", "enum": list(catalogue.DEPARTMENTS)}
CATEGORY = {"type": "string", "enum": list(catalogue.CATEGORIES)}
# The parser's own regex (services/shoes.py): the document and the code accept the same prices.
PRICE_TEXT = {"type": "string", "pattern": shoes.PRICE_PATTERN}


def filter_parameter(name: str, schema: dict, description: str) -> dict:
    """A listing filter: empty means unset (a filter form sends every field, filled or not)."""
    return {**query_parameter(name, schema, description), "allowEmptyValue": True}


# Every view of a shoe (serializers._shoe_fields); the shop's and the back office's add to it.
SHOE_FIELDS: dict[str, dict] = {
    "shoe_id": STRING,
    "name": STRING,
    "brand": STRING,
    "colour": STRING,
    "department": DEPARTMENT,
    "category": CATEGORY,
    "description": STRING,
    "price_cents": CENTS,
}


def _catalogue_section(spec: Spec) -> None:
    spec.add_schema(
        "ShoeCard",
        obj(
            {
                **{name: schema for name, schema in SHOE_FIELDS.items() if name != "description"},
                "image_url": nullable({"type": "string", "description": "The primary photo's thumbnail."}),
                "url": {"type": "string", "description": "The shoe's page in the shop."},
            }
        ),
    )
    spec.add_schema(
        "ShoeList",
        obj(
            {
                "items": array(ref("ShoeCard")),
                "next_cursor": CURSOR,
                "prev_cursor": nullable(
                    {"type": "string", "description": "Cursor of the page before; null on the first."}
                ),
                "total": nullable({"type": "integer", "description": "Matching shoes, for filtered listings only."}),
                "query": {
                    "type": "object",
                    "description": "The filters as understood (only those set) and the sort.",
                    "required": ["sort"],
                    "additionalProperties": False,
                    "properties": dict.fromkeys((*catalogue.FILTER_FIELDS, "sort"), STRING),
                },
            }
        ),
    )
    spec.add_schema(
        "ShoeDetail",
        obj(
            {
                **SHOE_FIELDS,
                "images": array(obj({"thumb_url": STRING, "large_url": STRING})),
                "sizes": array(
                    obj(
                        {
                            "size": SIZE,
                            "label": {"type": "string", "description": 'e.g. "EU 42 · UK 8.5 · US 9.5"'},
                            "available": BOOLEAN,
                            "only_left": nullable(
                                {"type": "integer", "description": f"Pairs left when {catalogue.LOW_STOCK} or fewer."}
                            ),
                        }
                    )
                ),
            }
        ),
    )
    spec.operation(
        "GET",
        "/shoes",
        "listShoes",
        "List active shoes",
        tag="catalogue",
        description=(
            "The home page's listing: the same filters, sort and cursors. A cursor is bound to the "
            "filters and sort it was made for. Bad parameters are a 400 InvalidQuery naming them; a "
            "tampered or foreign cursor a 400 InvalidCursor."
        ),
        parameters=[
            filter_parameter(
                "sort",
                {"type": "string", "enum": list(catalogue.SORTS)},
                f"Default {BEST} with q, else {NEWEST}; {BEST} needs q.",
            ),
            filter_parameter("q", {"type": "string"}, f"Search words (at most {catalogue.SEARCH_MAX} characters)."),
            filter_parameter("brand", {"type": "string"}, f"Exact brand (at most {catalogue.BRAND_MAX} characters)."),
            filter_parameter("department", DEPARTMENT, "Department."),
            filter_parameter("category", CATEGORY, "Kind of shoe."),
            filter_parameter("size", SIZE, "Only shoes in stock in this EU size."),
            filter_parameter(
                "min_price",
                PRICE_TEXT,
                f'Lowest price, like "80", "79.95", "$ 80" or "1,299" (at most {shoes.PRICE_MAX_UNITS:,}.99).',
            ),
            filter_parameter("max_price", PRICE_TEXT, "Highest price, written as min_price, at least min_price."),
            filter_parameter("cursor", {"type": "string", "maxLength": 1024}, "`next_cursor` or `prev_cursor`."),
            filter_parameter(
                "limit",
                {"type": "integer", "minimum": 1, "maximum": catalogue.MAX_PAGE_SIZE, "default": catalogue.PAGE_SIZE},
                "Shoes per page.",
            ),
        ],
        ok={200: ("One page of shoe cards", ref("ShoeList"))},
        errors=(400,),
    )
    spec.operation(
        "GET",
        "/shoes/{shoe_id}",
        "getShoe",
        "One active shoe with availability per size",
        tag="catalogue",
        parameters=[path_parameter("shoe_id", "The shoe's id.")],
        ok={200: ("The shoe", ref("ShoeDetail"))},
        errors=(404, 410),
        description=(
            "Unknown and draft shoes are a 404; an archived one is a 410 NoLongerSold (as the shop's page for it)."
        ),
    )


# -- cart and orders (chalicelib/blueprints/api/shop.py, services/orders.py) ------------------------

SHOE_ID_FIELD: dict = {"type": "string", "maxLength": 64, "description": "The shoe's id."}
QUANTITY = {"type": "integer", "minimum": 1, "description": "Pairs, at most the per-line limit (10 by default)."}
ORDER_STATUS = {"type": "string", "enum": list(fulfilment.STATUSES)}
ADDRESS_PROPERTIES = {
    name: {"type": "string", "maxLength": limit, "description": label}
    for name, (label, _required, limit) in checkout.ADDRESS_FIELDS.items()
}
ADDRESS_PROPERTIES["country"] = {"type": "string", "enum": list(checkout.COUNTRY_NAMES), "description": "Country"}
ADDRESS_OPTIONAL = tuple(name for name, (_label, required, _limit) in checkout.ADDRESS_FIELDS.items() if not required)
ORDER_PROPERTIES: dict[str, dict] = {
    "order_id": STRING,
    "order_number": {
        **nullable(STRING),
        "description": "The number a person reads, e.g. SS-4F7K-2Q; null for orders placed before numbers.",
    },
    "status": ORDER_STATUS,
    "created_at": TIMESTAMP,
    "updated_at": TIMESTAMP,
    "payment_method": {"type": "string", "enum": ["pay_on_delivery", "card"]},
    "paid_at": {**nullable(TIMESTAMP), "description": "When Stripe confirmed a card payment; null otherwise."},
    "refunded": {**BOOLEAN, "description": "True once a card payment was refunded in full."},
    "lines": array(
        obj(
            {
                "shoe_id": STRING,
                "name": STRING,
                "brand": STRING,
                "size": SIZE,
                "unit_price_cents": CENTS,
                "quantity": INTEGER,
                "line_total_cents": CENTS,
            }
        )
    ),
    "address": {**nullable(ref("Address")), "description": "Null once the shopper deleted the account."},
    "subtotal_cents": CENTS,
    "discount_cents": {**CENTS, "description": "Taken off the subtotal by the discount code."},
    "discount_code": {**nullable(STRING), "description": "The discount code the order used, upper case; null if none."},
    "shipping_method": obj({"id": STRING, "label": STRING}),
    "shipping_cents": {**CENTS, "description": "The shipping method's price for this order (0: free)."},
    "total_cents": CENTS,
    "history": array(obj({"status": ORDER_STATUS, "at": TIMESTAMP, "note": nullable(STRING)})),
    "tracking_note": nullable(STRING),
    "carrier": {**nullable(STRING), "description": "The carrier's code once shipped (dhl, ups, usps, ...)."},
    "tracking_number": nullable(STRING),
}
LINE_KEY: dict[str, dict] = {"shoe_id": SHOE_ID_FIELD, "size": SIZE}


def _shop_section(spec: Spec) -> None:
    spec.add_schema("Address", obj(ADDRESS_PROPERTIES, optional=ADDRESS_OPTIONAL))
    spec.add_schema(
        "Cart",
        obj(
            {
                "lines": array(
                    obj(
                        {
                            "line_id": {"type": "string", "description": "<shoe_id>#<size>"},
                            "shoe_id": STRING,
                            "name": STRING,
                            "size": SIZE,
                            "quantity": INTEGER,
                            "unit_price_cents": CENTS,
                            "line_total_cents": CENTS,
                            "in_stock": {"type": "integer", "description": "Pairs on hand in this size now."},
                            "problem": nullable(
                                {"type": "string", "description": 'Why it cannot be ordered as is ("Sold out"...).'}
                            ),
                        }
                    )
                ),
                "units": {"type": "integer", "description": "Pairs in the cart."},
                "subtotal_cents": {**CENTS, "description": "Lines without a problem, in cents."},
                "discount_cents": {
                    **CENTS,
                    "description": "Taken off the subtotal by discounts (codes apply at checkout, not here).",
                },
                "shipping_cents": {**CENTS, "description": "Shipping for the subtotal after discounts."},
                "total_cents": {**CENTS, "description": "Subtotal - discounts + shipping: what the order would cost."},
                "message": {"type": "string", "description": "What the change did, in words (changes only)."},
            },
            optional=("message",),
        ),
    )
    spec.add_schema("Order", obj(ORDER_PROPERTIES))
    spec.add_schema("OrderList", obj({"orders": array(ref("Order")), "next_cursor": CURSOR}))
    spec.operation(
        "GET", "/cart", "getCart", "The shopper's cart", tag="shop", access=SHOPPER, ok={200: ("The cart", ref("Cart"))}
    )
    spec.operation(
        "POST",
        "/cart",
        "addToCart",
        "Add pairs of a shoe in a size",
        tag="shop",
        access=SHOPPER,
        description=(
            "An existing line grows. Quantities are capped by stock and the per-line limit (the "
            "`message` says so). Unknown shoe: 404; sold out or already at the cap: 409; bad quantity, "
            "size or a full cart: 422."
        ),
        body=obj({**LINE_KEY, "quantity": {**QUANTITY, "default": 1}}, optional=("quantity",), closed=False),
        ok={201: ("The cart after the change", ref("Cart"))},
        errors=(404, 409, 422),
    )
    spec.operation(
        "PATCH",
        "/cart",
        "updateCartLine",
        "Change a line's quantity",
        tag="shop",
        access=SHOPPER,
        description="Line not in the cart: 404; sold out: 409; bad quantity: 422.",
        body=obj({**LINE_KEY, "quantity": QUANTITY}, closed=False),
        ok={200: ("The cart after the change", ref("Cart"))},
        errors=(404, 409, 422),
    )
    spec.operation(
        "DELETE",
        "/cart",
        "removeCartLine",
        "Remove a line",
        tag="shop",
        access=SHOPPER,
        parameters=[
            query_parameter("shoe_id", SHOE_ID_FIELD, "The line's shoe.", required=True),
            query_parameter("size", SIZE, "The line's size.", required=True),
        ],
        ok={200: ("The cart after the change", ref("Cart"))},
        errors=(404, 422),
    )
    spec.operation(
        "GET",
        "/orders",
        "listOrders",
        "The shopper's orders, newest first",
        tag="shop",
        access=SHOPPER,
        parameters=[CURSOR_PARAMETER],
        ok={200: ("One page of orders", ref("OrderList"))},
        errors=(400,),
        description="A cursor that is damaged or from another account: 400 InvalidCursor.",
    )
    spec.operation(
        "POST",
        "/orders",
        "placeOrder",
        "Place the cart as an order",
        tag="shop",
        access=SHOPPER,
        description=(
            "One transaction: stock is taken only if every line is on hand. The Idempotency-Key names "
            "the attempt: repeating a request with the same key answers 200 with the order already "
            "placed, never a second order. Without `address`, the address of the last order is used. "
            "`discount_code` applies a code (case-insensitive; one that does not apply: 422 naming why, "
            "its last use taken meanwhile: 409); `shipping_method` is a method id of the address's zone "
            "(default: the zone's first, Standard). "
            "The API places pay-on-delivery orders (card payments need the browser's hosted Stripe "
            "Checkout); where the stage disables pay on delivery: 422. "
            "Empty cart: 409 EmptyCart; stock ran out: 409 OutOfStock (`fields` names each line; the "
            "cart was adjusted, nothing ordered); bad key or address: 422; too many orders from this "
            "account or address: 429 TooManyRequests with Retry-After."
        ),
        parameters=[
            {
                "name": "Idempotency-Key",
                "in": "header",
                "required": True,
                "description": "The client's id for this attempt: 8 to 128 letters, digits, '-' or '_'.",
                "schema": {"type": "string", "pattern": checkout.KEY_RE.pattern},
            }
        ],
        body=obj(
            {
                "address": ref("Address"),
                "discount_code": {"type": "string", "maxLength": pricing.CODE_MAX_LENGTH},
                "shipping_method": {"type": "string", "maxLength": 40},
            },
            optional=("address", "discount_code", "shipping_method"),
            closed=False,
        ),
        ok={201: ("The order, placed now", ref("Order")), 200: ("The order this key placed before", ref("Order"))},
        errors=(409, 422, 429),
    )
    spec.operation(
        "GET",
        "/orders/{order_id}",
        "getOrder",
        "One of the shopper's orders",
        tag="shop",
        access=SHOPPER,
        parameters=[path_parameter("order_id", "The order's id.")],
        ok={200: ("The order", ref("Order"))},
        errors=(404,),
        description="Unknown ids and other shoppers' orders are a 404.",
    )


# -- admin (chalicelib/blueprints/api/admin.py) -----------------------------------------------------

ADMIN_SHOE_STATUS = {"type": "string", "enum": list(products.STATUSES)}
STOCK_MAP = {"type": "object", "additionalProperties": INTEGER, "description": "Pairs on hand per size."}
PRODUCT_FIELDS: dict[str, dict] = {
    "name": {"type": "string", "maxLength": products.LIMITS["name"]},
    "brand": {"type": "string", "maxLength": products.LIMITS["brand"]},
    "colour": {"type": "string", "maxLength": products.LIMITS["colour"]},
    "category": CATEGORY,
    "department": DEPARTMENT,
    "description": {"type": "string", "maxLength": products.LIMITS["description"]},
    "price": {
        **PRICE_TEXT,
        "description": 'A price like "89.95" or "$ 1,299", from 0.01 to '
        f"{products.format_price(products.MAX_PRICE_CENTS)} (or send price_cents).",
    },
    "price_cents": {"type": "integer", "minimum": 1, "maximum": products.MAX_PRICE_CENTS},
}
PRODUCT_REQUIRED = ("name", "brand", "colour", "category", "department")
SHOE_PATH = path_parameter("shoe_id", "The shoe's id.")
IMAGE_PATH = path_parameter("image_id", "The image's id (AdminImage.image_id).")
ORDER_PATH = path_parameter("order_id", "The order's id.")
TRANSITION_TARGETS = list(dict.fromkeys(to for moves in fulfilment.MOVES.values() for to in moves))
SHOE_ANSWER = ("The shoe", ref("AdminShoeAnswer"))
BAD_LISTING = (
    "An unknown status is a 400 InvalidQuery; a damaged cursor, or one made for another status, a 400 InvalidCursor."
)


def product_body(extra: dict[str, dict], required: tuple[str, ...]) -> dict:
    properties = {**PRODUCT_FIELDS, **extra}
    schema = obj(properties, optional=tuple(name for name in properties if name not in required), closed=False)
    return {**schema, "anyOf": [{"required": ["price"]}, {"required": ["price_cents"]}]}  # a price is needed


def _admin_section(spec: Spec) -> None:
    spec.add_schema(
        "AdminImage",
        obj(
            {
                "image_id": STRING,
                "thumb_key": {"type": "string", "description": "S3 key of the thumbnail."},
                "large_key": {"type": "string", "description": "S3 key of the large image."},
                "width": INTEGER,
                "height": INTEGER,
            }
        ),
    )
    spec.add_schema(
        "AdminShoe",
        obj(
            {
                **SHOE_FIELDS,
                "sizes": array(SIZE),
                "status": ADMIN_SHOE_STATUS,
                "version": {"type": "integer", "description": "Send it back with PUT: a newer save is a 409."},
                "created_at": TIMESTAMP,
                "updated_at": TIMESTAMP,
                "images": array(ref("AdminImage")),
                "stock": STOCK_MAP,
            },
            optional=("stock",),
        ),
    )
    spec.add_schema("AdminShoeAnswer", obj({"shoe": ref("AdminShoe")}))
    spec.add_schema("AdminShoeList", obj({"shoes": array(ref("AdminShoe")), "next_cursor": CURSOR}))
    # The shopper's view plus the version to send back and who made each change.
    spec.add_schema(
        "AdminOrder",
        obj(
            {
                **ORDER_PROPERTIES,
                "version": {
                    "type": "integer",
                    "description": "Send it back with a transition: a newer change is a 409.",
                },
                "history": array(
                    obj({"status": ORDER_STATUS, "at": TIMESTAMP, "by": STRING, "note": nullable(STRING)})
                ),
                "customer": {
                    **obj(
                        {
                            "user_id": {
                                **nullable(STRING),
                                "description": "The account; null for a guest or once deleted.",
                            },
                            "username": nullable(STRING),
                            "name": {**nullable(STRING), "description": "From the ship-to address."},
                            "email": {**nullable(STRING), "description": "The account's email then, or the guest's."},
                            "guest": {**BOOLEAN, "description": "Placed without an account (and not claimed since)."},
                        }
                    ),
                    "description": (
                        "Who placed it, as recorded on the order (no user_id and not a guest: the account was deleted)."
                    ),
                },
                "refunded_cents": {**CENTS, "description": "Refunded so far (lines or in full, card or by hand)."},
                "refunds": array(
                    obj(
                        {
                            "amount_cents": CENTS,
                            "at": TIMESTAMP,
                            "by": STRING,
                            "method": {
                                "type": "string",
                                "enum": [refunds.CARD, refunds.MANUAL],
                                "description": "card: through Stripe; manual: paid back by hand (pay on delivery).",
                            },
                            "refund_id": {**nullable(STRING), "description": "Stripe's refund id (card)."},
                            "lines": {
                                **array(INTEGER),
                                "description": "Indexes into `lines`; empty for a refund in full.",
                            },
                            "restock": {**BOOLEAN, "description": "The refunded pairs were put back in stock."},
                            "note": nullable(STRING),
                        }
                    )
                ),
            }
        ),
    )
    spec.add_schema("AdminOrderAnswer", obj({"order": ref("AdminOrder")}))
    spec.add_schema(
        "StaleEditError",
        {
            "type": "object",
            "required": ["error"],
            "properties": {
                "error": {
                    "type": "object",
                    "required": ["code", "message", "current"],
                    "properties": {
                        "code": {"type": "string", "enum": ["StaleEdit"]},
                        "message": STRING,
                        "current": ref("AdminShoe"),
                    },
                }
            },
        },
    )
    spec.operation(
        "GET",
        "/admin/shoes",
        "adminListShoes",
        "Shoes by status, newest first, with stock",
        tag="admin",
        access=ADMIN,
        parameters=[
            filter_parameter("status", {"type": "string", "enum": [*products.STATUSES, "all"]}, "Default active."),
            filter_parameter("q", {"type": "string"}, "Words in the name, brand or colour."),
            CURSOR_PARAMETER,
        ],
        ok={200: (f"One page of shoes ({products.ADMIN_PAGE_SIZE})", ref("AdminShoeList"))},
        errors=(400,),
        description=BAD_LISTING,
    )
    spec.operation(
        "POST",
        "/admin/shoes",
        "adminCreateShoe",
        "Create a shoe",
        tag="admin",
        access=ADMIN,
        description="Sizes follow the department; `stock` gives pairs per size (others start at 0).",
        body=product_body(
            {"stock": {"type": "object", "additionalProperties": {"type": "integer", "minimum": 0}}},
            PRODUCT_REQUIRED,
        ),
        ok={201: ("The new shoe, with stock", ref("AdminShoeAnswer"))},
        errors=(422,),
    )
    spec.operation(
        "GET",
        "/admin/shoes/{shoe_id}",
        "adminGetShoe",
        "One shoe (any status) with stock",
        tag="admin",
        access=ADMIN,
        parameters=[SHOE_PATH],
        ok={200: SHOE_ANSWER},
        errors=(404,),
    )
    spec.operation(
        "PUT",
        "/admin/shoes/{shoe_id}",
        "adminUpdateShoe",
        "Save a shoe's details over the version read",
        tag="admin",
        access=ADMIN,
        description="Someone saved in between: 409 StaleEdit with their version in `error.current`.",
        parameters=[SHOE_PATH],
        body=product_body({"version": {"type": "integer"}}, (*PRODUCT_REQUIRED, "version")),
        ok={200: ("The saved shoe", ref("AdminShoeAnswer"))},
        errors=(404, 422),
        extra_responses={409: json_response("A newer save exists", ref("StaleEditError"))},
    )
    spec.operation(
        "DELETE",
        "/admin/shoes/{shoe_id}",
        "adminDeleteShoe",
        "Delete a shoe never ordered",
        tag="admin",
        access=ADMIN,
        description="A shoe that has been ordered cannot be deleted (409): archive it.",
        parameters=[SHOE_PATH],
        ok={200: ("Deleted", obj({"deleted": STRING}))},
        errors=(404, 409),
    )
    spec.operation(
        "POST",
        "/admin/shoes/{shoe_id}/publish",
        "adminPublishShoe",
        "Publish a draft (into the shop)",
        tag="admin",
        access=ADMIN,
        description="Owners only. New shoes start as drafts. With no photo, 422 unless `without_photo` is true.",
        parameters=[SHOE_PATH],
        body=obj({"without_photo": {"type": "boolean"}}, optional=("without_photo",)),
        ok={200: SHOE_ANSWER},
        errors=(404, 409, 422),
    )
    for _action, _summary in (("archive", "Archive a shoe (leaves the shop)"), ("restore", "Restore an archived shoe")):
        spec.operation(
            "POST",
            f"/admin/shoes/{{shoe_id}}/{_action}",
            f"admin{_action.title()}Shoe",
            _summary,
            tag="admin",
            access=ADMIN,
            parameters=[SHOE_PATH],
            ok={200: SHOE_ANSWER},
            errors=(404, 409),
        )
    spec.operation(
        "POST",
        "/admin/shoes/{shoe_id}/stock",
        "adminChangeStock",
        "Set or adjust one size's stock",
        tag="admin",
        access=ADMIN,
        description=(
            "`set` (optionally with `expected`, the count seen: a sale in between is a 409) or "
            "`adjust` (+/- pairs; never below zero: 409)."
        ),
        parameters=[SHOE_PATH],
        body=obj(
            {
                "size": SIZE,
                "set": {"type": "integer", "minimum": 0, "maximum": products.MAX_STOCK},
                "expected": {"type": "integer", "minimum": 0},
                "adjust": {"type": "integer", "minimum": -products.MAX_STOCK, "maximum": products.MAX_STOCK},
            },
            optional=("set", "expected", "adjust"),
            closed=False,
        )
        | {"anyOf": [{"required": ["set"]}, {"required": ["adjust"]}]},
        ok={200: ("The new count", obj({"shoe_id": STRING, "size": SIZE, "quantity": INTEGER}))},
        errors=(404, 409, 422),
    )
    spec.operation(
        "POST",
        "/admin/shoes/{shoe_id}/images/grants",
        "adminGrantImageUpload",
        "A presigned S3 POST for one photo",
        tag="admin",
        access=ADMIN,
        description="POST the file to `url` with `fields`, then confirm `key`.",
        parameters=[SHOE_PATH],
        body=obj({"content_type": {"type": "string", "enum": list(uploads.CONTENT_TYPES)}}, closed=False),
        ok={
            201: (
                "The grant",
                obj(
                    {
                        "url": STRING,
                        "fields": {"type": "object", "additionalProperties": STRING},
                        "key": STRING,
                        "expires_in": {"type": "integer", "description": "Seconds."},
                    }
                ),
            )
        },
        errors=(404, 422),
    )
    spec.operation(
        "POST",
        "/admin/shoes/{shoe_id}/images",
        "adminConfirmImage",
        "Verify an uploaded photo and add it to the shoe",
        tag="admin",
        access=ADMIN,
        description="A missing, oversized or non-image upload is a 422 UploadRejected (and is removed).",
        parameters=[SHOE_PATH],
        body=obj({"key": {"type": "string", "maxLength": 200}}, closed=False),
        ok={
            201: (
                "The image added",
                obj({"image": ref("AdminImage")}),
            )
        },
        errors=(404, 409, 422),
    )
    spec.operation(
        "PUT",
        "/admin/shoes/{shoe_id}/images/order",
        "adminOrderImages",
        "Put the shoe's images in a new order (the first is the primary)",
        tag="admin",
        access=ADMIN,
        parameters=[SHOE_PATH],
        body=obj({"image_ids": {**array(STRING), "maxItems": uploads.MAX_IMAGES}}, closed=False),
        ok={200: SHOE_ANSWER},
        errors=(404, 409, 422),
    )
    spec.operation(
        "POST",
        "/admin/shoes/{shoe_id}/images/{image_id}/primary",
        "adminMakeImagePrimary",
        "Make an image the primary",
        tag="admin",
        access=ADMIN,
        parameters=[SHOE_PATH, IMAGE_PATH],
        ok={200: SHOE_ANSWER},
        errors=(404, 409),
    )
    spec.operation(
        "DELETE",
        "/admin/shoes/{shoe_id}/images/{image_id}",
        "adminDeleteImage",
        "Remove an image",
        tag="admin",
        access=ADMIN,
        parameters=[SHOE_PATH, IMAGE_PATH],
        ok={200: SHOE_ANSWER},
        errors=(404, 409),
    )
    spec.operation(
        "GET",
        "/admin/orders",
        "adminListOrders",
        "Orders in one status, newest first",
        tag="admin",
        access=ADMIN,
        parameters=[filter_parameter("status", ORDER_STATUS, "Default placed."), CURSOR_PARAMETER],
        ok={
            200: (
                f"One page of orders ({fulfilment.ORDERS_PAGE_SIZE})",
                obj({"orders": array(ref("AdminOrder")), "next_cursor": CURSOR}),
            )
        },
        errors=(400,),
        description=BAD_LISTING,
    )
    spec.operation(
        "GET",
        "/admin/orders/{order_id}",
        "adminGetOrder",
        "One order",
        tag="admin",
        access=ADMIN,
        parameters=[ORDER_PATH],
        ok={200: ("The order", ref("AdminOrderAnswer"))},
        errors=(404,),
    )
    spec.operation(
        "POST",
        "/admin/orders/{order_id}/transitions",
        "adminTransitionOrder",
        "Ship, deliver or cancel an order",
        tag="admin",
        access=ADMIN,
        description=(
            "placed → shipped → delivered, placed → cancelled (restocks every line, refunds what is left "
            "of a card payment). Cancelling needs a `reason` (and with `other`, `reason_other`): the "
            "shopper is emailed it and the history records it; without one, or with an unknown code, "
            "422 InvalidReason with `fields` naming `reason` or `reason_other`. With `version` (the one "
            "read), an order changed since is a 409; a move its status does not allow, too."
        ),
        parameters=[ORDER_PATH],
        body=obj(
            {
                "to": {"type": "string", "enum": TRANSITION_TARGETS},
                "note": {
                    "type": "string",
                    "maxLength": fulfilment.NOTE_MAX,
                    "description": "Tracking note when shipping (not used when cancelling: the reason is recorded).",
                },
                "reason": {
                    "type": "string",
                    "enum": list(fulfilment.CANCEL_REASONS),
                    "description": "Why it is cancelled (required with to=cancelled): "
                    + "; ".join(f"{code}: {label}" for code, (label, _told) in fulfilment.CANCEL_REASONS.items()),
                },
                "reason_other": {
                    "type": "string",
                    "maxLength": fulfilment.CANCEL_REASON_MAX,
                    "description": "The reason in the admin's words, told to the shopper (required with reason=other).",
                },
                "version": INTEGER,
            },
            optional=("note", "reason", "reason_other", "version"),
            closed=False,
        ),
        ok={200: ("The order after the move", ref("AdminOrderAnswer"))},
        errors=(404, 409, 422),
    )


SECTIONS = (_meta_section, _catalogue_section, _shop_section, _admin_section)


def documented_operations() -> set[tuple[str, str]]:
    """(path, METHOD) of every operation; HEAD goes with every GET (the description says so)."""
    operations = {(path, method.upper()) for path, methods in document()["paths"].items() for method in methods}
    return operations | {(path, "HEAD") for path, method in operations if method == "GET"}


# -- build step -------------------------------------------------------------------------------------


def rendered() -> str:
    """The document as committed: stable key order, one trailing newline."""
    return json.dumps(document(), separators=(",", ":"), ensure_ascii=False) + "\n"  # Lambda needs no whitespace


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=f"Write (or --check) {OPENAPI_JSON.name}.")
    parser.add_argument("--check", action="store_true", help="exit 1 if the committed document is out of date")
    args = parser.parse_args(argv)
    text = rendered()
    committed = read_committed_text(OPENAPI_JSON) if OPENAPI_JSON.exists() else ""
    if args.check:
        if committed != text:
            print(f"{OPENAPI_JSON} is out of date: run `python -m infra.openapi` (make openapi).")
            return 1
        return 0
    if committed != text:
        OPENAPI_JSON.write_bytes(gzip.compress(text.encode("utf-8"), mtime=0))  # mtime 0: no diff from the date
        print(f"wrote {OPENAPI_JSON}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
