"""The admin JSON API: same rules as the pages, JSON errors, CSRF header on every mutation."""

import json

import pytest

from chalicelib.models import Order, Shoe, Stock
from chalicelib.services import cart, checkout, fulfilment, payments, refunds
from tests.admin_fixtures import image_bytes, put_incoming
from tests.factories import ADDRESS, make_order, make_user, shoe_via_admin
from tests.test_serializers import schema_errors


class Api:
    def __init__(self, web):
        self.web = web
        self.token = web.csrf_token("/admin")

    def call(self, method, path, body=None):
        headers = {"content-type": "application/json", "x-csrf-token": self.token}
        response = self.web.request(
            method, path, body=json.dumps(body or {}) if method != "GET" else b"", headers=headers
        )
        return response.status_code, json.loads(response.body or b"{}")


@pytest.fixture
def api(admin):
    return Api(admin)


NEW_SHOE = {
    "name": "Tempo Racer",
    "brand": "Aerofoot",
    "colour": "Red",
    "category": "running",
    "department": "men",
    "description": "Fast.",
    "price": "119.50",
    "stock": {"42": 3, "43": 1},
}


def test_create_read_update_with_version_and_conflict(api):
    status, body = api.call("POST", "/api/v1/admin/shoes", NEW_SHOE)
    assert status == 201, body
    shoe = body["shoe"]
    assert shoe["price_cents"] == 11950 and shoe["stock"]["42"] == 3 and shoe["version"] == 1
    path = f"/api/v1/admin/shoes/{shoe['shoe_id']}"
    status, body = api.call("PUT", path, {**NEW_SHOE, "name": "Tempo Racer 2", "version": 1})
    assert status == 200 and body["shoe"]["version"] == 2
    status, body = api.call("PUT", path, {**NEW_SHOE, "name": "Stale", "version": 1})
    assert status == 409 and body["error"]["code"] == "StaleEdit"
    assert body["error"]["current"]["name"] == "Tempo Racer 2"
    status, body = api.call("GET", path)
    assert status == 200 and body["shoe"]["name"] == "Tempo Racer 2"


def test_validation_errors_are_422_with_fields(api):
    status, body = api.call("POST", "/api/v1/admin/shoes", {**NEW_SHOE, "price": "free", "name": ""})
    assert status == 422
    assert set(body["error"]["fields"]) >= {"price", "name"}
    status, body = api.call("POST", "/api/v1/admin/shoes", {**NEW_SHOE, "name": ["not", "text"]})
    assert status == 422 and "name" in body["error"]["fields"]
    response = api.web.request(
        "POST",
        "/api/v1/admin/shoes",
        body=b"{not json",
        headers={"content-type": "application/json", "x-csrf-token": api.token},
    )
    assert response.status_code == 400 and json.loads(response.body)["error"]["code"]


def test_stock_set_and_adjust(api):
    shoe = shoe_via_admin({"42": 2})
    path = f"/api/v1/admin/shoes/{shoe.shoe_id}/stock"
    assert api.call("POST", path, {"size": "42", "adjust": 3}) == (
        200,
        {"shoe_id": shoe.shoe_id, "size": "42", "quantity": 5},
    )
    status, body = api.call("POST", path, {"size": "42", "adjust": -6})
    assert status == 409 and "Only 5 pairs" in body["error"]["message"]
    status, body = api.call("POST", path, {"size": "42", "set": 9, "expected": 4})
    assert status == 409
    assert api.call("POST", path, {"size": "42", "set": 9, "expected": 5})[1]["quantity"] == 9
    assert api.call("POST", path, {"size": "99", "adjust": 1})[0] == 422
    assert Stock.get(shoe.shoe_id, "42").quantity == 9


def test_image_grant_upload_confirm_reorder_and_delete(api):
    shoe = shoe_via_admin()
    base = f"/api/v1/admin/shoes/{shoe.shoe_id}/images"
    ids = []
    for colour in ((255, 0, 0), (0, 255, 0)):
        status, grant = api.call("POST", f"{base}/grants", {"content_type": "image/jpeg"})
        assert status == 201 and grant["fields"]["key"] == grant["key"] and grant["expires_in"] <= 300
        put_incoming(grant["key"], image_bytes("JPEG", colour=colour), "image/jpeg")
        status, body = api.call("POST", base, {"key": grant["key"]})
        assert status == 201, body
        ids.append(body["image"]["image_id"])
    status, body = api.call("PUT", f"{base}/order", {"image_ids": list(reversed(ids))})
    assert status == 200 and [i["image_id"] for i in body["shoe"]["images"]] == list(reversed(ids))
    status, body = api.call("POST", f"{base}/{ids[0]}/primary")
    assert [i["image_id"] for i in body["shoe"]["images"]] == ids
    status, body = api.call("DELETE", f"{base}/{ids[0]}")
    assert status == 200 and [i["image_id"] for i in body["shoe"]["images"]] == ids[1:]


