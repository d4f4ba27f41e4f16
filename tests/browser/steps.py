"""Steps the browser journeys share: a person registering, logging in, shopping and checking out,
an admin creating a shoe through the back office, and the `Stockroom` that sets up shoes through
the admin JSON API when a journey is not about creating them."""

import re
import time
import uuid
from urllib.parse import urlencode

from playwright.sync_api import expect

from tests.local_stack import LocalStack

PASSWORD = "walking in new shoes"
ADDRESS = {
    "Full name": "Wanda Walker",
    "Address line 1": "5 Harbour Road",
    "City": "Cork",
    "Postal code": "T12 AB34",
}
CSRF_FIELD_RE = re.compile(r'name="csrf_token" value="([^"]+)"')
# Filters and search follow the shoes and stock streams: `make run` polls them every second
# (docs/operations.md "Streams"); a new shoe is searchable a few seconds after it is saved.
STREAM_LAG_SECONDS = 10.0


def wait_until_searchable(request, stack: LocalStack, words: str, shoe_id: str) -> None:
    """Wait out the stream's lag: until a search for `words` lists the shoe (filters read the same model)."""
    link = f'href="/shoes/{shoe_id}"'
    url = stack.url("/?" + urlencode({"q": words}))
    deadline = time.monotonic() + STREAM_LAG_SECONDS
    while link not in request.get(url).text():
        assert time.monotonic() < deadline, f"shoe {shoe_id} not searchable after {STREAM_LAG_SECONDS} s"
        time.sleep(0.25)


def unique(prefix: str) -> str:
    """A name no other test uses: the stack is shared by the whole session."""
    return f"{prefix}_{uuid.uuid4().hex[:8]}"


def shoe_name(model: str) -> str:
    """A unique shoe name that still reads like one in the screenshots: "Trail Runner 3F9A2C"."""
    return f"{model} {uuid.uuid4().hex[:6].upper()}"


def register(shop, username: str, password: str = PASSWORD) -> None:
    page = shop.page
    shop.goto("/")
    shop.click_link("Register")
    fill_registration(page, username, password)
    shop.click_button("Create account")


def fill_registration(page, username: str, password: str = PASSWORD) -> None:
    page.get_by_label("Username", exact=True).fill(username)
    page.get_by_label("Email", exact=True).fill(f"{username}@example.com")
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_label("Confirm password", exact=True).fill(password)


def log_in(shop, identifier: str, password: str = PASSWORD) -> None:
    page = shop.page
    page.get_by_label("Username or email", exact=True).fill(identifier)
    page.get_by_label("Password", exact=True).fill(password)
    shop.click_button("Log in")


def admin_log_in(shop) -> None:
    page = shop.page
    shop.goto("/admin")
    page.get_by_label("Username", exact=True).fill(shop.stack.admin_username)
    page.get_by_label("Password", exact=True).fill(shop.stack.admin_password)
    shop.click_button("Log in")
    expect(page.get_by_role("heading", level=1)).to_have_text("Dashboard")


