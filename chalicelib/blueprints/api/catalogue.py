"""Catalogue API: the shoe listing (same filters, sort and cursor as the home page) and one shoe."""

from chalice import Response

from chalicelib.blueprints.api import bp
from chalicelib.product_links import product_path
from chalicelib.serializers import card_json, shoe_json
from chalicelib.services import catalogue
from chalicelib.services.errors import ValidationFailed
from chalicelib.web.context import current
from chalicelib.web.guards import public
from chalicelib.web.rendering import json_error, json_response


@bp.route("/shoes", methods=["GET"])
@public
def list_shoes() -> Response:
    """Same filters, sort and cursor as the home page; bad input is a 400 naming the fields."""
    ctx = current()
    query, errors = catalogue.parse_listing(ctx.query.get)
    try:
        limit = catalogue.parse_limit(ctx.query.get("limit").strip())
    except ValidationFailed as error:
        errors.update(error.errors)
    if errors:
        return json_error(400, "InvalidQuery", "Some query parameters are not valid.", errors)
    try:
        page = catalogue.list_shoes(query, ctx.query.get("cursor"), limit)
    except ValidationFailed as error:
        return json_error(400, "InvalidCursor", error.message, error.errors)
    return json_response(
        {
            "items": [card_json(card, ctx.url(product_path(card))) for card in page.cards],
            "next_cursor": page.next_cursor,
            "prev_cursor": page.prev_cursor,
            "total": page.total,
            "query": {**query.params(), "sort": query.sort},
        }
    )


@bp.route("/shoes/{shoe_id}", methods=["GET"])
@public
def get_shoe(shoe_id: str) -> Response:
    """One active shoe with availability per size; unknown or a draft: 404; archived: 410, as the
    shop's page answers."""
    try:
        product = catalogue.get_product(shoe_id)
    except catalogue.NoLongerSold as gone:
        return json_error(410, "NoLongerSold", gone.message)
    return json_response(shoe_json(product))