def test_bad_upload_is_422_and_bad_type_grant_refused(api):
    shoe = shoe_via_admin()
    base = f"/api/v1/admin/shoes/{shoe.shoe_id}/images"
    status, body = api.call("POST", f"{base}/grants", {"content_type": "text/html"})
    assert status == 422
    status, grant = api.call("POST", f"{base}/grants", {"content_type": "image/png"})
    put_incoming(grant["key"], b"<html></html>")
    status, body = api.call("POST", base, {"key": grant["key"]})
    assert status == 422 and body["error"]["code"] == "UploadRejected"
    assert Shoe.get(shoe.shoe_id).images == []


def test_archive_restore_and_delete(api):
    shoe = shoe_via_admin()
    path = f"/api/v1/admin/shoes/{shoe.shoe_id}"
    assert api.call("POST", f"{path}/archive")[1]["shoe"]["status"] == "archived"
    _status, body = api.call("GET", "/api/v1/admin/shoes?status=archived")
    assert [s["shoe_id"] for s in body["shoes"]] == [shoe.shoe_id]
    assert api.call("POST", f"{path}/restore")[1]["shoe"]["status"] == "active"
    assert api.call("DELETE", path)[0] == 200
    assert api.call("GET", path)[0] == 404


def test_orders_list_detail_and_transitions(api):
    shoe = shoe_via_admin({"42": 4})
    order = make_order([(shoe.shoe_id, "42", 2)])
    status, body = api.call("GET", "/api/v1/admin/orders?status=placed")
    assert status == 200 and [o["order_id"] for o in body["orders"]] == [order.order_id]
    path = f"/api/v1/admin/orders/{order.order_id}"
    assert api.call("GET", path)[1]["order"]["lines"][0]["quantity"] == 2
    status, body = api.call("POST", f"{path}/transitions", {"to": "delivered"})
    assert status == 409 and "cannot be marked delivered" in body["error"]["message"]
    status, body = api.call("POST", f"{path}/transitions", {"to": "cancelled", "version": 1, "reason": "out_of_stock"})
    assert status == 200 and body["order"]["status"] == "cancelled"
    assert body["order"]["history"][-1]["note"] == "Reason: we no longer have a pair in stock"
    assert Stock.get(shoe.shoe_id, "42").quantity == 6
    status, body = api.call("POST", f"{path}/transitions", {"to": "shipped"})
    assert status == 409


@pytest.mark.parametrize(
    ("reason", "field"),
    [
        ({}, "reason"),
        ({"reason": "bored"}, "reason"),
        ({"reason": 5}, "reason"),
        ({"reason": "other"}, "reason_other"),
        ({"reason": "other", "reason_other": "   "}, "reason_other"),
        ({"reason": "other", "reason_other": "x" * (fulfilment.CANCEL_REASON_MAX + 1)}, "reason_other"),
    ],
)
def test_cancelling_needs_a_reason_as_on_the_cancel_page(api, reason, field):
    shoe = shoe_via_admin({"42": 4})
    order = make_order([(shoe.shoe_id, "42", 2)])
    path = f"/api/v1/admin/orders/{order.order_id}/transitions"
    status, body = api.call("POST", path, {"to": "cancelled", **reason})
    assert status == 422 and body["error"]["code"] == "InvalidReason" and field in body["error"]["fields"]
    assert Order.get(order.order_id).status == "placed" and Stock.get(shoe.shoe_id, "42").quantity == 4


def test_a_cancellation_in_the_admins_words_is_recorded_and_told(api, mailbox):
    user = make_user("carol", "carol@example.com", address=ADDRESS)
    shoe = shoe_via_admin({"42": 4})
    cart.add_item(cart.user_owner(user.user_id), shoe.shoe_id, "42", "1")
    order = checkout.place_order(user, "api-cancel-1", payment_method=payments.PAY_ON_DELIVERY).order
    words = "The courier does not reach your island"
    status, body = api.call(
        "POST",
        f"/api/v1/admin/orders/{order.order_id}/transitions",
        {"to": "cancelled", "reason": "other", "reason_other": words},
    )
    assert status == 200 and body["order"]["history"][-1] == {
        "status": "cancelled",
        "at": body["order"]["updated_at"],
        "by": "boss",
        "note": f"Reason: {words}",
    }
    assert words in mailbox.to("carol@example.com")[-1].text


