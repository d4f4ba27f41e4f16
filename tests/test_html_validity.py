"""The served HTML of every page type passes an offline HTML validator (html-validate, npm, pinned
in package.json; rules in .htmlvalidate.json: the standard and a11y presets, nothing switched off)."""

import json
import re
import subprocess
from pathlib import Path

import pytest

from chalicelib.product_links import product_path
from tests.factories import ADDRESS, make_shoe

ROOT = Path(__file__).resolve().parent.parent
HTML_VALIDATE = ROOT / "node_modules" / ".bin" / "html-validate"
CONFIG = ROOT / ".htmlvalidate.json"


def validate(pages: dict[str, str], folder: Path) -> dict[str, list[str]]:
    """{page name: ["line:col rule: message", ...]} for every page with an error."""
    assert HTML_VALIDATE.exists(), "run `npm ci` (make test does) to install html-validate"
    files = []
    for name, html in pages.items():
        path = folder / (re.sub(r"\W+", "_", name) + ".html")
        path.write_text(html, encoding="utf-8")
        files.append(str(path))
    # The report goes to a file: Node may exit before a large report piped to stdout is flushed.
    report_path = folder / "report.json"
    command = [str(HTML_VALIDATE), "--config", str(CONFIG), "--formatter", f"json={report_path}", *files]
    result = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, timeout=120)
    found: dict[str, list[str]] = {}
    by_file = {str(folder / (re.sub(r"\W+", "_", name) + ".html")): name for name in pages}
    for report in json.loads(report_path.read_text() or "[]"):
        messages = [f"{m['line']}:{m['column']} {m['ruleId']}: {m['message']}" for m in report["messages"]]
        if messages:
            found[by_file[report["filePath"]]] = messages
    assert result.returncode in (0, 1), result.stderr
    return found


REQUIRED_SELECT = re.compile(r"<select\b[^>]*\brequired\b[^>]*>\s*<option\b([^>]*)>([^<]*)<", re.S)


def required_select_problems(pages: dict[str, str]) -> list[str]:
    """The HTML standard rule html-validate lacks (the Nu checker has it): a required single <select>
    needs an empty placeholder option first, or "required" can never fail."""
    problems = []
    for name, html in pages.items():
        for attributes, label in REQUIRED_SELECT.findall(html):
            if 'value=""' not in attributes:
                problems.append(f"{name}: required select starts with {label.strip()!r}")
    return problems


def _shop_pages(web, product: str) -> dict[str, str]:
    pages = {}
    for name, path in {
        "home": "/",
        "filtered listing": "/?department=men&size=42&sort=price_asc",
        "product": product,
        "login": "/login",
        "register": "/register",
        "trust page": "/returns",
        "404 page": "/no/such/page",
    }.items():
        pages[name] = web.get(path).body.decode()
    pages["register errors"] = web.post_form(
        "/register", {"username": "", "email": "x"}, csrf_page="/register"
    ).body.decode()
    pages["listing with bad filters"] = web.get("/?min_price=abc&size=99").body.decode()
    return pages


def test_shop_and_checkout_pages_are_valid_html(web, tmp_path):
    shoe = make_shoe(name="Runner", stock={"42": 5})
    pages = _shop_pages(web, product_path(shoe))
    web.register("alice")
    web.post_form("/cart/items", {"shoe_id": shoe.shoe_id, "size": "42", "quantity": "1"}, csrf_page="/cart")
    pages["cart"] = web.get("/cart").body.decode()
    pages["checkout address"] = web.get("/checkout").body.decode()
    pages["checkout address errors"] = web.post_form(
        "/checkout", {**ADDRESS, "city": ""}, csrf_page="/cart"
    ).body.decode()
    web.post_form("/checkout", ADDRESS, csrf_page="/cart")
    review = web.get("/checkout/review").body.decode()
    pages["checkout review"] = review
    key = re.search(r'name="idempotency_key" value="([^"]+)"', review).group(1)
    placed = web.post_form("/checkout/place", {"idempotency_key": key}, csrf_page="/cart")
    pages["order confirmation"] = web.get(placed.headers["Location"]).body.decode()
    pages["orders"] = web.get("/orders").body.decode()
    pages["account"] = web.get("/account").body.decode()
    pages["account delete"] = web.get("/account/delete").body.decode()
    assert validate(pages, tmp_path) == {}
    assert required_select_problems(pages) == []


def test_back_office_pages_are_valid_html(admin, tmp_path):
    shoe = make_shoe(name="Runner", stock={"42": 5})
    draft = make_shoe(name="Draft", stock={"42": 5}, status="draft")
    pages = {
        name: admin.get(path).body.decode()
        for name, path in {
            "dashboard": "/admin",
            "products": "/admin/shoes",
            "new product": "/admin/shoes/new",
            "edit product": f"/admin/shoes/{shoe.shoe_id}/edit",
            "orders": "/admin/orders",
            "draft product": f"/admin/shoes/{draft.shoe_id}/edit",
            "preview": f"/admin/shoes/{draft.shoe_id}/preview",
            "delete confirmation": f"/admin/shoes/{draft.shoe_id}/delete",
            "admins": "/admin/admins",
            "audit log": "/admin/audit",
        }.items()
    }
    pages["new product errors"] = admin.post_form("/admin/shoes/new", {"name": ""}, csrf_page="/admin").body.decode()
    assert validate(pages, tmp_path) == {}
    assert required_select_problems(pages) == []


def test_the_no_longer_sold_page_is_valid_html(web, tmp_path):
    from tests.catalogue_fixtures import seed
    from tests.factories import numbered_shoe

    gone, alike = numbered_shoe(1, status="archived"), numbered_shoe(2)
    seed([gone, alike])
    response = web.get(f"/shoes/{gone.shoe_id}")
    assert response.status_code == 410
    assert validate({"no longer sold": response.body.decode()}, tmp_path) == {}


def test_admin_login_page_is_valid_html(web, tmp_path):
    assert validate({"admin login": web.get("/admin").body.decode()}, tmp_path) == {}


@pytest.mark.parametrize(
    ("html", "rule"),
    [
        ('<span aria-label="items in cart">3</span>', "aria-label-misuse"),
        ('<img alt="Preview" hidden>', "element-required-attributes"),
    ],
)
def test_the_validator_catches_the_defects_the_audit_found(tmp_path, html, rule):
    page = (
        f'<!doctype html><html lang="en"><head><title>t</title></head><body><main><h1>t</h1>{html}</main></body></html>'
    )
    (problems,) = validate({"page": page}, tmp_path).values()
    assert any(f" {rule}: " in problem for problem in problems), problems


def test_a_required_select_without_an_empty_first_option_is_caught():
    page = '<select name="sort" required><option value="newest">Newest</option></select>'
    assert required_select_problems({"home": page}) == ["home: required select starts with 'Newest'"]
    fine = '<select name="d" required><option value="">Choose…</option><option value="men">Men</option></select>'
    assert required_select_problems({"form": fine}) == []
