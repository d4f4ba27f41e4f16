"""Admin API (/api/v1/admin/...): the back office's services, JSON in and out.

Every route is @admin_required (401 JSON without a session, 403 for shoppers); product changes
are @owner_required (403 for staff too).
"""

from chalice import Response

from chalicelib.blueprints.api import bp
from chalicelib.blueprints.api.common import choice_from_query, int_field, json_body, text_field
from chalicelib.serializers import admin_image_json, admin_order_json, admin_shoe_json
from chalicelib.services import cursors, fulfilment, products, uploads
from chalicelib.services.errors import ValidationFailed
from chalicelib.web.context import current
from chalicelib.web.guards import admin_required, current_admin_username, owner_required
from chalicelib.web.rendering import json_error, json_response


def _product_input(body: dict) -> products.ProductInput:
    price = body.get("price")
    if price is None and isinstance(body.get("price_cents"), int):
        price = products.format_price(body["price_cents"])
    return products.ProductInput(
        name=text_field(body, "name"),
        brand=text_field(body, "brand"),
        colour=text_field(body, "colour"),
        category=text_field(body, "category"),
        department=text_field(body, "department"),
        description=text_field(body, "description"),
        price=text_field({"price": price}, "price", 20),
    )


@bp.route("/admin/shoes", methods=["GET"])
@admin_required
def admin_api_shoes() -> Response:
    status = choice_from_query("status", (*products.STATUSES, "all"), products.ACTIVE)
    bound_to = {
        "status": status,
        "q": current().query.get("q")[: products.SEARCH_MAX],
    }  # a cursor pages this listing only
    start = cursors.decode(cursors.ADMIN_SHOES, current().query.get("cursor"), bound_to)
    page = products.list_shoes(status, bound_to["q"], start)
    stock = products.stock_for(page.items)
    return json_response(
        {
            "shoes": [admin_shoe_json(shoe, stock.get(shoe.shoe_id, {})) for shoe in page.items],
            "next_cursor": cursors.encode(cursors.ADMIN_SHOES, page.next_key, bound_to),
        }
    )


@bp.route("/admin/shoes", methods=["POST"])
@owner_required
def admin_api_create_shoe() -> Response:
    body = json_body()
    stock = body.get("stock") or {}
    if not isinstance(stock, dict):
        raise ValidationFailed({"stock": "Send stock as {size: pairs}."})
    stock = {str(size): str(value)[:10] for size, value in stock.items()}
    shoe = products.create_shoe(_product_input(body), stock, current_admin_username())
    return json_response({"shoe": admin_shoe_json(shoe, products.stock_rows(shoe.shoe_id))}, status=201)


@bp.route("/admin/shoes/{shoe_id}", methods=["GET"])
@admin_required
def admin_api_shoe(shoe_id: str) -> Response:
    return json_response({"shoe": admin_shoe_json(products.get_shoe(shoe_id), products.stock_rows(shoe_id))})


@bp.route("/admin/shoes/{shoe_id}", methods=["PUT"])
@owner_required
def admin_api_update_shoe(shoe_id: str) -> Response:
    body = json_body()
    version = int_field(body, "version")
    try:
        shoe = products.update_shoe(shoe_id, _product_input(body), str(version), current_admin_username())
    except products.StaleEdit as error:
        response = json_error(409, "StaleEdit", error.message)
        response.body["error"]["current"] = admin_shoe_json(error.current)
        return response
    return json_response({"shoe": admin_shoe_json(shoe)})


@bp.route("/admin/shoes/{shoe_id}", methods=["DELETE"])
@owner_required
def admin_api_delete_shoe(shoe_id: str) -> Response:
    products.delete_shoe(shoe_id, current_admin_username())
    return json_response({"deleted": shoe_id})


@bp.route("/admin/shoes/{shoe_id}/archive", methods=["POST"])
@owner_required
def admin_api_archive(shoe_id: str) -> Response:
    return json_response({"shoe": admin_shoe_json(products.archive_shoe(shoe_id, current_admin_username()))})


@bp.route("/admin/shoes/{shoe_id}/publish", methods=["POST"])
@owner_required
def admin_api_publish(shoe_id: str) -> Response:
    """{"without_photo"?: bool}: a draft with no photo is published only with it true (else 422)."""
    without_photo = json_body().get("without_photo") is True
    shoe = products.publish_shoe(shoe_id, current_admin_username(), without_photo)
    return json_response({"shoe": admin_shoe_json(shoe)})


@bp.route("/admin/shoes/{shoe_id}/restore", methods=["POST"])
@owner_required
def admin_api_restore(shoe_id: str) -> Response:
    return json_response({"shoe": admin_shoe_json(products.restore_shoe(shoe_id, current_admin_username()))})


