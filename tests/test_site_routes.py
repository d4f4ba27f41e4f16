"""Every path gets the shop's answer: the catch-all 404 (JSON under /api/), HEAD wherever GET works,
robots.txt, sitemap.xml (an index past 50,000 URLs), favicon.ico and the trust pages."""

import json
import re
import xml.etree.ElementTree as ET

import pytest

from chalicelib.product_links import product_path
from chalicelib.services import content, site_map
from tests.catalogue_fixtures import seed_catalogue

NS = {"s": site_map.SITEMAP_NS}


@pytest.mark.parametrize("path", ["/nope", "/deeply/nested/unknown/page", "/static/css", "/shoes/x/y"])
def test_unknown_pages_get_the_shops_404_page(web, path):
    response = web.get(path, headers={"accept": "text/html"})
    assert response.status_code == 404
    assert response.headers["Content-Type"].startswith("text/html")
    body = response.body.decode()
    assert "<h1>Page not found</h1>" in body and "Back to the shop" in body


@pytest.mark.parametrize("path", ["/api/v1/nope", "/api/v1/shoes/x/y/z", "/api/other"])
def test_unknown_api_paths_get_a_json_404(web, path):
    response = web.get(path)
    assert response.status_code == 404
    assert json.loads(response.body)["error"]["code"] == "NotFound"


def test_unknown_path_posts_still_need_a_csrf_token_and_then_get_404(web):
    assert (
        web.request("POST", "/nope/form", b"a=1", {"content-type": "application/x-www-form-urlencoded"}).status_code
        == 403
    )
    assert web.post_form("/nope/form", {"a": "1"}).status_code == 404


@pytest.mark.parametrize(
    "path", ["/", "/login", "/robots.txt", "/sitemap.xml", "/favicon.ico", "/nope", "/api/v1/health"]
)
def test_head_answers_like_get_without_a_body(web, path):
    get = web.get(path)
    head = web.request("HEAD", path)
    assert head.status_code == get.status_code
    assert head.headers["Content-Type"] == get.headers["Content-Type"]
    assert head.body == b""


def test_every_get_route_also_takes_head():
    from app import app

    missing = [path for path, methods in app.routes.items() if "GET" in methods and "HEAD" not in methods]
    assert missing == []


def test_robots_txt_disallows_the_private_areas_and_names_the_sitemap(web):
    response = web.get("/robots.txt")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/plain; charset=utf-8"
    lines = response.body.decode().splitlines()
    assert lines[0] == "User-agent: *"
    for path in ("/admin", "/account", "/cart", "/checkout", "/orders"):
        assert f"Disallow: {path}" in lines
    assert "Disallow: /" not in lines  # the shop itself stays open
    assert "Sitemap: http://127.0.0.1:8000/sitemap.xml" in lines


def _locs(body: bytes, tag: str = "url") -> list[str]:
    root = ET.fromstring(body)  # noqa: S314 (our own output)
    return [element.text or "" for element in root.findall(f"s:{tag}/s:loc", NS)]


def test_sitemap_lists_home_departments_trust_pages_and_every_active_shoe(web):
    shoes, _ = seed_catalogue(7, archived_every=3)
    response = web.get("/sitemap.xml")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/xml")
    locs = _locs(response.body)
    base = "http://127.0.0.1:8000"
    assert locs[0] == base + "/"
    assert base + "/?department=women" in locs and base + "/?department=kids" in locs
    for slug in content.PAGES:
        assert f"{base}/{slug}" in locs
    active = {base + product_path(shoe) for shoe in shoes if shoe.status == "active"}
    archived = {base + product_path(shoe) for shoe in shoes if shoe.status != "active"}
    assert active <= set(locs) and not archived & set(locs)
    assert len(locs) == len(set(locs))


def test_past_fifty_thousand_urls_the_sitemap_becomes_an_index(web, monkeypatch):
    from chalicelib.services import catalogue

    ids = [f"/shoes/shoe{n:06d}" for n in range(site_map.MAX_URLS_PER_SITEMAP + 10)]
    monkeypatch.setattr(catalogue, "active_shoe_paths", lambda: ids)
    index = web.get("/sitemap.xml")
    parts = _locs(index.body, "sitemap")
    assert parts == ["http://127.0.0.1:8000/sitemaps/1.xml", "http://127.0.0.1:8000/sitemaps/2.xml"]
    first, second = (_locs(web.get(part.removeprefix("http://127.0.0.1:8000")).body) for part in parts)
    assert len(first) == site_map.MAX_URLS_PER_SITEMAP
    assert second[-1].endswith("/shoes/shoe050009")
    assert len(first) + len(second) == len(ids) + 1 + 3 + len(content.PAGES)
    for bad in ("/sitemaps/3.xml", "/sitemaps/0.xml", "/sitemaps/one.xml", "/sitemaps/1.txt"):
        assert web.get(bad).status_code == 404


def test_favicon_ico_is_served(web):
    response = web.get("/favicon.ico")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("image/svg+xml")
    assert response.body.startswith(b"<svg")


@pytest.mark.parametrize("slug", list(content.PAGES))
def test_trust_pages_render_their_markdown_and_say_they_need_review(web, slug):
    response = web.get(f"/{slug}")
    assert response.status_code == 200
    body = response.body.decode()
    assert f"<h1>{content.page(slug).title}</h1>" in body
    assert "Review before going live" in body


def test_raw_html_in_a_trust_page_is_shown_as_text(tmp_path, monkeypatch):
    (tmp_path / "terms.md").write_text("---\ntitle: T\n---\n<script>alert(1)</script>\n\n**bold**\n")
    monkeypatch.setattr(content, "CONTENT_DIR", tmp_path)
    content.page.cache_clear()
    try:
        page = content.page("terms")
    finally:
        content.page.cache_clear()
    assert "<script>" not in page.html and "&lt;script&gt;" in page.html
    assert "<strong>bold</strong>" in page.html and page.title == "T"


def test_footer_links_every_trust_page_and_shows_the_payment_methods(web):
    body = web.get("/").body.decode()
    footer = body[body.index('<footer class="site-footer"') :]
    for slug, label in content.PAGES.items():
        assert re.search(rf'<a href="/{slug}">{label}</a>', footer), slug
    assert "Pay on delivery" in footer


def test_import_app_does_not_load_the_markdown_library():
    """Trust pages render on first request; `import app` (the cold start) never pays for markdown-it."""
    import subprocess
    import sys
    from pathlib import Path

    script = "import sys, app\nassert 'markdown_it' not in sys.modules, 'import app loaded markdown_it'\n"
    root = Path(__file__).resolve().parent.parent
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=root, timeout=120)
    assert result.returncode == 0, result.stderr
