"""The shoe store's Lambda entry point: create the app, wire events and hooks, middleware, blueprints."""

import logging

from chalice import Chalice

from chalicelib.blueprints import account, admin, api, cart, catalogue, payments, static
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

for blueprint in (static.bp, catalogue.bp, account.bp, cart.bp, payments.bp, admin.bp):
    app.register_blueprint(blueprint)
app.register_blueprint(api.bp, url_prefix=api.PREFIX)

app.register_middleware(middleware.handle, "http")
middleware.propagate_view_errors(app)
