"""The shop window: home page listing, product pages and the shopper's size."""

from chalice import Blueprint, Response

from chalicelib import sizes
from chalicelib.config import get_settings
from chalicelib.product_links import product_path
from chalicelib.services import catalogue, catalogue_index, cursors
from chalicelib.services import my_size as my_size_service
from chalicelib.services import reviews as review_service
from chalicelib.services.catalogue_index import BEST
from chalicelib.services.errors import ValidationFailed
from chalicelib.services.images import image_url
from chalicelib.web import my_size as my_sizes
from chalicelib.web import seo
from chalicelib.web.context import current
from chalicelib.web.cookies import build_cookie, cookie_name
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


def _filters_in_use(query: catalogue.ListingQuery) -> list[tuple[str, str, str]]:
    """(parameter, chip label, "widen" label) of each filter the query uses."""
    money = format_money
    low, high = query.min_price, query.max_price
    price = (
        f"{money(low)} to {money(high)}"
        if low is not None and high is not None
        else f"Under {money(high)}"
        if high is not None
        else f"From {money(low)}"
        if low is not None
        else ""
    )
    found = [
        ("q", f"Search: {query.q}", "Drop the search"),
        ("department", catalogue.DEPARTMENTS.get(query.department, ""), "Everyone"),
        ("category", catalogue.CATEGORIES.get(query.category, ""), "Any type"),
        ("brand", query.brand, "Any brand"),
        ("size", f"In stock in EU {query.size}" if query.size else "", "Any size"),
        ("price", price, "Any price"),
    ]
    return [(name, chip, widen) for name, chip, widen in found if chip and (name != "q" or query.q)]


def _sort_options(query: catalogue.ListingQuery) -> list[tuple[str, str]]:
    """The default sort is the empty value (it stays out of the URL); "Best match" only when searching."""
    default = query.default_sort
    return [("" if key == default else key, label) for key, label in catalogue.SORTS.items() if key != BEST or query.q]


def listing_page(ctx, query: catalogue.ListingQuery, errors: dict[str, str], cursor: str) -> dict:
    """Everything the listing template needs; a bad cursor falls back to the first page."""
    try:
        page = catalogue.list_shoes(query, cursor)
    except ValidationFailed as error:
        errors = {**errors, **error.errors}
        page = catalogue.list_shoes(query)
    size = my_size(query.department or None)
    page.stock_in_size = catalogue.stock_in_size(page.cards, size)
    ratings = review_service.summaries_for([card.shoe_id for card in page.cards])
    params = query.params()
    in_use = [
        (label, widen, ctx.url("/", **query.without(name).params())) for name, label, widen in _filters_in_use(query)
    ]
    # A form with errors shows what was typed, every field (nothing typed is erased).
    typed = {name: ctx.query.get(name) for name in LISTING_FIELDS if ctx.query.get(name)}
    return {
        "query": query,
        "form": typed if errors else params,
        "form_fields": LISTING_FIELDS,
        "errors": errors,
        "page": page,
        "total": page.total if page.total is not None else catalogue.count_all(),
        "corrections": [term for term in page.terms if term.corrected],
        "suggestion_url": ctx.url("/", **{**params, "q": page.suggestion}) if page.suggestion else "",
        "my_size": size,
        "back_path": build_url("", "/", params),
        "my_size_url": ctx.url("/", **{**params, "size": size}) if size and query.size != size else "",
        "image_url": image_url,
        "description": query.describe(format_money),
        "chips": [(label, link) for label, _, link in in_use],
        "widen": [(widen, link) for _, widen, link in in_use],
        "next_url": ctx.url("/", **params, cursor=page.next_cursor) if page.next_cursor else "",
        "prev_url": ctx.url("/", **params, cursor=page.prev_cursor) if page.prev_cursor else "",
        "sort_options": _sort_options(query),
        "department_options": [("", "Everyone"), *catalogue.DEPARTMENTS.items()],
        "category_options": [("", "Any type"), *catalogue.CATEGORIES.items()],
        "size_options": [("", "Any size"), *size_options()],
        "brand_options": [("", "Any brand")] + [(brand, brand) for brand in catalogue.brands()],
        "my_size_options": [("", "No size chosen"), *size_options()],
        "ratings": ratings,
    }


LISTING_FIELDS = (*catalogue.FILTER_FIELDS, "sort")


@bp.route("/", methods=["GET"])
@public
def home() -> Response:
    ctx = current()
    query, errors = catalogue.parse_listing(ctx.query.get)
    cursor = ctx.query.get("cursor")
    # Only the filters in use stay in the URL: a form sent with empty fields (no JavaScript) or a
    # hand-typed URL is redirected to the clean one. With errors, the page shows what was typed.
    clean = query.params()
    if not errors and {name: ctx.query.get(name) for name in LISTING_FIELDS if name in ctx.query} != clean:
        return redirect("/", status=302, **clean, cursor=cursor)
    values = listing_page(ctx, query, errors, cursor)
    meta = seo.listing_meta(query.department, values["description"])
    return render("catalogue/home.html", status=400 if values["errors"] else 200, meta=meta, **values)


