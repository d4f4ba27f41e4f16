"""The back office: admin login at /admin, the dashboard, products, stock and images (orders: admin_orders.py)."""

from typing import TypedDict

from chalice import Blueprint, Response

from chalicelib.formatting import join_words
from chalicelib.models.catalogue import ACTIVE
from chalicelib.services import accounts, back_in_stock, cursors, fulfilment, images, products, return_reasons, uploads
from chalicelib.services import dashboard as dashboard_figures
from chalicelib.services.errors import Conflict, ServiceError, ValidationFailed
from chalicelib.services.limits import RateLimited
from chalicelib.services.returns import REASONS
from chalicelib.services.sessions import ADMIN
from chalicelib.services.shoes import CATEGORIES, DEPARTMENTS, format_price
from chalicelib.sizes import sizes_for
from chalicelib.web.context import current
from chalicelib.web.forms import FORM_TYPES
from chalicelib.web.guards import admin_required, current_admin_is_owner, current_admin_username, owner_required, public
from chalicelib.web.rendering import redirect, render, too_many_requests
from chalicelib.web.urls import safe_next

bp = Blueprint(__name__)

PRODUCT_FIELDS = ("name", "brand", "colour", "category", "department", "description", "price")
SHOE_STATUS_FILTERS = [("active", "Active"), ("draft", "Drafts"), ("archived", "Archived"), ("all", "All")]


class Choices(TypedDict):
    departments: list[tuple[str, str]]
    categories: list[tuple[str, str]]


class PagerUrls(TypedDict):
    next_url: str | None
    first_url: str | None


CHOICES: Choices = {"departments": list(DEPARTMENTS.items()), "categories": list(CATEGORIES.items())}


@bp.route("/admin", methods=["GET"])
@public
def admin_home() -> Response:
    """The dashboard for admins; the admin login form for everyone else."""
    ctx = current()
    if ctx.is_admin:
        return dashboard()
    return render("admin/login.html", next=safe_next(ctx.query.get("next"), ""))


@admin_required
def dashboard() -> Response:
    return render(
        "admin/dashboard.html",
        admin_username=current_admin_username(),
        figures=dashboard_figures.figures(fulfilment.STATUSES),
        recent_days=dashboard_figures.RECENT_DAYS,
    )


@bp.route("/admin/stock", methods=["GET"])
@admin_required
def low_stock() -> Response:
    """The low and sold-out sizes of active shoes, read from the maintained markers."""
    alerts, next_key = dashboard_figures.low_stock(decode_cursor(cursors.ADMIN_LOW_STOCK))
    return render("admin/stock.html", alerts=alerts, **pager_urls("/admin/stock", cursors.ADMIN_LOW_STOCK, next_key))


@bp.route("/admin", methods=["POST"], content_types=FORM_TYPES)
@public
def admin_login() -> Response:
    ctx = current()
    form = ctx.form
    username = form.get("username")
    try:
        admin = accounts.authenticate_admin(username, form.get("password"), ctx.login_client())
    except (accounts.LoginFailed, RateLimited) as error:
        response = render(
            "admin/login.html",
            status=429 if isinstance(error, RateLimited) else 401,
            form={"username": username[:100]},
            login_error=error.message,
            next=safe_next(form.get("next"), ""),
        )
        return too_many_requests(response, error) if isinstance(error, RateLimited) else response
    # A new token with the admin role: a shopper session never becomes an admin session.
    ctx.begin_session(ADMIN, admin.username_key)
    ctx.remember_device(accounts.account_key(admin))
    ctx.flash(f"Logged in as {admin.username}.", "success")
    return redirect(safe_next(form.get("next"), "/admin"))


@bp.route("/admin/logout", methods=["POST"], content_types=FORM_TYPES)
@admin_required
def admin_logout() -> Response:
    ctx = current()
    ctx.end_session()
    ctx.flash("You are logged out of the back office.", "info")
    return redirect("/admin")


