"""Stock at a glance: the product list's thumbnails, pairs per size and shoppers waiting per
sold-out size; the stock forms' wording and kept choices."""

import re

from chalicelib.models import Shoe, ShoeImage
from chalicelib.services import back_in_stock
from tests.factories import shoe_via_admin
from tests.test_admin_routes import dynamodb_calls


def _wait_for(shoe_id: str, size: str, *emails: str) -> None:
    for email in emails:
        back_in_stock.subscribe(shoe_id, size, email, "10.0.0.1")


def test_the_product_list_shows_thumbnails_pairs_per_size_and_who_waits(admin):
    shoe = shoe_via_admin({"40": 0, "41": 1, "42": 6}, department="men", name="Glance Runner")
    Shoe.get(shoe.shoe_id).update(
        actions=[
            Shoe.images.set([ShoeImage(image_id="t", thumb_key="images/g/t-480w.webp", large_key="images/g/t.webp")])
        ]
    )
    _wait_for(shoe.shoe_id, "40", "a@example.com", "b@example.com")
    html = admin.get("/admin/shoes").body.decode()
    assert re.search(r'<img class="thumb" src="[^"]*images/g/t-480w\.webp', html)
    sizes = re.findall(
        r"<li class=\"[^\"]*\">(\d+): (\d+)(?: <span class=\"waiting\">\((\d+) waiting\)</span>)?</li>", html
    )
    by_size = {size: (pairs, waiting) for size, pairs, waiting in sizes}
    assert (by_size["40"], by_size["41"], by_size["42"]) == (("0", "2"), ("1", ""), ("6", ""))
    sold_out = sum(1 for pairs, _ in by_size.values() if pairs == "0")
    assert f"{sold_out} sizes sold out" in html and "Low stock: 1 size<" in html and "7 pairs" in html
    assert "1 sizes" not in html


def test_a_shoe_without_a_photo_says_so_in_the_list(admin):
    shoe_via_admin({"42": 1})
    assert "No photo" in admin.get("/admin/shoes").body.decode()


def test_the_list_page_costs_the_same_with_more_shoppers_waiting(admin):
    shoe = shoe_via_admin({"40": 0, "41": 0})
    with dynamodb_calls() as quiet:
        admin.get("/admin/shoes")
    _wait_for(shoe.shoe_id, "40", *(f"w{n}@example.com" for n in range(5)))
    with dynamodb_calls() as busy:
        assert "(5 waiting)" in admin.get("/admin/shoes").body.decode()
    assert len(busy) == len(quiet)  # maintained counters: no Query per subscriber


def test_waiting_for_reads_more_than_one_batch_of_counters():
    shoe = shoe_via_admin({"42": 0})
    _wait_for(shoe.shoe_id, "42", "late@example.com")
    pairs = [(f"shoe{n:03d}", "42") for n in range(150)] + [(shoe.shoe_id, "42")]  # the last in a second batch
    counts = back_in_stock.waiting_for(pairs)
    assert len(counts) == 151 and counts[(shoe.shoe_id, "42")] == 1 and counts[("shoe000", "42")] == 0


def test_stock_messages_agree_in_number(admin):
    shoe = shoe_via_admin({"42": 1, "43": 2, "44": 3})
    edit = f"/admin/shoes/{shoe.shoe_id}/edit"
    refused = admin.post_form(f"{edit[:-5]}/stock/adjust", {"size": "42", "delta": "-3"}, csrf_page=edit)
    assert "Only 1 pair of size 42 is in stock; cannot remove 3." in refused.body.decode()
    one = admin.post_form(f"{edit[:-5]}/stock", {"stock_42": "5", "seen_42": "1"}, csrf_page=edit)
    assert one.status_code == 303 and "Stock saved for size 42." in admin.get(edit).body.decode()
    form = {"stock_43": "7", "seen_43": "2", "stock_44": "8", "seen_44": "3"}
    assert admin.post_form(f"{edit[:-5]}/stock", form, csrf_page=edit).status_code == 303
    assert "Stock saved for sizes 43 and 44." in admin.get(edit).body.decode()


def test_the_adjust_form_keeps_the_size_and_change_after_an_error(admin):
    shoe = shoe_via_admin({"42": 1, "43": 2, "44": 3})
    edit = f"/admin/shoes/{shoe.shoe_id}/edit"
    refused = admin.post_form(f"{edit[:-5]}/stock/adjust", {"size": "44", "delta": "lots"}, csrf_page=edit)
    html = refused.body.decode()
    assert refused.status_code == 400
    assert '<option value="44" selected>44</option>' in html and '<option value="42">42</option>' in html
    assert 'name="delta" type="number" min="-100000" max="100000" required value="lots"' in html
