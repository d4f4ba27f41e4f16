"""The admin JSON API: same rules as the pages, JSON errors, CSRF header on every mutation."""

import json

import pytest

from chalicelib.models import Shoe, Stock
from tests.admin_fixtures import image_bytes, put_incoming
from tests.factories import make_order, shoe_via_admin


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
    status, body = api.call("POST", f"{path}/transitions", {"to": "cancelled", "version": 1})
    assert status == 200 and body["order"]["status"] == "cancelled"
    assert Stock.get(shoe.shoe_id, "42").quantity == 6
    status, body = api.call("POST", f"{path}/transitions", {"to": "shipped"})
    assert status == 409


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
