"""Order emails through the pages: placing an order and the back office's moves queue them, the
shipping form's carrier and tracking number reach the shopper, and bad input sends nothing."""

import re

from chalicelib.formatting import format_datetime
from chalicelib.models import Order
from chalicelib.services import emails, outbox
from tests.factories import make_shoe
from tests.mail_fixtures import deliver_pending
from tests.test_orders_routes import place_via_pages


def _ship_form(admin, order_id: str, **fields: str):
    page = admin.get(f"/admin/orders/{order_id}").body.decode()
    assert 'name="carrier"' in page and 'name="tracking_number"' in page
    version = re.search(r'name="version" value="(\d+)"', page).group(1)
    return admin.post_form(
        f"/admin/orders/{order_id}/status",
        {"to": "shipped", "version": version, "note": "", **fields},
        csrf_page=f"/admin/orders/{order_id}",
    )


def test_an_order_placed_and_shipped_through_the_pages_emails_the_shopper(shopper, other_web, admin_account, ses):
    shoe = make_shoe({"42": 5}, name="Trail Runner")
    order_id = place_via_pages(shopper, shoe.shoe_id, "2")
    assert other_web.admin_login().status_code == 303

    assert _ship_form(other_web, order_id, carrier="dhl", tracking_number="JD0146000012").status_code == 303
    assert Order.get(order_id).tracking_note == "DHL JD0146000012"
    deliver_pending()

    by_subject = {mail.subject: mail for mail in ses.sent()}
    number = Order.get(order_id).order_number
    confirmation = by_subject[f"Your Stride Shoes order {number} is confirmed"]
    assert confirmation.destinations == ["alice@example.com"]
    assert "Trail Runner (Stride), size EU 42, quantity 2" in confirmation.text
    shipped = by_subject[f"Your order {number} has shipped"]
    assert "Tracking number: JD0146000012" in shipped.text
    assert "tracking-id=JD0146000012" in shipped.text
    assert number in confirmation.text and number in confirmation.html
    assert f"placed {format_datetime(Order.get(order_id).created_at)}" in confirmation.text  # the shop's time


def test_the_order_pages_link_the_tracking_number_to_the_carrier(shopper, other_web, admin_account):
    shoe = make_shoe({"42": 5})
    order_id = place_via_pages(shopper, shoe.shoe_id)
    assert other_web.admin_login().status_code == 303
    assert _ship_form(other_web, order_id, carrier="ups", tracking_number="1Z999AA10123456784").status_code == 303
    link = (
        '<a href="https://www.ups.com/track?tracknum=1Z999AA10123456784" rel="noopener noreferrer">'
        "UPS 1Z999AA10123456784</a>"
    )
    page = shopper.get(f"/orders/{order_id}").body.decode()
    assert link in page and "Your parcel is on its way" in page
    assert link in other_web.get(f"/admin/orders/{order_id}").body.decode()


def test_an_unknown_carrier_shows_the_tracking_as_text(shopper):
    shoe = make_shoe({"42": 5})
    order_id = place_via_pages(shopper, shoe.shoe_id)
    order = Order.get(order_id)
    order.update(actions=[Order.tracking_number.set("AB12345"), Order.carrier.set("pigeon-post")])
    page = shopper.get(f"/orders/{order_id}").body.decode()
    assert '<dd class="tracking">AB12345</dd>' in page and "track?" not in page


def test_a_refused_shipping_form_sends_nothing(shopper, other_web, admin_account, ses):
    shoe = make_shoe({"42": 5})
    order_id = place_via_pages(shopper, shoe.shoe_id)
    assert other_web.admin_login().status_code == 303
    response = _ship_form(other_web, order_id, carrier="carrier-pigeon", tracking_number="1")
    assert response.status_code == 400
    assert "Choose a carrier from the list." in response.body.decode()
    assert Order.get(order_id).status == "placed"
    assert [item.kind for item in outbox.unsent(outbox.PENDING)] == [emails.ORDER_PLACED]
