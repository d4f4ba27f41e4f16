"""The back office's customers: the list, search by name, username or email, one customer's page."""

from chalice import Blueprint, Response

from chalicelib.blueprints.admin import decode_cursor, pager_urls
from chalicelib.services import cursors, customers
from chalicelib.web.context import current
from chalicelib.web.guards import admin_required
from chalicelib.web.rendering import render

bp = Blueprint(__name__)


@bp.route("/admin/customers", methods=["GET"])
@admin_required
def customer_list() -> Response:
    query = current().query
    search = query.get("q")[: customers.SEARCH_MAX].strip()
    search_field = query.get("by", "any")
    search_field = search_field if search_field in dict(customers.SEARCH_FIELDS) else "any"
    page = customers.search(search, search_field, decode_cursor(cursors.ADMIN_CUSTOMERS, q=search, by=search_field))
    return render(
        "admin/customers.html",
        customers=page.items,
        search=search,
        search_field=search_field,
        search_fields=customers.SEARCH_FIELDS,
        **pager_urls("/admin/customers", cursors.ADMIN_CUSTOMERS, page.next_key, q=search, by=search_field),
    )


@bp.route("/admin/customers/{user_id}", methods=["GET"])
@admin_required
def customer_detail(user_id: str) -> Response:
    customer = customers.get_customer(user_id)
    start = decode_cursor(cursors.ADMIN_CUSTOMER_ORDERS, user=customer.user_id)
    page = customers.customer_orders(customer.user_id, start)
    path = f"/admin/customers/{customer.user_id}"
    return render(
        "admin/customer.html",
        customer=customer,
        orders=page.items,
        **pager_urls(path, cursors.ADMIN_CUSTOMER_ORDERS, page.next_key, user=customer.user_id),
    )
