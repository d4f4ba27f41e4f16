"""The shop window: home page listing and product pages."""

from chalice import Blueprint, Response

from chalicelib.web.guards import public
from chalicelib.web.rendering import render

bp = Blueprint(__name__)


@bp.route("/", methods=["GET"])
@public
def home() -> Response:
    return render("catalogue/home.html")
