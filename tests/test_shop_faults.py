"""DynamoDB and S3 failing under the shop's own flows: cart, add to cart, place order, order
history, admin order transitions and upload confirmation.

Retries happen where they are safe (botocore's policy for throttling and 5xx; the checkout and
cancel transactions on conflicts); otherwise the person gets the 503 "busy" page or JSON error and
nothing is half-done: no half-placed order, no negative stock, no lost cart line, no published
image that failed confirmation, and the same action works once AWS answers again.
"""

import json
import re

import pytest

from chalicelib.models import Order, Shoe, Stock
from chalicelib.services import checkout, images
from tests import admin_fixtures
from tests.cart_fixtures import stored_lines
from tests.factories import make_order, make_shoe, shoe_via_admin
from tests.fault_injection import (
    CONFLICT,
    S3_SERVER_ERROR,
    S3_SLOW_DOWN,
    S3_UNAVAILABLE,
    faults,  # noqa: F401 (fixture)
    no_backoff,  # noqa: F401 (fixture)
    retry_sleeps,  # noqa: F401 (fixture)
    s3_faults,  # noqa: F401 (fixture)
    transaction_conflict,
)
from tests.test_cart_routes import add, checkout_to_review
from tests.test_dynamodb_faults import ALL_FAULTS, MAX_ATTEMPTS, RETRYABLE, assert_busy_page, fault_id

FORM = {"content-type": "application/x-www-form-urlencoded"}


def cart_lines() -> dict[str, int]:
    return {line.line_id: int(line.quantity) for line in stored_lines()}


def assert_busy_json(response) -> None:
    assert response.status_code == 503, response.body[:300]
    assert json.loads(response.body)["error"]["code"] == "ServiceUnavailable"


# -- cart page and cart changes ------------------------------------------------------------------


@pytest.mark.parametrize("operation", ["Query", "BatchGetItem"])
@pytest.mark.parametrize("fault", RETRYABLE, ids=fault_id)
def test_cart_page_when_reads_keep_failing(shopper, faults, fault, operation):  # noqa: F811
    shoe = make_shoe(name="Trail Runner", stock={"42": 5})
    add(shopper, shoe.shoe_id, "42", "2")
    faults.fail(operation, fault)
    before = faults.count(operation)
    response = shopper.get("/cart")
    assert_busy_page(response)
    assert faults.count(operation) - before == MAX_ATTEMPTS  # botocore retried before giving up
    faults.clear()
    page = shopper.get("/cart").body.decode()
    assert "Trail Runner" in page and cart_lines() == {f"{shoe.shoe_id}#42": 2}


def test_cart_page_rides_out_one_throttle(shopper, faults, retry_sleeps):  # noqa: F811
    shoe = make_shoe(name="Trail Runner", stock={"42": 5})
    add(shopper, shoe.shoe_id, "42")
    faults.fail("Query", RETRYABLE[1], times=1)
    response = shopper.get("/cart")
    assert response.status_code == 200 and "Trail Runner" in response.body.decode()
    assert len(retry_sleeps) == 1


@pytest.mark.parametrize("fault", RETRYABLE, ids=fault_id)
def test_add_to_cart_when_the_write_keeps_failing(shopper, faults, fault):  # noqa: F811
    shoe = make_shoe(stock={"42": 5})
    token = shopper.csrf_token("/cart")
    faults.fail("PutItem", fault)
    form = {"shoe_id": shoe.shoe_id, "size": "42", "quantity": "1"}
    assert_busy_page(shopper.post_form("/cart/items", form, csrf=token))
    faults.clear()
    assert cart_lines() == {}
    assert shopper.post_form("/cart/items", form, csrf=token).status_code == 303  # the same click again
    assert cart_lines() == {f"{shoe.shoe_id}#42": 1}


