"""Static files (CSS, JS) served by the app with a content hash in the URL, cached for a year."""

import hashlib
import mimetypes
from functools import lru_cache
from pathlib import Path

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"
ONE_YEAR = 365 * 24 * 3600


@lru_cache(maxsize=1)
def manifest() -> dict[str, tuple[str, str]]:
    """Logical path ("css/shop.css") → (hashed path, file), and hashed path → the same pair."""
    entries: dict[str, tuple[str, str]] = {}
    for file in sorted(STATIC_DIR.rglob("*")):
        if not file.is_file():
            continue
        logical = file.relative_to(STATIC_DIR).as_posix()
        digest = hashlib.sha256(file.read_bytes()).hexdigest()[:10]
        stem, dot, ext = logical.rpartition(".")
        hashed = f"{stem}.{digest}.{ext}" if dot else f"{logical}.{digest}"
        entries[logical] = (hashed, str(file))
        entries["hashed:" + hashed] = (hashed, str(file))
    return entries


def hashed_path(logical: str) -> str:
    return "/static/" + manifest()[logical][0]


def lookup(hashed: str) -> tuple[str, str] | None:
    """(content type, text) of a hashed static file, or None."""
    entry = manifest().get("hashed:" + hashed)
    if entry is None:
        return None
    content_type = mimetypes.guess_type(entry[1])[0] or "application/octet-stream"
    if content_type.startswith("text/") or content_type in ("application/javascript",):
        content_type += "; charset=utf-8"
    return content_type, Path(entry[1]).read_text(encoding="utf-8")
