"""The JSON API under /api/v1: same services as the pages, JSON in and out."""

from chalice import Blueprint, Response

from chalicelib.web.guards import public
from chalicelib.web.rendering import json_response

bp = Blueprint(__name__)


@bp.route("/api/v1/health", methods=["GET"])
@public
def health() -> Response:
    return json_response({"status": "ok"})
