"""The shop window: home page listing, product pages and the shopper's size."""

from chalice import Blueprint, Response

from chalicelib import sizes
from chalicelib.config import get_settings
from chalicelib.product_links import product_path
from chalicelib.services import catalogue, catalogue_index
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
    """`shoe_id` is the URL's `<slug>-<id>`; any other spelling (an old bare id, an outdated
    slug) gets a 301 to the canonical page, with its query."""
    ctx = current()
    item = catalogue.get_product(catalogue.resolve_shoe_ref(shoe_id))
    shoe = item.shoe
    path = product_path(shoe)
    if f"/shoes/{shoe_id}" != path:
        return redirect(path, status=301, **{key: ctx.query.get(key) for key in PRODUCT_QUERY})
    size = my_size()
    option = item.option(size)
    system, system_cookie = size_system(ctx.query.get("sizes"))
    pictures = [image_url(image.large_key) for image in shoe.images]
    shown = ctx.query.get("image")
    shown_image = int(shown) - 1 if shown.isdigit() and 0 < int(shown) <= len(shoe.images) else 0
    meta = seo.product_meta(current(), shoe, item.sold_out, pictures, format_money(int(shoe.price_cents)))
    response = render(
        "catalogue/product.html",
        meta=meta,
        product=item,
        shoe=shoe,
        path=path,
        image_url=image_url,
        my_size=size,
        chosen_size=size if option is not None and option.available else "",
        max_quantity=get_settings().cart_max_quantity,
        shown_image=shown_image,
        size_system=system,
        size_systems=sizes.SYSTEMS,
        size_guide=sizes.guide(shoe.department),
        department_label=catalogue.DEPARTMENTS.get(shoe.department, shoe.department),
        category_label=catalogue.CATEGORIES.get(shoe.category, shoe.category),
        related=catalogue_index.related(shoe.shoe_id, shoe.category, shoe.brand, shoe.department),
        in_system=sizes.in_system,
    )
    if system_cookie:
        response.headers["Set-Cookie"] = [system_cookie]
    return response


PRODUCT_QUERY = ("image", "sizes")  # what a redirect to the canonical page keeps
SIZE_SYSTEM_COOKIE = "sizesystem"


def size_system(asked: str) -> tuple[str, str]:
    """The size system to show (EU, UK or US) and the cookie that remembers a new choice ("" when
    nothing changes): `?sizes=uk` on a link chooses, the cookie remembers, EU by default."""
    name = cookie_name(SIZE_SYSTEM_COOKIE)
    remembered = current().cookies.get(name, "")
    if asked in sizes.SYSTEMS:
        return asked, "" if asked == remembered else build_cookie(name, asked, max_age=MY_SIZE_MAX_AGE)
    return (remembered if remembered in sizes.SYSTEMS else sizes.DEFAULT_SYSTEM), ""


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
