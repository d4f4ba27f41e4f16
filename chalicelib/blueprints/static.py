"""Hashed static files: /static/<folder>/<name>.<hash>.<ext>, immutable for a year."""

from chalice import Blueprint, Response

from chalicelib.web import static
from chalicelib.web.errors import HTTPError
from chalicelib.web.guards import public

bp = Blueprint(__name__)


@bp.route("/static/{folder}/{filename}", methods=["GET"])
@public
def static_file(folder: str, filename: str) -> Response:
    found = static.lookup(f"{folder}/{filename}")
    if found is None:
        raise HTTPError(404)
    content_type, text = found
    return Response(
        body=text,
        status_code=200,
        headers={"Content-Type": content_type, "Cache-Control": f"public, max-age={static.ONE_YEAR}, immutable"},
    )