@pytest.mark.parametrize("fault", RETRYABLE, ids=fault_id)
def test_add_to_cart_retried_by_the_client_adds_once(shopper, faults, fault):  # noqa: F811
    shoe = make_shoe(stock={"42": 5})
    token = shopper.csrf_token("/cart")
    faults.fail("TransactWriteItems", fault, times=1)  # a new line is put with its line slot
    response = shopper.post_form("/cart/items", {"shoe_id": shoe.shoe_id, "size": "42", "quantity": "2"}, csrf=token)
    assert response.status_code == 303
    assert cart_lines() == {f"{shoe.shoe_id}#42": 2}


@pytest.mark.parametrize("operation,path", [("UpdateItem", "/cart/update"), ("TransactWriteItems", "/cart/remove")])
def test_changing_a_line_when_the_write_fails_keeps_the_line(shopper, faults, operation, path):  # noqa: F811
    shoe = make_shoe(stock={"42": 5})
    add(shopper, shoe.shoe_id, "42", "3")
    token = shopper.csrf_token("/cart")
    faults.fail(operation, RETRYABLE[0])
    assert_busy_page(shopper.post_form(path, {"line_id": f"{shoe.shoe_id}#42", "quantity": "1"}, csrf=token))
    faults.clear()
    assert cart_lines() == {f"{shoe.shoe_id}#42": 3}


def test_api_cart_add_when_the_write_keeps_failing(shopper, faults):  # noqa: F811
    shoe = make_shoe(stock={"42": 5})
    token = shopper.csrf_token("/cart")
    headers = {"content-type": "application/json", "x-csrf-token": token}
    body = json.dumps({"shoe_id": shoe.shoe_id, "size": "42", "quantity": 1})
    faults.fail("TransactWriteItems", RETRYABLE[2])
    assert_busy_json(shopper.request("POST", "/api/v1/cart", body=body, headers=headers))
    faults.clear()
    assert cart_lines() == {}
    assert shopper.request("POST", "/api/v1/cart", body=body, headers=headers).status_code == 201


# -- place order ---------------------------------------------------------------------------------


def _two_line_cart(shopper):
    first, second = make_shoe(stock={"42": 5}), make_shoe(stock={"42": 5})
    add(shopper, first.shoe_id, "42", "2")
    add(shopper, second.shoe_id, "42", "1")
    key = checkout_to_review(shopper)
    return (first, second), key


def _place(shopper, key: str):
    return shopper.post_form("/checkout/place", {"idempotency_key": key}, csrf_page="/cart")


def _assert_nothing_ordered(shoes, lines_before: dict[str, int]) -> None:
    assert list(Order.scan()) == []
    assert [int(Stock.get(shoe.shoe_id, "42").quantity) for shoe in shoes] == [5, 5]
    assert cart_lines() == lines_before


def _assert_ordered_once(shoes) -> None:
    assert len(list(Order.scan())) == 1
    assert [int(Stock.get(shoe.shoe_id, "42").quantity) for shoe in shoes] == [3, 4]
    assert [int(Stock.get(shoe.shoe_id, "42").sold) for shoe in shoes] == [2, 1]
    assert cart_lines() == {}


TRANSACTION_FAULTS = [*ALL_FAULTS, transaction_conflict(actions=6, conflicting=4)]


@pytest.mark.parametrize("fault", TRANSACTION_FAULTS, ids=lambda f: f.code + ("-reason" if f.extra else ""))
def test_place_order_when_the_transaction_keeps_failing(shopper, faults, no_backoff, fault):  # noqa: F811
    shoes, key = _two_line_cart(shopper)
    lines_before = cart_lines()
    shopper.csrf_token("/cart")
    faults.fail("TransactWriteItems", fault, after=1)  # the first is the order limits' slots
    assert_busy_page(_place(shopper, key))
    faults.clear()
    _assert_nothing_ordered(shoes, lines_before)
    if fault is not CONFLICT:  # throttling, 5xx and cancelled-by-conflict are tried again, with back-off
        assert len(no_backoff) == checkout.TRANSACTION_ATTEMPTS - 1
    # The shopper presses "Place order" again on the same page: one order.
    response = _place(shopper, key)
    assert response.status_code == 303 and "/orders/" in response.headers["Location"]
    _assert_ordered_once(shoes)


