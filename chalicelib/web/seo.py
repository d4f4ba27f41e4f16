"""What a page tells search engines and link previews: description, canonical URL, noindex,
Open Graph/Twitter tags and schema.org structured data (JSON-LD, rendered by base.html)."""

from dataclasses import dataclass, field
from typing import Any

from chalicelib.config import get_settings
from chalicelib.product_links import product_path
from chalicelib.services.shoes import CATEGORIES, DEPARTMENTS
from chalicelib.services.site_map import DISALLOWED

DEFAULT_DESCRIPTION = (
    "Stride Shoes: sneakers, running shoes, boots and sandals for women, men and kids. "
    "See what is in stock in your size."
)
DESCRIPTION_MAX = 160
SCHEMA = "https://schema.org"


@dataclass(frozen=True)
class PageMeta:
    """What a view says about its page; anything left out gets the defaults."""

    description: str = DEFAULT_DESCRIPTION
    canonical_path: str | None = None  # None: the page's own path, without its query
    canonical_query: dict[str, str] = field(default_factory=dict)
    image: str = ""
    og_type: str = "website"
    structured_data: tuple[dict[str, Any], ...] = ()
    noindex: bool = False


@dataclass(frozen=True)
class ResolvedMeta:
    description: str
    noindex: bool
    canonical: str
    image: str
    og_type: str
    structured_data: tuple[dict[str, Any], ...]


def is_private(path: str) -> bool:
    """Pages robots.txt disallows (account, cart, checkout, orders, back office) are noindex too."""
    return any(path == prefix.rstrip("/") or path.startswith(prefix) for prefix in DISALLOWED)


def shorten(text: str, limit: int = DESCRIPTION_MAX) -> str:
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    return text[: limit - 1].rsplit(" ", 1)[0].rstrip(",.;:") + "…"


def resolve(ctx: Any, meta: PageMeta | None, status: int) -> ResolvedMeta:
    meta = meta or PageMeta()
    canonical = ctx.absolute_url(meta.canonical_path or ctx.path, **meta.canonical_query)
    return ResolvedMeta(
        description=shorten(meta.description or DEFAULT_DESCRIPTION),
        noindex=meta.noindex or status >= 400 or is_private(ctx.path),
        canonical=canonical,
        image=meta.image,
        og_type=meta.og_type,
        structured_data=meta.structured_data,
    )


def listing_meta(department: str, description: str) -> PageMeta:
    """Every listing (filtered, sorted, paged) names the unfiltered or department page as canonical."""
    label = DEPARTMENTS.get(department, "")
    text = f"Shoes {description}. " if description else (f"Shoes for {label.lower()}. " if label else "")
    return PageMeta(
        description=text + DEFAULT_DESCRIPTION if text else DEFAULT_DESCRIPTION,
        canonical_path="/",
        canonical_query={"department": department} if label else {},
    )


def _price(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"


def product_meta(
    ctx: Any,
    shoe: Any,
    sold_out: bool,
    image_urls: list[str],
    price_label: str,
    rating: float | None = None,
    review_count: int = 0,
) -> PageMeta:
    """Product page: description from the product, its picture for previews, Product (with its
    AggregateRating once it has reviews) and BreadcrumbList structured data."""
    path = product_path(shoe)
    url = ctx.absolute_url(path)
    department = DEPARTMENTS.get(shoe.department, shoe.department)
    category = CATEGORIES.get(shoe.category, shoe.category)
    summary = f"{shoe.brand} {shoe.name} in {shoe.colour}: {category.lower()} for {department.lower()}, {price_label}."
    description = f"{summary} {shoe.description}" if shoe.description else summary
    product: dict[str, Any] = {
        "@context": SCHEMA,
        "@type": "Product",
        "name": f"{shoe.brand} {shoe.name}",
        "sku": shoe.shoe_id,
        "brand": {"@type": "Brand", "name": shoe.brand},
        "color": shoe.colour,
        "description": shorten(description, 500),
        "offers": {
            "@type": "Offer",
            "url": url,
            "price": _price(int(shoe.price_cents)),
            "priceCurrency": get_settings().currency,
            "availability": f"{SCHEMA}/{'OutOfStock' if sold_out else 'InStock'}",
            "itemCondition": f"{SCHEMA}/NewCondition",
        },
    }
    if image_urls:
        product["image"] = image_urls
    if rating is not None and review_count > 0:
        product["aggregateRating"] = {
            "@type": "AggregateRating",
            "ratingValue": rating,
            "reviewCount": review_count,
            "bestRating": 5,
            "worstRating": 1,
        }
    # The trail the page shows: Home > Men > Sneakers > the shoe.
    trail = [
        ("Home", ctx.absolute_url("/")),
        (department, ctx.absolute_url("/", department=shoe.department)),
        (category, ctx.absolute_url("/", department=shoe.department, category=shoe.category)),
        (shoe.name, url),
    ]
    breadcrumbs = {
        "@context": SCHEMA,
        "@type": "BreadcrumbList",
        "itemListElement": [
            {"@type": "ListItem", "position": position, "name": name, "item": item}
            for position, (name, item) in enumerate(trail, start=1)
        ],
    }
    return PageMeta(
        description=description,
        canonical_path=path,
        image=image_urls[0] if image_urls else "",
        og_type="product",
        structured_data=(product, breadcrumbs),
    )
