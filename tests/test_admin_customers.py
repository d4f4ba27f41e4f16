"""Back-office customers: prefix search by name, username and email (case-insensitive, Queries only,
the same few calls whatever the number of shoppers), the list, a customer's page with their orders
paged, the customer on every order, keys kept in step with email and address changes, the backfill."""

import re
import uuid
from urllib.parse import unquote

import pytest

from chalicelib.models import Order, User
from chalicelib.services import account_changes, cart, checkout, customers, outbox, payments
from devtools.customers import backfill
from tests.cart_fixtures import count_dynamodb_calls
from tests.factories import ADDRESS, make_shoe, make_user


def named(full_name: str) -> dict[str, str]:
    return {**ADDRESS, "full_name": full_name}


def place(user: User, shoe_id: str, quantity: int = 1) -> Order:
    cart.add_item(cart.user_owner(user.user_id), shoe_id, "42", str(quantity))
    placed = checkout.place_order(user, f"key-{uuid.uuid4().hex}", payment_method=payments.PAY_ON_DELIVERY)
    return placed.order


def usernames(page) -> list[str]:
    return [user.username for user in page.items]


@pytest.fixture
def people():
    return [
        make_user("jsmith", "Jane.Smith@Example.com", address=named("Jane Smith")),
        make_user("jonas", "jonas@shoes.example", address=named("Jonas Berg")),
        make_user("bob", "bob@example.com", address=named("Robert Jones")),
        make_user("ann", "janet@example.org"),
    ]


def test_search_finds_customers_by_the_start_of_their_name_username_or_email(people):
    assert usernames(customers.search("Jon", "name")) == ["jonas"]
    assert usernames(customers.search("ROB", "name")) == ["bob"]
    assert usernames(customers.search("jo", "username")) == ["jonas"]
    assert usernames(customers.search("JANE.s", "email")) == ["jsmith"]
    assert usernames(customers.search("smith", "any")) == []  # a prefix search: not the middle of a name
    # "any" merges the three fields, alphabetical by the matched value; one customer shown once
    assert usernames(customers.search("ja", "any")) == ["jsmith", "ann"]
    found = usernames(customers.search("j", "any"))
    assert sorted(found) == ["ann", "jonas", "jsmith"] and len(found) == 3


def test_search_pages_by_a_cursor_with_no_repeats_and_no_gaps():
    for n in range(7):
        make_user(f"kim{n}", f"kim{n}@example.com")
    seen: list[str] = []
    start = None
    for _page in range(5):
        page = customers.search("kim", "username", start, page_size=3)
        seen += usernames(page)
        start = page.next_key
        if start is None:
            break
    assert seen == [f"kim{n}" for n in range(7)]


def test_a_search_costs_three_queries_whatever_the_number_of_shoppers(people):
    with count_dynamodb_calls() as calls:
        customers.search("ja", "any")
    assert calls.get("Scan", 0) == 0 and calls["Query"] == 3


def test_the_list_is_newest_first_from_the_sharded_index(people, frozen_clock):
    assert set(usernames(customers.list_customers())) == {"jsmith", "jonas", "bob", "ann"}
    with count_dynamodb_calls() as calls:
        customers.list_customers()
    assert calls.get("Scan", 0) == 0 and calls["Query"] == 4


def test_search_keys_follow_an_email_change_and_a_new_address(people):
    jane = people[0]
    account_changes.request_email_change(jane, "j.doe@example.net", "correct horse battery")
    assert usernames(customers.search("jane.s", "email")) == ["jsmith"]
    (message,) = [m for m in outbox.unsent(outbox.PENDING) if m.kind == "email_change_confirm"]
    token = str(message.context["link"]).rsplit("/", 1)[1]
    account_changes.confirm_email_change(unquote(token))
    assert usernames(customers.search("jane.s", "email")) == []
    assert usernames(customers.search("J.DOE", "email")) == ["jsmith"]
    checkout.save_address(User.get(jane.pk), checkout.clean_address(named("Zoe Quinn")))
    assert usernames(customers.search("zoe", "name")) == ["jsmith"] and customers.search("jane", "name").items == []


def test_an_order_carries_its_customer_and_a_guest_order_says_guest(people):
    shoe = make_shoe(stock={"42": 9})
    order = place(people[0], shoe.shoe_id)
    stored = Order.get(order.order_id)
    assert (stored.customer_username, stored.customer_email, stored.customer_name) == (
        "jsmith",
        "Jane.Smith@Example.com",
        "Jane Smith",
    )
    assert stored.email_key == "jane.smith@example.com"
    guest = Order.get(order.order_id)
    guest.user_id, guest.customer_username, guest.guest_email = None, None, "g@example.com"
    assert customers.customer_label(guest) == "Guest" and customers.customer_label(stored) == "jsmith"


def test_the_customer_page_lists_their_orders_paged(admin, people):
    shoe = make_shoe(stock={"42": 50})
    orders = [place(people[1], shoe.shoe_id) for _ in range(22)]
    place(people[2], shoe.shoe_id)  # someone else's
    page = admin.get(f"/admin/customers/{people[1].user_id}").body.decode()
    assert "Jonas Berg" in page and "jonas@shoes.example" in page
    shown = re.findall(r"/admin/orders/([A-Z2-7]{16})", page)
    assert len(shown) == 20 and set(shown) <= {o.order_id for o in orders}
    next_url = re.search(r'href="([^"]*cursor=[^"]+)" rel="next"', page).group(1).replace("&amp;", "&")
    rest = re.findall(r"/admin/orders/([A-Z2-7]{16})", admin.get(next_url).body.decode())
    assert sorted(shown + rest) == sorted(o.order_id for o in orders)


def test_the_customer_list_page_searches_and_links_to_customers(admin, people):
    page = admin.get("/admin/customers?q=JON&by=any").body.decode()
    assert f"/admin/customers/{people[1].user_id}" in page and "jsmith" not in page
    assert "starts with “zzz”" in admin.get("/admin/customers?q=zzz").body.decode()
    assert admin.get("/admin/customers/nobody").status_code == 404


def test_shoppers_cannot_see_customers(shopper):
    assert shopper.get("/admin/customers").status_code == 403


def test_the_backfill_gives_old_accounts_and_orders_their_keys(people):
    shoe = make_shoe(stock={"42": 5})
    order = place(people[2], shoe.shoe_id)
    # As before this change: no keys on the account, no customer on the order.
    User(pk=people[2].pk).update(actions=[User.email_lc.remove(), User.email_head.remove()])
    Order.get(order.order_id).update(actions=[Order.customer_email.remove(), Order.email_key.remove()])
    assert customers.search("bob@", "email").items == []
    assert backfill() == (1, 1)
    assert usernames(customers.search("bob@", "email")) == ["bob"]
    assert Order.get(order.order_id).email_key == "bob@example.com"
    assert backfill() == (0, 0)