@bp.route("/shoes/{shoe_id}", methods=["GET"])
@public
def product(shoe_id: str) -> Response:
    """`shoe_id` is the URL's `<slug>-<id>`; any other spelling (an old bare id, an outdated
    slug) gets a 301 to the canonical page, with its query. An archived shoe: a 410 page."""
    ctx = current()
    try:
        item = catalogue.get_product(catalogue.resolve_shoe_ref(shoe_id))
    except catalogue.NoLongerSold as gone:
        cards = catalogue.similar_cards(gone.shoe)
        return render(
            "catalogue/gone.html",
            status=410,
            shoe=gone.shoe,
            cards=cards,
            ratings=review_service.summaries_for([card.shoe_id for card in cards]),
            image_url=image_url,
            my_size="",
        )
    path = product_path(item.shoe)
    if f"/shoes/{shoe_id}" != path:
        return redirect(path, status=301, **{key: ctx.query.get(key) for key in PRODUCT_QUERY})
    return product_page(item)


def _reviews_page(shoe_id: str, summary: review_service.FitSummary) -> tuple[list, str | None, bool]:
    """(reviews, next cursor, on a later page): one Query, none for a shoe without reviews; a
    damaged or foreign cursor shows the first page."""
    if not summary.count:
        return [], None, False
    cursor = current().query.get("reviews") or None
    try:
        found, next_cursor = review_service.visible_reviews(shoe_id, cursor)
    except cursors.InvalidCursor:
        cursor = None
        found, next_cursor = review_service.visible_reviews(shoe_id)
    return found, next_cursor, cursor is not None


def product_page(item: catalogue.Product, template: str = "catalogue/product.html") -> Response:
    """The product page; the back office's preview renders a draft with it through its own template."""
    ctx = current()
    shoe = item.shoe
    path = product_path(shoe)
    size = my_size(shoe.department)
    system, system_cookie = size_system(ctx.query.get("sizes"))
    pictures = [image_url(image.large_key) for image in shoe.images]
    shown = ctx.query.get("image")
    shown_image = int(shown) - 1 if shown.isdigit() and 0 < int(shown) <= len(shoe.images) else 0
    related = catalogue_index.related(shoe.shoe_id, shoe.category, shoe.brand, shoe.department)
    # One BatchGetItem: this shoe's review summary with its returns for fit, the related cards' ratings.
    ratings = review_service.summaries_for([shoe.shoe_id, *(card.shoe_id for card in related)], returns_of=shoe.shoe_id)
    summary = ratings[shoe.shoe_id]
    verdict = summary.verdict()
    # An explicit `?size=` (offered and in stock) wins over the suggestion, which wins over my size.
    asked = ctx.query.get("size")[:4]
    asked_option = item.option(asked)
    chosen = asked if asked_option is not None and asked_option.available else ""
    on_hand = {option.size: option.quantity for option in item.sizes}
    suggestion = my_size_service.suggest_size(size, shoe.department, verdict, on_hand, chosen)
    option = item.option(size)
    if chosen:
        preselected = chosen
    elif suggestion is not None:
        preselected = suggestion.size if suggestion.preselect else ""
    else:
        preselected = size if option is not None and option.available else ""
    page_reviews, next_cursor, later_page = _reviews_page(shoe.shoe_id, summary)
    meta = seo.product_meta(
        ctx, shoe, item.sold_out, pictures, format_money(int(shoe.price_cents)), summary.average, summary.count
    )
    query = {"sizes": ctx.query.get("sizes")[:3] or None, "size": chosen or None}
    response = render(
        template,
        meta=meta,
        product=item,
        shoe=shoe,
        path=path,
        image_url=image_url,
        my_size=size,
        chosen_size=preselected,
        suggestion=suggestion,
        summary=summary,
        fit_verdict=verdict,
        fit_minimum=get_settings().fit_summary_min_answers,
        reviews=page_reviews,
        more_reviews_url=ctx.url(path, reviews=next_cursor, **query) + "#reviews" if next_cursor else "",
        first_reviews_url=ctx.url(path, **query) + "#reviews" if later_page else "",
        fit_labels=review_service.FIT_LABELS,
        ratings=ratings,
        max_quantity=get_settings().cart_max_quantity,
        shown_image=shown_image,
        size_system=system,
        size_systems=sizes.SYSTEMS,
        size_guide=sizes.guide(shoe.department),
        department_label=catalogue.DEPARTMENTS.get(shoe.department, shoe.department),
        category_label=catalogue.CATEGORIES.get(shoe.category, shoe.category),
        related=related,
        in_system=sizes.in_system,
    )
    if system_cookie:
        response.headers["Set-Cookie"] = [system_cookie]
    return response


PRODUCT_QUERY = ("image", "sizes", "size", "reviews")  # what a redirect to the canonical page keeps
SIZE_SYSTEM_COOKIE = "sizesystem"


def size_system(asked: str) -> tuple[str, str]:
    """The size system to show (EU, UK or US) and the cookie that remembers a new choice ("" when
    nothing changes): `?sizes=uk` on a link chooses, the cookie remembers, EU by default."""
    name = cookie_name(SIZE_SYSTEM_COOKIE)
    remembered = current().cookies.get(name, "")
    if asked in sizes.SYSTEMS:
        return asked, "" if asked == remembered else build_cookie(name, asked, max_age=my_sizes.MY_SIZE_MAX_AGE)
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
    department = ctx.form.get("department")[:20]
    chosen = my_size_service.with_size(my_sizes.current_sizes(ctx), size, department)
    if ctx.user is not None:
        my_size_service.save_for_user(ctx.user, chosen)
    response = redirect(back)
    response.headers["Set-Cookie"] = [my_sizes.size_cookie(chosen)]
    ctx.flash(f"Your size is EU {size}." if size else "Your size is forgotten.", "success")
    return response
