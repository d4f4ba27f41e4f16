"""Lighthouse (npm, pinned in package.json) on the local stack: home, a filtered listing, a product
page, the cart and the checkout address page, mobile and desktop; prints a Markdown table of the
four scores, LCP, CLS and bytes (paste it into docs/benchmarks.md).

    python -m bench.lighthouse [--out DIR]

The stack is `make run`'s (tests/local_stack.py: moto, demo catalogue) on this machine, over
plain HTTP; the dev server gzips as API Gateway does. Lighthouse's mobile run throttles the
network and CPU as it does by default (simulated).
"""

import argparse
import json
import re
import subprocess
import tempfile
from pathlib import Path

import requests

from tests import local_stack
from tests.local_stack import ROOT, running_stack

LIGHTHOUSE = ROOT / "node_modules" / ".bin" / "lighthouse"
CHROMIUM = "/usr/bin/chromium"
CATEGORIES = ("performance", "accessibility", "best-practices", "seo")
PASSWORD = "a long bench passphrase"


def _csrf(session: requests.Session, url: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', session.get(url, timeout=30).text)
    assert match, url
    return match.group(1)


def shopper_with_a_cart(base: str) -> tuple[str, str]:
    """Registers a shopper, puts a pair in the cart; returns (Cookie header, a product path)."""
    session = requests.Session()
    session.post(
        base + "/register",
        data={
            "username": "benchshopper",
            "email": "bench@example.com",
            "password": PASSWORD,
            "confirm_password": PASSWORD,
            "csrf_token": _csrf(session, base + "/register"),
        },
        timeout=60,
    )
    product = re.search(r'href="(/shoes/[^"]+)"', session.get(base + "/", timeout=30).text)
    assert product, "the demo catalogue is empty"
    page = session.get(base + product.group(1), timeout=30).text
    shoe_id = re.search(r'name="shoe_id" value="([^"]+)"', page).group(1)
    size = re.search(r'name="size" id="size-[^"]+" value="([^"]+)" required(?! disabled)', page).group(1)
    session.post(
        base + "/cart/items",
        data={"shoe_id": shoe_id, "size": size, "quantity": "1", "csrf_token": _csrf(session, base + "/cart")},
        timeout=60,
    )
    cookie = "; ".join(f"{name}={value}" for name, value in session.cookies.items())
    return cookie, product.group(1)


def run_lighthouse(url: str, form_factor: str, cookie: str | None, out: Path) -> dict:
    command = [
        str(LIGHTHOUSE),
        url,
        f"--chrome-path={CHROMIUM}",
        "--chrome-flags=--headless=new --no-sandbox --disable-gpu",
        f"--only-categories={','.join(CATEGORIES)}",
        "--output=json",
        f"--output-path={out}",
        "--quiet",
    ]
    if form_factor == "desktop":
        command.append("--preset=desktop")
    if cookie:
        command.append("--extra-headers=" + json.dumps({"Cookie": cookie}))
    subprocess.run(command, check=True, timeout=300)
    report = json.loads(out.read_text())
    audits = report["audits"]
    return {
        **{name: round(report["categories"][name]["score"] * 100) for name in CATEGORIES},
        "lcp_ms": round(audits["largest-contentful-paint"]["numericValue"]),
        "cls": round(audits["cumulative-layout-shift"]["numericValue"], 3),
        "bytes": round(audits["total-byte-weight"]["numericValue"]),
        "failed": sorted(
            audit_id
            for name in CATEGORIES
            for ref in report["categories"][name]["auditRefs"]
            if ref["weight"] > 0
            and (audit_id := ref["id"]) in audits
            and audits[audit_id]["score"] is not None
            and audits[audit_id]["score"] < 0.9
        ),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=None, help="keep the JSON reports here")
    args = parser.parse_args(argv)
    local_stack.START_TIMEOUT_SECONDS = 300  # a busy machine seeds the demo catalogue slowly
    with tempfile.TemporaryDirectory() as scratch:
        folder = args.out or Path(scratch)
        folder.mkdir(parents=True, exist_ok=True)
        with running_stack(Path(scratch) / "state", Path(scratch) / "stack.log") as stack:
            cookie, product = shopper_with_a_cart(stack.base_url)
            pages = [
                ("home", "/", None),
                ("filtered listing", "/?department=women&category=running", None),
                ("product", product, None),
                ("cart", "/cart", cookie),
                ("checkout address", "/checkout", cookie),
            ]
            print("| page | form factor | performance | accessibility | best practices | SEO | LCP | CLS | bytes |")
            print("|---|---|---|---|---|---|---|---|---|")
            notes = []
            for name, path, page_cookie in pages:
                for form_factor in ("mobile", "desktop"):
                    out = folder / f"{name.replace(' ', '-')}-{form_factor}.json"
                    result = run_lighthouse(stack.url(path), form_factor, page_cookie, out)
                    print(
                        f"| {name} | {form_factor} | {result['performance']} | {result['accessibility']} | "
                        f"{result['best-practices']} | {result['seo']} | {result['lcp_ms']} ms | {result['cls']} | "
                        f"{result['bytes'] / 1024:.0f} KB |",
                        flush=True,
                    )
                    if result["failed"]:
                        notes.append(f"- {name}, {form_factor}: below 0.9: {', '.join(result['failed'])}")
            print()
            print("\n".join(notes))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
