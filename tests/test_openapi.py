"""The OpenAPI document: served, valid in shape, and in step with the app's /api/v1 routes."""

import json

from chalicelib import openapi
from tests.route_table import all_routes


def _api_routes() -> set[tuple[str, str]]:
    return {(route.path, route.method) for route in all_routes() if route.path.startswith(openapi.API_PREFIX)}


def test_every_api_route_is_documented():
    missing = sorted(_api_routes() - openapi.documented_operations())
    assert not missing, f"add these to chalicelib/openapi.py (describe(...)): {missing}"


def test_every_documented_operation_exists():
    extra = sorted(openapi.documented_operations() - _api_routes())
    assert not extra, f"documented in chalicelib/openapi.py but not routes of the app: {extra}"


def test_document_is_served_as_json(web):
    response = web.get("/api/v1/openapi.json")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    document = json.loads(response.body)
    assert document["openapi"].startswith("3.")
    assert "/api/v1/health" in document["paths"]
    assert "servers" not in document  # served from the root locally: paths are absolute


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
