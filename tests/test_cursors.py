"""Page cursors (services/cursors.py): a cursor pages only the listing, and the shopper, status or
filters, it was made for; everything else is one InvalidCursor."""

import pytest

from chalicelib.services import cursors
from chalicelib.services.errors import ValidationFailed

KEY = {"order_id": {"S": "ABC"}, "status": {"S": "placed"}}


def test_a_cursor_gives_back_its_position_for_the_same_listing_and_binding():
    token = cursors.encode(cursors.ADMIN_ORDERS, KEY, {"status": "placed"})
    assert cursors.decode(cursors.ADMIN_ORDERS, token, {"status": "placed"}) == KEY
    assert cursors.decode(cursors.ADMIN_ORDERS, "", {"status": "placed"}) is None  # the first page
    assert cursors.decode(cursors.ADMIN_ORDERS, None) is None
    assert cursors.encode(cursors.ADMIN_ORDERS, None, {"status": "placed"}) is None  # the last page


@pytest.mark.parametrize(
    ("listing", "bound_to"),
    [
        (cursors.ADMIN_ORDERS, {"status": "shipped"}),  # another status
        (cursors.ADMIN_ORDERS, {}),
        (cursors.ADMIN_SHOES, {"status": "placed"}),  # another listing
        (cursors.ORDERS, {"user": "u2"}),
    ],
)
def test_a_cursor_for_another_listing_or_binding_is_refused(listing, bound_to):
    token = cursors.encode(cursors.ADMIN_ORDERS, KEY, {"status": "placed"})
    with pytest.raises(cursors.InvalidCursor):
        cursors.decode(listing, token, bound_to)


def test_damaged_cursors_are_refused_with_the_pages_message_as_a_validation_error():
    token = cursors.encode(cursors.ORDERS, KEY, {"user": "u1"})
    for bad in (token[:-3] + "AAA", "garbage", "x" * 5000):
        with pytest.raises(cursors.InvalidCursor) as raised:
            cursors.decode(cursors.ORDERS, bad, {"user": "u1"}, message="That page link is not valid.")
        assert isinstance(raised.value, ValidationFailed)
        assert raised.value.errors == {"cursor": "That page link is not valid."}


# Found by schemathesis on the old signing code: hmac.compare_digest raised TypeError on a cursor
# with non-ASCII characters, so GET /api/v1/admin/orders?cursor=.\U0010fe1e... answered 500.
NON_ASCII_CURSORS = (".\U0010fe1eÆ\x18\U000f5408,s", "é.é", "\x00.\x00")


@pytest.mark.parametrize("bad", NON_ASCII_CURSORS)
def test_a_non_ascii_cursor_is_refused_not_a_crash(bad):
    with pytest.raises(cursors.InvalidCursor):
        cursors.decode(cursors.ADMIN_ORDERS, bad, {"status": "placed"})


def test_non_ascii_cursors_get_a_400_from_the_api_and_the_first_page_in_the_back_office(admin):
    from urllib.parse import quote

    for bad in NON_ASCII_CURSORS:
        api = admin.get(f"/api/v1/admin/orders?status=placed&cursor={quote(bad)}")
        assert api.status_code == 400, api.body
        assert api.json_body["error"]["code"] == "InvalidCursor"
        page = admin.get(f"/admin/orders?status=placed&cursor={quote(bad)}")
        assert page.status_code == 200, page.body
