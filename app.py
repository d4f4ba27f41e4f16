"""The shoe store's Lambda entry points: the web app (wiring, middleware, blueprints) and one
stream function per streamed table (chalicelib/stream_handler.py; a new streamed table adds one)."""

import logging
from typing import Any

from chalice import Chalice
from chalice.app import DynamoDBEvent

from chalicelib import stream_handler
from chalicelib.blueprints import (
    account,
    admin,
    admin_customers,
    admin_orders,
    admin_pricing,
    admin_returns,
    admin_team,
    api,
    cart,
    catalogue,
    checkout_pricing,
    password,
    payments,
    restock,
    returns,
    reviews,
    site,
    static,
)
from chalicelib.config import get_settings
from chalicelib.models import bind_tables
from chalicelib.web import middleware
from chalicelib.wiring import wire  # after the blueprints: imported first it cost ~15 ms of cold import

wire()
app = Chalice(app_name="shoeshop")
bind_tables(get_settings())
app.log.setLevel(logging.INFO)
logging.getLogger("shoeshop").setLevel(logging.INFO)
# Every log line is one JSON object (web/middleware.py), so CloudWatch Logs Insights finds its fields.
for handler in app.log.handlers:
    handler.setFormatter(logging.Formatter("%(message)s"))

for blueprint in (
    static.bp,
    catalogue.bp,
    account.bp,
    password.bp,
    restock.bp,
    cart.bp,
    checkout_pricing.bp,
    payments.bp,
    returns.bp,
    admin.bp,
    admin_orders.bp,
    admin_customers.bp,
    admin_pricing.bp,
    admin_returns.bp,
    admin_team.bp,
    reviews.bp,
    site.bp,
):
    app.register_blueprint(blueprint)
app.register_blueprint(api.bp, url_prefix=api.PREFIX)

middleware.answer_head_like_get(app)
app.register_middleware(middleware.handle, "http")
middleware.propagate_view_errors(app)


@app.on_dynamodb_record(**stream_handler.event_source("shoes"))
def shoes_stream(event: DynamoDBEvent) -> Any:
    return stream_handler.handle(event.to_dict())


@app.on_dynamodb_record(**stream_handler.event_source("stock"))
def stock_stream(event: DynamoDBEvent) -> Any:
    return stream_handler.handle(event.to_dict())


@app.on_dynamodb_record(**stream_handler.event_source("outbox"))
def outbox_stream(event: DynamoDBEvent) -> Any:
    return stream_handler.handle(event.to_dict())


@app.on_dynamodb_record(**stream_handler.event_source("orders"))
def orders_stream(event: DynamoDBEvent) -> Any:
    return stream_handler.handle(event.to_dict())


@app.on_dynamodb_record(**stream_handler.event_source("reviews"))
def reviews_stream(event: DynamoDBEvent) -> Any:
    return stream_handler.handle(event.to_dict())
