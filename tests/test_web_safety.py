"""Request safety: CSRF, headers, error pages, body cap, stage prefix, secure cookies."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from chalicelib import config

ROOT = Path(__file__).resolve().parent.parent
FOUNDATION_POSTS = ["/register", "/login", "/logout", "/account/delete", "/admin", "/admin/logout"]


@pytest.fixture
def secure_settings(monkeypatch):
    monkeypatch.setenv("SECURE_COOKIES", "true")
    config.get_settings.cache_clear()
    yield
    monkeypatch.delenv("SECURE_COOKIES")
    config.get_settings.cache_clear()


@pytest.mark.parametrize("path", FOUNDATION_POSTS)
def test_posts_without_or_with_a_wrong_csrf_token_are_refused(web, path):
    web.register("alice")
    for token in (False, "forged-token"):
        response = web.post_form(path, {"identifier": "alice", "password": "correct horse battery"}, csrf=token)
        assert response.status_code == 403
        assert "This form has expired" in response.body.decode()
    assert web.get("/account").status_code == 200  # nothing happened: still logged in


def test_a_token_from_another_visitor_is_refused(web, other_web):
    stolen = other_web.csrf_token()
    web.get("/login")
    response = web.post_form("/login", {"identifier": "a", "password": "b"}, csrf=stolen)
    assert response.status_code == 403


def test_csrf_tokens_change_at_login(web):
    before = web.csrf_token("/register")
    web.register("alice")
    assert web.post_form("/logout", {}, csrf=before).status_code == 403


def test_security_headers_on_pages_and_static(web):
    page = web.get("/login")
    css_path = next(part.split('"')[1] for part in page.body.decode().split("href=") if ".css" in part.split('"')[1])
    for response in (page, web.get(css_path)):
        headers = response.headers
        csp = headers["Content-Security-Policy"]
        assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp and "unsafe-inline" not in csp
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
        assert "Strict-Transport-Security" not in headers  # local: plain http
    assert page.headers["Cache-Control"] == "no-store"


def test_static_files_are_hashed_and_cached_for_a_year(web):
    html = web.get("/").body.decode()
    css_path = html.split('rel="stylesheet" href="')[1].split('"')[0]
    assert css_path.startswith("/static/css/shop.") and css_path.endswith(".css")
    response = web.get(css_path)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/css")
    assert "immutable" in response.headers["Cache-Control"]
    assert web.get("/static/css/shop.css").status_code == 404  # only hashed names are served
    assert web.get("/static/css/shop.0000000000.css").status_code == 404


def test_deployed_stage_cookies_are_secure_host_cookies_with_hsts(web, secure_settings):
    response = web.register("alice")
    cookie = next(c for c in response.headers["Set-Cookie"] if c.startswith("__Host-sid="))
    assert "Secure" in cookie and "HttpOnly" in cookie
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")


def test_links_and_redirects_carry_the_stage_prefix_on_execute_api(web):
    host = {"host": "abc123.execute-api.us-east-1.amazonaws.com"}
    page = web.get("/login", headers=host)
    # The test client sends no API Gateway stage, so no prefix can be known: links stay root-relative.
    assert 'action="/login"' in page.body.decode()
    from chalicelib.web.urls import build_url, detect_prefix

    assert detect_prefix("abc123.execute-api.us-east-1.amazonaws.com", "api") == "/api"
    assert detect_prefix("shop.example.com", "api") == ""
    assert build_url("/api", "/login", {"next": "/account"}) == "/api/login?next=%2Faccount"


def test_wrong_method_on_a_page_gets_the_html_405_page(web):
    body = f"csrf_token={web.csrf_token()}"
    response = web.request("PUT", "/login", body=body, headers={"content-type": "application/x-www-form-urlencoded"})
    assert response.status_code == 405
    assert response.headers["Content-Type"].startswith("text/html")
    assert "Method not allowed" in response.body.decode()


def test_wrong_content_type_on_a_form_gets_415(web):
    token = web.csrf_token()
    response = web.request(
        "POST", "/login", body=json.dumps({"csrf_token": token}), headers={"content-type": "application/json"}
    )
    assert response.status_code in (403, 415)  # the token is not in a form body, so CSRF refuses first
    assert response.headers["Content-Type"].startswith("text/html")


def test_api_errors_are_json(web):
    response = web.request("POST", "/api/v1/health", body="{}", headers={"content-type": "application/json"})
    assert response.status_code == 405
    assert json.loads(response.body)["error"]["code"] == "MethodNotAllowed"
    assert response.headers["Allow"] == "GET, HEAD"


def test_a_crashing_view_shows_the_500_page_without_details(web, monkeypatch):
    from chalicelib.services import accounts

    def explode(*args, **kwargs):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(accounts, "authenticate", explode)
    response = web.login("alice")
    assert response.status_code == 500
    page = response.body.decode()
    assert "Something went wrong" in page and "secret internals" not in page and "Traceback" not in page


def test_throttled_dynamodb_shows_a_busy_page(web, monkeypatch):
    from botocore.exceptions import ClientError

    from chalicelib.services import accounts

    def throttled(*args, **kwargs):
        raise ClientError({"Error": {"Code": "ProvisionedThroughputExceededException", "Message": "slow"}}, "GetItem")

    monkeypatch.setattr(accounts, "authenticate", throttled)
    response = web.login("alice")
    assert response.status_code == 503
    assert "busy" in response.body.decode()


def test_tampered_flash_cookie_is_ignored(web):
    web.cookies["flash"] = "eyJ0ZXh0IjoiaGkifQ.forged"
    response = web.get("/")
    assert response.status_code == 200
    assert "eyJ0ZXh0" not in response.body.decode()


def test_templates_render_from_the_deployed_layout(tmp_path):
    """Only app.py and chalicelib/ reach Lambda: render a page from a copy holding just those."""
    import shutil

    shutil.copy(ROOT / "app.py", tmp_path / "app.py")
    shutil.copytree(ROOT / "chalicelib", tmp_path / "chalicelib", ignore=shutil.ignore_patterns("__pycache__"))
    script = (
        "import app, sys\n"
        "from chalice.test import Client\n"
        "assert app.__file__.startswith(sys.argv[1]), app.__file__\n"
        "with Client(app.app) as client:\n"
        "    r = client.http.get('/login')\n"
        "print(r.status_code, b'<h1>Log in</h1>' in r.body)\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    result = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.stdout.strip().splitlines()[-1] == "200 True", result.stderr


def _csp(response) -> dict[str, list[str]]:
    directives = (part.split() for part in response.headers["Content-Security-Policy"].split(";"))
    return {words[0]: words[1:] for words in directives if words}


def _settings_env(monkeypatch, **env: str) -> None:
    from chalicelib import aws

    for name, value in env.items():
        monkeypatch.setenv(name, value)
    config.get_settings.cache_clear()
    aws.reset_clients()


@pytest.fixture
def restore_settings():
    from chalicelib import aws

    yield
    config.get_settings.cache_clear()
    aws.reset_clients()


def test_the_csp_names_only_this_stages_bucket_and_its_urls_are_on_it(web, monkeypatch, restore_settings):
    from chalicelib.services import images, uploads
    from tests.factories import make_shoe

    _settings_env(monkeypatch)  # the stage's own bucket (the IAM policy test audits every S3 call)
    settings = config.get_settings()
    bucket = f"https://{settings.upload_bucket}.s3.{settings.region}.amazonaws.com"
    csp = _csp(web.get("/login"))
    assert csp["img-src"] == ["'self'", "data:", bucket]
    assert csp["connect-src"] == ["'self'", bucket]
    # "Place order" with a card redirects to Stripe Checkout: form-action governs that redirect too.
    assert csp["form-action"] == ["'self'", bucket, "https://checkout.stripe.com"]
    # What the browser is really sent lives on that one host (virtual-hosted, regional).
    assert images.image_url(f"{images.PUBLIC_PREFIX}x/thumb.webp").startswith(bucket + "/")
    assert uploads.grant_upload(make_shoe().shoe_id, "boss").url.rstrip("/") == bucket


def test_with_a_cdn_images_come_only_from_it_and_uploads_still_go_to_the_bucket(web, monkeypatch, restore_settings):
    _settings_env(monkeypatch, UPLOAD_BUCKET="shoeshop-csp-uploads", IMAGE_CDN_BASE_URL="https://img.example.com/")
    region = config.get_settings().region
    bucket = f"https://shoeshop-csp-uploads.s3.{region}.amazonaws.com"  # header only: no S3 call here
    csp = _csp(web.get("/login"))
    assert csp["img-src"] == ["'self'", "data:", "https://img.example.com"]
    assert csp["connect-src"] == ["'self'", bucket]
    assert csp["form-action"] == ["'self'", bucket, "https://checkout.stripe.com"]


def test_locally_the_csp_names_only_the_local_endpoint(monkeypatch, restore_settings):
    from chalicelib.web import middleware

    _settings_env(monkeypatch, AWS_ENDPOINT_URL="http://127.0.0.1:4566/")
    origins = middleware._image_origins()
    assert origins.images == origins.uploads == "http://127.0.0.1:4566"