def test_the_admin_order_names_the_customer_and_lists_the_refunds(api):
    user = make_user("dave", "dave@example.com", address=ADDRESS)
    shoe = shoe_via_admin({"42": 4})
    cart.add_item(cart.user_owner(user.user_id), shoe.shoe_id, "42", "2")
    order = checkout.place_order(user, "api-refunds-1", payment_method=payments.PAY_ON_DELIVERY).order
    path = f"/api/v1/admin/orders/{order.order_id}"
    _status, body = api.call("GET", path)
    assert body["order"]["customer"] == {
        "user_id": user.user_id,
        "username": "dave",
        "name": ADDRESS["full_name"],
        "email": "dave@example.com",
        "guest": False,
    }
    assert body["order"]["refunded_cents"] == 0 and body["order"]["refunds"] == []
    for target in ("shipped", "delivered"):
        fulfilment.transition(order.order_id, target, "boss")
    refunds.refund(order.order_id, "boss", refunds.RefundRequest(full=True, restock=True, note="Paid back in the shop"))
    status, body = api.call("GET", path)
    assert status == 200 and body["order"]["refunded_cents"] == order.total_cents
    [refund] = body["order"]["refunds"]
    assert {key: refund[key] for key in ("amount_cents", "by", "method", "refund_id", "restock", "note")} == {
        "amount_cents": order.total_cents,
        "by": "boss",
        "method": "manual",
        "refund_id": None,
        "restock": True,
        "note": "Paid back in the shop",
    }
    assert not schema_errors("AdminOrder", body["order"])


def test_a_guest_order_says_guest_with_the_guests_email(api):
    order = make_order([(shoe_via_admin({"42": 4}).shoe_id, "42", 1)])
    order.update(actions=[Order.user_id.remove(), Order.guest_email.set("gus@example.com")])
    _status, body = api.call("GET", f"/api/v1/admin/orders/{order.order_id}")
    assert body["order"]["customer"] == {
        "user_id": None,
        "username": None,
        "name": None,
        "email": "gus@example.com",
        "guest": True,
    }


def test_api_mutations_need_the_csrf_header(api):
    shoe = shoe_via_admin()
    response = api.web.request(
        "POST", f"/api/v1/admin/shoes/{shoe.shoe_id}/archive", body=b"{}", headers={"content-type": "application/json"}
    )
    assert response.status_code == 403 and json.loads(response.body)["error"]["code"] == "CSRFFailed"
    assert Shoe.get(shoe.shoe_id).status == "active"


def test_list_cursors_and_statuses_are_checked(api):
    """A cursor only pages the listing it was made for; unknown statuses and damaged cursors are
    a 400. They used to be ignored silently, and a placed-orders cursor sent with status=shipped
    went to DynamoDB as the start key of another partition (a wrong page, or DynamoDB's refusal)."""
    shoe = shoe_via_admin({"42": 50})
    for minutes in range(21):
        make_order([(shoe.shoe_id, "42", 1)], minutes_ago=minutes)
    status, body = api.call("GET", "/api/v1/admin/orders?status=placed")
    assert status == 200 and len(body["orders"]) == 20 and body["next_cursor"]
    cursor = body["next_cursor"]
    status, body = api.call("GET", f"/api/v1/admin/orders?status=placed&cursor={cursor}")
    assert status == 200 and len(body["orders"]) == 1
    status, body = api.call("GET", f"/api/v1/admin/orders?status=shipped&cursor={cursor}")
    assert status == 400 and body["error"]["code"] == "InvalidCursor"
    assert api.call("GET", "/api/v1/admin/orders?cursor=junk")[0] == 400
    status, body = api.call("GET", "/api/v1/admin/orders?status=lost")
    assert status == 400 and body["error"]["code"] == "InvalidQuery"
    status, body = api.call("GET", "/api/v1/admin/shoes?status=deleted")
    assert status == 400 and body["error"]["code"] == "InvalidQuery"
    assert api.call("GET", "/api/v1/admin/shoes?status=all&cursor=junk")[0] == 400
    assert api.call("GET", "/api/v1/admin/shoes?status=all")[0] == 200
