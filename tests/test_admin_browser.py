"""Browser journey: an admin creates a shoe and uploads a photo from disk through the page, with
the script (straight to S3 with progress and preview) and without it (plain form, S3 redirects
back). Runs the real local stack (`manage.py run`: moto server + dev server) and Debian's Chromium.

Self-contained until the quality area's shared browser harness (tests/browser/) is merged.
"""

import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = Path(os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"))
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
USERNAME, PASSWORD = "journeyadmin", "journey admin passphrase"
TEST_ONLY = (
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SECURITY_TOKEN",
    "AWS_SESSION_TOKEN",
    "AWS_ENDPOINT_URL",
)
TEST_ONLY += ("STAGE", "TABLE_PREFIX", "UPLOAD_BUCKET", "BCRYPT_ROUNDS", "SSM_PREFIX")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def stack_url(tmp_path_factory):
    if not CHROMIUM.exists():
        pytest.skip(f"Chromium is not installed at {CHROMIUM}: the admin browser journey did NOT run")
    port, aws_port = _free_port(), _free_port()
    env = {k: v for k, v in os.environ.items() if k not in TEST_ONLY}
    env.update(
        PORT=str(port),
        LOCAL_AWS_PORT=str(aws_port),
        LOCAL_ADMIN_USERNAME=USERNAME,
        LOCAL_ADMIN_PASSWORD=PASSWORD,
        PYTHONUNBUFFERED="1",
    )
    log_path = tmp_path_factory.mktemp("stack") / "stack.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen([sys.executable, "manage.py", "run"], cwd=ROOT, env=env, stdout=log, stderr=log)
        try:
            deadline = time.monotonic() + 60
            while "is open on" not in log_path.read_text(errors="replace"):
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"the local stack did not start:\n{log_path.read_text(errors='replace')[-3000:]}")
                time.sleep(0.2)
            yield f"http://127.0.0.1:{port}"
        finally:
            process.terminate()
            process.wait(timeout=10)


@pytest.fixture(scope="module")
def chromium():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield browser
        browser.close()


@pytest.fixture
def photos(tmp_path):
    from PIL import Image

    good = tmp_path / "red-boot.jpg"
    Image.new("RGB", (1600, 1200), (190, 40, 40)).save(good, "JPEG")
    fake = tmp_path / "not-really.png"
    fake.write_bytes(b"<!doctype html><title>hi</title>")
    return good, fake


def log_in_through_upload(page, base: str) -> None:
    page.goto(base + "/upload")
    page.get_by_label("Username").fill(USERNAME)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(re.compile(r".*/admin/shoes/new$"))


def create_shoe(page, name: str) -> str:
    for label, value in (("Name", name), ("Brand", "Stride"), ("Colour", "Red"), ("Price", "89.95")):
        page.get_by_label(label, exact=True).fill(value)
    page.get_by_label("Category").select_option("boots")
    page.get_by_label("42", exact=True).fill("5")
    page.get_by_role("button", name="Save", exact=True).click()
    page.wait_for_url(re.compile(r".*/admin/shoes/[0-9a-f]+/edit$"))
    return page.url


def test_admin_uploads_a_photo_with_progress_and_preview(stack_url, chromium, photos):
    good, fake = photos
    page = chromium.new_context(viewport={"width": 390, "height": 844}).new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.set_default_timeout(15_000)
    log_in_through_upload(page, stack_url)
    create_shoe(page, "Journey Boot")
    assert page.get_by_label("42", exact=True).input_value() == "5"

    page.get_by_label("Image", exact=True).set_input_files(str(fake))
    page.get_by_role("button", name="Upload image").click()
    page.get_by_text("not a JPEG, PNG or WebP image").wait_for()
    assert page.locator(".image-list img").count() == 0

    page.get_by_label("Image", exact=True).set_input_files(str(good))
    page.locator(".upload-preview").wait_for(state="visible")
    assert page.locator(".upload-preview").get_attribute("src").startswith("data:image/jpeg")
    page.get_by_role("button", name="Upload image").click()
    page.get_by_text("Main photo").wait_for()
    thumb = page.locator(".image-list img").first
    assert page.evaluate("img => img.naturalWidth", thumb.element_handle()) == 480  # re-encoded thumbnail
    assert ".webp" in thumb.get_attribute("src")
    assert errors == []


def test_admin_uploads_a_photo_without_javascript(stack_url, chromium, photos):
    good, _ = photos
    page = chromium.new_context(java_script_enabled=False).new_page()
    page.set_default_timeout(15_000)
    log_in_through_upload(page, stack_url)
    edit_url = create_shoe(page, "No Script Boot")
    page.get_by_label("Image type").select_option("image/jpeg")
    page.get_by_label("Image", exact=True).set_input_files(str(good))
    page.get_by_role("button", name="Upload image").click()
    page.get_by_role("button", name="Check and add image").click()
    page.get_by_text("The image is checked and added").wait_for()
    assert page.url == edit_url
    assert page.locator(".image-list img").count() == 1
