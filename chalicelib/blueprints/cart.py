"""Cart, checkout and order history pages."""

import json
from typing import Any

from chalice import Blueprint, Response

from chalicelib.blueprints import checkout_pricing
from chalicelib.blueprints.payments import send_to_card_payment
from chalicelib.config import get_settings
from chalicelib.models import Order
from chalicelib.services import cart as cart_service
from chalicelib.services import cart_session, checkout, limits, order_links, payments, pricing, reviews
from chalicelib.services import orders as order_service
from chalicelib.services.errors import NotFound, ServiceError, ValidationFailed
from chalicelib.services.images import image_url
from chalicelib.web.context import RequestContext, current
from chalicelib.web.forms import FORM_TYPES
from chalicelib.web.guards import login_required, public
from chalicelib.web.rendering import redirect, render

bp = Blueprint(__name__)


def _render_cart(
    ctx: RequestContext, status: int = 200, errors: dict | None = None, typed: dict | None = None
) -> Response:
    view = cart_service.load_cart(cart_session.cart_owner(ctx))
    cart_session.record_count(ctx, view.units)
    quote = pricing.quote_cart(view)
    return render(
        "cart/cart.html",
        status=status,
        cart=view,
        quote=quote,
        progress=pricing.free_shipping_progress(quote),
        image_url=image_url,
        errors=errors or {},
        typed=typed or {},
    )


@bp.route("/cart", methods=["GET"])
@public
def cart_page() -> Response:
    return _render_cart(current())


def _report_change(ctx: RequestContext, change: cart_service.CartChange) -> Response:
    """After a cart change: refresh the header's count, say what happened, show the cart."""
    cart_session.recount(ctx)
    ctx.flash(change.message, "warning" if change.capped else "success")
    return redirect("/cart")


@bp.route("/cart/items", methods=["POST"], content_types=FORM_TYPES)
@public
def add_to_cart() -> Response:
    ctx = current()
    form = ctx.form
    quantity = form.get("quantity", "1") or "1"
    try:
        # Validate before creating a guest session: bad input leaves no trace.
        cart_service.parse_quantity(quantity)
        cart_service.check_line_key(form.get("shoe_id"), form.get("size"))
        owner = cart_session.owner_for_change(ctx)
        change = cart_service.add_item(owner, form.get("shoe_id"), form.get("size"), quantity)
    except ValidationFailed as error:
        for message in dict.fromkeys(error.errors.values()):
            ctx.flash(message, "error")
        return redirect("/cart")
    except ServiceError as error:
        ctx.flash(error.message, "error")
        return redirect("/cart")
    return _report_change(ctx, change)


def _line_gone(ctx: RequestContext) -> Response:
    """A line removed in another tab (or expired, or never this cart's): the cart page says so."""
    cart_session.recount(ctx)
    ctx.flash(cart_service.GONE_FROM_CART, "info")
    return redirect("/cart")


@bp.route("/cart/update", methods=["POST"], content_types=FORM_TYPES)
@public
def update_cart_line() -> Response:
    ctx = current()
    line_id = ctx.form.get("line_id")
    try:
        owner = cart_session.existing_owner(ctx)
        change = cart_service.change_quantity(owner, line_id, ctx.form.get("quantity"))
    except ValidationFailed as error:
        raw = ctx.form.get("quantity").strip()
        kept = {line_id: raw} if raw.isdigit() and len(raw) <= cart_service.QUANTITY_TEXT_MAX else {}
        return _render_cart(ctx, status=400, errors={line_id: error.errors.get("quantity", error.message)}, typed=kept)
    except NotFound:
        return _line_gone(ctx)
    except ServiceError as error:  # sold out meanwhile
        ctx.flash(error.message, "error")
        return redirect("/cart")
    return _report_change(ctx, change)