def decode_cursor(listing: str, **bound_to: str) -> dict | None:
    """The page's cursor, bound to the listing and its query; a tampered one, or one made for
    another listing or status, starts from the first page rather than failing."""
    try:
        return cursors.decode(listing, current().query.get("cursor"), bound_to)
    except cursors.InvalidCursor:
        return None


def pager_urls(path: str, listing: str, next_key: dict | None, **query: str) -> PagerUrls:
    """Links for ui.pager: the next page (a cursor bound to `query`) and, past the first page, the first."""
    on_later_page = bool(current().query.get("cursor"))
    next_cursor = cursors.encode(listing, next_key, query)
    return {
        "next_url": current().url(path, **query, cursor=next_cursor) if next_cursor else None,
        "first_url": current().url(path, **query) if on_later_page else None,
    }


@bp.route("/upload", methods=["GET"])
@owner_required
def upload_entry() -> Response:
    """The original store's only admin page; it now starts the new-shoe form."""
    return redirect("/admin/shoes/new")


@bp.route("/admin/shoes", methods=["GET"])
@admin_required
def shoe_list() -> Response:
    query = current().query
    status = query.get("status", ACTIVE)
    status = status if status in dict(SHOE_STATUS_FILTERS) else ACTIVE
    search = query.get("q")[: products.SEARCH_MAX]
    page = products.list_shoes(status, search, decode_cursor(cursors.ADMIN_SHOES, status=status, q=search))
    stock = products.stock_for(page.items)
    waiting = back_in_stock.waiting_for(products.sold_out_sizes(page.items, stock))
    rows = [(shoe, products.stock_summary(shoe, stock.get(shoe.shoe_id, {}), waiting)) for shoe in page.items]
    return render(
        "admin/shoes.html",
        rows=rows,
        image_url=images.image_url,
        shoe_status=status,
        search=search,
        status_filters=SHOE_STATUS_FILTERS,
        **pager_urls("/admin/shoes", cursors.ADMIN_SHOES, page.next_key, status=status, q=search),
    )


def _to_edit_page(shoe_id: str) -> Response:
    return redirect(f"/admin/shoes/{shoe_id}/edit")


def _product_input(form) -> products.ProductInput:
    return products.ProductInput(**{name: form.get(name)[:5000] for name in PRODUCT_FIELDS})


def _form_values(form) -> dict[str, str]:
    values = {name: form.get(name)[:5000] for name in PRODUCT_FIELDS}
    field_names = form.keys()
    values.update({key: form.get(key)[:20] for key in field_names if key.startswith("stock_")})
    return values


def _shoe_values(shoe) -> dict[str, str]:
    return {
        "name": shoe.name,
        "brand": shoe.brand,
        "colour": shoe.colour,
        "category": shoe.category,
        "department": shoe.department,
        "description": shoe.description or "",
        "price": format_price(shoe.price_cents),
    }


def _render_new(form: dict, errors: dict, status: int = 200, message: str | None = None) -> Response:
    department = form.get("department") or "men"
    department = department if department in DEPARTMENTS else "men"
    return render(
        "admin/shoe_new.html",
        status=status,
        form=form,
        errors=errors,
        message=message,
        grid_department=department,
        grid_sizes=sizes_for(department),
        **CHOICES,
    )


@bp.route("/admin/shoes/new", methods=["GET"])
@owner_required
def shoe_new() -> Response:
    department = current().query.get("department") or "men"
    return _render_new({"department": department}, {})


@bp.route("/admin/shoes/new", methods=["POST"], content_types=FORM_TYPES)
@owner_required
def shoe_create() -> Response:
    form = current().form
    values = _form_values(form)
    department = form.get("department")
    grid = form.get("grid_department")
    if department in DEPARTMENTS and sizes_for(department) != sizes_for(grid):
        # The stock grid showed another size system (the page has no script to swap it).
        errors = {"department": "The size grid below now shows this department's sizes: enter their stock."}
        return _render_new(values, errors, 400, "Please enter stock for the sizes shown.")
    stock = {size: form.get(products.stock_field(size))[:20] for size in sizes_for(department or "men")}
    try:
        shoe = products.create_shoe(_product_input(form), stock, current_admin_username())
    except ValidationFailed as error:
        return _render_new(values, error.errors, 400, error.message)
    current().flash(f"{shoe.name} is saved as a draft. Add photos below, then publish it.", "success")
    return redirect(f"/admin/shoes/{shoe.shoe_id}/edit")


