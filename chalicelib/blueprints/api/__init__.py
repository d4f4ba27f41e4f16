"""The JSON API under /api/v1: the same services as the pages, JSON in and out.

One blueprint, one module per area: `meta` (health, OpenAPI document), `catalogue` (shoes),
`shop` (cart and orders, shoppers only), `admin` (the back office, admins only). Errors always have
the shape {"error": {"code", "message", "fields"?}}; calls that change data need the session cookie
and the X-CSRF-Token header (checked by the middleware).
"""

from chalice import Blueprint

PREFIX = "/api/v1"  # app.py registers `bp` under it; routes here are declared relative to it
bp = Blueprint(__name__)

# Importing the area modules registers their routes on `bp`.
from chalicelib.blueprints.api import admin, catalogue, meta, shop  # noqa: E402, F401
