"""Back in stock in a real browser against `make run`'s stack: a guest asks to hear about a sold-out
size, the admin sees one waiting and restocks it, the stream sends the alert through the local SES
(read with `manage.py --local outbox`), and its unsubscribe link works."""

import json
import re
import time

from playwright.sync_api import expect

from tests.browser.steps import admin_log_in, shoe_name, unique

ALERT_WAIT_SECONDS = 60  # the poller runs every second; a loaded machine lags


def sent_alert(stack, recipient: str) -> dict:
    deadline = time.monotonic() + ALERT_WAIT_SECONDS
    while True:
        listed = stack.manage("outbox", "--json")
        assert listed.returncode == 0, listed.stderr
        found = [mail for mail in json.loads(listed.stdout) if recipient in mail["to"]]
        if found or time.monotonic() > deadline:
            assert found, f"no email to {recipient}"
            return found[0]
        time.sleep(1)


def test_a_guest_hears_once_when_a_sold_out_size_is_restocked(shop, stockroom):
    page = shop.page
    name = shoe_name("Harbour Boot")
    shoe = stockroom.add_shoe(name, {"38": 0, "39": 2})
    guest = f"{unique('waiting')}@example.com"

    shop.goto(f"/shoes/{shoe['shoe_id']}")
    page.get_by_label("Sold-out size", exact=True).select_option("38")
    page.get_by_label("Email", exact=True).fill(guest)
    shop.click_button("Email me when it's back")
    expect(page.locator(".flashes")).to_contain_text(f"We will email {guest} once when EU 38")

    admin_log_in(shop)
    shop.goto(f"/admin/shoes/{shoe['shoe_id']}/edit")
    expect(page.locator("#field-stock_38-waiting")).to_have_text("1 waiting")
    page.locator("#field-adjust-size").select_option("38")
    page.get_by_label("Change", exact=True).fill("3")
    shop.click_button("Adjust stock")
    expect(page.locator(".flashes")).to_contain_text("Size 38 now has 3 in stock.")

    alert = sent_alert(shop.stack, guest)
    assert alert["subject"] == f"Back in stock: Stride {name} in EU 38 · UK 4.5 · US 6.5"
    [unsubscribe] = [link for link in alert["links"] if "/restock/unsubscribe?token=" in link]
    shop.goto(re.sub(r"^https?://[^/]+", "", unsubscribe))
    shop.click_button("Unsubscribe")
    expect(page.get_by_role("status")).to_contain_text(f"Unsubscribed: we will not email {guest}")
    shop.goto(f"/admin/shoes/{shoe['shoe_id']}/edit")
    expect(page.locator("#field-stock_38-waiting")).to_have_count(0)