def _absolute(path: str, **query: str) -> str:
    ctx = current()
    headers = ctx.request.headers
    from chalicelib.config import get_settings

    scheme = "https" if get_settings().secure_cookies else headers.get("x-forwarded-proto", "http")
    host = headers.get("host", "127.0.0.1")
    return f"{scheme}://{host}{ctx.url(path, **query)}"


def render_edit(shoe_id: str, status: int = 200, **overrides) -> Response:
    shoe = products.get_shoe(shoe_id)
    stock = products.stock_rows(shoe_id)
    is_owner = current_admin_is_owner()  # staff see the details and photos, and change stock only
    grant = (
        uploads.grant_upload(
            shoe_id, current_admin_username(), redirect_url=_absolute(f"/admin/shoes/{shoe_id}/images/uploaded")
        )
        if is_owner
        else None
    )
    values = {
        "shoe": shoe,
        "form": _shoe_values(shoe),
        "errors": {},
        "stock": {size: (stock[size].quantity if size in stock else 0) for size in shoe.sizes},
        "sold": sum(int(row.sold or 0) for row in stock.values()),
        "waiting": back_in_stock.waiting_counts(shoe_id, shoe.sizes),  # "email me when it's back"
        "return_reasons": return_reasons.for_shoe(shoe_id),  # one read of the maintained tally
        "reason_labels": REASONS,
        "grant": grant,
        "is_owner": is_owner,
        "image_types": list(uploads.CONTENT_TYPES),
        "max_upload_mb": uploads.MAX_UPLOAD_BYTES // (1024 * 1024),
        **CHOICES,
        "version": shoe.version,
        "conflict": None,
        "stock_errors": {},
        "publish_errors": {},
        "adjust": {"size": "", "delta": ""},  # the receive/remove form's choice, kept after an error
        "message": None,
        "pending_key": None,
        "image_url": images.image_url,
    }
    values.update(overrides)
    return render("admin/shoe_edit.html", status=status, **values)


@bp.route("/admin/shoes/{shoe_id}/edit", methods=["GET"])
@admin_required
def shoe_edit(shoe_id: str) -> Response:
    return render_edit(shoe_id)


@bp.route("/admin/shoes/{shoe_id}/edit", methods=["POST"], content_types=FORM_TYPES)
@owner_required
def shoe_save(shoe_id: str) -> Response:
    form = current().form
    values = _form_values(form)
    try:
        shoe = products.update_shoe(shoe_id, _product_input(form), form.get("version"), current_admin_username())
    except products.StaleEdit as error:
        # Keep the admin's typing beside the newer values; a second Save knowingly overwrites them.
        return render_edit(
            shoe_id,
            409,
            form=values,
            conflict=_shoe_values(error.current),
            version=error.current.version,
            message=error.message,
        )
    except ValidationFailed as error:
        return render_edit(
            shoe_id, 400, form=values, errors=error.errors, version=form.get("version")[:20], message=error.message
        )
    current().flash(f"{shoe.name} is saved.", "success")
    return _to_edit_page(shoe_id)


@bp.route("/admin/shoes/{shoe_id}/stock", methods=["POST"], content_types=FORM_TYPES)
@admin_required
def shoe_stock(shoe_id: str) -> Response:
    form = current().form
    shoe = products.get_shoe(shoe_id)
    grid = {size: (form.get(products.stock_field(size))[:20], form.get(f"seen_{size}")[:20]) for size in shoe.sizes}
    try:
        changed = products.apply_stock_form(shoe_id, grid, current_admin_username())
    except ValidationFailed as error:
        return render_edit(shoe_id, 409, stock_errors=error.errors, message=error.message)
    saved = f"Stock saved for size{'s' if len(changed) > 1 else ''} {join_words(changed)}."
    current().flash(saved if changed else "No stock changed.", "success")
    return _to_edit_page(shoe_id)