@bp.route("/cart/remove", methods=["POST"], content_types=FORM_TYPES)
@public
def remove_cart_line() -> Response:
    ctx = current()
    try:
        change = cart_service.remove_line(cart_session.existing_owner(ctx), ctx.form.get("line_id"))
    except NotFound:
        return _line_gone(ctx)
    return _report_change(ctx, change)


def _summary(ctx: RequestContext) -> checkout.Review:
    """The order summary every checkout step shows (the cart as it will be ordered)."""
    return checkout.review_cart(cart_session.cart_owner(ctx))


def _address_page(
    ctx: RequestContext,
    form: dict,
    errors: dict | None = None,
    status: int = 200,
    guest: bool = False,
    summary: checkout.Review | None = None,
) -> Response:
    return render(
        "cart/checkout_address.html",
        status=status,
        form=form,
        errors=errors or {},
        countries=[("", "Choose a country"), *checkout.COUNTRIES],
        guest=guest,
        action="/checkout/guest" if guest else "/checkout",
        summary=summary or _summary(ctx),
        image_url=image_url,
    )


def _empty_cart_redirect(ctx: RequestContext) -> Response | None:
    if cart_service.count_units(cart_session.cart_owner(ctx)) == 0:
        ctx.flash(cart_service.EMPTY_CART, "info")
        return redirect("/cart")
    return None


def _summary_or_cart(ctx: RequestContext) -> checkout.Review | Response:
    """A step's summary; an empty cart goes back to the cart page (one read for both)."""
    summary = _summary(ctx)
    if summary.cart.is_empty:
        ctx.flash(cart_service.EMPTY_CART, "info")
        return redirect("/cart")
    return summary


@bp.route("/checkout", methods=["GET"])
@public
def checkout_page() -> Response:
    """A shopper's address step; a guest first chooses: continue as guest, log in or register."""
    ctx = current()
    summary = _summary_or_cart(ctx)
    if isinstance(summary, Response):
        return summary
    if ctx.user is None:
        return render("cart/checkout_start.html", summary=summary, image_url=image_url)
    return _address_page(ctx, checkout.address_of(ctx.user), summary=summary)


def _not_a_guest_checkout(ctx: RequestContext) -> Response | None:
    """Where to go instead of the guest's address step: a shopper has their own, an empty cart none."""
    if ctx.user is not None:
        return redirect("/checkout")
    return _empty_cart_redirect(ctx)


@bp.route("/checkout/guest", methods=["GET"])
@public
def guest_checkout_page() -> Response:
    ctx = current()
    if ctx.user is not None:
        return redirect("/checkout")
    summary = _summary_or_cart(ctx)
    if isinstance(summary, Response):
        return summary
    email, address = cart_session.guest_details(ctx)
    return _address_page(ctx, {**address, "email": email}, guest=True, summary=summary)


@bp.route("/checkout/guest", methods=["POST"], content_types=FORM_TYPES)
@public
def guest_checkout_submit() -> Response:
    ctx = current()
    elsewhere = _not_a_guest_checkout(ctx)
    if elsewhere is not None:
        return elsewhere
    raw = {name: ctx.form.get(name) for name in (*checkout.ADDRESS_FIELDS, "email")}
    try:
        email, address = checkout.clean_guest_details(raw)
    except ValidationFailed as error:
        kept = {name: (value or "")[:300] for name, value in raw.items()}
        return _address_page(ctx, kept, error.errors, status=400, guest=True)
    cart_session.save_guest_details(ctx, email, address)
    return redirect("/checkout/review")


@bp.route("/checkout", methods=["POST"], content_types=FORM_TYPES)
@login_required
def checkout_address_submit() -> Response:
    ctx = current()
    raw = {name: ctx.form.get(name) for name in checkout.ADDRESS_FIELDS}
    try:
        address = checkout.clean_address(raw)
    except ValidationFailed as error:
        kept = {name: (value or "")[:200] for name, value in raw.items()}
        return _address_page(ctx, kept, error.errors, status=400)
    checkout.save_address(ctx.user, address)
    return redirect("/checkout/review")


