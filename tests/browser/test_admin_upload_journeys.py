"""Browser journey: an admin creates a shoe and uploads a photo from disk through the page, with
the script (straight to S3 with progress and preview) and without it (plain form, S3 redirects
back). Runs on the shared local stack (`manage.py run`: moto server + dev server) and Chromium.
"""

import io
import re

import pytest
from PIL import Image, ImageChops, ImageStat
from playwright.sync_api import expect

from tests.browser.steps import admin_log_in, create_shoe, log_in_through_upload, shoe_name, wait_until_searchable


@pytest.fixture
def photos(tmp_path):
    good = tmp_path / "red-boot.jpg"
    Image.new("RGB", (1600, 1200), (190, 40, 40)).save(good, "JPEG")
    fake = tmp_path / "not-really.png"
    fake.write_bytes(b"<!doctype html><title>hi</title>")
    return good, fake


@pytest.fixture
def png_photo(tmp_path):
    from devtools.demo import draw_shoe

    path = tmp_path / "blue-runner.png"
    draw_shoe((52, 120, 200), "running").save(path, "PNG")
    return path


def _looks_alike(first, second) -> bool:
    small = (48, 36)
    difference = ImageChops.difference(first.convert("RGB").resize(small), second.convert("RGB").resize(small))
    return max(ImageStat.Stat(difference).mean) < 8


def _natural_width(page, image) -> int:
    image.scroll_into_view_if_needed()  # cards load lazily
    page.wait_for_function("img => img.complete", arg=image.element_handle())
    return page.evaluate("img => img.naturalWidth", image.element_handle())


def test_owner_creates_a_draft_adds_a_png_publishes_it_and_shoppers_see_it_with_its_photo(shop, other_shop, png_photo):
    page = shop.page
    name = shoe_name("Blue Runner")
    admin_log_in(shop)
    shop.click_link("Add a shoe")
    expect(page.get_by_role("heading", level=1)).to_have_text("New shoe")
    shop.screenshot("admin-product-form")
    edit_url = create_shoe(page, name, brand="Stride", stock_42="4")
    shop.check()

    page.get_by_label("Image", exact=True).set_input_files(str(png_photo))
    page.get_by_role("button", name="Upload image").click()
    page.get_by_text("Main photo").wait_for()
    shop.check()
    assert page.url == edit_url
    thumb = page.locator(".image-list img").first
    assert _natural_width(page, thumb) > 0
    # The bytes went through the moto server's S3: the shop's image URL serves the re-encoded photo.
    src = thumb.get_attribute("src")
    assert src.startswith(shop.stack.aws_url), src
    answer = page.request.get(src)
    assert answer.ok and answer.headers["content-type"] == "image/webp"
    stored = Image.open(io.BytesIO(answer.body()))
    assert stored.width == 480 and _looks_alike(stored, Image.open(png_photo))

    # A draft: shoppers get "not found"; the owner previews it as a shopper would see it.
    shoe_id = re.search(r"/admin/shoes/([0-9a-f]+)/edit", edit_url).group(1)
    assert other_shop.page.request.get(shop.stack.url(f"/shoes/{shoe_id}")).status == 404
    shop.click_link("Preview as shopper")
    expect(page.get_by_text("this draft is not in the shop yet")).to_be_visible()
    expect(page.get_by_role("heading", level=1)).to_have_text(name)
    shop.click_link("Back to editing")
    shop.click_button("Publish")
    expect(page.get_by_text("is published")).to_be_visible()
    wait_until_searchable(page.request, shop.stack, name, shoe_id)

    # A shopper (another blank browser) finds it by searching, sees the photo, opens the page.
    shopper = other_shop
    shopper.goto("/")
    card = shopper.page.locator(".shoe-card", has_text=name)
    expect(card).to_have_count(1)  # newest first on the home page
    shopper.page.get_by_label("Search name, brand or colour").fill(name)
    shopper.click_button("Show shoes")
    card = shopper.page.locator(".shoe-card", has_text=name)
    expect(card).to_have_count(1)
    assert _natural_width(shopper.page, card.locator("img")) > 0
    with shopper.page.expect_navigation():
        card.locator("a").click()
    shopper.check()
    expect(shopper.page.get_by_role("heading", level=1)).to_have_text(name)
    photo = shopper.page.locator(".product-image-main img")
    expect(photo).to_have_attribute("alt", f"Stride {name} in Red")
    assert _natural_width(shopper.page, photo) > 0
    assert shopper.page.locator("#size-42").is_enabled()
    assert re.search(r"\$89\.95", shopper.page.locator(".product-price").inner_text())
    shopper.page.locator("label[for=size-42]").click()
    shopper.screenshot("product")


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
