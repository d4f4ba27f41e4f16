"""Responsive images: every width is named in srcset with sizes, the first row of cards and the
product's main picture load at once with high priority, everything else lazily."""

import re

from chalicelib.models.catalogue import ShoeImage
from chalicelib.product_links import product_path
from chalicelib.services import images
from tests.catalogue_fixtures import seed
from tests.factories import make_shoe, numbered_shoe


def _image(shoe_id: str, image_id: str) -> ShoeImage:
    stem = f"images/{shoe_id}/{image_id}"
    return ShoeImage(
        image_id=image_id, thumb_key=f"{stem}-480w.webp", large_key=f"{stem}-1200w.webp", width=1200, height=900
    )


def test_srcset_names_every_width_and_old_single_size_images_have_none(monkeypatch):
    monkeypatch.setattr(images, "image_url", lambda key: f"https://cdn.example.com/{key}")
    assert images.srcset("images/s/a-480w.webp") == ", ".join(
        f"https://cdn.example.com/images/s/a-{width}w.webp {width}w" for width in images.WIDTHS
    )
    assert images.srcset("images/s/a-thumb.webp") == "" and images.srcset("") == ""


def test_first_row_of_cards_is_eager_and_high_priority_the_rest_lazy(web):
    shoes = [numbered_shoe(n) for n in range(8)]
    for shoe in shoes:
        shoe.images = [_image(shoe.shoe_id, f"p{shoe.shoe_id}")]
    seed(shoes)
    body = web.get("/").body.decode()
    tags = re.findall(r"<img [^>]*>", body)
    assert len(tags) == 8
    assert all('srcset="' in tag and "320w" in tag and "1200w" in tag and 'sizes="' in tag for tag in tags)
    assert all('fetchpriority="high"' in tag and "loading=" not in tag for tag in tags[:4])
    assert all('loading="lazy"' in tag and "fetchpriority" not in tag for tag in tags[4:])


def test_product_main_image_is_eager_and_the_other_views_lazy(web):
    shoe = make_shoe()
    shoe.images = [_image(shoe.shoe_id, "main"), _image(shoe.shoe_id, "side")]
    shoe.save()
    body = web.get(product_path(shoe)).body.decode()
    main, *thumbs = re.findall(r"<img [^>]*>", body)
    assert 'fetchpriority="high"' in main and "loading=" not in main
    assert 'sizes="(min-width: 900px) 620px, 100vw"' in main and "main-800w.webp" in main
    assert len(thumbs) == 2 and "side-480w.webp" in thumbs[1]
    assert all('loading="lazy"' in tag and "fetchpriority" not in tag and 'sizes="96px"' in tag for tag in thumbs)


def test_cart_asks_for_the_smallest_width_for_its_96_pixel_slot(web):
    shoe = make_shoe()
    shoe.images = [_image(shoe.shoe_id, "c")]
    shoe.save()
    token = re.search(r'name="csrf_token" value="([^"]+)"', web.get("/login").body.decode()).group(1)
    web.post_form("/cart/items", {"shoe_id": shoe.shoe_id, "size": "42", "quantity": "1", "csrf_token": token})
    (tag,) = re.findall(r"<img [^>]*>", web.get("/cart").body.decode())
    assert 'sizes="96px"' in tag and re.search(r"c-320w\.webp\S* 320w", tag)
