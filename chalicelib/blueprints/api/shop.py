"""Cart and orders API: shoppers only (401 otherwise)."""

from chalice import Response

from chalicelib.blueprints.api import bp
from chalicelib.blueprints.api.common import json_body
from chalicelib.serializers import cart_json, order_json
from chalicelib.services import cart as cart_service
from chalicelib.services import cart_session, checkout, limits
from chalicelib.services import orders as order_service
from chalicelib.services.errors import ValidationFailed
from chalicelib.web.context import current
from chalicelib.web.guards import login_required
from chalicelib.web.rendering import json_error, json_response


def _cart_answer(status: int = 200, message: str | None = None) -> Response:
    ctx = current()
    view = cart_service.load_cart(cart_service.user_owner(ctx.user.user_id))
    cart_session.record_count(ctx, view.units)
    body = cart_json(view)
    if message:
        body["message"] = message
    return json_response(body, status=status)


@bp.route("/cart", methods=["GET"])
@login_required
def api_cart() -> Response:
    return _cart_answer()


@bp.route("/cart", methods=["POST"])
@login_required
def api_cart_add() -> Response:
    body = json_body()
    owner = cart_service.user_owner(current().user.user_id)
    change = cart_service.add_item(owner, body.get("shoe_id"), body.get("size"), body.get("quantity", 1))
    return _cart_answer(status=201, message=change.message)


@bp.route("/cart", methods=["PATCH"])
@login_required
def api_cart_update() -> Response:
    body = json_body()
    owner = cart_service.user_owner(current().user.user_id)
    line_id = _line_id(body.get("shoe_id"), body.get("size"))
    change = cart_service.set_quantity(owner, line_id, body.get("quantity"))
    return _cart_answer(message=change.message)


@bp.route("/cart", methods=["DELETE"])
@login_required
def api_cart_remove() -> Response:
    ctx = current()
    owner = cart_service.user_owner(ctx.user.user_id)
    change = cart_service.remove_line(owner, _line_id(ctx.query.get("shoe_id"), ctx.query.get("size")))
    return _cart_answer(message=change.message)


def _line_id(shoe_id: object, size: object) -> str:
    if not isinstance(shoe_id, str) or not isinstance(size, str) or not shoe_id or not size:
        raise ValidationFailed({"shoe_id": "Send the line's shoe_id and size."}, message="Send shoe_id and size.")
    return f"{shoe_id}#{size}"


@bp.route("/orders", methods=["GET"])
@login_required
def api_orders() -> Response:
    ctx = current()
    try:
        orders, next_cursor = order_service.list_orders(ctx.user.user_id, ctx.query.get("cursor") or None)
    except ValidationFailed as error:  # a query problem: 400, as the other listings answer
        return json_error(400, "InvalidCursor", error.message, error.errors)
    return json_response({"orders": [order_json(o) for o in orders], "next_cursor": next_cursor})


@bp.route("/orders", methods=["POST"])
@login_required
def api_place_order() -> Response:
    ctx = current()
    limits.check_place_order(ctx.user.user_id, ctx.client_ip)  # over the limit: a 429 TooManyRequests
    key = checkout.check_api_key(ctx.request.headers.get("idempotency-key"))
    address = json_body().get("address")
    if address is not None and not isinstance(address, dict):
        raise ValidationFailed({"address": "Send the address as an object."}, message="Send the address as an object.")
    choices = {name: json_body().get(name) for name in ("discount_code", "shipping_method")}
    for name, value in choices.items():
        if value is not None and (not isinstance(value, str) or len(value) > 40):
            message = f"Send {name} as a string of at most 40 characters."
            raise ValidationFailed({name: message}, message=message)
    try:
        placed = checkout.place_order(
            ctx.user, key, address, discount_code=choices["discount_code"], shipping_method=choices["shipping_method"]
        )
    except checkout.OutOfStock as error:
        cart_session.recount(ctx)
        lines = {f"{line.name} (EU {line.size})": line.words for line in error.lines}
        return json_error(409, "OutOfStock", error.message, lines)
    except checkout.EmptyCart as error:
        return json_error(409, "EmptyCart", error.message)
    if placed.created:
        cart_session.record_count(ctx, 0)
    else:
        cart_session.recount(ctx)
    status = 201 if placed.created else 200
    return json_response(order_json(placed.order), status=status)


@bp.route("/orders/{order_id}", methods=["GET"])
@login_required
def api_order(order_id: str) -> Response:
    return json_response(order_json(order_service.get_order(current().user.user_id, order_id)))
