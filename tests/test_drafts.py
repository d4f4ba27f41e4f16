"""Drafts: a new shoe stays out of the shop (pages, listing, search, sitemap, API, read model) until
an owner publishes it, which needs a photo unless confirmed; archived shoes answer 410 with
similar shoes; deleting a shoe or a photo goes through a confirmation page."""

import json
import re

import pytest

from chalicelib.models import Shoe, ShoeImage
from chalicelib.services import catalogue_index, products
from chalicelib.services.errors import Conflict, ValidationFailed
from tests.catalogue_fixtures import seed
from tests.factories import ADMIN, make_shoe, numbered_shoe, shoe_via_admin


def _with_photo(shoe: Shoe) -> Shoe:
    stored = Shoe.get(shoe.shoe_id)
    image = ShoeImage(image_id="p1", thumb_key=f"images/{shoe.shoe_id}/p1-480w.webp", large_key="images/x/p1.webp")
    stored.update(actions=[Shoe.images.set([image])])
    return stored


def _shopper_sees(web, shoe: Shoe) -> dict[str, bool]:
    listing = web.get("/").body.decode()
    search = web.get(f"/?q={shoe.name.split()[0]}").body.decode()
    sitemap = web.get("/sitemaps/1.xml").body.decode() + web.get("/sitemap.xml").body.decode()
    api_listing = json.loads(web.get("/api/v1/shoes", headers={"accept": "application/json"}).body)
    link = f'href="/shoes/{shoe.shoe_id}"'
    return {
        "page": web.get(f"/shoes/{shoe.shoe_id}").status_code == 200,
        "listing": link in listing,
        "search": link in search,
        "sitemap": f"/shoes/{shoe.shoe_id}<" in sitemap,
        "api": web.get(f"/api/v1/shoes/{shoe.shoe_id}", headers={"accept": "application/json"}).status_code == 200,
        "api_listing": shoe.shoe_id in [item["shoe_id"] for item in api_listing["items"]],
    }


def test_a_new_shoe_is_a_draft_nowhere_in_the_shop_until_published(web, drain_streams):
    shoe = shoe_via_admin({"42": 3}, draft=True, name="Quiet Loafer")
    drain_streams()
    assert Shoe.get(shoe.shoe_id).status == "draft"
    assert catalogue_index.current(force=True).card(shoe.shoe_id) is None
    assert catalogue_index.rebuild().card(shoe.shoe_id) is None  # a full rebuild leaves it out too
    assert _shopper_sees(web, shoe) == dict.fromkeys(_shopper_sees(web, shoe), False)
    page = web.get(f"/shoes/{shoe.shoe_id}")
    assert page.status_code == 404 and "Quiet Loafer" not in page.body.decode()

    products.publish_shoe(shoe.shoe_id, ADMIN, without_photo=True)
    drain_streams()
    catalogue_index.current(force=True)
    assert _shopper_sees(web, shoe) == dict.fromkeys(_shopper_sees(web, shoe), True)


def test_publishing_without_a_photo_is_refused_unless_confirmed():
    shoe = shoe_via_admin({"42": 3}, draft=True)
    with pytest.raises(ValidationFailed) as refused:
        products.publish_shoe(shoe.shoe_id, ADMIN)
    assert "without_photo" in refused.value.errors
    assert Shoe.get(shoe.shoe_id).status == "draft"
    assert products.publish_shoe(shoe.shoe_id, ADMIN, without_photo=True).status == "active"
    with pytest.raises(Conflict):  # once only
        products.publish_shoe(shoe.shoe_id, ADMIN)


def test_a_draft_with_a_photo_publishes_and_drafts_are_not_archived():
    shoe = _with_photo(shoe_via_admin({"42": 3}, draft=True))
    with pytest.raises(Conflict):
        products.archive_shoe(shoe.shoe_id, ADMIN)
    with pytest.raises(Conflict):
        products.restore_shoe(shoe.shoe_id, ADMIN)
    assert products.publish_shoe(shoe.shoe_id, ADMIN).status == "active"


def test_drafts_are_listed_in_the_back_office_under_their_own_filter():
    draft = shoe_via_admin(draft=True, name="Draft Boot")
    live = shoe_via_admin(name="Live Boot")
    assert [s.shoe_id for s in products.list_shoes("draft").items] == [draft.shoe_id]
    assert [s.shoe_id for s in products.list_shoes("active").items] == [live.shoe_id]
    assert {s.shoe_id for s in products.list_shoes("all").items} == {draft.shoe_id, live.shoe_id}


