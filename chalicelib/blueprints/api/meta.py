"""Health check and the OpenAPI document.

The document is generated at build time (`python -m infra.openapi`) into OPENAPI_JSON and
read on its first request, so its builder never loads in the Lambda.
"""

import gzip
import json
from functools import cache
from pathlib import Path
from typing import Any

from chalice import Response

from chalicelib.blueprints.api import bp
from chalicelib.web.context import current
from chalicelib.web.guards import public
from chalicelib.web.rendering import json_response

# Shipped gzip-compressed (about a fifth of its size in the package); decompressed once per warm Lambda.
OPENAPI_JSON = Path(__file__).resolve().parents[2] / "data" / "openapi.json.gz"


def read_committed_text(path: Path = OPENAPI_JSON) -> str:
    return gzip.decompress(path.read_bytes()).decode("utf-8")


@cache
def committed_document() -> dict[str, Any]:
    document: dict[str, Any] = json.loads(read_committed_text())
    return document


@bp.route("/health", methods=["GET"])
@public
def health() -> Response:
    return json_response({"status": "ok"})


@bp.route("/openapi.json", methods=["GET"])
@public
def openapi_document() -> Response:
    prefix = current().url_prefix  # behind a stage (/dev) the paths are relative to it
    document = committed_document()
    return json_response({**document, "servers": [{"url": prefix}]} if prefix else document)
