"""Back-office orders: the customer on the list and the page, search by id and by the customer's
email (accounts and guests), status and date filters, the CSV export (content, formula escaping,
the S3 link for a large one), the packing slip, and cancelling only through its confirmation page
with a reason that reaches the shopper."""

import csv
import io
import re
import urllib.request
import uuid
from datetime import date, timedelta

import pytest

from chalicelib import clock
from chalicelib.models import Order, Stock
from chalicelib.services import cart, checkout, emails, exports, fulfilment, order_search, outbox, payments
from chalicelib.services.errors import ValidationFailed
from tests.cart_fixtures import count_dynamodb_calls
from tests.factories import ADDRESS, make_shoe, make_user
from tests.mail_fixtures import deliver_pending


def place(user, shoe_id: str, quantity: int = 1) -> Order:
    cart.add_item(cart.user_owner(user.user_id), shoe_id, "42", str(quantity))
    return checkout.place_order(user, f"key-{uuid.uuid4().hex}", payment_method=payments.PAY_ON_DELIVERY).order


def place_as_guest(email: str, shoe_id: str) -> Order:
    owner = cart.guest_owner(uuid.uuid4().hex)
    cart.add_item(owner, shoe_id, "42", "1")
    buyer = checkout.guest_buyer(owner, email, checkout.clean_address({**ADDRESS, "full_name": "Gail Guest"}))
    return checkout.place_order(buyer, f"key-{uuid.uuid4().hex}", payment_method=payments.PAY_ON_DELIVERY).order


def order_ids(html: str) -> list[str]:
    return re.findall(r'href="/admin/orders/([A-Z2-7]{16})"', html)


@pytest.fixture
def shoe():
    return make_shoe(stock={"42": 40}, name="Trail Runner")


@pytest.fixture
def alice():
    return make_user("alice", "Alice@Example.com", address=ADDRESS)


def test_the_list_and_the_page_show_the_customer_and_a_guest_says_guest(admin, shoe, alice):
    mine = place(alice, shoe.shoe_id)
    guest = place_as_guest("gail@example.net", shoe.shoe_id)
    listing = admin.get("/admin/orders").body.decode()
    assert "Alice Example" in listing and "Alice@Example.com" in listing
    assert "Gail Guest" in listing and "gail@example.net" in listing and ">Guest<" in listing
    page = admin.get(f"/admin/orders/{mine.order_id}").body.decode()
    assert f'href="/admin/customers/{alice.user_id}"' in page and "Alice@Example.com" in page
    assert ">Guest<" in admin.get(f"/admin/orders/{guest.order_id}").body.decode()


def test_searching_an_order_id_opens_it_and_an_unknown_id_says_so(admin, shoe, alice):
    order = place(alice, shoe.shoe_id)
    found = admin.get(f"/admin/orders?q=+{order.order_id}+")
    assert found.status_code == 303 and found.headers["Location"] == f"/admin/orders/{order.order_id}"
    missing = admin.get("/admin/orders?q=NOSUCHORDER")
    assert missing.status_code == 404 and "No order has the number or id" in missing.body.decode()


def test_the_readable_order_number_opens_the_order_however_it_is_typed(admin, shoe, alice):
    order = place(alice, shoe.shoe_id)
    number = Order.get(order.order_id).order_number
    assert number and number.startswith("SS-")
    for typed in (number, number.lower(), number.replace("-", "").removeprefix("SS")):
        found = admin.get(f"/admin/orders?q={typed}")
        assert found.status_code == 303 and found.headers["Location"] == f"/admin/orders/{order.order_id}"
    assert number in admin.get("/admin/orders").body.decode()


def test_orders_by_the_customer_email_for_accounts_and_guests_case_insensitively(admin, shoe, alice):
    bob = make_user("bob", "bob@example.com", address=ADDRESS)
    alices = [place(alice, shoe.shoe_id) for _ in range(2)]
    place(bob, shoe.shoe_id)
    guest = place_as_guest("Gail@Example.NET", shoe.shoe_id)
    html = admin.get("/admin/orders?q=ALICE%40example.com").body.decode()
    assert sorted(order_ids(html)) == sorted(o.order_id for o in alices)
    assert order_ids(admin.get("/admin/orders?q=gail%40example.net").body.decode()) == [guest.order_id]
    fulfilment.transition(alices[0].order_id, "shipped", "boss")
    shipped = admin.get("/admin/orders?q=alice%40example.com&status=shipped").body.decode()
    assert order_ids(shipped) == [alices[0].order_id]
    with count_dynamodb_calls() as calls:
        order_search.orders_by_email("alice@example.com")
    assert calls.get("Scan", 0) == 0 and calls["Query"] == 1


