"""The local server (`make run`) answers every path as the deployed stage does: the shop's 404,
robots.txt, sitemap.xml, favicon.ico, HEAD; and gzips text as API Gateway does in deployed stages."""

import gzip
import http.client
import json
from urllib.parse import urlsplit

import pytest
import requests

from devtools.devserver import minimum_compression_size


def _raw(local_stack, method: str, path: str, headers: dict | None = None) -> http.client.HTTPResponse:
    """One request without any client-side decompression, so the bytes on the wire are seen."""
    parts = urlsplit(local_stack.base_url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    connection.request(method, path, headers=headers or {})
    response = connection.getresponse()
    response.body = response.read()  # type: ignore[attr-defined]
    connection.close()
    return response


@pytest.mark.parametrize("path", ["/nope", "/deep/unknown/path", "/static/css"])
def test_unknown_paths_get_the_shops_404_page(local_stack, path):
    response = requests.get(local_stack.url(path), timeout=30)
    assert response.status_code == 404
    assert response.headers["Content-Type"].startswith("text/html")
    assert "Page not found" in response.text


def test_unknown_api_paths_get_json(local_stack):
    response = requests.get(local_stack.url("/api/v1/no/such/thing"), timeout=30)
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "NotFound"


def test_robots_sitemap_and_favicon(local_stack):
    robots = requests.get(local_stack.url("/robots.txt"), timeout=30)
    assert robots.status_code == 200 and "Disallow: /admin" in robots.text
    sitemap = requests.get(local_stack.url("/sitemap.xml"), timeout=30)
    assert sitemap.status_code == 200 and "<urlset" in sitemap.text and "/shoes/" in sitemap.text
    favicon = requests.get(local_stack.url("/favicon.ico"), timeout=30)
    assert favicon.status_code == 200 and favicon.headers["Content-Type"].startswith("image/svg+xml")


def test_head_works_where_get_does(local_stack):
    response = _raw(local_stack, "HEAD", "/")
    assert response.status == 200
    assert response.getheader("Content-Type").startswith("text/html")
    assert response.body == b""


def test_text_is_gzipped_for_clients_that_accept_it(local_stack):
    plain = _raw(local_stack, "GET", "/")
    zipped = _raw(local_stack, "GET", "/", {"Accept-Encoding": "gzip, br"})
    assert plain.getheader("Content-Encoding") is None
    assert zipped.getheader("Content-Encoding") == "gzip"
    assert "Accept-Encoding" in zipped.getheader("Vary")
    html = gzip.decompress(zipped.body)
    assert b"Find your next pair" in html
    assert len(zipped.body) < len(html) / 3  # HTML shrinks to well under a third


def test_small_responses_stay_uncompressed(local_stack):
    response = _raw(local_stack, "GET", "/api/v1/health", {"Accept-Encoding": "gzip"})
    assert len(response.body) < minimum_compression_size()
    assert response.getheader("Content-Encoding") is None
    json.loads(response.body)
