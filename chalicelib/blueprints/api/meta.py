"""Health check and the OpenAPI document."""

from chalice import Response

from chalicelib import openapi
from chalicelib.blueprints.api import bp
from chalicelib.web.context import current
from chalicelib.web.guards import public
from chalicelib.web.rendering import json_response


@bp.route("/api/v1/health", methods=["GET"])
@public
def health() -> Response:
    return json_response({"status": "ok"})


@bp.route("/api/v1/openapi.json", methods=["GET"])
@public
def openapi_document() -> Response:
    prefix = current().url_prefix
    return json_response(openapi.document(server_url=prefix or None))
