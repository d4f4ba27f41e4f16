"""The OpenAPI 3 document for the JSON API under /api/v1, served at /api/v1/openapi.json.

Every /api/v1 route is described here, one `operation(...)` per path and method; a test checks the
document and the app's route table name the same operations. Areas that add API routes add their
operations with `describe(path, method, spec)` (at import of their blueprint, or here).
"""

from copy import deepcopy
from typing import Any

API_PREFIX = "/api/v1"
VERSION = "1.0.0"

ERROR_SCHEMA = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {
                "code": {"type": "string"},
                "message": {"type": "string"},
                "fields": {"type": "object", "additionalProperties": {"type": "string"}},
            },
        }
    },
}

SCHEMAS: dict[str, dict] = {"Error": ERROR_SCHEMA}

_OPERATIONS: dict[str, dict[str, dict]] = {}


def error_response(description: str) -> dict:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }


def json_response(description: str, schema: dict) -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def describe(path: str, method: str, spec: dict) -> None:
    """Document one operation. `spec` is an OpenAPI operation object (responses at least)."""
    if not path.startswith(API_PREFIX):
        raise ValueError(f"{path} is not under {API_PREFIX}")
    _OPERATIONS.setdefault(path, {})[method.lower()] = spec


def add_schema(name: str, schema: dict) -> None:
    SCHEMAS[name] = schema


def documented_operations() -> set[tuple[str, str]]:
    return {(path, method.upper()) for path, methods in _OPERATIONS.items() for method in methods}


def document(server_url: str | None = None) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "openapi": "3.0.3",
        "info": {
            "title": "Stride Shoes API",
            "version": VERSION,
            "description": (
                "JSON API of the Stride Shoes store. Errors are {error: {code, message, fields?}}. "
                "Calls that change data need the session cookie and an X-CSRF-Token header."
            ),
        },
        "paths": deepcopy(_OPERATIONS),
        "components": {
            "schemas": deepcopy(SCHEMAS),
            "securitySchemes": {
                "session": {"type": "apiKey", "in": "cookie", "name": "sid"},
                "csrf": {"type": "apiKey", "in": "header", "name": "X-CSRF-Token"},
            },
        },
    }
    if server_url:
        doc["servers"] = [{"url": server_url}]
    return doc


describe(
    f"{API_PREFIX}/health",
    "GET",
    {
        "operationId": "health",
        "summary": "Liveness check",
        "responses": {
            "200": json_response(
                "The API answers",
                {
                    "type": "object",
                    "required": ["status"],
                    "properties": {"status": {"type": "string", "enum": ["ok"]}},
                    "additionalProperties": False,
                },
            )
        },
    },
)

describe(
    f"{API_PREFIX}/openapi.json",
    "GET",
    {
        "operationId": "openapi",
        "summary": "This OpenAPI document",
        "responses": {
            "200": json_response(
                "The OpenAPI 3 document",
                {"type": "object", "required": ["openapi", "info", "paths"]},
            )
        },
    },
)