def test_the_publish_form_refuses_a_photoless_draft_until_the_box_is_ticked(admin):
    shoe = shoe_via_admin({"42": 3}, draft=True)
    edit = f"/admin/shoes/{shoe.shoe_id}/edit"
    page = admin.get(edit).body.decode()
    assert "Publish without a photo" in page and f'href="/admin/shoes/{shoe.shoe_id}/preview"' in page
    refused = admin.post_form(f"/admin/shoes/{shoe.shoe_id}/publish", {}, csrf_page=edit)
    assert refused.status_code == 400 and "Add a photo first" in refused.body.decode()
    assert 'aria-invalid="true"' in refused.body.decode()
    assert Shoe.get(shoe.shoe_id).status == "draft"
    done = admin.post_form(f"/admin/shoes/{shoe.shoe_id}/publish", {"without_photo": "yes"}, csrf_page=edit)
    assert done.status_code == 303 and Shoe.get(shoe.shoe_id).status == "active"
    assert "is published" in admin.get(edit).body.decode()


def test_the_api_publishes_a_draft_with_the_same_rule(admin):
    shoe = shoe_via_admin({"42": 3}, draft=True)
    token = admin.csrf_token("/admin")
    headers = {"content-type": "application/json", "accept": "application/json", "x-csrf-token": token}
    path = f"/api/v1/admin/shoes/{shoe.shoe_id}/publish"
    refused = admin.request("POST", path, body="{}", headers=headers)
    assert refused.status_code == 422 and "without_photo" in json.loads(refused.body)["error"]["fields"]
    done = admin.request("POST", path, body=json.dumps({"without_photo": True}), headers=headers)
    assert done.status_code == 200 and json.loads(done.body)["shoe"]["status"] == "active"


def test_admins_preview_a_draft_as_shoppers_will_see_it_and_shoppers_cannot(admin, other_web):
    shoe = shoe_via_admin({"42": 3}, draft=True, name="Secret Sneaker")
    preview = admin.get(f"/admin/shoes/{shoe.shoe_id}/preview")
    body = preview.body.decode()
    assert preview.status_code == 200 and "Secret Sneaker" in body and "this draft is not in the shop yet" in body
    assert 'name="robots" content="noindex' in body
    assert other_web.get(f"/admin/shoes/{shoe.shoe_id}/preview").status_code == 303  # to the admin login
    other_web.register("carol")
    assert other_web.get(f"/admin/shoes/{shoe.shoe_id}/preview").status_code == 403


def test_an_archived_shoe_answers_410_with_similar_shoes_of_its_kind(web):
    gone = numbered_shoe(1, status="archived", category="boots", department="women")
    alike = numbered_shoe(2, category="boots", department="women")
    other_kind = numbered_shoe(3, category="sandals", department="women")
    draft = numbered_shoe(4, status="draft", category="boots", department="women")
    seed([gone, alike, other_kind, draft])
    response = web.get(f"/shoes/{gone.shoe_id}")
    body = response.body.decode()
    assert response.status_code == 410
    assert "is no longer sold" in body and gone.name in body
    links = set(re.findall(r'href="/shoes/([^"]+)"', body))
    assert links == {alike.shoe_id}


def test_deleting_a_shoe_asks_on_a_page_that_works_without_script(admin):
    shoe = make_shoe({"42": 0}, status="draft")
    edit = admin.get(f"/admin/shoes/{shoe.shoe_id}/edit").body.decode()
    assert f'href="/admin/shoes/{shoe.shoe_id}/delete"' in edit
    assert f'action="/admin/shoes/{shoe.shoe_id}/delete"' not in edit  # no one-click delete
    confirm = admin.get(f"/admin/shoes/{shoe.shoe_id}/delete")
    page = confirm.body.decode()
    assert confirm.status_code == 200 and "cannot be undone" in page
    assert re.search(rf'<form method="post" action="/admin/shoes/{shoe.shoe_id}/delete"', page)
    assert 'name="csrf_token"' in page and "Keep it" in page
    assert Shoe.count(shoe.shoe_id) == 1  # the GET changed nothing
    assert admin.post_form(f"/admin/shoes/{shoe.shoe_id}/delete", {}, csrf=False).status_code == 403
    done = admin.post_form(f"/admin/shoes/{shoe.shoe_id}/delete", {}, csrf_page=f"/admin/shoes/{shoe.shoe_id}/delete")
    assert done.status_code == 303 and Shoe.count(shoe.shoe_id) == 0


def test_deleting_a_photo_asks_first(admin):
    shoe = _with_photo(make_shoe({"42": 1}))
    edit = admin.get(f"/admin/shoes/{shoe.shoe_id}/edit").body.decode()
    confirm_path = f"/admin/shoes/{shoe.shoe_id}/images/p1/delete"
    assert f'href="{confirm_path}"' in edit
    page = admin.get(confirm_path).body.decode()
    assert "Delete this photo" in page and "p1-480w.webp" in page
    assert len(Shoe.get(shoe.shoe_id).images) == 1
    assert admin.post_form(confirm_path, {}, csrf_page=confirm_path).status_code == 303
    assert Shoe.get(shoe.shoe_id).images == []
    gone = admin.get(confirm_path)
    assert gone.status_code == 303  # nothing left to confirm: back to the edit page
