"""Shopper and back-office scenarios: a cart of several lines, placing an order, order history,
and the admin product and order lists, each as a logged-in person.

`prepare` registers a shopper, saves an address, places a few orders (so history and the admin
order list have a page to show) and logs an admin in. Placing an order is measured with a fresh
cart and review each time: `before_each` refills the cart and reads the review page outside the
measurement, so only the POST /checkout/place request is counted.
"""

from urllib.parse import urlencode

from bench.harness import BenchContext, Browser, Scenario

CART_LINES = 5
PLENTY = 1_000_000  # stock on the benchmarked lines, so no order ever runs short
ADDRESS = {"full_name": "Bench Shopper", "line1": "1 Main Street", "city": "Dublin", "postal_code": "D02 X285"}
ADMIN_PASSWORD = "bench admin passphrase 1"
SHOPPER_PASSWORD = "bench shopper passphrase 1"
HISTORY_ORDERS = 12


def _cart_keys(count: int) -> list[tuple[str, str]]:
    """(shoe, size) of `count` different active shoes from the top of the newest list, stocked up."""
    from chalicelib.models import Shoe, Stock

    keys = []
    for shoe in Shoe.by_newest.query("active", scan_index_forward=False, limit=count, page_size=count):
        size = shoe.sizes[len(shoe.sizes) // 2]
        Stock(shoe_id=shoe.shoe_id, size=size).update(actions=[Stock.quantity.set(PLENTY)])
        keys.append((shoe.shoe_id, size))
    return keys


def _fill_cart(context: BenchContext) -> None:
    shopper: Browser = context.values["shopper"]
    for shoe_id, size in context.values["cart_keys"]:
        shopper.post_form("/cart/items", {"shoe_id": shoe_id, "size": size, "quantity": "1"}, "/cart")


def _ready_to_place(context: BenchContext) -> None:
    """A full cart and a fresh review form (its idempotency key makes each POST a new order)."""
    _fill_cart(context)
    review = context.values["shopper"].page("/checkout/review")
    context.values["place_form"] = urlencode(
        {name: Browser.field(review, name) for name in ("idempotency_key", "reviewed_total", "csrf_token")}
    )


def _place(browser: Browser, context: BenchContext) -> str:
    _ready_to_place(context)
    response = browser.request(
        "POST", "/checkout/place", context.values["place_form"], {"content-type": "application/x-www-form-urlencoded"}
    )
    assert response.status_code == 303, response.body[:300]
    return response.headers["Location"].split("?", 1)[0]


def prepare(client, context: BenchContext) -> None:
    from chalicelib.services import accounts

    shopper = Browser(client)
    context.values["shopper"] = shopper
    shopper.post_form(
        "/register",
        {
            "username": "bencher",
            "email": "bencher@example.com",
            "password": SHOPPER_PASSWORD,
            "confirm_password": SHOPPER_PASSWORD,
        },
        "/register",
    )
    shopper.post_form("/checkout", {**ADDRESS, "country": "IE"}, "/cart")
    context.values["cart_keys"] = _cart_keys(CART_LINES)
    for _ in range(HISTORY_ORDERS):
        context.values["order_path"] = _place(shopper, context)
    _fill_cart(context)  # the cart page scenario reads a cart of CART_LINES lines

    accounts.create_admin("benchboss", "benchboss@example.com", ADMIN_PASSWORD)
    admin = Browser(client)
    admin.post_form("/admin", {"username": "benchboss", "password": ADMIN_PASSWORD}, "/admin")
    context.values["admin"] = admin


def check(client, context: BenchContext) -> None:
    """Guard against measuring empty pages."""
    shopper: Browser = context.values["shopper"]
    admin: Browser = context.values["admin"]
    assert shopper.page("/cart").count('name="line_id"') >= CART_LINES, "the cart page shows too few lines"
    assert shopper.page("/orders").count('href="/orders/') >= 10, "order history shows too few orders"
    assert admin.page("/admin/shoes").count('href="/admin/shoes/') >= 20, "admin product list too short"
    assert admin.page("/admin/orders").count('href="/admin/orders/') >= 10, "admin order list too short"


def _as(role: str):
    return lambda context: context.values[role].cookie_header()


FORM = {"content-type": "application/x-www-form-urlencoded"}

SCENARIOS = [
    Scenario(f"cart page, {CART_LINES} lines", "/cart", headers=_as("shopper")),
    Scenario(
        f"place order, {CART_LINES} lines",
        "/checkout/place",
        method="POST",
        body=lambda context: context.values["place_form"],
        headers=lambda context: {**FORM, **context.values["shopper"].cookie_header()},
        before_each=_ready_to_place,
        expect_status=303,
        max_repeat=6,
    ),
    Scenario("order history (10 a page)", "/orders", headers=_as("shopper")),
    Scenario("order page", lambda context: context.values["order_path"], headers=_as("shopper")),
    Scenario("admin product list (20 a page)", "/admin/shoes", headers=_as("admin")),
    Scenario("admin order list (20 a page)", "/admin/orders", headers=_as("admin")),
]
