"""Returns through the pages: the shopper's form (account and guest link), its messages, CSRF,
others' orders, the order page's returns; the back office's list and steps, audited, for admins only."""

import re
import uuid

from chalicelib.models import AuditEntry, Order, Stock
from chalicelib.services import cart, checkout, fulfilment, order_links, payments, returns
from tests.factories import ADDRESS, make_shoe
from tests.queued_mail import mailbox  # noqa: F401 (fixture)
from tests.test_cart_routes import text
from tests.test_guest_checkout_service import guest
from tests.test_orders_routes import user_named

ADMIN = "boss"


def delivered(user, shoe, size: str = "42") -> Order:
    cart.add_item(cart.user_owner(user.user_id), shoe.shoe_id, size, "1")
    placed = checkout.place_order(user, f"key-{uuid.uuid4().hex}", payment_method=payments.PAY_ON_DELIVERY).order
    fulfilment.transition(placed.order_id, "shipped", ADMIN)
    return fulfilment.transition(placed.order_id, "delivered", ADMIN)


def alices_delivered_order(shoe) -> Order:
    alice = user_named("alice")
    checkout.save_address(alice, checkout.clean_address(ADDRESS))
    return delivered(alice, shoe)


def shoe_with_sizes():
    return make_shoe(stock={"42": 5, "43": 2, "44": 0}, name="Glide")


def exchange_form(size: str = "43") -> dict:
    return {"resolution": "exchange", "line": "0", "reason-0": "too_small", "size-0": size}


def test_a_shopper_exchanges_a_pair_from_the_order_page(shopper, mailbox):  # noqa: F811
    shoe = shoe_with_sizes()
    order = alices_delivered_order(shoe)
    page = text(shopper.get(f"/orders/{order.order_id}"))
    assert f'href="/orders/{order.order_id}/return"' in page and "Return or exchange" in page
    form = text(shopper.get(f"/orders/{order.order_id}/return"))
    assert '<option value="43">EU 43</option>' in form and 'value="44"' not in form  # sold out: not offered
    assert '<label for="return-line-0">' in form and "Stride Shoes Returns" in form
    response = shopper.post_form(
        f"/orders/{order.order_id}/return", exchange_form(), csrf_page=f"/orders/{order.order_id}"
    )
    assert response.status_code == 303 and response.headers["Location"] == f"/orders/{order.order_id}"
    page = text(shopper.get(f"/orders/{order.order_id}"))
    assert "Return 1 is asked for" in page and 'Return 1: <span class="return-state">Return requested</span>' in page
    assert "We hold your new size until then." in page and "for size EU 43" in page
    assert "Return requested" in page  # the history shows the step by name
    assert int(Stock.get(shoe.shoe_id, "43").quantity) == 1
    assert len(mailbox.to("alice@example.com", returns.RETURN_REQUESTED)) == 1
    again = shopper.post_form(
        f"/orders/{order.order_id}/return", exchange_form(), csrf_page=f"/orders/{order.order_id}"
    )
    assert again.status_code == 303 and len(Order.get(order.order_id).returns) == 1  # one return
    assert "already" in text(shopper.get(f"/orders/{order.order_id}"))


def test_the_form_says_what_is_wrong_next_to_each_field(shopper):
    order = alices_delivered_order(shoe_with_sizes())
    path = f"/orders/{order.order_id}/return"
    response = shopper.post_form(path, {"resolution": "exchange", "line": "0"}, csrf_page=path)
    body = text(response)
    assert response.status_code == 400
    assert 'id="field-reason-0-error">Choose why you send this pair back.' in body
    assert 'id="field-size-0-error">Choose the size you want instead.' in body
    response = shopper.post_form(path, {"line": "7", "resolution": "refund", "line_x": "a" * 5000}, csrf_page=path)
    assert response.status_code == 400 and "Choose the pairs to send back." in text(response)
    assert Order.get(order.order_id).returns == []


def test_a_return_post_needs_the_csrf_token_and_the_owner(shopper, other_web):
    order = alices_delivered_order(shoe_with_sizes())
    path = f"/orders/{order.order_id}/return"
    assert shopper.post_form(path, exchange_form(), csrf="forged").status_code == 403
    other_web.register("bob")
    assert other_web.get(path).status_code == 404
    assert other_web.post_form(path, exchange_form(), csrf_page="/account").status_code == 404
    assert Order.get(order.order_id).returns == []