@bp.route("/admin/shoes/{shoe_id}/stock", methods=["POST"])
@admin_required
def admin_api_stock(shoe_id: str) -> Response:
    """{"size": "42", "set": 8, "expected": 5} or {"size": "42", "adjust": -2}."""
    body = json_body()
    size = text_field(body, "size", 10)
    admin = current_admin_username()
    if "adjust" in body:
        quantity = products.adjust_stock(shoe_id, size, int_field(body, "adjust"), admin)
    elif "set" in body:
        quantity = products.set_stock(shoe_id, size, int_field(body, "set"), int_field(body, "expected", False), admin)
    else:
        raise ValidationFailed({"set": "Send `set` (with `expected`) or `adjust`."})
    return json_response({"shoe_id": shoe_id, "size": size, "quantity": quantity})


@bp.route("/admin/shoes/{shoe_id}/images/grants", methods=["POST"])
@owner_required
def admin_api_image_grant(shoe_id: str) -> Response:
    body = json_body()
    grant = uploads.grant_upload(shoe_id, current_admin_username(), content_type=text_field(body, "content_type", 40))
    return json_response(
        {"url": grant.url, "fields": grant.fields, "key": grant.key, "expires_in": grant.expires_in}, status=201
    )


@bp.route("/admin/shoes/{shoe_id}/images", methods=["POST"])
@owner_required
def admin_api_image_confirm(shoe_id: str) -> Response:
    body = json_body()
    try:
        image = uploads.confirm_upload(shoe_id, text_field(body, "key", 200), current_admin_username())
    except uploads.UploadRejected as error:
        return json_error(422, "UploadRejected", error.message)
    return json_response({"image": admin_image_json(image)}, status=201)


@bp.route("/admin/shoes/{shoe_id}/images/order", methods=["PUT"])
@owner_required
def admin_api_image_order(shoe_id: str) -> Response:
    image_ids = json_body().get("image_ids")
    if (
        not isinstance(image_ids, list)
        or len(image_ids) > uploads.MAX_IMAGES
        or not all(isinstance(i, str) for i in image_ids)
    ):
        raise ValidationFailed({"image_ids": "Send the image ids in the new order."})
    uploads.reorder_images(shoe_id, image_ids, current_admin_username())
    return json_response({"shoe": admin_shoe_json(products.get_shoe(shoe_id))})


@bp.route("/admin/shoes/{shoe_id}/images/{image_id}/primary", methods=["POST"])
@owner_required
def admin_api_image_primary(shoe_id: str, image_id: str) -> Response:
    uploads.make_primary(shoe_id, image_id, current_admin_username())
    return json_response({"shoe": admin_shoe_json(products.get_shoe(shoe_id))})


@bp.route("/admin/shoes/{shoe_id}/images/{image_id}", methods=["DELETE"])
@owner_required
def admin_api_image_delete(shoe_id: str, image_id: str) -> Response:
    uploads.delete_image(shoe_id, image_id, current_admin_username())
    return json_response({"shoe": admin_shoe_json(products.get_shoe(shoe_id))})


@bp.route("/admin/orders", methods=["GET"])
@admin_required
def admin_api_orders() -> Response:
    status = choice_from_query("status", fulfilment.STATUSES, fulfilment.PLACED)
    bound_to = {"status": status}  # a cursor pages this status only
    page = fulfilment.list_orders(status, cursors.decode(cursors.ADMIN_ORDERS, current().query.get("cursor"), bound_to))
    return json_response(
        {
            "orders": [admin_order_json(order) for order in page.items],
            "next_cursor": cursors.encode(cursors.ADMIN_ORDERS, page.next_key, bound_to),
        }
    )


@bp.route("/admin/orders/{order_id}", methods=["GET"])
@admin_required
def admin_api_order(order_id: str) -> Response:
    return json_response({"order": admin_order_json(fulfilment.get_order(order_id))})


@bp.route("/admin/orders/{order_id}/transitions", methods=["POST"])
@admin_required
def admin_api_transition(order_id: str) -> Response:
    """{"to": "shipped" | "delivered" | "cancelled", "note"?: str, "version"?: int}; cancelling takes
    {"reason": a fulfilment.CANCEL_REASONS code, "reason_other": the words, with "other"} instead of
    a note, as the back office's cancel page does (422 when missing or not valid, as any invalid input)."""
    body = json_body()
    target = text_field(body, "to", 20)
    admin = current_admin_username()
    version = int_field(body, "version", False)
    if target == fulfilment.CANCELLED:
        try:
            reason, other = text_field(body, "reason", 40), text_field(body, "reason_other", 1000)
            order = fulfilment.cancel(order_id, admin, reason, other, version)
        except ValidationFailed as error:
            return json_error(422, "InvalidReason", error.message, error.errors)
    else:
        order = fulfilment.transition(order_id, target, admin, text_field(body, "note", 1000), version)
    return json_response({"order": admin_order_json(order)})