def _address_step(ctx: RequestContext) -> str:
    return "/checkout" if ctx.user is not None else "/checkout/guest"


@bp.route("/checkout/review", methods=["GET"])
@public
def checkout_review() -> Response:
    ctx = current()
    buyer = cart_session.checkout_buyer(ctx)
    if buyer is None or not buyer.address:
        return redirect(_address_step(ctx) if cart_session.cart_owner(ctx) else "/cart")
    return _review_page(ctx, buyer)


def _review_page(
    ctx: RequestContext, buyer: checkout.Buyer, errors: dict[str, str] | None = None, chosen_method: str = ""
) -> Response:
    chosen = checkout_pricing.choices(ctx)
    country = buyer.address.get("country", "")
    summary = checkout.review_cart(buyer.cart_owner, country, chosen.code, chosen.method_id, buyer.owner_key)
    if summary.cart.is_empty:
        ctx.flash(cart_service.EMPTY_CART, "info")
        return redirect("/cart")
    cart_session.record_count(ctx, summary.cart.units)
    methods = payments.available_methods()
    return render(
        "cart/checkout_review.html",
        status=400 if errors else 200,
        errors=errors or {},
        review=summary,
        address=buyer.address,
        guest_email=buyer.email,
        address_step=_address_step(ctx),
        country_name=checkout.COUNTRY_NAMES.get(buyer.address.get("country", ""), ""),
        idempotency_key=checkout.new_checkout_key(buyer.key),
        image_url=image_url,
        payment_methods=methods,
        chosen_method=chosen_method if chosen_method in methods else (methods[0] if methods else ""),
        unpaid_pairs_per_shoe=get_settings().unpaid_pairs_per_shoe,
    )


@bp.route("/checkout/place", methods=["POST"], content_types=FORM_TYPES)
@public
def checkout_place() -> Response:
    ctx = current()
    buyer = cart_session.checkout_buyer(ctx)
    if buyer is None:  # a guest who has not given an email and address (or whose session ended)
        ctx.flash("Enter your email and shipping address first.", "info")
        return redirect("/checkout" if cart_session.cart_owner(ctx) else "/cart")
    if buyer.user is not None:
        limits.check_place_order(buyer.user.user_id, ctx.client_ip)  # over the limit: a 429 page
    else:
        limits.check_guest_place_order(buyer.owner_key, ctx.client_ip)
    try:
        nonce = checkout.nonce_from_checkout_key(buyer.key, ctx.form.get("idempotency_key"))
        reviewed = ctx.form.get("reviewed_total")
        expected = int(reviewed) if reviewed.isdigit() and len(reviewed) <= 12 else None
        offered = payments.available_methods()
        # None chosen: the review step's default
        method = ctx.form.get("payment_method") or (offered[0] if offered else "")
        # The emptied cart's count goes into the order's own transaction (placing an order: 6 calls).
        session_count = cart_session.record_count_in(ctx, 0)
        chosen = checkout_pricing.choices(ctx)
        placed = checkout.place_order(
            buyer,
            nonce,
            expected_total_cents=expected,
            also_write=session_count,
            payment_method=method,
            discount_code=chosen.code,
            shipping_method=chosen.method_id,
        )
    except checkout.OutOfStock as error:
        ctx.flash(error.message, "error")
        for line in error.lines[:4]:
            ctx.flash(line.words, "warning")
        cart_session.recount(ctx)
        return redirect("/cart")
    except ValidationFailed as error:
        if "payment_method" in error.errors:  # said next to the choice, on the review page
            return _review_page(ctx, buyer, errors=error.errors)
        ctx.flash(error.message, "error")
        return redirect("/checkout/review")
    except checkout.EmptyCart as error:
        ctx.flash(error.message, "info")
        return redirect("/cart")
    except ServiceError as error:
        ctx.flash(error.message, "error")
        return redirect("/checkout/review")
    # The transaction deleted every line it ordered: a new order leaves the cart empty.
    if placed.created:
        cart_session.remember_count(ctx, 0)
        if chosen.code:
            checkout_pricing.keep(ctx, checkout_pricing.CODE_KEY, None)  # used: the next order starts without it
    else:
        cart_session.recount(ctx)
    if placed.order.status == payments.PENDING_PAYMENT:
        return send_to_card_payment(ctx, placed.order)
    if not placed.created:
        ctx.flash("This order was already placed; here it is.", "info")
    return redirect(order_links.order_link(placed.order), placed="1")


