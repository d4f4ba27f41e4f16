"""Reviews: the shopper's review form for a shoe of a delivered order (the product page shows
them: catalogue.py), and the back office's list of a shoe's reviews with hide / show again."""

from dataclasses import replace

from chalice import Blueprint, Response

from chalicelib import sizes
from chalicelib.services import cursors, order_links, products
from chalicelib.services import reviews as review_service
from chalicelib.services.errors import Conflict, ValidationFailed
from chalicelib.web.context import current
from chalicelib.web.forms import FORM_TYPES
from chalicelib.web.guards import admin_required, current_admin_username, login_required, public
from chalicelib.web.rendering import redirect, render

bp = Blueprint(__name__)

FORM = "orders/review.html"
FIT_CHOICES = list(review_service.FIT_LABELS.items())
RATING_CHOICES = [(value, f"{value} star{'s' if value != '1' else ''}") for value in review_service.RATING_CHOICES]


def _review_form(target: review_service.ReviewTarget, back_path: str, status: int = 200, **values) -> Response:
    """The form; `back_path` is the order's page (the account's, or the guest's signed link)."""
    line = target.line
    return render(
        FORM,
        status=status,
        back_path=back_path,
        order=target.order,
        line=line,
        size_label=sizes.label(line.size, line.department or "men"),
        reviewed=target.reviewed,
        fit_choices=FIT_CHOICES,
        rating_choices=RATING_CHOICES,
        text_max=review_service.TEXT_MAX,
        display_name=review_service.display_name(target.order),
        form=values.pop("form", {}),
        errors=values.pop("errors", {}),
        message=values.pop("message", None),
        **values,
    )


def _submit(target: review_service.ReviewTarget, back_path: str) -> Response:
    """Write the review from the posted form; errors re-render the form with what was typed."""
    ctx = current()
    form = {
        "rating": ctx.form.get("rating")[:2],
        "fit": ctx.form.get("fit")[:10],
        "text": ctx.form.get("text")[: review_service.TEXT_MAX * 4],
    }
    try:
        review_service.write(target, review_service.ReviewInput(**form))
    except ValidationFailed as error:
        return _review_form(target, back_path, 400, form=form, errors=error.errors, message=error.message)
    except Conflict as error:
        done = replace(target, reviewed=True)
        return _review_form(done, back_path, 409, message=error.message)
    ctx.flash(
        f"Thank you: your review of {target.line.name} is in. It shows on the shoe's page in a moment.", "success"
    )
    return redirect(back_path)


@bp.route("/orders/{order_id}/reviews/{shoe_id}", methods=["GET"])
@login_required
def review_page(order_id: str, shoe_id: str) -> Response:
    """The form (or "you reviewed this"): only the order's owner, only a delivered order's shoes."""
    target = review_service.review_target(current().user, order_id, shoe_id)
    return _review_form(target, f"/orders/{order_id}")


@bp.route("/orders/{order_id}/reviews/{shoe_id}", methods=["POST"], content_types=FORM_TYPES)
@login_required
def review_submit(order_id: str, shoe_id: str) -> Response:
    target = review_service.review_target(current().user, order_id, shoe_id)  # 404 / 409 pages
    return _submit(target, f"/orders/{order_id}")


@bp.route("/orders/guest/{token}/reviews/{shoe_id}", methods=["GET"])
@public
def guest_review_page(token: str, shoe_id: str) -> Response:
    """A guest's review of a delivered order's shoe, from the order's signed link."""
    target = review_service.guest_review_target(token, shoe_id)
    return _review_form(target, order_links.held_link(token))


@bp.route("/orders/guest/{token}/reviews/{shoe_id}", methods=["POST"], content_types=FORM_TYPES)
@public
def guest_review_submit(token: str, shoe_id: str) -> Response:
    target = review_service.guest_review_target(token, shoe_id)
    return _submit(target, order_links.held_link(token))


# -- The back office -------------------------------------------------------------------------------


def _admin_path(shoe_id: str) -> str:
    return f"/admin/shoes/{shoe_id}/reviews"


@bp.route("/admin/shoes/{shoe_id}/reviews", methods=["GET"])
@admin_required
def admin_reviews(shoe_id: str) -> Response:
    """Every review of the shoe, hidden ones too, newest first, 25 a page."""
    ctx = current()
    shoe = products.get_shoe(shoe_id)
    try:
        start = cursors.decode(cursors.ADMIN_REVIEWS, ctx.query.get("cursor"), {"shoe": shoe_id})
    except cursors.InvalidCursor:
        start = None
    page = review_service.all_reviews(shoe_id, start)
    next_cursor = cursors.encode(cursors.ADMIN_REVIEWS, page.next_key, {"shoe": shoe_id})
    return render(
        "admin/reviews.html",
        shoe=shoe,
        reviews=page.items,
        summary=review_service.summary_for(shoe_id),
        fit_labels=review_service.FIT_LABELS,
        next_url=ctx.url(_admin_path(shoe_id), cursor=next_cursor) if next_cursor else None,
        first_url=ctx.url(_admin_path(shoe_id)) if start else None,
    )


def _hide_page(shoe_id: str, reviewer: str, status: int = 200, **values) -> Response:
    shoe = products.get_shoe(shoe_id)
    review = review_service.get_review(shoe_id, reviewer)
    return render(
        "admin/review_hide.html",
        status=status,
        shoe=shoe,
        review=review,
        fit_labels=review_service.FIT_LABELS,
        reason_max=review_service.HIDE_REASON_MAX,
        form=values.pop("form", {}),
        errors=values.pop("errors", {}),
        message=values.pop("message", None),
        **values,
    )


@bp.route("/admin/shoes/{shoe_id}/reviews/hide", methods=["GET"])
@admin_required
def hide_confirm(shoe_id: str) -> Response:
    """The hide step: the review, and the reason (required) the log keeps."""
    return _hide_page(shoe_id, current().query.get("reviewer")[:200])


@bp.route("/admin/shoes/{shoe_id}/reviews/hide", methods=["POST"], content_types=FORM_TYPES)
@admin_required
def hide_review(shoe_id: str) -> Response:
    ctx = current()
    reviewer = ctx.form.get("reviewer")[:200]
    reason = ctx.form.get("reason")[: review_service.HIDE_REASON_MAX * 4]
    try:
        review_service.hide(shoe_id, reviewer, reason, current_admin_username())
    except ValidationFailed as error:
        return _hide_page(shoe_id, reviewer, 400, form={"reason": reason}, errors=error.errors, message=error.message)
    except Conflict as error:
        return _hide_page(shoe_id, reviewer, 409, message=error.message)
    ctx.flash("The review is hidden: it leaves the shop and the averages.", "success")
    return redirect(_admin_path(shoe_id))


@bp.route("/admin/shoes/{shoe_id}/reviews/show", methods=["POST"], content_types=FORM_TYPES)
@admin_required
def show_review(shoe_id: str) -> Response:
    ctx = current()
    try:
        review_service.show_again(shoe_id, ctx.form.get("reviewer")[:200], current_admin_username())
    except Conflict as error:
        ctx.flash(error.message, "error")
    else:
        ctx.flash("The review is shown again: it is back in the shop and the averages.", "success")
    return redirect(_admin_path(shoe_id))
