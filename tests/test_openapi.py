"""The OpenAPI document: served, valid in shape, committed as built, and in step with the app's
/api/v1 routes and the parsers behind them."""

import gzip
import json
import subprocess
import sys
from pathlib import Path

import pytest

from chalicelib.blueprints.api.meta import read_committed_text
from chalicelib.services import catalogue, shoes
from infra import openapi
from tests.factories import make_order, shoe_via_admin
from tests.route_table import all_routes

ROOT = Path(__file__).resolve().parent.parent


def _api_routes() -> set[tuple[str, str]]:
    return {(route.path, route.method) for route in all_routes() if route.path.startswith(openapi.API_PREFIX)}


def test_every_api_route_is_documented():
    missing = sorted(_api_routes() - openapi.documented_operations())
    assert not missing, f"add these to infra/openapi.py (describe(...)): {missing}"


def test_every_documented_operation_exists():
    extra = sorted(openapi.documented_operations() - _api_routes())
    assert not extra, f"documented in infra/openapi.py but not routes of the app: {extra}"


def test_document_is_served_as_json(web):
    response = web.get("/api/v1/openapi.json")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    document = json.loads(response.body)
    assert document["openapi"].startswith("3.")
    assert "/api/v1/health" in document["paths"]
    assert "servers" not in document  # served from the root locally: paths are absolute
    assert document == openapi.document()


def test_committed_document_is_what_the_code_builds():
    result = subprocess.run(
        [sys.executable, "-m", "infra.openapi", "--check"], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_check_fails_on_a_stale_document(tmp_path, monkeypatch, capsys):
    stale = tmp_path / "openapi.json.gz"
    committed = read_committed_text()
    stale.write_bytes(
        gzip.compress(committed.replace(f'"maxItems":{openapi.uploads.MAX_IMAGES}', '"maxItems":50').encode())
    )
    assert read_committed_text(stale) != committed
    monkeypatch.setattr(openapi, "OPENAPI_JSON", stale)
    assert openapi.main(["--check"]) == 1
    assert "out of date" in capsys.readouterr().out
    assert openapi.main([]) == 0 and openapi.main(["--check"]) == 0  # rewritten


def test_the_app_does_not_import_the_document_builder():
    code = "import sys, app; assert 'infra.openapi' not in sys.modules, 'app imports infra.openapi'"
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr


def test_every_operation_has_an_id_and_responses():
    document = openapi.document()
    ids = []
    for path, methods in document["paths"].items():
        for method, operation in methods.items():
            assert operation.get("responses"), f"{method.upper()} {path} documents no responses"
            ids.append(operation.get("operationId"))
    assert all(ids) and len(ids) == len(set(ids)), "operationIds must be present and unique"


def test_document_validates_as_openapi_3():
    from openapi_spec_validator import validate

    validate(openapi.document())


# -- the document and the code accept the same input ------------------------------------------------

# Prices as a shopper types them into the listing's price filter (and an admin into a shoe's price).
PRICE_EXAMPLES = [
    "80",
    "79.95",
    "79.9",
    "$80",
    "$ 80",
    " 80 ",
    "$ 1,299.00",
    "1,299",
    "999,999",
    "999999.99",
    "0",
    "0.01",
    "$$80",
    "80$",
    "-5",
    "+5",
    "1e9",
    "12.345",
    "12.",
    ".5",
    "1,2,9,9",
    "12,99",
    "1,299,000",
    "1299,",
    "1000000",
    "",
    "abc",
    "٨٠",  # Arabic-Indic digits
    "8 0",
]


def _parameter_schema(path: str, name: str) -> dict:
    parameters = openapi.document()["paths"][path]["get"]["parameters"]
    return next(parameter["schema"] for parameter in parameters if parameter["name"] == name)


def _accepts(schema: dict, value: object) -> bool:
    from openapi_schema_validator import OAS30Validator

    document = openapi.document()
    return OAS30Validator({**schema, "components": document["components"]}).is_valid(value)


@pytest.mark.parametrize("text", PRICE_EXAMPLES)
def test_price_filter_accepts_what_the_document_says(text):
    query, errors = catalogue.parse_listing(lambda name: text if name == "min_price" else "")
    accepted_by_code = "min_price" not in errors and query.min_price is not None
    assert accepted_by_code == _accepts(_parameter_schema("/api/v1/shoes", "min_price"), text), text


@pytest.mark.parametrize("text", PRICE_EXAMPLES)
def test_admin_price_format_is_the_documented_one(text):
    body = openapi.document()["paths"]["/api/v1/admin/shoes"]["post"]["requestBody"]
    price_schema = body["content"]["application/json"]["schema"]["properties"]["price"]
    assert (shoes.parse_price(text) is not None) == _accepts(price_schema, text), text


def _body_schema(path: str, method: str) -> dict:
    return openapi.document()["paths"][path][method]["requestBody"]["content"]["application/json"]["schema"]


NEW_SHOE = {"name": "Doc Runner", "brand": "Drift", "colour": "Red", "category": "running", "department": "men"}


@pytest.mark.parametrize(
    ("path", "method", "body"),
    [
        ("/api/v1/admin/shoes", "post", {**NEW_SHOE, "price": "$ 80"}),
        ("/api/v1/admin/shoes", "post", {**NEW_SHOE, "price": "1,299.50"}),
        ("/api/v1/admin/shoes", "post", {**NEW_SHOE, "price_cents": 8000}),
        ("/api/v1/admin/shoes", "post", {**NEW_SHOE, "price": "$$80"}),
        ("/api/v1/admin/shoes", "post", NEW_SHOE),  # no price at all
        ("/api/v1/admin/shoes", "post", {**NEW_SHOE, "price": "80", "department": "pets"}),
        ("/api/v1/admin/shoes/{shoe_id}/stock", "post", {"size": "42", "set": 4}),
        ("/api/v1/admin/shoes/{shoe_id}/stock", "post", {"size": "42", "adjust": -1}),
        ("/api/v1/admin/shoes/{shoe_id}/stock", "post", {"size": "42"}),  # neither set nor adjust
        ("/api/v1/admin/shoes/{shoe_id}/images/order", "put", {"image_ids": []}),
        ("/api/v1/admin/shoes/{shoe_id}/images/order", "put", {"image_ids": ["x"] * 13}),
        ("/api/v1/admin/orders/{order_id}/transitions", "post", {"to": "shipped"}),
        ("/api/v1/admin/orders/{order_id}/transitions", "post", {"to": "placed"}),
    ],
)
def test_a_body_is_accepted_by_the_code_iff_the_document_accepts_it(admin, path, method, body):
    shoe = shoe_via_admin({"42": 5})
    order = make_order([(shoe.shoe_id, "42", 1)])
    response = admin.request(
        method.upper(),
        path.format(shoe_id=shoe.shoe_id, order_id=order.order_id),
        body=json.dumps(body),
        headers={"content-type": "application/json", "x-csrf-token": admin.csrf_token("/admin")},
    )
    assert response.status_code in (200, 201, 422), response.body
    assert (response.status_code < 300) == _accepts(_body_schema(path, method), body), response.body
