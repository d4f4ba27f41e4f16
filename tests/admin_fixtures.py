"""Images and S3 helpers for the back-office tests (shoes and orders: tests/factories.py)."""

import io

from chalicelib.config import get_settings


def image_bytes(fmt: str = "PNG", size: tuple[int, int] = (640, 480), colour=(200, 40, 40)) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, format=fmt)
    return out.getvalue()


def bomb_png() -> bytes:
    """A small file that claims 100 megapixels (about 12 KB compressed)."""
    from PIL import Image

    out = io.BytesIO()
    Image.new("1", (10_000, 10_000)).save(out, format="PNG", optimize=True)
    return out.getvalue()


def s3():
    from chalicelib.aws import s3_client

    return s3_client()


def put_incoming(key: str, body: bytes, content_type: str = "image/png") -> None:
    s3().put_object(Bucket=get_settings().upload_bucket, Key=key, Body=body, ContentType=content_type)


def object_keys(prefix: str) -> list[str]:
    listing = s3().list_objects_v2(Bucket=get_settings().upload_bucket, Prefix=prefix)
    return [item["Key"] for item in listing.get("Contents", [])]