def test_place_order_rides_out_a_conflict(shopper, faults, no_backoff):  # noqa: F811
    shoes, key = _two_line_cart(shopper)
    shopper.csrf_token("/cart")
    faults.calls.clear()  # the cart's own transactions (adds) are not the order's
    # The order's transaction (after the limits' one) meets a conflict once.
    faults.fail("TransactWriteItems", transaction_conflict(actions=6, conflicting=0), times=1, after=1)
    response = _place(shopper, key)
    assert response.status_code == 303 and "/orders/" in response.headers["Location"]
    assert faults.count("TransactWriteItems") == 1 + 2 and len(no_backoff) == 1
    _assert_ordered_once(shoes)


def test_place_order_when_the_answer_to_a_committed_transaction_is_lost(shopper, faults):  # noqa: F811
    """DynamoDB applied the transaction but the client never heard (a timeout, a 5xx on the way
    back) and botocore sends it again: the conditions refuse the repeat and the shopper is shown
    the one order, with stock taken once."""
    shoes, key = _two_line_cart(shopper)
    shopper.csrf_token("/cart")
    faults.calls.clear()  # the cart's own transactions (adds) are not the order's
    resent = []

    def resend_once(attempts, **_):
        if not resent and faults.count("TransactWriteItems") == 2:  # the order's (the limits' was first)
            resent.append(attempts)
            return 0  # retry now, as botocore does after a lost answer
        return None

    faults._events.register_first("needs-retry.dynamodb.TransactWriteItems", resend_once)
    try:
        response = _place(shopper, key)
    finally:
        faults._events.unregister("needs-retry.dynamodb.TransactWriteItems", resend_once)
    assert resent and faults.count("TransactWriteItems") == 1 + 2
    assert response.status_code == 303 and "/orders/" in response.headers["Location"]
    _assert_ordered_once(shoes)


@pytest.mark.parametrize("fault", RETRYABLE, ids=fault_id)
def test_api_place_order_when_the_transaction_keeps_failing(shopper, faults, no_backoff, fault):  # noqa: F811
    shoes, _ = _two_line_cart(shopper)
    lines_before = cart_lines()
    headers = {
        "content-type": "application/json",
        "x-csrf-token": shopper.csrf_token("/cart"),
        "idempotency-key": "api-fault-key-1",
    }
    faults.fail("TransactWriteItems", fault)
    assert_busy_json(shopper.request("POST", "/api/v1/orders", body="{}", headers=headers))
    faults.clear()
    _assert_nothing_ordered(shoes, lines_before)
    assert shopper.request("POST", "/api/v1/orders", body="{}", headers=headers).status_code == 201
    assert shopper.request("POST", "/api/v1/orders", body="{}", headers=headers).status_code == 200  # same order
    _assert_ordered_once(shoes)


# -- order history -------------------------------------------------------------------------------


@pytest.mark.parametrize("fault", RETRYABLE, ids=fault_id)
def test_order_history_when_the_index_query_fails(shopper, faults, fault):  # noqa: F811
    _, key = _two_line_cart(shopper)
    order_id = re.search(r"/orders/([A-Z2-7]{16})", _place(shopper, key).headers["Location"]).group(1)
    faults.fail("Query", fault)
    response = shopper.get("/orders")
    assert_busy_page(response)
    assert order_id not in response.body.decode()
    assert_busy_json(shopper.get("/api/v1/orders", headers={"accept": "application/json"}))
    faults.clear()
    assert order_id in shopper.get("/orders").body.decode()


