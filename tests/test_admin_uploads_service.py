"""Presigned POST grants and the verification of what arrives, against moto's S3."""

import base64
import json
from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.models import Shoe
from chalicelib.services import images, products, uploads
from chalicelib.services.errors import NotFound, ValidationFailed
from tests.admin_fixtures import bomb_png, image_bytes, object_keys, put_incoming, s3
from tests.factories import ADMIN, shoe_via_admin


def decoded_policy(grant: uploads.Grant) -> dict:
    return json.loads(base64.b64decode(grant.fields["policy"]))


def conditions_of(policy: dict) -> tuple[dict, list]:
    exact = {}
    others = []
    for condition in policy["conditions"]:
        if isinstance(condition, dict):
            exact.update(condition)
        else:
            others.append(condition)
    return exact, others


def test_script_grant_policy_pins_key_type_size_and_expiry():
    shoe = shoe_via_admin()
    before = datetime.now(UTC)
    grant = uploads.grant_upload(shoe.shoe_id, ADMIN, content_type="image/png")
    policy = decoded_policy(grant)
    exact, others = conditions_of(policy)
    assert grant.key.startswith(f"incoming/{shoe.shoe_id}/") and len(grant.key.rsplit("/", 1)[1]) == 32
    assert exact["key"] == grant.key == grant.fields["key"]
    assert exact["bucket"] == "shoeshop-test-uploads"
    assert exact["Content-Type"] == "image/png" == grant.fields["Content-Type"]
    assert ["content-length-range", 1, 5 * 1024 * 1024] in others
    expires = datetime.strptime(policy["expiration"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    assert timedelta(0) < expires - before <= timedelta(minutes=5, seconds=1)
    assert "x-amz-signature" in grant.fields and "x-amz-credential" in exact
    assert grant.url.endswith("/shoeshop-test-uploads") or "shoeshop-test-uploads" in grant.url


def test_each_grant_gets_a_new_server_chosen_key():
    shoe = shoe_via_admin()
    keys = {uploads.grant_upload(shoe.shoe_id, ADMIN, content_type="image/jpeg").key for _ in range(3)}
    assert len(keys) == 3


def test_plain_form_grant_requires_an_image_type_and_redirects_back():
    shoe = shoe_via_admin()
    back = f"http://127.0.0.1:8000/admin/shoes/{shoe.shoe_id}/images/uploaded"
    grant = uploads.grant_upload(shoe.shoe_id, ADMIN, redirect_url=back)
    exact, others = conditions_of(decoded_policy(grant))
    assert ["starts-with", "$Content-Type", "image/"] in others
    assert ["content-length-range", 1, 5 * 1024 * 1024] in others
    assert exact["success_action_redirect"] == back == grant.fields["success_action_redirect"]


def test_grants_refuse_other_types_and_unknown_shoes():
    shoe = shoe_via_admin()
    with pytest.raises(ValidationFailed):
        uploads.grant_upload(shoe.shoe_id, ADMIN, content_type="image/svg+xml")
    with pytest.raises(NotFound):
        uploads.grant_upload("nope", ADMIN, content_type="image/png")


@pytest.mark.parametrize(
    ("fmt", "content_type"), [("PNG", "image/png"), ("JPEG", "image/jpeg"), ("WEBP", "image/webp")]
)
def test_a_good_image_is_published_in_every_width_and_the_upload_removed(fmt, content_type):
    from PIL import Image

    shoe = shoe_via_admin()
    grant = uploads.grant_upload(shoe.shoe_id, ADMIN, content_type=content_type)
    put_incoming(grant.key, image_bytes(fmt, (1600, 1200)) + b"appended junk", content_type)
    image = uploads.confirm_upload(shoe.shoe_id, grant.key, ADMIN)
    assert object_keys(f"incoming/{shoe.shoe_id}/") == []
    published = sorted(object_keys(f"images/{shoe.shoe_id}/"))
    assert published == sorted(images.variant_keys(image.large_key).values())
    assert {image.thumb_key, image.large_key} <= set(published)
    for width, key in images.variant_keys(image.large_key).items():
        variant = Image.open(s3().get_object(Bucket="shoeshop-test-uploads", Key=key)["Body"])
        assert (variant.format, variant.size) == ("WEBP", (width, width * 3 // 4))
    large = Image.open(s3().get_object(Bucket="shoeshop-test-uploads", Key=image.large_key)["Body"])
    thumb = Image.open(s3().get_object(Bucket="shoeshop-test-uploads", Key=image.thumb_key)["Body"])
    assert (large.format, large.size) == ("WEBP", (1200, 900))
    assert thumb.format == "WEBP" and thumb.size[0] <= 480
    stored = Shoe.get(shoe.shoe_id)
    assert [i.image_id for i in stored.images] == [image.image_id]
    assert stored.version == shoe.version  # an open edit form does not go stale


def test_upload_through_the_presigned_post_itself():
    """What the browser does: multipart POST of the grant's fields plus the file."""
    import requests

    shoe = shoe_via_admin()
    grant = uploads.grant_upload(shoe.shoe_id, ADMIN, content_type="image/png")
    response = requests.post(
        grant.url, data=grant.fields, files={"file": ("photo.png", image_bytes(), "image/png")}, timeout=10
    )
    assert response.status_code in (200, 201, 204), response.text
    uploads.confirm_upload(shoe.shoe_id, grant.key, ADMIN)
    assert len(Shoe.get(shoe.shoe_id).images) == 1


def _truncated_png() -> bytes:
    data = image_bytes("PNG", (800, 600), (10, 120, 200))
    return data[: len(data) // 2]


def _truncated_jpeg() -> bytes:
    import io
    import random

    from PIL import Image

    rng = random.Random(3)
    noisy = Image.frombytes("RGB", (400, 300), bytes(rng.randrange(256) for _ in range(400 * 300 * 3)))
    out = io.BytesIO()
    noisy.save(out, format="JPEG", quality=90)
    return out.getvalue()[: len(out.getvalue()) // 2]


BAD_FILES = {
    "html named .png": (b"<!doctype html><script>alert(1)</script>", "not a JPEG, PNG or WebP"),
    "svg": (b'<svg xmlns="http://www.w3.org/2000/svg"></svg>', "not a JPEG, PNG or WebP"),
    "oversize": (b"\x89PNG\r\n\x1a\n" + b"\0" * (5 * 1024 * 1024), "larger than 5 MB"),
    "truncated png": (_truncated_png(), "damaged or incomplete"),
    "truncated jpeg": (_truncated_jpeg(), "damaged or incomplete"),
    "decompression bomb": (bomb_png(), "too large in pixels"),
    "png header only": (b"\x89PNG\r\n\x1a\n", "damaged or incomplete"),
}


@pytest.mark.parametrize("kind", list(BAD_FILES))
def test_bad_files_are_rejected_clearly_removed_and_never_published(kind):
    body, message = BAD_FILES[kind]
    shoe = shoe_via_admin()
    grant = uploads.grant_upload(shoe.shoe_id, ADMIN, content_type="image/png")
    put_incoming(grant.key, body)
    with pytest.raises(uploads.UploadRejected, match=message):
        uploads.confirm_upload(shoe.shoe_id, grant.key, ADMIN)
    assert object_keys(f"incoming/{shoe.shoe_id}/") == []
    assert object_keys(f"images/{shoe.shoe_id}/") == []
    assert Shoe.get(shoe.shoe_id).images == []


def test_a_missing_upload_or_a_key_for_another_shoe_is_refused():
    shoe = shoe_via_admin()
    other = shoe_via_admin()
    grant = uploads.grant_upload(other.shoe_id, ADMIN, content_type="image/png")
    put_incoming(grant.key, image_bytes())
    with pytest.raises(ValidationFailed):
        uploads.confirm_upload(shoe.shoe_id, grant.key, ADMIN)
    with pytest.raises(ValidationFailed):
        uploads.confirm_upload(shoe.shoe_id, "images/x/y-large.webp", ADMIN)
    with pytest.raises(uploads.UploadRejected, match="did not receive"):
        uploads.confirm_upload(shoe.shoe_id, f"incoming/{shoe.shoe_id}/{'0' * 32}", ADMIN)


def _add_images(shoe, count):
    added = []
    for n in range(count):
        grant = uploads.grant_upload(shoe.shoe_id, ADMIN, content_type="image/png")
        put_incoming(grant.key, image_bytes(colour=(n * 40, 10, 10)))
        added.append(uploads.confirm_upload(shoe.shoe_id, grant.key, ADMIN).image_id)
    return added


def test_several_images_primary_reorder_and_delete():
    shoe = shoe_via_admin()
    first, second, third = _add_images(shoe, 3)
    uploads.make_primary(shoe.shoe_id, third, ADMIN)
    assert [i.image_id for i in products.get_shoe(shoe.shoe_id).images] == [third, first, second]
    uploads.move_image(shoe.shoe_id, second, -1, ADMIN)
    assert [i.image_id for i in products.get_shoe(shoe.shoe_id).images] == [third, second, first]
    uploads.reorder_images(shoe.shoe_id, [first, second, third], ADMIN)
    assert [i.image_id for i in products.get_shoe(shoe.shoe_id).images] == [first, second, third]
    with pytest.raises(ValidationFailed):
        uploads.reorder_images(shoe.shoe_id, [first, first, third], ADMIN)
    removed = products.get_shoe(shoe.shoe_id).images[1]
    uploads.delete_image(shoe.shoe_id, second, ADMIN)
    assert [i.image_id for i in products.get_shoe(shoe.shoe_id).images] == [first, third]
    keys = object_keys(f"images/{shoe.shoe_id}/")
    assert not set(images.variant_keys(removed.large_key).values()) & set(keys)
    assert len(keys) == 2 * len(images.WIDTHS)
    with pytest.raises(NotFound):
        uploads.delete_image(shoe.shoe_id, second, ADMIN)


def test_image_changes_that_cross_are_both_kept(monkeypatch):
    """Deterministic interleaving: A reads the list, B adds an image, A's write retries on top."""
    shoe = shoe_via_admin()
    (first,) = _add_images(shoe, 1)
    real_get = uploads.get_shoe
    state = {"interleaved": False}

    def get_then_other_admin_adds(shoe_id):
        loaded = real_get(shoe_id)
        if not state["interleaved"]:
            state["interleaved"] = True
            monkeypatch.setattr(uploads, "get_shoe", real_get)
            _add_images(shoe, 1)
            monkeypatch.setattr(uploads, "get_shoe", get_then_other_admin_adds)
        return loaded

    monkeypatch.setattr(uploads, "get_shoe", get_then_other_admin_adds)
    uploads.delete_image(shoe.shoe_id, first, ADMIN)
    remaining = products.get_shoe(shoe.shoe_id).images
    assert len(remaining) == 1 and remaining[0].image_id != first


def test_deleting_a_shoe_removes_its_image_objects():
    shoe = shoe_via_admin()
    _add_images(shoe, 2)
    products.delete_shoe(shoe.shoe_id, ADMIN)
    assert object_keys(f"images/{shoe.shoe_id}/") == []


def test_a_double_confirm_of_one_upload_adds_one_image(monkeypatch):
    """Both requests read the object before either deleted it: the second adds nothing."""
    shoe = shoe_via_admin()
    grant = uploads.grant_upload(shoe.shoe_id, ADMIN, content_type="image/png")
    put_incoming(grant.key, image_bytes())
    real_delete = uploads._delete_incoming
    monkeypatch.setattr(uploads, "_delete_incoming", lambda key: None)
    first = uploads.confirm_upload(shoe.shoe_id, grant.key, ADMIN)
    monkeypatch.setattr(uploads, "_delete_incoming", real_delete)
    second = uploads.confirm_upload(shoe.shoe_id, grant.key, ADMIN)
    assert first.image_id == second.image_id
    assert [i.image_id for i in Shoe.get(shoe.shoe_id).images] == [first.image_id]
    assert sorted(object_keys(f"images/{shoe.shoe_id}/")) == sorted(images.variant_keys(first.large_key).values())
    assert object_keys(f"incoming/{shoe.shoe_id}/") == []
