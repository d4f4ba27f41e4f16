"""url() adds the stage prefix on API Gateway's execute-api URL; none behind a custom domain or locally."""

from urllib.parse import urlencode

from chalicelib.config import get_settings


def detect_prefix(host: str, stage: str | None) -> str:
    configured = get_settings().url_prefix
    if configured is not None:
        return configured
    if stage and host.endswith(".amazonaws.com"):
        return f"/{stage}"
    return ""


def build_url(prefix: str, path: str, query: dict | None = None) -> str:
    if not path.startswith("/"):
        path = "/" + path
    url = prefix + path
    if query:
        pairs = [(k, v) for k, v in query.items() if v not in (None, "")]
        if pairs:
            url += "?" + urlencode(pairs, doseq=True)
    return url


def safe_next(target: str | None, default: str = "/") -> str:
    """A local path for a post-login redirect; anything that could leave the site becomes default."""
    if not target or len(target) > 512:
        return default
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in target):
        return default
    return target
