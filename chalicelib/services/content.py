"""Trust pages (contact, shipping, returns, privacy, terms) from Markdown files the owner edits in
chalicelib/content/, rendered once per Lambda. Raw HTML in the Markdown is not passed through.
"""

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from chalicelib.services.errors import NotFound

CONTENT_DIR = Path(__file__).resolve().parent.parent / "content"
# URL slug -> footer label, in footer order.
PAGES = {
    "contact": "Contact",
    "shipping": "Shipping",
    "returns": "Returns",
    "privacy": "Privacy",
    "terms": "Terms",
}


@dataclass(frozen=True)
class ContentPage:
    slug: str
    title: str
    description: str
    html: str  # rendered from Markdown with raw HTML disabled: safe to insert as is


def _front_matter(text: str) -> tuple[dict[str, str], str]:
    """`---` / `key: value` lines / `---` at the top, then the Markdown body."""
    if not text.startswith("---\n"):
        return {}, text
    head, _, body = text[4:].partition("\n---\n")
    fields = {}
    for line in head.splitlines():
        key, sep, value = line.partition(":")
        if sep:
            fields[key.strip()] = value.strip()
    return fields, body


@lru_cache(maxsize=len(PAGES))
def page(slug: str) -> ContentPage:
    if slug not in PAGES:
        raise NotFound("We could not find that page.")
    from markdown_it import MarkdownIt  # only the first trust page per Lambda pays for the import

    fields, body = _front_matter((CONTENT_DIR / f"{slug}.md").read_text(encoding="utf-8"))
    html = MarkdownIt("commonmark", {"html": False}).render(body)
    return ContentPage(
        slug=slug,
        title=fields.get("title", PAGES[slug]),
        description=fields.get("description", ""),
        html=html,
    )
