"""Times read in the shop's timezone (SHOP_TIMEZONE) with the zone named, on pages and in emails."""

from datetime import UTC, datetime

import pytest

from chalicelib import formatting
from chalicelib.config import get_settings
from chalicelib.models import Order
from tests.factories import make_shoe
from tests.test_orders_routes import place_via_pages


@pytest.fixture
def shop_timezone(monkeypatch):
    def use(name: str) -> None:
        monkeypatch.setenv("SHOP_TIMEZONE", name)
        get_settings.cache_clear()

    yield use
    monkeypatch.delenv("SHOP_TIMEZONE", raising=False)
    get_settings.cache_clear()


def test_a_utc_time_reads_in_the_shops_zone_with_the_zone_named(shop_timezone):
    winter = datetime(2026, 12, 2, 19, 5, tzinfo=UTC)
    summer = datetime(2026, 7, 2, 19, 5, tzinfo=UTC)
    assert get_settings().shop_timezone == "America/New_York"  # the default: a US shop (USD, +1 phone)
    assert formatting.format_datetime(winter) == "2 Dec 2026, 14:05 EST"
    assert formatting.format_datetime(summer) == "2 Jul 2026, 15:05 EDT"
    late = datetime(2026, 12, 3, 3, 30, tzinfo=UTC)  # still the 2nd in New York
    assert formatting.format_date(late) == "2 Dec 2026"
    shop_timezone("Europe/Dublin")
    assert formatting.format_datetime(summer) == "2 Jul 2026, 20:05 IST"
    assert formatting.format_datetime(winter.replace(tzinfo=None)) == "2 Dec 2026, 19:05 GMT"  # naive is UTC
    assert formatting.format_datetime(None) == "" and formatting.format_date(None) == ""


def test_an_unknown_zone_falls_back_to_utc_and_says_so(shop_timezone):
    shop_timezone("Mars/Olympus_Mons")
    assert formatting.format_datetime(datetime(2026, 12, 2, 19, 5, tzinfo=UTC)) == "2 Dec 2026, 19:05 UTC"


def test_order_pages_and_the_admin_show_the_shops_time(shopper, other_web, admin_account):
    order_id = place_via_pages(shopper, make_shoe(stock={"42": 5}).shoe_id)
    placed = formatting.format_datetime(Order.get(order_id).created_at)
    assert placed.endswith((" EST", " EDT"))
    assert placed in shopper.get(f"/orders/{order_id}").body.decode()
    assert other_web.admin_login().status_code == 303
    assert placed in other_web.get(f"/admin/orders/{order_id}").body.decode()
