"""The shop window: home page listing, product pages and the shopper's size."""

from chalice import Blueprint, Response

from chalicelib import sizes
from chalicelib.config import get_settings
from chalicelib.services import catalogue
from chalicelib.services.errors import ValidationFailed
from chalicelib.services.images import image_url
from chalicelib.web import seo
from chalicelib.web.context import current
from chalicelib.web.cookies import build_cookie, cookie_name, expire_cookie
from chalicelib.web.forms import FORM_TYPES
from chalicelib.web.guards import public
from chalicelib.web.rendering import format_money, redirect, render
from chalicelib.web.urls import build_url, safe_next

bp = Blueprint(__name__)

MY_SIZE_COOKIE = "mysize"
MY_SIZE_MAX_AGE = 365 * 24 * 3600


def my_size() -> str:
    """The shopper's size: from the profile when logged in, else from the guest cookie."""
    ctx = current()
    user = ctx.user
    raw = (user.preferred_size or "") if user is not None else ctx.cookies.get(cookie_name(MY_SIZE_COOKIE), "")
    return raw if sizes.is_valid(raw) else ""


def size_options() -> list[tuple[str, str]]:
    return [(size, f"EU {size}") for size in sizes.ALL_SIZES]


def listing_page(ctx, query: catalogue.ListingQuery, errors: dict[str, str], cursor: str) -> dict:
    """Everything the listing template needs; a bad cursor falls back to the first page."""
    try:
        page = catalogue.list_shoes(query, cursor)
    except ValidationFailed as error:
        errors = {**errors, **error.errors}
        page = catalogue.list_shoes(query)
    size = my_size()
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
    try:
        item = catalogue.get_product(shoe_id)
    except catalogue.NoLongerSold as gone:
        return render(
            "catalogue/gone.html",
            status=410,
            shoe=gone.shoe,
            cards=catalogue.similar_cards(gone.shoe),
            image_url=image_url,
            my_size="",
        )
    return product_page(item)


def product_page(item: catalogue.Product, template: str = "catalogue/product.html") -> Response:
    """The product page; the back office's preview renders a draft with it through its own template."""
    size = my_size()
    option = item.option(size)
    chosen = size if option is not None and option.available else ""
    pictures = [image_url(image.large_key) for image in item.shoe.images]
    meta = seo.product_meta(current(), item.shoe, item.sold_out, pictures, format_money(int(item.shoe.price_cents)))
    return render(
        template,
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
    if ctx.user is not None:
        catalogue.save_preferred_size(ctx.user, size)
    response = redirect(back)
    name = cookie_name(MY_SIZE_COOKIE)
    cookie = build_cookie(name, size, max_age=MY_SIZE_MAX_AGE) if size else expire_cookie(name)
    response.headers["Set-Cookie"] = [cookie]
    ctx.flash(f"Your size is EU {size}." if size else "Your size is forgotten.", "success")
    return response