@bp.route("/orders", methods=["GET"])
@login_required
def orders_page() -> Response:
    ctx = current()
    cursor = ctx.query.get("cursor") or None
    orders: list[Order] = []
    next_cursor: str | None = None
    page_error: str | None = None
    try:
        orders, next_cursor = order_service.list_orders(ctx.user.user_id, cursor)
    except ValidationFailed as error:
        page_error = error.message
    return render(
        "orders/list.html",
        status=400 if page_error else 200,
        orders=orders,
        prev_url=ctx.url("/orders") if cursor else None,
        next_url=ctx.url("/orders", cursor=next_cursor) if next_cursor else None,
        page_error=page_error,
    )


def _render_order(template: str, order: Order, **values: Any) -> Response:
    address = order.address.as_dict() if order.address is not None else None
    return render(
        template,
        order=order,
        address=address,
        country_name=checkout.COUNTRY_NAMES.get((address or {}).get("country", ""), ""),
        image_url=image_url,
        **values,
    )


@bp.route("/orders/{order_id}", methods=["GET"])
@login_required
def order_page(order_id: str) -> Response:
    ctx = current()
    order = order_service.get_order(ctx.user.user_id, order_id)
    if ctx.query.get("placed") == "1":
        return _render_order("orders/confirmation.html", order)
    return _render_order(
        "orders/detail.html",
        order,
        review_lines=reviews.review_lines(order, ctx.user.user_id),
        review_base=f"/orders/{order.order_id}/reviews/",
    )


@bp.route("/orders/guest/{token}", methods=["GET"])
@public
def guest_order_page(token: str) -> Response:
    """A guest's order from its signed link (anyone holding the link sees it, nobody else); once
    it joined an account, its page there (behind the login)."""
    ctx = current()
    order = order_service.order_from_link(token)
    if not order_links.is_guest_order(order):
        return redirect(order_links.order_link(order))
    user = ctx.user
    return _render_order(
        "orders/guest.html",
        order,
        placed=ctx.query.get("placed") == "1",
        link=order_links.held_link(token),
        can_claim=user is not None and order_service.same_email(user.email, order.guest_email),
        review_lines=reviews.review_lines(order, None),
        review_base=f"{order_links.held_link(token)}/reviews/",
    )


@bp.route("/orders/guest/{token}/claim", methods=["POST"], content_types=FORM_TYPES)
@login_required
def guest_order_claim(token: str) -> Response:
    """A logged-in shopper adds a guest order placed with their email to their account."""
    ctx = current()
    order = order_service.order_from_link(token)  # a forged or foreign token stops here
    try:
        order_service.claim_guest_order(order, ctx.user)
    except ServiceError as error:
        ctx.flash(error.message, "error")
        return redirect(order_links.held_link(token))
    ctx.flash("This order is now in your account's order history.", "success")
    return redirect(f"/orders/{order.order_id}")


@bp.route("/account/export", methods=["GET"])
@login_required
def account_export() -> Response:
    data = order_service.export_data(current().user)
    return Response(
        body=json.dumps(data, indent=2, ensure_ascii=False),
        status_code=200,
        headers={
            "Content-Type": "application/json; charset=utf-8",
            "Content-Disposition": 'attachment; filename="stride-shoes-my-data.json"',
        },
    )
