"""What every site answers: robots.txt, sitemap.xml, favicon.ico, the trust pages, and the shop's
own 404 for any other path (the catch-all route, docs/architecture.md)."""

from collections.abc import Callable

from chalice import Blueprint, Response

from chalicelib.services import catalogue, content, site_map
from chalicelib.services.shoes import DEPARTMENTS
from chalicelib.web import seo, static
from chalicelib.web.context import CATCH_ALL, current
from chalicelib.web.errors import HTTPError
from chalicelib.web.guards import public
from chalicelib.web.rendering import render

bp = Blueprint(__name__)

ONE_HOUR = 3600
ONE_DAY = 24 * ONE_HOUR
ALL_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"]
# The catch-all takes any body a client might send, so an unknown path answers 404, never 415.
ANY_CONTENT = [
    "application/json",
    "application/x-www-form-urlencoded",
    "multipart/form-data",
    "text/plain",
    "application/octet-stream",
]


def _text(body: str, content_type: str, max_age: int) -> Response:
    return Response(
        body=body,
        status_code=200,
        headers={"Content-Type": content_type, "Cache-Control": f"public, max-age={max_age}"},
    )


@bp.route("/robots.txt", methods=["GET"])
@public
def robots() -> Response:
    ctx = current()
    return _text(site_map.robots_txt(ctx.url, ctx.absolute_url("/sitemap.xml")), "text/plain; charset=utf-8", ONE_DAY)


def sitemap_urls() -> list[str]:
    """Home, department pages, trust pages, then every product on sale (newest first)."""
    ctx = current()
    urls = [ctx.absolute_url("/")]
    urls += [ctx.absolute_url("/", department=department) for department in DEPARTMENTS]
    urls += [ctx.absolute_url(f"/{slug}") for slug in content.PAGES]
    urls += [ctx.absolute_url(path) for path in catalogue.active_shoe_paths()]
    return urls


@bp.route("/sitemap.xml", methods=["GET"])
@public
def sitemap() -> Response:
    urls = sitemap_urls()
    pages = site_map.sitemap_pages(urls)
    if pages == 1:
        body = site_map.urlset(urls)
    else:
        ctx = current()
        body = site_map.sitemap_index([ctx.absolute_url(f"/sitemaps/{n}.xml") for n in range(1, pages + 1)])
    return _text(body, "application/xml; charset=utf-8", ONE_HOUR)


@bp.route("/sitemaps/{name}", methods=["GET"])
@public
def sitemap_part(name: str) -> Response:
    number, dot, extension = name.partition(".")
    urls = sitemap_urls()
    chosen = site_map.page_of(urls, int(number)) if number.isdigit() and dot and extension == "xml" else None
    if chosen is None:
        raise HTTPError(404)
    return _text(site_map.urlset(chosen), "application/xml; charset=utf-8", ONE_HOUR)


@bp.route("/favicon.ico", methods=["GET"])
@public
def favicon() -> Response:
    """Browsers ask for /favicon.ico whatever the page says: the SVG icon, as text (no binary body
    through API Gateway). Browsers go by the Content-Type, not the name."""
    found = static.lookup(static.manifest()["img/favicon.svg"][0])
    if found is None:
        raise HTTPError(404)
    return _text(found[1], found[0], ONE_DAY)


def _content_view(slug: str) -> Callable[[], Response]:
    @public
    def view() -> Response:
        page = content.page(slug)
        return render("content/page.html", page=page, meta=seo.PageMeta(description=page.description))

    view.__name__ = f"content_{slug}"
    return view


for _slug in content.PAGES:
    bp.route(f"/{_slug}", methods=["GET"])(_content_view(_slug))


@bp.route(CATCH_ALL, methods=ALL_METHODS, content_types=ANY_CONTENT)
@public
def unknown_path() -> Response:
    """API Gateway sends every path no other route declares here (the greedy part is not passed to
    the view by Chalice: web/context.py reads it). Pages get the shop's 404, /api/ paths JSON."""
    raise HTTPError(404)