def test_an_undelivered_order_offers_no_return(shopper):
    alice = user_named("alice")
    checkout.save_address(alice, checkout.clean_address(ADDRESS))
    cart.add_item(cart.user_owner(alice.user_id), shoe_with_sizes().shoe_id, "42", "1")
    order = checkout.place_order(alice, "key-not-delivered", payment_method=payments.PAY_ON_DELIVERY).order
    assert "Return or exchange" not in text(shopper.get(f"/orders/{order.order_id}"))
    page = text(shopper.get(f"/orders/{order.order_id}/return"))
    assert (
        "A return can be asked for once the order is delivered." in page
        and '<form method="post" action="/orders' not in page
    )


def test_a_guest_returns_through_the_signed_link(web):
    shoe = shoe_with_sizes()
    owner = cart.guest_owner("guest-cart-returns-01")
    cart.add_item(owner, shoe.shoe_id, "42", "1")
    placed = checkout.place_order(guest("wanda@example.com", owner), "guest-return-key").order
    fulfilment.transition(placed.order_id, "shipped", ADMIN)
    order = fulfilment.transition(placed.order_id, "delivered", ADMIN)
    link = order_links.order_link(order)
    assert f'href="{link}/return"' in text(web.get(link))
    # Every page of the link keeps it out of Referers, its form's errors too; other pages do not need to.
    form_page = web.get(f"{link}/return")
    invalid = web.post_form(f"{link}/return", {"resolution": "refund"}, csrf_page=f"{link}/return")
    assert invalid.status_code == 400
    assert form_page.headers["Referrer-Policy"] == invalid.headers["Referrer-Policy"] == "no-referrer"
    assert web.get("/").headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    response = web.post_form(
        f"{link}/return", {"resolution": "refund", "line": "0", "reason-0": "faulty"}, csrf_page=f"{link}/return"
    )
    assert response.status_code == 303 and response.headers["Location"] == link
    assert "Return 1" in text(web.get(link)) and Order.get(order.order_id).returns[0].lines[0].reason == "faulty"
    forged = link[:-4] + "AAAA"
    assert web.get(f"{forged}/return").status_code == 404
    assert web.post_form(f"{forged}/return", {"resolution": "refund"}).status_code == 404


def test_the_back_office_receives_and_ships_an_exchange_audited(web, admin, other_web, mailbox):  # noqa: F811
    other_web.register("alice")
    order = alices_delivered_order(shoe_with_sizes())
    returns.request_return(
        order, returns.ReturnForm(resolution="exchange", lines=(0,), reasons={0: "too_small"}, sizes={0: "43"})
    )
    listing = text(admin.get("/admin/returns"))
    assert f"/admin/orders/{order.order_id}#return-1" in listing and "Return requested" in listing
    page = f"/admin/orders/{order.order_id}"
    assert "Mark parcel received" in text(admin.get(page))
    received = admin.post_form(f"{page}/returns/1/received", {}, csrf_page=page)
    assert received.status_code == 303
    again = admin.post_form(f"{page}/returns/1/received", {}, csrf_page=page)
    assert again.status_code == 409 and "parcel received by boss" in text(again).lower()
    bad = admin.post_form(f"{page}/returns/1/ship", {"carrier-1": "nope", "tracking_number-1": "JD1"}, csrf_page=page)
    assert bad.status_code == 400 and 'id="field-carrier-1-error"' in text(bad)
    shipped = admin.post_form(
        f"{page}/returns/1/ship", {"carrier-1": "dhl", "tracking_number-1": "JD0001234"}, csrf_page=page
    )
    assert shipped.status_code == 303
    assert "New size shipped" in text(admin.get(page))
    assert "New size shipped" in text(other_web.get(f"/orders/{order.order_id}"))
    assert "dhl.com" in text(other_web.get(f"/orders/{order.order_id}"))
    actions = [entry.action for entry in AuditEntry.scan()]
    assert "order.return_received" in actions and "order.exchange_shipped" in actions
    assert order.order_id not in text(admin.get("/admin/returns"))  # closed: out of the list


