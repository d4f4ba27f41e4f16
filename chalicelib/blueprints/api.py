"""The JSON API under /api/v1: same services as the pages, JSON in and out."""

from chalice import Blueprint, Response

from chalicelib import openapi
from chalicelib.web.context import current
from chalicelib.web.guards import public
from chalicelib.web.rendering import json_response

bp = Blueprint(__name__)


@bp.route("/api/v1/health", methods=["GET"])
@public
def health() -> Response:
    return json_response({"status": "ok"})


@bp.route("/api/v1/openapi.json", methods=["GET"])
@public
def openapi_document() -> Response:
    prefix = current().url_prefix
    return json_response(openapi.document(server_url=prefix or None))
