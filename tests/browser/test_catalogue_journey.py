"""A shopper finds a shoe by brand, size and price on the demo catalogue and opens its page,
in real Chromium against `manage.py run` (moto server, demo data, dev server)."""

import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.browser


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def store_url():
    if not Path(CHROMIUM).exists():
        pytest.skip(f"SKIPPED LOUDLY: no Chromium at {CHROMIUM}")
    port, aws_port = _free_port(), _free_port()
    env = {**os.environ, "PORT": str(port), "LOCAL_AWS_PORT": str(aws_port), "STAGE": "local"}
    for name in ("TABLE_PREFIX", "UPLOAD_BUCKET", "AWS_ENDPOINT_URL", "BCRYPT_ROUNDS"):
        env.pop(name, None)
    server = subprocess.Popen(
        [sys.executable, "manage.py", "run"], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                with urllib.request.urlopen(url + "/api/v1/health", timeout=2):
                    break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    output = server.stdout.read().decode(errors="replace") if server.poll() is not None else ""
                    pytest.fail(f"the local store did not start: {output[-2000:]}")
                time.sleep(0.3)
        yield url
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield chromium
        chromium.close()


def test_find_a_shoe_by_brand_size_and_price_and_open_it(store_url, browser):
    page = browser.new_page(viewport={"width": 390, "height": 844})  # a phone
    errors = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.goto(store_url + "/")
    cards = page.locator(".shoe-card")
    assert cards.count() == 12

    # The brand of the first card, a size that card's shoe has in stock, and a price just above it.
    first_brand = cards.first.locator(".brand").text_content().strip()  # inner_text is upper-cased by CSS
    price_text = cards.first.locator(".price").inner_text()
    price = int(float(re.sub(r"[^0-9.]", "", price_text))) + 1
    cards.first.locator("a").click()
    in_stock = page.locator(".size-option:not(.is-sold-out) input").first.get_attribute("value")
    page.go_back()

    page.locator("#field-brand").select_option(first_brand)
    page.locator("#field-size").select_option(in_stock)
    page.locator("#field-max_price").fill(str(price))
    page.get_by_role("button", name="Show shoes").click()

    assert f"size={in_stock}" in page.url and "brand=" in page.url
    found = page.locator(".shoe-card")
    assert found.count() >= 1
    for brand in found.locator(".brand").all_inner_texts():
        assert brand.strip().casefold() == first_brand.casefold()

    # Keyboard only: focus the first result's link and open it with Enter.
    found.first.locator("a").focus()
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/shoes/"))
    assert page.locator("h1").inner_text()
    assert page.locator(f"#size-{in_stock}").is_enabled()
    page.locator(f"label[for=size-{in_stock}]").click()
    assert page.locator(f"#size-{in_stock}").is_checked()
    assert page.get_by_role("button", name="Add to cart").is_enabled()
    assert page.get_by_label("Quantity").input_value() == "1"
    assert errors == [], errors  # e.g. CSP violations would show here


def test_my_size_is_remembered_and_shown_on_cards(store_url, browser):
    context = browser.new_context()
    page = context.new_page()
    page.goto(store_url + "/")
    page.locator("#field-my_size").select_option("42")
    page.get_by_role("button", name="Save my size").click()
    assert "Your size is EU 42." in page.locator(".flashes").inner_text()
    labels = page.locator(".shoe-card .availability").all_inner_texts()
    assert len(labels) == 12 and all("EU 42" in label for label in labels)
    page.get_by_role("link", name="Show only shoes in my size").click()
    assert "size=42" in page.url
    for label in page.locator(".shoe-card .availability").all_inner_texts():
        assert "Not in stock" not in label
    context.close()