def test_status_and_date_range_filter_the_list(admin, shoe, alice, frozen_clock):
    frozen_clock.advance(days=-10)
    old = place(alice, shoe.shoe_id)
    frozen_clock.advance(days=5)
    middle = place(alice, shoe.shoe_id)
    frozen_clock.advance(days=5)
    new = place(alice, shoe.shoe_id)
    today = clock.now().date()
    day = (today - timedelta(days=5)).isoformat()
    assert order_ids(admin.get(f"/admin/orders?status=placed&from={day}&to={day}").body.decode()) == [middle.order_id]
    since = admin.get(f"/admin/orders?status=placed&from={day}").body.decode()
    assert order_ids(since) == [new.order_id, middle.order_id]
    until = admin.get(f"/admin/orders?status=placed&to={day}").body.decode()
    assert order_ids(until) == [middle.order_id, old.order_id]
    assert order_ids(admin.get(f"/admin/orders?status=shipped&from={day}").body.decode()) == []
    bad = admin.get(f"/admin/orders?status=placed&from={today}&to={day}")
    assert bad.status_code == 400 and "The end date is before the start date." in bad.body.decode()
    assert admin.get("/admin/orders?from=31-12-2026").status_code == 400


def test_the_date_filter_pages_through_the_shards(admin, shoe, alice):
    orders = [place(alice, shoe.shoe_id) for _ in range(23)]
    today = clock.now().date().isoformat()
    html = admin.get(f"/admin/orders?status=placed&from={today}&to={today}").body.decode()
    first = order_ids(html)
    next_url = re.search(r'href="([^"]*cursor=[^"]+)" rel="next"', html).group(1).replace("&amp;", "&")
    assert sorted(first + order_ids(admin.get(next_url).body.decode())) == sorted(o.order_id for o in orders)


# -- CSV export ------------------------------------------------------------------------------------


def rows(body: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(body)))


def test_a_small_export_downloads_the_range_with_every_column(admin, shoe, alice, frozen_clock):
    frozen_clock.advance(days=-3)
    place(alice, shoe.shoe_id)  # outside the range
    frozen_clock.advance(days=3)
    placed = place(alice, shoe.shoe_id, 2)
    frozen_clock.advance(seconds=1)
    shipped = place(alice, shoe.shoe_id)
    fulfilment.transition(shipped.order_id, "shipped", "boss")
    today = clock.now().date().isoformat()
    response = admin.post_form("/admin/orders/export", {"from": today, "to": today}, csrf_page="/admin/orders/export")
    assert response.status_code == 200 and response.headers["Content-Type"].startswith("text/csv")
    assert f'filename="orders-{today}-to-{today}.csv"' in response.headers["Content-Disposition"]
    exported = rows(response.body.decode())
    assert [row["order_id"] for row in exported] == [placed.order_id, shipped.order_id]
    assert exported[0]["pairs"] == "2" and exported[0]["customer"] == "alice" and exported[0]["country"] == "IE"
    assert exported[0]["email"] == "Alice@Example.com" and exported[0]["total"] == f"{placed.total_cents / 100:.2f}"
    one = admin.post_form(
        "/admin/orders/export", {"from": today, "to": today, "status": "shipped"}, csrf_page="/admin/orders/export"
    )
    assert [row["order_id"] for row in rows(one.body.decode())] == [shipped.order_id]


def test_export_cells_that_look_like_formulas_are_quoted(shoe):
    user = make_user("evil", "evil@example.com", address={**ADDRESS, "full_name": "=HYPERLINK(1)"})
    order = place(user, shoe.shoe_id)
    row = exports.order_row(Order.get(order.order_id))
    assert row[exports.COLUMNS.index("ship_to_name")] == "'=HYPERLINK(1)"
    for text in ("=1+1", "+1", "-1", "@SUM(A1)", "\tx"):
        assert exports.safe_cell(text) == "'" + text
    assert exports.safe_cell("Alice") == "Alice" and exports.safe_cell(12) == "12"


def test_a_large_export_goes_to_s3_behind_a_presigned_link(admin, shoe, alice, monkeypatch):
    monkeypatch.setattr(exports, "INLINE_MAX_ROWS", 2)
    orders = [place(alice, shoe.shoe_id) for _ in range(3)]
    today = clock.now().date().isoformat()
    response = admin.post_form("/admin/orders/export", {"from": today, "to": today}, csrf_page="/admin/orders/export")
    page = response.body.decode()
    assert response.status_code == 200 and "3 orders are ready" in page
    link = re.search(r'<a class="button" href="([^"]+)">Download', page).group(1).replace("&amp;", "&")
    assert "/exports/" in link and "X-Amz-Signature=" in link and "X-Amz-Expires=900" in link
    from chalicelib.config import get_settings
    from tests.admin_fixtures import s3

    key = urllib.request.unquote(link.split("?")[0][link.index("exports/") :])
    stored = s3().get_object(Bucket=get_settings().upload_bucket, Key=key)["Body"].read().decode()
    assert sorted(row["order_id"] for row in rows(stored)) == sorted(o.order_id for o in orders)


