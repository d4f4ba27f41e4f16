"""Product photos: presigned POST grants, then `confirm_upload` checks, re-encodes and publishes
what arrived under `incoming/` (never shown), and deletes it whatever the outcome.
"""

import io
import logging
import re
import uuid
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pynamodb.exceptions import UpdateError

from chalicelib import clock
from chalicelib.config import get_settings
from chalicelib.logs import log_event
from chalicelib.models import Shoe
from chalicelib.models.catalogue import ShoeImage
from chalicelib.models.dynamo import condition_failed
from chalicelib.services import audit, images
from chalicelib.services.errors import Conflict, NotFound, ServiceError, ValidationFailed
from chalicelib.services.products import get_shoe, owns_image_objects

MAX_UPLOAD_BYTES = 5 * 1024 * 1024
GRANT_SECONDS = 300
MAX_PIXELS = 40_000_000  # e.g. 8000 x 5000; a decompression bomb claims far more
MAX_SIDE = 12_000
MAX_IMAGES = 12
CONTENT_TYPES = {"image/jpeg": "JPEG", "image/png": "PNG", "image/webp": "WEBP"}
KEY_RE = re.compile(r"^incoming/(?P<shoe>[0-9a-zA-Z_-]{1,64})/(?P<token>[0-9a-f]{32})$")

NOT_AN_IMAGE = "That file is not a JPEG, PNG or WebP image. Choose a photo in one of those formats."
TOO_BIG = "That file is larger than 5 MB. Choose a smaller photo."
EMPTY = "That file is empty. Choose a photo."
BROKEN = "That image is damaged or incomplete (it could not be decoded). Try saving it again and re-upload."
TOO_MANY_PIXELS = "That image is too large in pixels (over 40 megapixels). Resize it and upload again."
MISSING = "We did not receive that upload. It may have expired: choose the file and upload again."


class UploadRejected(ServiceError):
    """A bad file; its incoming object has been removed."""


@dataclass
class Grant:
    url: str
    fields: dict[str, str]
    key: str
    expires_in: int


def _magic_format(head: bytes) -> str | None:
    if head.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "PNG"
    if len(head) >= 12 and head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "WEBP"
    return None


def grant_upload(shoe_id: str, admin: str, content_type: str | None = None, redirect_url: str | None = None) -> Grant:
    """A presigned POST for one upload: a known `content_type` (the script) is pinned, the plain
    form only has to send `image/...`. Verification never trusts it."""
    get_shoe(shoe_id)
    if content_type is not None and content_type not in CONTENT_TYPES:
        raise ValidationFailed({"content_type": "Choose a JPEG, PNG or WebP image."}, NOT_AN_IMAGE)
    from chalicelib.aws import s3_client

    key = f"{images.INCOMING_PREFIX}{shoe_id}/{uuid.uuid4().hex}"
    fields: dict[str, str] = {}
    conditions: list[Any] = [["content-length-range", 1, MAX_UPLOAD_BYTES]]
    if content_type:
        fields["Content-Type"] = content_type
        conditions.append({"Content-Type": content_type})
    else:
        conditions.append(["starts-with", "$Content-Type", "image/"])
    if redirect_url:
        fields["success_action_redirect"] = redirect_url
        conditions.append({"success_action_redirect": redirect_url})
    post = s3_client().generate_presigned_post(
        Bucket=get_settings().upload_bucket,
        Key=key,
        Fields=fields,
        Conditions=conditions,
        ExpiresIn=GRANT_SECONDS,
    )
    audit.record(admin, "image.grant", shoe_id=shoe_id, key=key)
    return Grant(url=post["url"], fields=post["fields"], key=key, expires_in=GRANT_SECONDS)


