"""Browser journey: an admin creates a shoe and uploads a photo from disk through the page, with
the script (straight to S3 with progress and preview) and without it (plain form, S3 redirects
back). Runs on the shared local stack (`manage.py run`: moto server + dev server) and Chromium.
"""

import pytest

from tests.browser.steps import create_shoe, log_in_through_upload


@pytest.fixture
def photos(tmp_path):
    from PIL import Image

    good = tmp_path / "red-boot.jpg"
    Image.new("RGB", (1600, 1200), (190, 40, 40)).save(good, "JPEG")
    fake = tmp_path / "not-really.png"
    fake.write_bytes(b"<!doctype html><title>hi</title>")
    return good, fake


def test_admin_uploads_a_photo_with_progress_and_preview(local_stack, chromium, photos):
    good, fake = photos
    page = chromium.new_context(viewport={"width": 390, "height": 844}).new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.set_default_timeout(15_000)
    log_in_through_upload(page, local_stack)
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


def test_admin_uploads_a_photo_without_javascript(local_stack, chromium, photos):
    good, _ = photos
    page = chromium.new_context(java_script_enabled=False).new_page()
    page.set_default_timeout(15_000)
    log_in_through_upload(page, local_stack)
    edit_url = create_shoe(page, "No Script Boot")
    page.get_by_label("Image type").select_option("image/jpeg")
    page.get_by_label("Image", exact=True).set_input_files(str(good))
    page.get_by_role("button", name="Upload image").click()
    page.get_by_role("button", name="Check and add image").click()
    page.get_by_text("The image is checked and added").wait_for()
    assert page.url == edit_url
    assert page.locator(".image-list img").count() == 1
