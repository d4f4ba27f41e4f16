"""The shop window: home page listing, product pages and the shopper's size."""

from chalice import Blueprint, Response

from chalicelib import sizes
from chalicelib.config import get_settings
from chalicelib.services import catalogue
from chalicelib.services import my_size as my_size_service
from chalicelib.services.errors import ValidationFailed
from chalicelib.services.images import image_url
from chalicelib.web import my_size as my_sizes
from chalicelib.web import seo
from chalicelib.web.context import current
from chalicelib.web.forms import FORM_TYPES
from chalicelib.web.guards import public
from chalicelib.web.rendering import format_money, redirect, render
from chalicelib.web.urls import build_url, safe_next

bp = Blueprint(__name__)


def my_size(department: str | None = None) -> str:
    """The shopper's size for a department's pages: the account's, else the guest cookie's."""
    return my_sizes.my_size(current(), department)


def size_options() -> list[tuple[str, str]]:
    return [(size, f"EU {size}") for size in sizes.ALL_SIZES]


def listing_page(ctx, query: catalogue.ListingQuery, errors: dict[str, str], cursor: str) -> dict:
    """Everything the listing template needs; a bad cursor falls back to the first page."""
    try:
        page = catalogue.list_shoes(query, cursor)
    except ValidationFailed as error:
        errors = {**errors, **error.errors}
        page = catalogue.list_shoes(query)
    size = my_size(query.department or None)
    page.stock_in_size = catalogue.stock_in_size([card.shoe_id for card in page.cards], size)
    params = query.params()
    widen = [
        (label, ctx.url("/", **query.without(name).params()))
        for name, label, active in (
            ("size", "Any size", query.size),
            ("price", "Any price", query.min_price is not None or query.max_price is not None),
            ("brand", "Any brand", query.brand),
            ("category", "Any type", query.category),
            ("department", "Everyone", query.department),
            ("q", "Drop the search", query.q),
        )
        if active
    ]
    return {
        "query": query,
        "form": params,
        "errors": errors,
        "page": page,
        "my_size": size,
        "back_path": build_url("", "/", params),
        "my_size_url": ctx.url("/", **{**params, "size": size}) if size and query.size != size else "",
        "image_url": image_url,
        "description": query.describe(format_money),
        "widen": widen,
        "next_url": ctx.url("/", **params, cursor=page.next_cursor) if page.next_cursor else "",
        "prev_url": ctx.url("/", **params, cursor=page.prev_cursor) if page.prev_cursor else "",
        "sort_options": list(catalogue.SORTS.items()),
        "department_options": [("", "Everyone"), *catalogue.DEPARTMENTS.items()],
        "category_options": [("", "Any type"), *catalogue.CATEGORIES.items()],
        "size_options": [("", "Any size"), *size_options()],
        "brand_options": [("", "Any brand")] + [(brand, brand) for brand in catalogue.brands()],
        "my_size_options": [("", "No size chosen"), *size_options()],
    }


@bp.route("/", methods=["GET"])
@public
def home() -> Response:
    ctx = current()
    query, errors = catalogue.parse_listing(ctx.query.get)
    values = listing_page(ctx, query, errors, ctx.query.get("cursor"))
    meta = seo.listing_meta(query.department, values["description"])
    return render("catalogue/home.html", status=400 if values["errors"] else 200, meta=meta, **values)


@bp.route("/shoes/{shoe_id}", methods=["GET"])
@public
def product(shoe_id: str) -> Response:
    item = catalogue.get_product(shoe_id)
    size = my_size(item.shoe.department)
    option = item.option(size)
    chosen = size if option is not None and option.available else ""
    pictures = [image_url(image.large_key) for image in item.shoe.images]
    meta = seo.product_meta(current(), item.shoe, item.sold_out, pictures, format_money(int(item.shoe.price_cents)))
    return render(
        "catalogue/product.html",
        meta=meta,
        product=item,
        shoe=item.shoe,
        image_url=image_url,
        my_size=size,
        chosen_size=chosen,
        max_quantity=get_settings().cart_max_quantity,
    )


@bp.route("/my-size", methods=["POST"], content_types=FORM_TYPES)
@public
def set_my_size() -> Response:
    """Remember the shopper's size: in the profile for accounts, in a cookie for guests."""
    ctx = current()
    back = safe_next(ctx.form.get("next"), "/")
    try:
        size = catalogue.check_size(ctx.form.get("my_size"))
    except ValidationFailed as error:
        ctx.flash(error.message, "error")
        return redirect(back)
    department = ctx.form.get("department")[:20]
    chosen = my_size_service.with_size(my_sizes.current_sizes(ctx), size, department)
    if ctx.user is not None:
        my_size_service.save_for_user(ctx.user, chosen)
    response = redirect(back)
    response.headers["Set-Cookie"] = [my_sizes.size_cookie(chosen)]
    ctx.flash(f"Your size is EU {size}." if size else "Your size is forgotten.", "success")
    return response
