"""Product images: re-encoded WebP widths under `images/<shoe_id>/`, and presigned (or CDN) URLs.

Each upload becomes WIDTHS WebP files, `<image_id>-<width>w.webp` (each at most that wide, never
upscaled), so pages offer a srcset and the browser picks the smallest that fills its slot. The
width is in the key, so a card (which keeps only its thumb key) can name the others too. Images
from before (`-thumb.webp`, `-large.webp`) have no srcset and keep working.
"""

import contextlib
import io
import re
import time
import uuid
from types import SimpleNamespace
from typing import Any

from chalicelib.config import get_settings

WIDTHS = (320, 480, 800, 1200)  # 4:3 boxes; 480 is the card's thumb, 1200 the product's large image
THUMB_WIDTH = 480
LARGE_WIDTH = 1200
_WIDTH_KEY = re.compile(r"^(?P<stem>.+)-(?P<width>\d+)w\.webp$")
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


def _encode(image: Any, width: int) -> tuple[bytes, int, int]:
    from PIL import Image

    copy = image.copy()
    copy.thumbnail((width, width * 3 // 4), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    copy.save(out, format="WEBP", quality=82, method=4)
    return out.getvalue(), copy.width, copy.height


def width_key(stem: str, width: int) -> str:
    return f"{stem}-{width}w.webp"


def variant_keys(key: str) -> dict[int, str]:
    """Every width's key for one of an image's keys ({} for images from before widths)."""
    match = _WIDTH_KEY.match(key or "")
    if not match:
        return {}
    return {width: width_key(match.group("stem"), width) for width in WIDTHS}


def srcset(key: str | None) -> str:
    """`url 320w, url 480w, ...` for an image key, or "" when the image has one size only."""
    return ", ".join(f"{image_url(variant)} {width}w" for width, variant in variant_keys(key or "").items())


def _flatten(image: Any) -> Any:
    image = image.convert("RGBA") if image.mode in ("P", "LA") else image
    if image.mode == "RGBA":
        from PIL import Image

        background = Image.new("RGB", image.size, (255, 255, 255))
        background.paste(image, mask=image.split()[-1])
        return background
    return image if image.mode == "RGB" else image.convert("RGB")


def publish_image(shoe_id: str, image: Any) -> dict[str, Any]:
    """Re-encode every width, upload them, return the ShoeImage fields (re-encoding drops metadata)."""
    from chalicelib.aws import s3_client

    image = _flatten(image)
    image_id = uuid.uuid4().hex[:12]
    bucket = get_settings().upload_bucket
    stem = f"{PUBLIC_PREFIX}{shoe_id}/{image_id}"
    encoded = {width: _encode(image, width) for width in WIDTHS}
    keys = {"thumb_key": width_key(stem, THUMB_WIDTH), "large_key": width_key(stem, LARGE_WIDTH)}
    _, width, height = encoded[LARGE_WIDTH]
    s3 = s3_client()
    try:
        for size, (body, _, _) in encoded.items():
            s3.put_object(
                Bucket=bucket,
                Key=width_key(stem, size),
                Body=body,
                ContentType="image/webp",
                CacheControl="public, max-age=31536000, immutable",
            )
    except Exception:
        # S3 failed part way: leave no half-published set behind (best effort; S3 may still be down).
        with contextlib.suppress(Exception):
            delete_image_objects(SimpleNamespace(**keys))
        raise
    return {"image_id": image_id, **keys, "width": width, "height": height}


def delete_image_objects(image: Any) -> None:
    from chalicelib.aws import s3_client

    s3_client().delete_objects(
        Bucket=get_settings().upload_bucket,
        Delete={"Objects": [{"Key": key} for key in _all_keys(image)], "Quiet": True},
    )


def _all_keys(image: Any) -> list[str]:
    keys = {image.thumb_key, image.large_key, *variant_keys(image.large_key).values()}
    return sorted(key for key in keys if key)
