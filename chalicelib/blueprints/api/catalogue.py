"""Catalogue API: the shoe listing (same filters, sort and cursor as the home page) and one shoe."""

from chalice import Response

from chalicelib.blueprints.api import bp
from chalicelib.services import catalogue
from chalicelib.services.catalogue_index import Card
from chalicelib.services.errors import ValidationFailed
from chalicelib.services.images import image_url
from chalicelib.web.context import current
from chalicelib.web.guards import public
from chalicelib.web.rendering import json_error, json_response


def _card_json(card: Card) -> dict:
    return {
        "shoe_id": card.shoe_id,
        "name": card.name,
        "brand": card.brand,
        "colour": card.colour,
        "department": card.department,
        "category": card.category,
        "price_cents": card.price_cents,
        "image_url": image_url(card.thumb_key) or None,
        "url": current().url(f"/shoes/{card.shoe_id}"),
    }


@bp.route("/api/v1/shoes", methods=["GET"])
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
            "items": [_card_json(card) for card in page.cards],
            "next_cursor": page.next_cursor,
            "prev_cursor": page.prev_cursor,
            "total": page.total,
            "query": {**query.params(), "sort": query.sort},
        }
    )


@bp.route("/api/v1/shoes/{shoe_id}", methods=["GET"])
@public
def get_shoe(shoe_id: str) -> Response:
    """One active shoe with availability per size; unknown or archived: 404."""
    item = catalogue.get_product(shoe_id)
    shoe = item.shoe
    return json_response(
        {
            "shoe_id": shoe.shoe_id,
            "name": shoe.name,
            "brand": shoe.brand,
            "colour": shoe.colour,
            "department": shoe.department,
            "category": shoe.category,
            "description": shoe.description,
            "price_cents": int(shoe.price_cents),
            "images": [
                {"thumb_url": image_url(image.thumb_key), "large_url": image_url(image.large_key)}
                for image in shoe.images
            ],
            "sizes": [
                {
                    "size": option.size,
                    "label": option.label,
                    "available": option.available,
                    "only_left": option.only_left,
                }
                for option in item.sizes
            ],
        }
    )