def test_order_page_when_reads_fail(shopper, faults):  # noqa: F811
    _, key = _two_line_cart(shopper)
    order_path = _place(shopper, key).headers["Location"].split("?")[0]
    faults.fail("GetItem", RETRYABLE[0], after=2)  # the session and the user load; the order fails
    assert_busy_page(shopper.get(order_path))
    faults.clear()
    assert shopper.get(order_path).status_code == 200


# -- admin order transitions ---------------------------------------------------------------------


def _admin_order():
    shoe = shoe_via_admin(stock={"42": 3})
    order = make_order([(shoe.shoe_id, "42", 2)])
    return shoe, order


def _transition(admin, order_id: str, to: str):
    token = admin.csrf_token(f"/admin/orders/{order_id}")
    version = str(Order.get(order_id).version)
    return token, {"to": to, "version": version, "note": ""}


def _cancelling(admin, order_id: str) -> tuple[str, str, dict[str, str]]:
    """The confirmation page's form: where it posts, its token, a reason and the version shown."""
    token = admin.csrf_token(f"/admin/orders/{order_id}/cancel")
    version = str(Order.get(order_id).version)
    return f"/admin/orders/{order_id}/cancel", token, {"reason": "out_of_stock", "version": version}


@pytest.mark.parametrize("fault", RETRYABLE, ids=fault_id)
def test_shipping_when_the_update_keeps_failing_says_busy_not_refused(admin, faults, no_backoff, fault):  # noqa: F811
    """Shipping is one transaction (the status change and the shopper's email)."""
    _, order = _admin_order()
    token, form = _transition(admin, order.order_id, "shipped")
    faults.fail("TransactWriteItems", fault)
    response = admin.post_form(f"/admin/orders/{order.order_id}/status", form, csrf=token)
    assert_busy_page(response)
    assert "cannot be" not in response.body.decode()  # not "this order is placed, so it cannot be shipped"
    faults.clear()
    assert Order.get(order.order_id).status == "placed"
    assert admin.post_form(f"/admin/orders/{order.order_id}/status", form, csrf=token).status_code == 303
    assert Order.get(order.order_id).status == "shipped"


@pytest.mark.parametrize("fault", TRANSACTION_FAULTS, ids=lambda f: f.code + ("-reason" if f.extra else ""))
def test_cancelling_when_the_transaction_keeps_failing(admin, faults, no_backoff, fault):  # noqa: F811
    shoe, order = _admin_order()
    path, token, form = _cancelling(admin, order.order_id)
    if fault.extra:
        fault = transaction_conflict(actions=2, conflicting=1)
    faults.fail("TransactWriteItems", fault)
    assert_busy_page(admin.post_form(path, form, csrf=token))
    faults.clear()
    assert Order.get(order.order_id).status == "placed"
    assert int(Stock.get(shoe.shoe_id, "42").quantity) == 3  # not restocked
    assert admin.post_form(path, form, csrf=token).status_code == 303
    assert Order.get(order.order_id).status == "cancelled"
    assert int(Stock.get(shoe.shoe_id, "42").quantity) == 5  # restocked once


def test_cancelling_rides_out_a_conflict_with_a_checkout(admin, faults, no_backoff):  # noqa: F811
    shoe, order = _admin_order()
    path, token, form = _cancelling(admin, order.order_id)
    faults.fail("TransactWriteItems", transaction_conflict(actions=2, conflicting=1), times=1)
    assert admin.post_form(path, form, csrf=token).status_code == 303
    assert len(no_backoff) == 1
    assert Order.get(order.order_id).status == "cancelled"
    assert int(Stock.get(shoe.shoe_id, "42").quantity) == 5


def test_api_transition_when_the_update_keeps_failing(admin, faults, no_backoff):  # noqa: F811
    _, order = _admin_order()
    headers = {"content-type": "application/json", "x-csrf-token": admin.csrf_token("/admin/orders")}
    body = json.dumps({"to": "shipped"})
    faults.fail("TransactWriteItems", RETRYABLE[1])  # the status change and its email, one transaction
    response = admin.request("POST", f"/api/v1/admin/orders/{order.order_id}/transitions", body=body, headers=headers)
    assert_busy_json(response)
    faults.clear()
    assert Order.get(order.order_id).status == "placed"


