"""Cookie parsing and Set-Cookie building (Chalice has no cookie support of its own)."""

from http.cookies import CookieError, SimpleCookie

from chalicelib.config import get_settings


def parse_cookies(header: str | None) -> dict[str, str]:
    if not header:
        return {}
    jar = SimpleCookie()
    try:
        jar.load(header)
    except CookieError:
        # One malformed cookie must not lose the others: parse pair by pair.
        result: dict[str, str] = {}
        for part in header.split(";"):
            name, _, value = part.strip().partition("=")
            if name:
                result.setdefault(name, value)
        return result
    return {key: morsel.value for key, morsel in jar.items()}


def cookie_name(base: str) -> str:
    """`__Host-` names over HTTPS: the browser then refuses them without Secure, Path=/ or with Domain."""
    return f"__Host-{base}" if get_settings().secure_cookies else base


def build_cookie(name: str, value: str, max_age: int | None = None, http_only: bool = True) -> str:
    parts = [f"{name}={value}", "Path=/", "SameSite=Lax"]
    if max_age is not None:
        parts.append(f"Max-Age={max_age}")
    if http_only:
        parts.append("HttpOnly")
    if get_settings().secure_cookies:
        parts.append("Secure")
    return "; ".join(parts)


def expire_cookie(name: str) -> str:
    return build_cookie(name, "", max_age=0)
