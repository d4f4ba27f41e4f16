""" "Email me when it's back" on product pages, and the unsubscribe link of its email."""

from chalice import Blueprint, Response

from chalicelib import sizes
from chalicelib.services import back_in_stock, catalogue
from chalicelib.services.errors import NotFound, ServiceError, ValidationFailed
from chalicelib.services.limits import RateLimited
from chalicelib.services.shoes import get_shoe
from chalicelib.web.context import current
from chalicelib.web.forms import FORM_TYPES
from chalicelib.web.guards import public
from chalicelib.web.rendering import redirect, render

bp = Blueprint(__name__)

UNSUBSCRIBE = "catalogue/restock_unsubscribe.html"


@bp.route("/shoes/{shoe_id}/restock-alerts", methods=["POST"], content_types=FORM_TYPES)
@public
def subscribe(shoe_id: str) -> Response:
    """Shoppers are subscribed with their account's address; guests type one."""
    ctx = current()
    user = ctx.user
    email = user.email if user is not None else ctx.form.get("email")
    try:
        message = back_in_stock.subscribe(
            shoe_id, ctx.form.get("size"), email, ctx.client_ip, user.user_id if user is not None else None
        )
    except (RateLimited, NotFound):
        raise  # the middleware's 429 (with Retry-After) and 404 pages
    except ValidationFailed as error:
        ctx.flash(next(iter(error.errors.values()), error.message), "error")
    except ServiceError as error:  # the size is back in stock meanwhile
        ctx.flash(error.message, "error")
    else:
        ctx.flash(message, "success")
    return redirect(catalogue.product_path_of(shoe_id))


def _unsubscribe_details(token: str) -> dict:
    shoe_id, size, email = back_in_stock.read_unsubscribe_token(token)
    try:
        shoe = get_shoe(shoe_id, consistent_read=False)
        name, size_label = f"{shoe.brand} {shoe.name}", sizes.label(size, shoe.department)
    except ServiceError:  # the shoe was deleted since: the link still unsubscribes
        name, size_label = "this shoe", f"EU {size}"
    return {"token": token, "shoe_name": name, "size_label": size_label, "email": email}


@bp.route("/restock/unsubscribe", methods=["GET"])
@public
def unsubscribe_page() -> Response:
    """A confirm page: link scanners and prefetchers GET links, so a GET changes nothing."""
    token = current().query.get("token")
    try:
        details = _unsubscribe_details(token)
    except back_in_stock.InvalidUnsubscribeLink as error:
        return render(UNSUBSCRIBE, status=400, message=error.message)
    return render(UNSUBSCRIBE, **details)


@bp.route("/restock/unsubscribe", methods=["POST"], content_types=FORM_TYPES)
@public
def unsubscribe_submit() -> Response:
    token = current().form.get("token")
    try:
        details = _unsubscribe_details(token)
    except back_in_stock.InvalidUnsubscribeLink as error:
        return render(UNSUBSCRIBE, status=400, message=error.message)
    back_in_stock.unsubscribe(token)
    return render(UNSUBSCRIBE, done=True, **details)