@bp.route("/admin/shoes/{shoe_id}/stock/adjust", methods=["POST"], content_types=FORM_TYPES)
@admin_required
def shoe_stock_adjust(shoe_id: str) -> Response:
    form = current().form
    size = form.get("size")[:10]
    delta = products.parse_whole_number(form.get("delta")[:10], allow_negative=True)
    try:
        if delta is None:
            raise ValidationFailed({"delta": "Enter a change like 5 or -2."})
        quantity = products.adjust_stock(shoe_id, size, delta, current_admin_username())
    except ValidationFailed as error:
        return render_edit(
            shoe_id,
            400,
            stock_errors={"delta": next(iter(error.errors.values()))},
            message=error.message,
            adjust={"size": size, "delta": form.get("delta")[:10]},
        )
    except Conflict as error:
        return render_edit(
            shoe_id,
            409,
            stock_errors={"delta": error.message},
            message=error.message,
            adjust={"size": size, "delta": ""},
        )
    current().flash(f"Size {size} now has {quantity} in stock.", "success")
    return _to_edit_page(shoe_id)


@bp.route("/admin/shoes/{shoe_id}/archive", methods=["POST"], content_types=FORM_TYPES)
@owner_required
def shoe_archive(shoe_id: str) -> Response:
    shoe = products.archive_shoe(shoe_id, current_admin_username())
    current().flash(f"{shoe.name} is archived: the shop no longer shows it.", "success")
    return _to_edit_page(shoe_id)


@bp.route("/admin/shoes/{shoe_id}/restore", methods=["POST"], content_types=FORM_TYPES)
@owner_required
def shoe_restore(shoe_id: str) -> Response:
    shoe = products.restore_shoe(shoe_id, current_admin_username())
    current().flash(f"{shoe.name} is back in the shop.", "success")
    return _to_edit_page(shoe_id)


def _confirm(title: str, message: str, action: str, button: str, back: str, **more) -> Response:
    """A confirmation page: its button posts (with CSRF) to `action`; no script needed."""
    return render("admin/confirm.html", title=title, message=message, action=action, button=button, back=back, **more)


@bp.route("/admin/shoes/{shoe_id}/preview", methods=["GET"])
@admin_required
def shoe_preview(shoe_id: str) -> Response:
    """The product page as shoppers will see it, for any status (drafts included); admins only."""
    from chalicelib.blueprints.catalogue import product_page
    from chalicelib.services import catalogue

    return product_page(catalogue.product_of(products.get_shoe(shoe_id)), "admin/preview.html")


@bp.route("/admin/shoes/{shoe_id}/publish", methods=["POST"], content_types=FORM_TYPES)
@owner_required
def shoe_publish(shoe_id: str) -> Response:
    without_photo = current().form.get("without_photo") == "yes"
    try:
        shoe = products.publish_shoe(shoe_id, current_admin_username(), without_photo)
    except ValidationFailed as error:
        return render_edit(shoe_id, 400, publish_errors=error.errors, message=error.message)
    except Conflict as error:
        current().flash(error.message, "error")
        return _to_edit_page(shoe_id)
    current().flash(f"{shoe.name} is published: shoppers can find and buy it now.", "success")
    return _to_edit_page(shoe_id)


@bp.route("/admin/shoes/{shoe_id}/delete", methods=["GET"])
@owner_required
def shoe_delete_confirm(shoe_id: str) -> Response:
    shoe = products.get_shoe(shoe_id)
    return _confirm(
        f"Delete {shoe.brand} {shoe.name}?",
        "The shoe, its stock counts and its photos are deleted for good. This cannot be undone.",
        f"/admin/shoes/{shoe_id}/delete",
        "Delete shoe for good",
        f"/admin/shoes/{shoe_id}/edit",
    )