def test_an_export_needs_both_days(admin):
    response = admin.post_form("/admin/orders/export", {"from": "2026-01-01"}, csrf_page="/admin/orders/export")
    assert response.status_code == 400 and "Choose the first and last day of the export." in response.body.decode()
    with pytest.raises(ValidationFailed):
        exports.export_orders(date(2026, 1, 1), date(2026, 1, 2), "no-such-status")


# -- packing slip -------------------------------------------------------------------------------


def test_the_packing_slip_has_the_number_ship_to_and_lines_without_prices(admin, shoe, alice):
    order = place(alice, shoe.shoe_id, 3)
    slip = admin.get(f"/admin/orders/{order.order_id}/slip")
    html = slip.body.decode()
    assert slip.status_code == 200 and "Packing slip" in html and order.order_id in html
    assert "1 Main Street" in html and "Dublin" in html
    assert re.search(r"<td>Stride Trail Runner</td><td>42</td><td>3</td>", html)
    assert "$" not in html.split("<main", 1)[-1].split("</main>", 1)[0]  # no prices on a slip
    assert f'href="/admin/orders/{order.order_id}/slip"' in admin.get(f"/admin/orders/{order.order_id}").body.decode()


def test_the_print_stylesheet_hides_the_navigation():
    from pathlib import Path

    css = Path("chalicelib/static/css/admin.css").read_text()
    assert "@media print" in css and ".no-print" in css


# -- cancel with a reason -----------------------------------------------------------------------


def test_cancel_goes_through_a_confirmation_page_and_needs_a_reason(admin, shoe, alice, ses):
    order = place(alice, shoe.shoe_id, 2)
    page = f"/admin/orders/{order.order_id}"
    confirm = admin.get(f"{page}/cancel")
    html = confirm.body.decode()
    assert confirm.status_code == 200 and "Yes, cancel the order" in html and 'name="reason"' in html
    assert Order.get(order.order_id).status == "placed"  # the GET changed nothing
    missing = admin.post_form(f"{page}/cancel", {"version": "1"}, csrf_page=page)
    assert missing.status_code == 400 and "Choose why the order is cancelled." in missing.body.decode()
    other = admin.post_form(f"{page}/cancel", {"reason": "other", "version": "1"}, csrf_page=page)
    assert other.status_code == 400 and "Say why the order is cancelled." in other.body.decode()
    long = admin.post_form(
        f"{page}/cancel", {"reason": "other", "reason_other": "x" * 201, "version": "1"}, csrf_page=page
    )
    assert long.status_code == 400 and "at most 200 characters" in long.body.decode()
    assert Order.get(order.order_id).status == "placed" and not ses.sent()
    no_csrf = admin.post_form(f"{page}/cancel", {"reason": "out_of_stock", "version": "1"}, csrf=False)
    assert no_csrf.status_code == 403 and Order.get(order.order_id).status == "placed"

    done = admin.post_form(
        f"{page}/cancel",
        {"reason": "other", "reason_other": "The colour was discontinued", "version": "1"},
        csrf_page=page,
    )
    assert done.status_code == 303
    cancelled = Order.get(order.order_id)
    assert cancelled.status == "cancelled" and cancelled.history[-1].by == "boss"
    assert cancelled.history[-1].note == "Reason: The colour was discontinued"
    assert int(Stock.get(shoe.shoe_id, "42").quantity) == 40
    deliver_pending()
    (mail,) = [m for m in ses.sent() if m.subject.startswith("Your order") and "cancel" in m.subject.lower()]
    assert mail.destinations == ["Alice@Example.com"]
    assert "Your order is cancelled: The colour was discontinued." in mail.text


def test_a_listed_reason_is_told_to_the_shopper_in_their_words(shoe, alice):
    order = place(alice, shoe.shoe_id)
    fulfilment.cancel(order.order_id, "boss", "out_of_stock")
    (message,) = [m for m in outbox.unsent(outbox.PENDING) if m.kind == emails.ORDER_CANCELLED]
    assert message.context["reason"] == "we no longer have a pair in stock"


def test_any_status_lists_every_status_newest_first(admin, shoe, alice, frozen_clock):
    placed = place(alice, shoe.shoe_id)
    frozen_clock.advance(seconds=5)
    shipped = place(alice, shoe.shoe_id)
    fulfilment.transition(shipped.order_id, "shipped", "boss")
    assert order_ids(admin.get("/admin/orders?status=all").body.decode()) == [shipped.order_id, placed.order_id]
    default = admin.get("/admin/orders").body.decode()
    assert order_ids(default) == [placed.order_id]  # the placed tab by default
    assert '<option value="all" selected>Any status</option>' in default  # so an email search spans all