def log_in_through_upload(page, stack: LocalStack) -> None:
    page.goto(stack.url("/upload"))
    page.get_by_label("Username").fill(stack.admin_username)
    page.get_by_label("Password").fill(stack.admin_password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(re.compile(r".*/admin/shoes/new$"))


def create_shoe(page, name: str, brand: str = "Stride", stock_42: str = "5") -> str:
    """Fill the back office's new-shoe form (on screen) and save; returns the edit page's URL."""
    for label, value in (("Name", name), ("Brand", brand), ("Colour", "Red"), ("Price", "89.95")):
        page.get_by_label(label, exact=True).fill(value)
    page.get_by_label("Category").select_option("boots")
    page.get_by_label("42", exact=True).fill(stock_42)
    page.get_by_role("button", name="Save", exact=True).click()
    page.wait_for_url(re.compile(r".*/admin/shoes/[0-9a-f]+/edit$"))
    return page.url


def add_to_cart(shop, shoe_id: str, size: str, quantity: int = 1) -> None:
    """Open the product page, pick a size and quantity, press "Add to cart" (lands on /cart)."""
    page = shop.page
    shop.goto(f"/shoes/{shoe_id}")
    page.locator(f"label[for=size-{size}]").click()
    page.get_by_label("Quantity", exact=True).fill(str(quantity))
    shop.click_button("Add to cart")
    assert shop.path() == "/cart", shop.path()


def fill_address(page, **overrides: str) -> None:
    for label, value in {**ADDRESS, **overrides}.items():
        page.get_by_label(label, exact=True).fill(value)
    page.get_by_label("Country", exact=True).select_option("IE")


def to_review(shop, **address: str) -> None:
    shop.click_link("Checkout")
    fill_address(shop.page, **address)
    shop.click_button("Review order")
    expect(shop.page.get_by_role("heading", level=1)).to_have_text("Review your order")


def check_out(shop, **address: str) -> str:
    """From the cart: address, review, pay on delivery, place; returns the order number from the
    confirmation (card payments: tests/browser/test_card_payment_journeys.py)."""
    page = shop.page
    to_review(shop, **address)
    page.get_by_label("Pay on delivery", exact=True).check()
    shop.click_button("Place order")
    expect(page.get_by_role("heading", level=1)).to_have_text("Thank you! Your order is placed")
    return page.locator(".order-number").inner_text()


def pay_on_the_standin(shop, card_number: str) -> None:
    """On the local Stripe stand-in's payment page: the labelled inputs, then Pay."""
    page = shop.page
    expect(page.get_by_role("heading", level=1)).to_have_text("Pay Stride Shoes")
    page.get_by_label("Card number", exact=True).fill(card_number)
    page.get_by_label("Expiry", exact=True).fill("12 / 34")
    page.get_by_label("CVC", exact=True).fill("123")
    with page.expect_navigation():
        page.get_by_role("button", name="Pay", exact=True).click()


class Stockroom:
    """Shoes for journeys, made through the admin JSON API as the stack's admin."""

    def __init__(self, request, stack: LocalStack) -> None:
        self.request = request
        self.stack = stack
        login_page = request.get(stack.url("/admin")).text()
        answer = request.post(
            stack.url("/admin"),
            form={
                "csrf_token": CSRF_FIELD_RE.search(login_page).group(1),
                "username": stack.admin_username,
                "password": stack.admin_password,
            },
        )
        assert answer.ok, answer.status
        self.csrf_token = CSRF_FIELD_RE.search(request.get(stack.url("/admin")).text()).group(1)

    def add_shoe(
        self, name: str, stock: dict[str, int], brand: str = "Stride", price_cents: int = 8999, **more
    ) -> dict:
        body = {
            "name": name,
            "brand": brand,
            "colour": "Black",
            "category": "sneakers",
            "department": "women",
            "description": "",
            "price_cents": price_cents,
            "stock": stock,
            **more,
        }
        answer = self.request.post(
            self.stack.url("/api/v1/admin/shoes"), data=body, headers={"X-CSRF-Token": self.csrf_token}
        )
        assert answer.status == 201, answer.text()
        shoe = answer.json()["shoe"]
        published = self.request.post(  # new shoes start as drafts
            self.stack.url(f"/api/v1/admin/shoes/{shoe['shoe_id']}/publish"),
            data={"without_photo": True},
            headers={"X-CSRF-Token": self.csrf_token},
        )
        assert published.ok, published.text()
        shoe = published.json()["shoe"]
        wait_until_searchable(self.request, self.stack, name, shoe["shoe_id"])
        return shoe

    def stock(self, shoe_id: str) -> dict[str, int]:
        answer = self.request.get(self.stack.url(f"/api/v1/admin/shoes/{shoe_id}"))
        assert answer.ok, answer.text()
        return answer.json()["shoe"]["stock"]


def assert_fits_a_phone(page) -> None:
    """At 390 px nothing scrolls sideways: not the page, and no table inside its scroll box."""
    size = page.viewport_size
    page.set_viewport_size({"width": 390, "height": 844})
    try:
        overflow = page.evaluate(
            """() => [document.documentElement, ...document.querySelectorAll('.table-wrap')]
                .filter((box) => box.scrollWidth > box.clientWidth + 1)
                .map((box) => `${box.className || box.tagName}: ${box.scrollWidth} > ${box.clientWidth}`)"""
        )
    finally:
        page.set_viewport_size(size)
    assert not overflow, f"{page.url} scrolls sideways on a phone: {overflow}"