@bp.route("/admin/shoes/{shoe_id}/delete", methods=["POST"], content_types=FORM_TYPES)
@owner_required
def shoe_delete(shoe_id: str) -> Response:
    try:
        products.delete_shoe(shoe_id, current_admin_username())
    except Conflict as error:
        current().flash(error.message, "error")
        return _to_edit_page(shoe_id)
    current().flash("The shoe is deleted.", "success")
    return redirect("/admin/shoes?status=all")


@bp.route("/admin/shoes/{shoe_id}/images/uploaded", methods=["GET"])
@owner_required
def image_uploaded(shoe_id: str) -> Response:
    """Where S3 sends a plain-form upload: a GET changes nothing, so one more click adds it."""
    key = current().query.get("key")[:200]
    if not uploads.KEY_RE.match(key):
        return render_edit(shoe_id, 400, message=uploads.MISSING)
    return render_edit(shoe_id, pending_key=key)


@bp.route("/admin/shoes/{shoe_id}/images/confirm", methods=["POST"], content_types=FORM_TYPES)
@owner_required
def image_confirm(shoe_id: str) -> Response:
    try:
        uploads.confirm_upload(shoe_id, current().form.get("key")[:200], current_admin_username())
    except ServiceError as error:
        current().flash(error.message, "error")
        return _to_edit_page(shoe_id)
    current().flash("The image is checked and added.", "success")
    return _to_edit_page(shoe_id)


# action: (what it does, what the admin is told)
IMAGE_ACTIONS = {
    "primary": (uploads.make_primary, "That image is now the main photo."),
    "up": (lambda shoe_id, image_id, admin: uploads.move_image(shoe_id, image_id, -1, admin), "Image moved."),
    "down": (lambda shoe_id, image_id, admin: uploads.move_image(shoe_id, image_id, 1, admin), "Image moved."),
}


def _image_delete_path(shoe_id: str, image_id: str) -> str:
    return f"/admin/shoes/{shoe_id}/images/{image_id}/delete"


@bp.route("/admin/shoes/{shoe_id}/images/{image_id}/delete", methods=["GET"])
@owner_required
def image_delete_confirm(shoe_id: str, image_id: str) -> Response:
    shoe = products.get_shoe(shoe_id)
    image = next((image for image in shoe.images if image.image_id == image_id), None)
    if image is None:
        current().flash("That image is already gone.", "info")
        return _to_edit_page(shoe_id)
    return _confirm(
        f"Delete this photo of {shoe.name}?",
        "The photo is removed from the shop and deleted for good.",
        _image_delete_path(shoe_id, image_id),
        "Delete photo",
        f"/admin/shoes/{shoe_id}/edit",
        image=image,
        image_url=images.image_url,
    )


@bp.route("/admin/shoes/{shoe_id}/images/{image_id}/delete", methods=["POST"], content_types=FORM_TYPES)
@owner_required
def image_delete(shoe_id: str, image_id: str) -> Response:
    try:
        uploads.delete_image(shoe_id, image_id[:40], current_admin_username())
    except ServiceError as error:
        current().flash(error.message, "error")
        return _to_edit_page(shoe_id)
    current().flash("The image is deleted.", "success")
    return _to_edit_page(shoe_id)


@bp.route("/admin/shoes/{shoe_id}/images/{image_id}", methods=["POST"], content_types=FORM_TYPES)
@owner_required
def image_action(shoe_id: str, image_id: str) -> Response:
    action = current().form.get("action")
    if action == "delete":  # an old tab's one-click button: ask first
        return redirect(_image_delete_path(shoe_id, image_id[:40]))
    if action not in IMAGE_ACTIONS:
        current().flash("Choose what to do with the image.", "error")
        return _to_edit_page(shoe_id)
    run, done = IMAGE_ACTIONS[action]
    try:
        run(shoe_id, image_id[:40], current_admin_username())
    except ServiceError as error:
        current().flash(error.message, "error")
        return _to_edit_page(shoe_id)
    current().flash(done, "success")
    return _to_edit_page(shoe_id)
