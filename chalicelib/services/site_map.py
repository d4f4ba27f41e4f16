"""What robots and search engines are told: robots.txt rules and the sitemap's URLs, as plain text."""

from collections.abc import Callable, Sequence
from xml.sax.saxutils import escape

# Sitemaps protocol limit: one file lists at most 50,000 URLs; past that an index lists the files.
MAX_URLS_PER_SITEMAP = 50_000
# Private pages: the back office, the account, the cart and the checkout (the orders are the account's).
DISALLOWED = ("/admin", "/account", "/orders", "/cart", "/checkout", "/login", "/register", "/api/")
SITEMAP_NS = "http://www.sitemaps.org/schemas/sitemap/0.9"


def robots_txt(url: Callable[[str], str], sitemap_url: str) -> str:
    """`url` turns a path into the site's path (stage prefix included); the Sitemap line is a full URL."""
    lines = ["User-agent: *", *(f"Disallow: {url(path)}" for path in DISALLOWED), "", f"Sitemap: {sitemap_url}"]
    return "\n".join(lines) + "\n"


def sitemap_pages(urls: Sequence[str]) -> int:
    """How many sitemap files `urls` need (at least one, even when empty)."""
    return max(1, -(-len(urls) // MAX_URLS_PER_SITEMAP))


def urlset(urls: Sequence[str]) -> str:
    entries = "".join(f"<url><loc>{escape(url)}</loc></url>" for url in urls)
    return f'<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns="{SITEMAP_NS}">{entries}</urlset>\n'


def sitemap_index(sitemap_urls: Sequence[str]) -> str:
    entries = "".join(f"<sitemap><loc>{escape(url)}</loc></sitemap>" for url in sitemap_urls)
    return f'<?xml version="1.0" encoding="UTF-8"?>\n<sitemapindex xmlns="{SITEMAP_NS}">{entries}</sitemapindex>\n'


def page_of(urls: Sequence[str], number: int) -> Sequence[str] | None:
    """URLs of sitemap file `number` (1-based), or None past the last one."""
    if not 1 <= number <= sitemap_pages(urls):
        return None
    start = (number - 1) * MAX_URLS_PER_SITEMAP
    return urls[start : start + MAX_URLS_PER_SITEMAP]
