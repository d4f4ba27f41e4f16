"""Readable product URLs: `/shoes/<slug>-<id>`, the slug made from brand and name.

Every link to a product page is built here; the page answers any other spelling (the bare id of
older links, an outdated slug) with a 301 to this one.
"""

import re
import unicodedata
from typing import Protocol

_NOT_SLUG = re.compile(r"[^a-z0-9]+")
SLUG_MAX = 60
REF_MAX = 200  # longer `/shoes/<ref>` segments name no shoe
CANDIDATES_MAX = 64  # our slugs (SLUG_MAX) have at most 30 hyphens; BatchGetItem takes 100 keys


class Named(Protocol):
    @property
    def shoe_id(self) -> str: ...
    @property
    def brand(self) -> str: ...
    @property
    def name(self) -> str: ...


def slugify(text: str) -> str:
    """ "Stride Glide Low" -> "stride-glide-low" (accents folded, at most SLUG_MAX characters)."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return _NOT_SLUG.sub("-", folded).strip("-")[:SLUG_MAX].rstrip("-")


def path_for(shoe_id: str, title: str) -> str:
    """The canonical page of a shoe; `title` is "<brand> <name>"."""
    slug = slugify(title)
    return f"/shoes/{slug}-{shoe_id}" if slug else f"/shoes/{shoe_id}"  # ids are [A-Za-z0-9_-]


def product_path(shoe: Named) -> str:
    """The canonical page of a shoe, card or anything else with shoe_id, brand and name."""
    return path_for(shoe.shoe_id, f"{shoe.brand} {shoe.name}")


def candidate_ids(ref: str) -> list[str]:
    """The ids a `/shoes/<ref>` segment may name, longest first: the whole segment (an old link),
    then each tail after a hyphen (ids may contain hyphens themselves, like `demo-1a2b`)."""
    if not ref or len(ref) > REF_MAX:
        return []
    tails = [ref] + [ref[n + 1 :] for n, char in enumerate(ref) if char == "-" and ref[n + 1 :]]
    return tails[:CANDIDATES_MAX]
