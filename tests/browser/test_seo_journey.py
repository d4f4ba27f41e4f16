"""Structured data in a real browser: the product page's JSON-LD blocks parse, and the CSP (no
inline script) neither blocks nor reports them, since data blocks are never executed."""

import json

from tests.browser.steps import unique

CSP_WATCH = """() => {
  window.__cspViolations = [];
  document.addEventListener('securitypolicyviolation', (event) => window.__cspViolations.push(event.violatedDirective));
}"""


def test_json_ld_on_the_product_page_is_data_the_csp_lets_through(shop, stockroom):
    shoe = stockroom.add_shoe(unique("Trail Runner"), {"42": 3}, price_cents=8999)
    shop.page.add_init_script(f"({CSP_WATCH})()")
    response = shop.goto(f"/shoes/{shoe['shoe_id']}")
    assert "script-src 'self'" in response.headers["content-security-policy"]
    assert "unsafe-inline" not in response.headers["content-security-policy"]
    blocks = shop.page.eval_on_selector_all(
        'script[type="application/ld+json"]', "(elements) => elements.map((element) => element.textContent)"
    )
    product, breadcrumbs = (json.loads(block) for block in blocks)
    assert product["@type"] == "Product" and product["offers"]["price"] == "89.99"
    assert breadcrumbs["@type"] == "BreadcrumbList"
    assert shop.page.evaluate("() => window.__cspViolations") == []
    assert shop.console_errors == []  # Shop.check already failed on any CSP report in the console