def _read_incoming(key: str) -> bytes:
    from botocore.exceptions import ClientError

    from chalicelib.aws import s3_client

    try:
        response = s3_client().get_object(Bucket=get_settings().upload_bucket, Key=key)
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") in ("NoSuchKey", "404", "NotFound"):
            raise UploadRejected(MISSING) from error
        raise  # S3 unavailable (5xx, SlowDown): keep the upload so the admin can confirm it again
    if response.get("ContentLength", 0) > MAX_UPLOAD_BYTES:
        response["Body"].close()
        raise UploadRejected(TOO_BIG)
    data = response["Body"].read(MAX_UPLOAD_BYTES + 1)
    if len(data) > MAX_UPLOAD_BYTES:
        raise UploadRejected(TOO_BIG)
    if not data:
        raise UploadRejected(EMPTY)
    return data


def decode_image(data: bytes) -> Any:
    """Magic bytes, then the header's dimensions before any pixel, then a full decode (truncated
    files fail here)."""
    from PIL import Image, ImageFile

    ImageFile.LOAD_TRUNCATED_IMAGES = False
    Image.MAX_IMAGE_PIXELS = MAX_PIXELS
    magic = _magic_format(data[:16])
    if magic is None:
        raise UploadRejected(NOT_AN_IMAGE)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=[magic])
            width, height = image.size
            if width * height > MAX_PIXELS or max(width, height) > MAX_SIDE:
                raise UploadRejected(TOO_MANY_PIXELS)
            if magic == "JPEG":
                # Decode at the smallest DCT scale covering the large size: far less time and memory.
                image.draft("RGB", (images.LARGE_WIDTH, images.LARGE_WIDTH * 3 // 4))
            image.load()
    except UploadRejected:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise UploadRejected(TOO_MANY_PIXELS) from error
    except Exception as error:  # Pillow raises OSError, SyntaxError, ValueError... for broken files
        raise UploadRejected(BROKEN) from error
    if width < 1 or height < 1:
        raise UploadRejected(BROKEN)
    return image


def _delete_incoming(key: str) -> None:
    from chalicelib.aws import s3_client

    s3_client().delete_object(Bucket=get_settings().upload_bucket, Key=key)


def _forget_incoming(key: str) -> None:
    """After the image is attached: removing the original is housekeeping (the bucket's lifecycle
    rule expires `incoming/` after a day), so S3 failing here must not fail the confirmation."""
    try:
        _delete_incoming(key)
    except Exception:
        log_event("incoming_not_deleted", logging.WARNING, key=key)


def _forget_published(image: ShoeImage) -> None:
    """The image could not be attached: its published copies must not linger (best effort)."""
    try:
        images.delete_image_objects(image)
    except Exception:
        log_event("published_image_not_deleted", logging.WARNING, key=image.large_key)


def confirm_upload(shoe_id: str, key: str, admin: str) -> ShoeImage:
    """Verify, publish and attach an upload; a bad file raises UploadRejected."""
    match = KEY_RE.match(key or "")
    if not match or match.group("shoe") != shoe_id:
        raise ValidationFailed({"key": "That is not an upload for this shoe."}, MISSING)
    shoe = get_shoe(shoe_id)
    if len(shoe.images) >= MAX_IMAGES:
        _delete_incoming(key)
        raise UploadRejected(f"A shoe can have at most {MAX_IMAGES} images. Delete one first.")
    try:
        image = decode_image(_read_incoming(key))
    except UploadRejected as error:
        audit.record(admin, "image.rejected", shoe_id=shoe_id, key=key, reason=error.message)
        _delete_incoming(key)
        raise
    # From here on a failure (S3 or DynamoDB unavailable) leaves the incoming object in place and
    # nothing published, so confirming again works; the image id comes from the upload's key, so a
    # double submit that read the object twice finds the id in the list and adds nothing.
    published = images.publish_image(shoe_id, image)
    new_image = ShoeImage(**{**published, "image_id": match.group("token")[:16]})
    appended: list[bool] = []

    def append(current: list[ShoeImage]) -> list[ShoeImage]:
        appended.clear()
        if any(image.image_id == new_image.image_id for image in current):
            return current
        appended.append(True)
        return [*current, new_image]

    try:
        _change_images(shoe_id, append)
    except (NotFound, Conflict):
        images.delete_image_objects(new_image)
        _delete_incoming(key)
        raise
    except Exception:
        _forget_published(new_image)
        raise
    _forget_incoming(key)
    if not appended:
        images.delete_image_objects(new_image)
        return _find(get_shoe(shoe_id).images, new_image.image_id)
    audit.record(admin, "image.add", shoe_id=shoe_id, image_id=new_image.image_id)
    return new_image


def _change_images(shoe_id: str, change: Callable[[list[ShoeImage]], list[ShoeImage]]) -> list[ShoeImage]:
    """Apply `change` to the image list, conditioned on `images_version` (retried when two changes cross)."""
    for _attempt in range(4):
        shoe = get_shoe(shoe_id)
        new_list = change(list(shoe.images))
        seen = int(shoe.images_version or 0)
        condition = Shoe.images_version == seen
        if seen == 0:
            condition |= Shoe.images_version.does_not_exist()
        actions = [
            Shoe.images.set(new_list),
            Shoe.images_version.set(seen + 1),
            Shoe.updated_at.set(clock.now()),
        ]
        try:
            # The connection-level update leaves `version` alone: the product form stays current.
            Shoe._get_connection().update_item(shoe_id, actions=actions, condition=condition & Shoe.shoe_id.exists())
        except UpdateError as error:
            if condition_failed(error):
                continue
            raise
        return new_list
    raise Conflict("The images changed several times at once. Reload the page and try again.")


def _find(images_list: list[ShoeImage], image_id: str) -> ShoeImage:
    for image in images_list:
        if image.image_id == image_id:
            return image
    raise NotFound("That image is no longer on this shoe.")


def make_primary(shoe_id: str, image_id: str, admin: str) -> None:
    def change(current: list[ShoeImage]) -> list[ShoeImage]:
        chosen = _find(current, image_id)
        return [chosen, *(image for image in current if image.image_id != image_id)]

    _change_images(shoe_id, change)
    audit.record(admin, "image.primary", shoe_id=shoe_id, image_id=image_id)


def move_image(shoe_id: str, image_id: str, offset: int, admin: str) -> None:
    """Move one image up (-1) or down (+1) in the list; the first is the primary."""

    def change(current: list[ShoeImage]) -> list[ShoeImage]:
        chosen = _find(current, image_id)
        position = current.index(chosen)
        target = max(0, min(len(current) - 1, position + offset))
        current.pop(position)
        current.insert(target, chosen)
        return current

    _change_images(shoe_id, change)
    audit.record(admin, "image.move", shoe_id=shoe_id, image_id=image_id, offset=offset)


def reorder_images(shoe_id: str, image_ids: list[str], admin: str) -> None:
    def change(current: list[ShoeImage]) -> list[ShoeImage]:
        if sorted(image_ids) != sorted(image.image_id for image in current):
            raise ValidationFailed({"image_ids": "List every image of the shoe exactly once."})
        by_id = {image.image_id: image for image in current}
        return [by_id[image_id] for image_id in image_ids]

    _change_images(shoe_id, change)
    audit.record(admin, "image.reorder", shoe_id=shoe_id)


def delete_image(shoe_id: str, image_id: str, admin: str) -> None:
    removed: list[ShoeImage] = []

    def change(current: list[ShoeImage]) -> list[ShoeImage]:
        removed[:] = [_find(current, image_id)]
        return [image for image in current if image.image_id != image_id]

    _change_images(shoe_id, change)
    if removed and owns_image_objects(shoe_id, removed[0]):
        images.delete_image_objects(removed[0])
    audit.record(admin, "image.delete", shoe_id=shoe_id, image_id=image_id)