def test_a_refund_return_needs_the_confirmation_and_refunds_once(web, admin, other_web):
    other_web.register("alice")
    shoe = shoe_with_sizes()
    order = alices_delivered_order(shoe)
    returns.request_return(order, returns.ReturnForm(resolution="refund", lines=(0,), reasons={0: "too_big"}))
    returns.mark_received(order.order_id, 1, ADMIN)
    page = f"/admin/orders/{order.order_id}"
    version = str(Order.get(order.order_id).version)
    unconfirmed = admin.post_form(f"{page}/returns/1/refund", {"version": version}, csrf_page=page)
    assert unconfirmed.status_code == 400 and 'id="confirm-1-error"' in text(unconfirmed)
    done = admin.post_form(f"{page}/returns/1/refund", {"version": version, "confirm": "1"}, csrf_page=page)
    assert done.status_code == 303
    twice = admin.post_form(f"{page}/returns/1/refund", {"version": version, "confirm": "1"}, csrf_page=page)
    assert twice.status_code == 409
    final = Order.get(order.order_id)
    assert len(final.refunds) == 1 and final.returns[0].status == "refunded"
    assert int(Stock.get(shoe.shoe_id, "42").quantity) == 5
    assert "order.refund" in [entry.action for entry in AuditEntry.scan()]


def test_return_pages_are_for_admins_only(shopper, other_web):
    order = alices_delivered_order(shoe_with_sizes())
    assert shopper.get("/admin/returns").status_code == 403
    assert other_web.get("/admin/returns").status_code == 303  # anonymous: to the admin login
    response = shopper.post_form(f"/admin/orders/{order.order_id}/returns/1/received", {}, csrf_page="/account")
    assert response.status_code == 403


def test_the_admin_product_page_shows_return_reasons_by_size(admin, drain_streams):
    from chalicelib.services import accounts
    from tests.factories import make_user

    shoe = shoe_with_sizes()
    user = make_user("carol", address=ADDRESS)
    order = delivered(accounts.get_user(user.user_id), shoe)
    returns.request_return(order, returns.ReturnForm(resolution="refund", lines=(0,), reasons={0: "too_small"}))
    drain_streams()
    page = text(admin.get(f"/admin/shoes/{shoe.shoe_id}/edit"))
    assert "Return reasons" in page and "1 too small, 0 too big in all" in page
    row = re.search(r'<th scope="row">42</th>(.*?)</tr>', page).group(1)
    assert re.findall(r"<td>(\d+)</td>", row) == ["1", "0", "0", "0"]


def test_the_return_pages_are_valid_html(web, admin, other_web, tmp_path, drain_streams):
    from tests.test_html_validity import required_select_problems, validate

    other_web.register("alice")
    shoe = shoe_with_sizes()
    order = alices_delivered_order(shoe)
    second = delivered(user_named("alice"), shoe)
    form_page = text(other_web.get(f"/orders/{order.order_id}/return"))
    errors_page = text(
        other_web.post_form(
            f"/orders/{order.order_id}/return",
            {"resolution": "exchange", "line": "0"},
            csrf_page=f"/orders/{order.order_id}",
        )
    )
    returns.request_return(
        order, returns.ReturnForm(resolution="exchange", lines=(0,), reasons={0: "too_small"}, sizes={0: "43"})
    )
    returns.request_return(second, returns.ReturnForm(resolution="refund", lines=(0,), reasons={0: "too_big"}))
    returns.mark_received(order.order_id, 1, ADMIN)
    returns.mark_received(second.order_id, 1, ADMIN)
    drain_streams()
    pages = {
        "return form": form_page,
        "return form with errors": errors_page,
        "order with a return": text(other_web.get(f"/orders/{order.order_id}")),
        "admin returns": text(admin.get("/admin/returns")),
        "admin order, exchange to ship": text(admin.get(f"/admin/orders/{order.order_id}")),
        "admin order, refund to make": text(admin.get(f"/admin/orders/{second.order_id}")),
        "admin product with return reasons": text(admin.get(f"/admin/shoes/{shoe.shoe_id}/edit")),
    }
    assert validate(pages, tmp_path) == {}
    assert required_select_problems(pages) == []


def test_after_the_return_window_the_order_page_no_longer_points_to_returns(shopper, frozen_clock):
    order = alices_delivered_order(shoe_with_sizes())
    page = text(shopper.get(f"/orders/{order.order_id}"))
    assert "use Return or exchange below" in page and f'href="/orders/{order.order_id}/return"' in page
    frozen_clock.advance(days=30, minutes=1)
    assert shopper.login().status_code == 303  # the session has idled out meanwhile
    page = text(shopper.get(f"/orders/{order.order_id}"))
    assert "Enjoy your shoes." in page and "Return or exchange" not in page
