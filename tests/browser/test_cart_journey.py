"""In real Chromium: a guest fills a cart, registers, sees it merged, checks out, and finds the order."""

import re
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from chalicelib.models import Stock
from devtools.localenv import free_port
from tests.cart_fixtures import make_shoe

CHROMIUM = "/usr/bin/chromium"
pytestmark = pytest.mark.browser


@pytest.fixture
def live_store(chalice_app) -> Iterator[str]:
    """The app served over HTTP from this process (so it shares the tests' in-process moto)."""
    from devtools.devserver import make_server

    port = free_port()
    server = make_server(chalice_app, "127.0.0.1", port)
    thread = threading.Thread(target=server.server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.server.shutdown()
        server.server.server_close()


@pytest.fixture
def page() -> Iterator:
    if not Path(CHROMIUM).exists():
        pytest.skip(f"Chromium is not installed at {CHROMIUM}: browser journeys did NOT run")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        context = browser.new_context(viewport={"width": 390, "height": 844})  # a phone
        yield context.new_page()
        browser.close()


def test_guest_cart_register_merge_checkout_and_history(live_store, page):
    from playwright.sync_api import expect

    shoe = make_shoe(name="Trail Runner", price_cents=8999, stock={"42": 3})
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)

    # The product page (another area) posts this form; here the browser's own request does it.
    page.goto(f"{live_store}/login")
    token = page.locator("input[name=csrf_token]").first.input_value()
    answer = page.request.post(
        f"{live_store}/cart/items", form={"shoe_id": shoe.shoe_id, "size": "42", "quantity": "2", "csrf_token": token}
    )
    assert answer.ok

    page.goto(f"{live_store}/cart")
    expect(page.get_by_role("link", name="Trail Runner")).to_be_visible()
    expect(page.locator(".badge")).to_have_text("2")
    expect(page.get_by_label("Quantity")).to_have_value("2")

    page.get_by_role("link", name="Checkout", exact=True).click()
    expect(page).to_have_url(re.compile(r"/login\?next="))
    page.get_by_role("link", name="Create an account").click()
    page.get_by_label("Username").fill("walker")
    page.get_by_label("Email").fill("walker@example.com")
    page.get_by_label("Password", exact=True).fill("correct horse battery")
    page.get_by_label("Confirm password").fill("correct horse battery")
    page.get_by_role("button", name="Create account").click()

    expect(page).to_have_url(f"{live_store}/checkout")
    expect(page.get_by_text("We moved 2 items from your guest cart into your cart.")).to_be_visible()
    page.get_by_role("button", name="Review order").click()
    expect(page.get_by_text("Enter your full name.")).to_be_visible()  # validated, on the page
    page.get_by_label("Full name").fill("Wanda Walker")
    page.get_by_label("Address line 1").fill("5 Harbour Road")
    page.get_by_label("City").fill("Cork")
    page.get_by_label("Postal code").fill("T12 AB34")
    page.get_by_label("Country").select_option("IE")
    page.get_by_role("button", name="Review order").click()

    expect(page.get_by_role("heading", name="Review your order")).to_be_visible()
    expect(page.locator(".totals .total")).to_have_text("$179.98")
    page.get_by_role("button", name="Place order").click()

    expect(page.get_by_role("heading", name="Thank you! Your order is placed")).to_be_visible()
    order_number = page.locator(".order-number").inner_text()
    assert re.fullmatch(r"[A-Z2-7]{16}", order_number)
    expect(page.locator(".badge")).to_have_text("0")

    page.get_by_role("link", name="Orders", exact=True).click()
    expect(page.get_by_role("link", name=order_number)).to_be_visible()
    assert Stock.get(shoe.shoe_id, "42").quantity == 1
    # The address form answers bad input with a 400 page, which Chromium logs; nothing else may fail.
    assert [e for e in errors if "status of 400" not in e] == []
