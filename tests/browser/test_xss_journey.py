"""Script payloads in a product name and brand (typed into the back office) and a shipping address (typed at
checkout) show as text on every page that shows them, in a real browser: no injected element, no
event handler attribute, no dialog."""

import re

from playwright.sync_api import expect

from tests.browser.steps import (
    add_to_cart,
    admin_log_in,
    create_shoe,
    fill_address,
    publish_without_photo,
    register,
    unique,
    wait_until_searchable,
)

NAME_PAYLOAD = "<script>alert(1)</script><img src=x onerror=alert(2)>"
BRAND_PAYLOAD = '"><svg onload=alert(3)>'
ADDRESS_PAYLOADS = {
    "Full name": "<script>alert(4)</script>Wanda",
    "Address line 1": '"><img src=x onerror=alert(5)> 5 Harbour Road',
    "City": "<svg onload=alert(6)>Cork",
}

INJECTED = """() => {
  const isJsonLd = (el) => {
    if (el.getAttribute('type') !== 'application/ld+json') return false;
    try { JSON.parse(el.textContent); return true; } catch (error) { return false; }
  };
  const problems = [];
  for (const el of document.querySelectorAll('*')) {
    for (const attr of el.attributes) {
      if (attr.name.startsWith('on')) problems.push(`<${el.tagName.toLowerCase()} ${attr.name}>`);
    }
    // The one inline script allowed: a JSON-LD data block (never executed) that parses as JSON.
    if (el.tagName === 'SCRIPT' && !el.hasAttribute('src') && !isJsonLd(el)) problems.push('an inline <script>');
    if (el.tagName.toLowerCase() === 'svg') problems.push('an injected <svg>');
    if (el.tagName === 'IMG' && el.getAttribute('src') === 'x') problems.push('an injected <img>');
  }
  return problems;
}"""


class Watch:
    """Records any dialog a page opens (there must be none) and checks each page is inert."""

    def __init__(self, *shops) -> None:
        self.dialogs: list[str] = []
        for shop in shops:
            shop.page.on("dialog", self._on_dialog)

    def _on_dialog(self, dialog) -> None:
        self.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    def shows_as_text(self, shop, *payloads: str) -> None:
        page = shop.page
        problems = page.evaluate(INJECTED)
        assert not problems, f"{shop.path()}: {problems}"
        text = page.locator("body").text_content()
        for payload in payloads:
            assert payload in text, f"{shop.path()} does not show {payload!r} as text"
        assert not self.dialogs, f"a dialog opened on {shop.path()}: {self.dialogs}"


def test_script_payloads_in_a_product_name_and_an_address_render_as_text_everywhere(shop, other_shop):
    admin, shopper = shop, other_shop
    watch = Watch(admin, shopper)
    token = unique("Xss")
    name = f"{token} {NAME_PAYLOAD}"  # within the form's 80 characters
    address_texts = list(ADDRESS_PAYLOADS.values())

    admin_log_in(admin)
    admin.click_link("Add a shoe")
    edit_url = create_shoe(admin.page, name, brand=BRAND_PAYLOAD)
    admin.check()
    watch.shows_as_text(admin, name, BRAND_PAYLOAD)  # the admin's product detail
    assert name in admin.page.title()
    admin.goto(f"/admin/shoes?status=draft&q={token}")  # a new shoe is a draft
    expect(admin.page.locator("main table tbody tr")).to_have_count(1)
    watch.shows_as_text(admin, name, BRAND_PAYLOAD)  # the admin's product list
    publish_without_photo(admin, edit_url)

    register(shopper, unique("xss"))
    wait_until_searchable(shopper.page.request, shopper.stack, token, edit_url.rsplit("/", 2)[-2])
    for path in ("/", f"/?q={token}"):  # the newest cards, and a search
        shopper.goto(path)
        expect(shopper.page.locator(".shoe-card", has_text=token)).to_have_count(1)
        watch.shows_as_text(shopper, name, BRAND_PAYLOAD)
    shoe_id = edit_url.rsplit("/", 2)[-2]
    add_to_cart(shopper, shoe_id, "42")  # visits the product page, then the cart
    watch.shows_as_text(shopper, name)  # the cart names the shoe without its brand
    shopper.goto(f"/shoes/{shoe_id}")
    watch.shows_as_text(shopper, name, BRAND_PAYLOAD)
    assert name in shopper.page.title()

    shopper.goto("/cart")
    shopper.click_link("Checkout")
    fill_address(shopper.page, **ADDRESS_PAYLOADS)
    shopper.click_button("Review order")
    expect(shopper.page.get_by_role("heading", level=1)).to_have_text("Review your order")
    watch.shows_as_text(shopper, name, BRAND_PAYLOAD, *address_texts)
    shopper.page.get_by_label("Pay on delivery", exact=True).check()
    shopper.click_button("Place order")
    order_number = shopper.page.locator(".order-number").inner_text()
    watch.shows_as_text(shopper, name, BRAND_PAYLOAD, *address_texts)  # the confirmation
    order_id = re.search(r"/orders/([A-Z2-7]{16})", shopper.path()).group(1)  # URLs keep the order id
    shopper.goto(f"/orders/{order_id}")
    watch.shows_as_text(shopper, name, BRAND_PAYLOAD, *address_texts)

    admin.goto("/admin/orders?status=placed")
    admin.click_link(order_number)
    watch.shows_as_text(admin, name, BRAND_PAYLOAD, *address_texts)  # the admin's order detail
