"""The API's serialisers answer the shapes the OpenAPI document declares (in-process, no stack),
and each admin view is the shopper's view plus the back office's fields."""

import json
from typing import Any

import pytest
from openapi_schema_validator import OAS30Validator

from chalicelib import serializers
from chalicelib.services import catalogue, fulfilment, products
from infra import openapi
from tests.factories import shoe_via_admin

DOCUMENT = openapi.document()
ADDRESS = {
    "full_name": "Ada Tester",
    "line1": "1 Test St",
    "city": "Dublin",
    "postal_code": "D02 X285",
    "country": "IE",
}


def _errors(schema: dict, value: Any) -> list[str]:
    validator = OAS30Validator({"allOf": [schema], "components": DOCUMENT["components"]})
    return [f"{'/'.join(map(str, error.path))}: {error.message}" for error in validator.iter_errors(value)]


def schema_errors(name: str, value: Any) -> list[str]:
    return _errors({"$ref": f"#/components/schemas/{name}"}, value)


class Api:
    """Calls one documented operation and checks its answer against the document."""

    def __init__(self, web, csrf_page: str) -> None:
        self.web = web
        self.token = web.csrf_token(csrf_page)

    def call(self, method: str, path: str, expected: int, body: dict | None = None, headers: dict | None = None, **ids):
        all_headers = {"content-type": "application/json", "x-csrf-token": self.token, **(headers or {})}
        raw = json.dumps(body).encode() if body is not None else b""
        response = self.web.request(method, path.format(**ids), body=raw, headers=all_headers)
        answer = json.loads(response.body)
        assert response.status_code == expected, answer
        template = path.split("?")[0]
        documented = DOCUMENT["paths"][template][method.lower()]["responses"][str(expected)]
        errors = _errors(documented["content"]["application/json"]["schema"], answer)
        assert not errors, f"{method} {template} {expected}: {errors}"
        return answer


def test_every_answer_of_a_shopping_and_back_office_round_matches_the_document(shopper, other_web, admin_account):
    shoe = shoe_via_admin({"42": 3})
    shop = Api(shopper, "/")
    listing = shop.call("GET", "/api/v1/shoes", 200)
    assert [card["shoe_id"] for card in listing["items"]] == [shoe.shoe_id]
    shop.call("GET", "/api/v1/shoes/{shoe_id}", 200, shoe_id=shoe.shoe_id)
    line = {"shoe_id": shoe.shoe_id, "size": "42"}
    shop.call("POST", "/api/v1/cart", 201, {**line, "quantity": 2})
    shop.call("PATCH", "/api/v1/cart", 200, {**line, "quantity": 1})
    shop.call("GET", "/api/v1/cart", 200)
    order = shop.call(
        "POST", "/api/v1/orders", 201, {"address": ADDRESS}, headers={"Idempotency-Key": "serialiser-test-1"}
    )
    shop.call("GET", "/api/v1/orders", 200)
    shop.call("GET", "/api/v1/orders/{order_id}", 200, order_id=order["order_id"])

    assert other_web.admin_login().status_code == 303
    back_office = Api(other_web, "/admin")
    back_office.call("GET", "/api/v1/admin/shoes?status=all", 200)
    back_office.call("GET", "/api/v1/admin/shoes/{shoe_id}", 200, shoe_id=shoe.shoe_id)
    back_office.call("GET", "/api/v1/admin/orders", 200)
    shipped = back_office.call(
        "POST", "/api/v1/admin/orders/{order_id}/transitions", 200, {"to": "shipped", "note": "DHL 1"}, **order
    )
    assert shipped["order"]["history"][-1] == {
        "status": "shipped",
        "at": shipped["order"]["updated_at"],
        "by": "boss",
        "note": "DHL 1",
    }
    back_office.call("GET", "/api/v1/admin/orders/{order_id}", 200, order_id=order["order_id"])


def test_the_admin_order_is_the_shoppers_order_plus_version_who_customer_and_refunds(shopper):
    shoe = shoe_via_admin({"42": 3})
    shop = Api(shopper, "/")
    shop.call("POST", "/api/v1/cart", 201, {"shoe_id": shoe.shoe_id, "size": "42"})
    placed = shop.call("POST", "/api/v1/orders", 201, {"address": ADDRESS}, headers={"Idempotency-Key": "admin-view-1"})
    order = fulfilment.transition(placed["order_id"], "shipped", "boss", "DHL 2")

    shopper_view = serializers.order_json(order)
    admin_view = serializers.admin_order_json(order)
    admin_only = ("version", "history", "customer", "refunded_cents", "refunds")
    assert {key: value for key, value in admin_view.items() if key not in admin_only} == {
        key: value for key, value in shopper_view.items() if key != "history"
    }
    assert admin_view["version"] == order.version
    assert admin_view["customer"]["email"] == order.customer_email and admin_view["refunds"] == []
    assert [{k: v for k, v in change.items() if k != "by"} for change in admin_view["history"]] == shopper_view[
        "history"
    ]
    assert not schema_errors("Order", shopper_view) and not schema_errors("AdminOrder", admin_view)


@pytest.mark.parametrize("with_stock", [True, False])
def test_the_admin_shoe_extends_the_shops_shoe(with_stock):
    shoe = shoe_via_admin({"42": 3})
    stock = products.stock_rows(shoe.shoe_id) if with_stock else None
    admin_view = serializers.admin_shoe_json(shoe, stock)
    shop_view = serializers.shoe_json(catalogue.get_product(shoe.shoe_id))
    shared = set(DOCUMENT["components"]["schemas"]["ShoeDetail"]["properties"]) - {"images", "sizes"}
    assert {key: admin_view[key] for key in shared} == {key: shop_view[key] for key in shared}
    assert ("stock" in admin_view) is with_stock
    assert not schema_errors("AdminShoe", admin_view) and not schema_errors("ShoeDetail", shop_view)
