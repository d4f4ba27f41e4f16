"""Back-office customers: the list, prefix search by name, username or email, one customer's orders,
and the customer snapshotted on each order. Every page is a few small Queries, never a Scan
(docs/data-model.md, "Customer search")."""

from typing import Any

from pynamodb.expressions.condition import Condition

from chalicelib.models import Order, User
from chalicelib.models.accounts import CUSTOMER_SHARDS, search_key
from chalicelib.models.base import plain_dict
from chalicelib.services.accounts import get_user
from chalicelib.services.errors import NotFound
from chalicelib.services.paging import Page, Source, merged_query_page, merged_read, query_page

PAGE_SIZE = 20
SEARCH_MAX = 100
NO_SUCH_CUSTOMER = "We could not find that customer."
GUEST = "Guest"
# field: (index, hash attribute, sort attribute)
SEARCH_INDEXES: dict[str, tuple[Any, str, str]] = {
    "name": (User.by_name, "name_head", "name_lc"),
    "username": (User.by_username, "username_head", "username_lc"),
    "email": (User.by_email, "email_head", "email_lc"),
}
SEARCH_FIELDS = [("any", "Name, username or email"), ("name", "Name"), ("username", "Username"), ("email", "Email")]


def order_fields(user: User | None, email: str | None, address: dict[str, Any] | None) -> dict[str, str | None]:
    """The customer attributes of a new order: the account's username and email, or the guest's
    email; the name from the ship-to address."""
    contact = (user.email if user is not None else email) or None
    return {
        "customer_email": contact,
        "customer_name": str(plain_dict(address).get("full_name") or "") or None,
        "customer_username": user.username if user is not None else None,
        "email_key": search_key(contact),
    }


def set_customer(order: Order, user: User | None, email: str | None, address: dict[str, Any] | None) -> None:
    for name, value in order_fields(user, email, address).items():
        setattr(order, name, value)


def customer_label(order: Order) -> str:
    """Who placed the order, for back-office lists: the username, "Guest", or "" once detached."""
    if order.customer_username:
        return str(order.customer_username)
    return GUEST if order.guest_email else ""


def list_customers(start: dict | None = None) -> Page:
    """Newest first, the CUSTOMER_SHARDS partitions of the customers-by-joined index merged."""
    shards = tuple(str(n) for n in range(CUSTOMER_SHARDS))
    return merged_query_page(
        User, User.by_joined, shards, "joined_sort", ("pk", "customer_shard", "joined_sort"), PAGE_SIZE, start
    )


def search(term: str, search_field: str = "any", start: dict | None = None, page_size: int = PAGE_SIZE) -> Page:
    """Customers whose name, username or email (or `search_field`) starts with `term`, any case,
    alphabetically: one Query per field, merged (services/paging.merged_read, the position per
    field), a customer matched by two fields shown once."""
    key = search_key(term[:SEARCH_MAX])
    if not key:
        return list_customers(start)
    names = list(SEARCH_INDEXES) if search_field not in SEARCH_INDEXES else [search_field]
    sources = []
    for name in names:
        index, head, sort = SEARCH_INDEXES[name]
        condition: Condition = getattr(User, sort).startswith(key)
        sources.append(Source(name, index, key[0], sort, ("pk", head, sort), condition))
    return merged_read(User, tuple(sources), page_size, start, newest_first=False, unique_by="pk")


def get_customer(user_id: str) -> User:
    user = get_user(user_id) if user_id and len(user_id) <= 100 else None
    if user is None:
        raise NotFound(NO_SUCH_CUSTOMER)
    return user


def customer_orders(user_id: str, start: dict | None = None) -> Page:
    """The customer's orders, newest first, from the by-user index (one Query per page)."""
    return query_page(Order, Order.by_user, user_id, ("order_id", "user_id", "created_sort"), PAGE_SIZE, start)