# -- upload confirmation with S3 unavailable -----------------------------------------------------


def _pending_upload(shoe_id: str) -> str:
    key = f"incoming/{shoe_id}/{'ab' * 16}"
    admin_fixtures.put_incoming(key, admin_fixtures.image_bytes())
    return key


def _confirm(admin, shoe_id: str, key: str, token: str):
    return admin.post_form(f"/admin/shoes/{shoe_id}/images/confirm", {"key": key}, csrf=token)


def _assert_not_published_and_retryable(admin, shoe_id: str, key: str, token: str) -> None:
    assert Shoe.get(shoe_id).images == []
    assert admin_fixtures.object_keys(f"images/{shoe_id}/") == []
    assert admin_fixtures.object_keys(f"incoming/{shoe_id}/") == [key]  # kept: the admin can confirm it again
    response = _confirm(admin, shoe_id, key, token)
    assert response.status_code == 303
    assert len(Shoe.get(shoe_id).images) == 1
    assert len(admin_fixtures.object_keys(f"images/{shoe_id}/")) == len(images.WIDTHS)  # every width, once
    assert admin_fixtures.object_keys(f"incoming/{shoe_id}/") == []


@pytest.mark.parametrize("operation", ["GetObject", "PutObject"])
@pytest.mark.parametrize("fault", [S3_UNAVAILABLE, S3_SLOW_DOWN, S3_SERVER_ERROR], ids=fault_id)
def test_confirming_an_upload_while_s3_is_unavailable(admin, s3_faults, fault, operation):  # noqa: F811
    shoe = shoe_via_admin(stock={"42": 1})
    key = _pending_upload(shoe.shoe_id)
    token = admin.csrf_token(f"/admin/shoes/{shoe.shoe_id}/edit")
    # PutObject: the first width is stored, the next fails, so the half-published set is removed.
    s3_faults.fail(operation, fault, after=1 if operation == "PutObject" else 0)
    response = _confirm(admin, shoe.shoe_id, key, token)
    assert_busy_page(response)
    assert "did not receive" not in response.body.decode()  # S3 down is not "your upload is missing"
    s3_faults.clear()
    _assert_not_published_and_retryable(admin, shoe.shoe_id, key, token)


def test_confirming_an_upload_when_attaching_it_fails(admin, faults):  # noqa: F811
    shoe = shoe_via_admin(stock={"42": 1})
    key = _pending_upload(shoe.shoe_id)
    token = admin.csrf_token(f"/admin/shoes/{shoe.shoe_id}/edit")
    faults.fail("UpdateItem", RETRYABLE[0])
    assert_busy_page(_confirm(admin, shoe.shoe_id, key, token))
    faults.clear()
    _assert_not_published_and_retryable(admin, shoe.shoe_id, key, token)


def test_api_confirm_while_s3_is_unavailable(admin, s3_faults):  # noqa: F811
    shoe = shoe_via_admin(stock={"42": 1})
    key = _pending_upload(shoe.shoe_id)
    headers = {"content-type": "application/json", "x-csrf-token": admin.csrf_token("/admin/shoes")}
    s3_faults.fail("GetObject", S3_UNAVAILABLE)
    path = f"/api/v1/admin/shoes/{shoe.shoe_id}/images"
    assert_busy_json(admin.request("POST", path, body=json.dumps({"key": key}), headers=headers))
    s3_faults.clear()
    assert admin_fixtures.object_keys(f"incoming/{shoe.shoe_id}/") == [key]
    assert admin.request("POST", path, body=json.dumps({"key": key}), headers=headers).status_code in (200, 201)
    assert len(Shoe.get(shoe.shoe_id).images) == 1
