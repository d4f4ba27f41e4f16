"""Product images: re-encoded WebP sizes under `images/<shoe_id>/`, and presigned (or CDN) URLs."""

import contextlib
import io
import time
import uuid
from types import SimpleNamespace
from typing import Any

from chalicelib.config import get_settings

THUMB_SIZE = (480, 360)
LARGE_SIZE = (1200, 900)
PUBLIC_PREFIX = "images/"
INCOMING_PREFIX = "incoming/"
# A presigned URL is reused this long (signed for twice as long), so browsers can cache images.
URL_REUSE_SECONDS = 3000
URL_EXPIRES_SECONDS = 2 * URL_REUSE_SECONDS

_url_cache: dict[str, tuple[float, str]] = {}


def image_url(key: str | None) -> str:
    if not key:
        return ""
    settings = get_settings()
    if settings.image_cdn_base_url:
        return f"{settings.image_cdn_base_url}/{key}"
    cached = _url_cache.get(key)
    now = time.monotonic()
    if cached and now - cached[0] < URL_REUSE_SECONDS:
        return cached[1]
    from chalicelib.aws import s3_client

    url = s3_client().generate_presigned_url(
        "get_object", Params={"Bucket": settings.upload_bucket, "Key": key}, ExpiresIn=URL_EXPIRES_SECONDS
    )
    _url_cache[key] = (now, url)
    return url


def _encode(image: Any, box: tuple[int, int]) -> tuple[bytes, int, int]:
    from PIL import Image

    copy = image.copy()
    copy.thumbnail(box, Image.Resampling.LANCZOS)
    out = io.BytesIO()
    copy.save(out, format="WEBP", quality=82, method=4)
    return out.getvalue(), copy.width, copy.height


def publish_image(shoe_id: str, image: Any) -> dict[str, Any]:
    """Re-encode both sizes, upload them, return the ShoeImage fields (re-encoding drops metadata)."""
    from chalicelib.aws import s3_client

    image = image.convert("RGBA") if image.mode in ("P", "LA") else image
    if image.mode == "RGBA":
        from PIL import Image

        background = Image.new("RGB", image.size, (255, 255, 255))
        background.paste(image, mask=image.split()[-1])
        image = background
    elif image.mode != "RGB":
        image = image.convert("RGB")
    image_id = uuid.uuid4().hex[:12]
    bucket = get_settings().upload_bucket
    thumb, _, _ = _encode(image, THUMB_SIZE)
    large, width, height = _encode(image, LARGE_SIZE)
    keys = {
        "thumb_key": f"{PUBLIC_PREFIX}{shoe_id}/{image_id}-thumb.webp",
        "large_key": f"{PUBLIC_PREFIX}{shoe_id}/{image_id}-large.webp",
    }
    s3 = s3_client()
    try:
        for key, body in ((keys["thumb_key"], thumb), (keys["large_key"], large)):
            s3.put_object(
                Bucket=bucket,
                Key=key,
                Body=body,
                ContentType="image/webp",
                CacheControl="public, max-age=31536000, immutable",
            )
    except Exception:
        # S3 failed part way: leave no half-published pair behind (best effort; S3 may still be down).
        with contextlib.suppress(Exception):
            delete_image_objects(SimpleNamespace(**keys))
        raise
    return {"image_id": image_id, **keys, "width": width, "height": height}


def delete_image_objects(image: Any) -> None:
    from chalicelib.aws import s3_client

    s3_client().delete_objects(
        Bucket=get_settings().upload_bucket,
        Delete={"Objects": [{"Key": image.thumb_key}, {"Key": image.large_key}], "Quiet": True},
    )
