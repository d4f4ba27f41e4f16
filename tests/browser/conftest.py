"""Browser harness: the real local stack plus Debian's Chromium driven by Playwright.

Each test gets a fresh browser context (no cookies, no storage: a blank browser). Without
/usr/bin/chromium the browser tests are skipped and the run's summary says so in capitals;
`.ci/run` installs Chromium, so CI always runs them.
"""

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.browser.a11y import assert_accessible
from tests.local_stack import ROOT, LocalStack

CHROMIUM = Path(os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = ROOT / "screenshots"
VIEWPORTS = {"phone": (390, 844), "desktop": (1280, 800)}
DEFAULT_VIEWPORT = VIEWPORTS["desktop"]
TIMEOUT_MS = 10_000
MISSING_MESSAGE = f"Chromium is not installed at {CHROMIUM}: browser journeys did NOT run"

_skipped_for_missing_chromium: list[str] = []


def pytest_collection_modifyitems(config, items) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.browser)


def pytest_runtest_setup(item) -> None:
    if item.get_closest_marker("browser") and not CHROMIUM.exists():
        _skipped_for_missing_chromium.append(item.nodeid)
        pytest.skip(MISSING_MESSAGE)


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:
    if not _skipped_for_missing_chromium:
        return
    bar = "!" * 78
    terminalreporter.write_line(bar, red=True, bold=True)
    terminalreporter.write_line(
        f"WARNING: {len(_skipped_for_missing_chromium)} BROWSER TESTS DID NOT RUN. {MISSING_MESSAGE}.",
        red=True,
        bold=True,
    )
    terminalreporter.write_line("Install it (apt-get install -y chromium) or run .ci/run as root.", red=True)
    terminalreporter.write_line(bar, red=True, bold=True)


@pytest.fixture(scope="session")
def chromium() -> Iterator:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


class Shop:
    """A blank browser tab on the local shop, with the checks every journey wants."""

    def __init__(self, page, stack: LocalStack) -> None:
        self.page = page
        self.stack = stack
        self.console_errors: list[str] = []
        page.on("console", self._on_console)
        page.on("pageerror", lambda error: self.console_errors.append(str(error)))
        page.on("response", self._on_response)

    def _on_console(self, message) -> None:
        # A page answered 4xx on purpose (a form with errors) logs "Failed to load resource";
        # failed subresources are caught by _on_response instead. CSP violations land here.
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            self.console_errors.append(message.text)

    def _on_response(self, response) -> None:
        if response.request.resource_type != "document":
            if response.status >= 400:
                self.console_errors.append(f"{response.status} for {response.url}")
            return
        if response.url.startswith(self.stack.base_url) and not 300 <= response.status < 400:
            headers = response.headers
            csp = headers.get("content-security-policy", "")
            if "script-src 'self'" not in csp or "frame-ancestors 'none'" not in csp:
                self.console_errors.append(f"weak or missing CSP on {response.url}: {csp!r}")
            if headers.get("x-content-type-options") != "nosniff":
                self.console_errors.append(f"no nosniff on {response.url}")

    def goto(self, path: str):
        response = self.page.goto(self.stack.url(path))
        self.check()
        return response

    def click_link(self, name: str) -> None:
        with self.page.expect_navigation():
            self.page.get_by_role("link", name=name, exact=True).click()
        self.check()

    def click_button(self, name: str) -> None:
        with self.page.expect_navigation():
            self.page.get_by_role("button", name=name, exact=True).click()
        self.check()

    def check(self) -> None:
        """Run after every page load: accessibility, security headers, no CSP or script errors so far."""
        self.page.wait_for_load_state("load")
        assert_accessible(self.page)
        assert not self.console_errors, f"browser console errors on {self.page.url}: {self.console_errors}"

    def path(self) -> str:
        return re.sub(r"^https?://[^/]+", "", self.page.url)

    def flash(self) -> str:
        return self.page.locator(".flashes").inner_text()

    def screenshot(self, name: str) -> list[Path]:
        """Full-page screenshots at phone and desktop widths into screenshots/ (ignored by git)."""
        SCREENSHOTS.mkdir(exist_ok=True)
        saved = []
        for label, (width, height) in VIEWPORTS.items():
            self.page.set_viewport_size({"width": width, "height": height})
            self._load_every_image()
            path = SCREENSHOTS / f"{name}-{label}.png"
            self.page.screenshot(path=str(path), full_page=True)
            saved.append(path)
        width, height = DEFAULT_VIEWPORT
        self.page.set_viewport_size({"width": width, "height": height})
        return saved

    def _load_every_image(self) -> None:
        """Lazy images below the fold would be blank in a full-page screenshot: load them first."""
        self.page.evaluate(
            "() => document.querySelectorAll('img[loading=lazy]').forEach((img) => { img.loading = 'eager'; })"
        )
        self.page.wait_for_function("() => [...document.images].every((img) => img.complete)")


@pytest.fixture
def shop(chromium, local_stack) -> Iterator[Shop]:
    width, height = DEFAULT_VIEWPORT
    context = chromium.new_context(viewport={"width": width, "height": height}, locale="en-GB")
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    try:
        yield Shop(page, local_stack)
    finally:
        context.close()


@pytest.fixture
def other_shop(chromium, local_stack) -> Iterator[Shop]:
    """A second, separate blank browser (another person)."""
    context = chromium.new_context(viewport={"width": DEFAULT_VIEWPORT[0], "height": DEFAULT_VIEWPORT[1]})
    context.set_default_timeout(TIMEOUT_MS)
    try:
        yield Shop(context.new_page(), local_stack)
    finally:
        context.close()


@pytest.fixture(scope="session")
def stockroom(chromium, local_stack):
    """Sets up shoes through the admin JSON API (one admin login per session) for journeys that
    are about buying them, not about making them."""
    from tests.browser.steps import Stockroom

    context = chromium.new_context()
    try:
        yield Stockroom(context.request, local_stack)
    finally:
        context.close()
