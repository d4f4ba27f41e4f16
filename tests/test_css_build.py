"""Stylesheets ship minified, built from styles/ (`make css`), and the back office's styles are in
their own file that shop pages never load."""

import re

from infra import css


def test_the_served_stylesheets_are_the_minified_build_of_styles():
    assert css.main(["--check"]) == 0, "run `make css` after editing styles/"
    for path, text in css.built().items():
        assert "/*" not in text and "\n" not in text.rstrip("\n"), path.name
        source = (css.SOURCES / path.name).read_text()
        assert len(text) < 0.85 * len(source), path.name


def test_minifying_keeps_what_changes_meaning():
    out = css.minify(
        "/* c */\n.nav :focus-visible { outline: 3px solid red; }\n"
        "a:hover,\n b > i { width: calc(100% - 2rem); }\n@media (min-width: 900px) { .x { y: 1 } }"
    )
    assert out == (
        ".nav :focus-visible{outline:3px solid red}a:hover,b>i{width:calc(100% - 2rem)}"
        "@media (min-width:900px){.x{y:1}}\n"
    )


def test_shop_pages_load_only_the_shop_stylesheet_and_the_back_office_both(web, admin_account):
    shop_page = web.get("/").body.decode()
    assert re.search(r'href="/static/css/shop\.\w+\.css"', shop_page)
    assert "/static/css/admin." not in shop_page
    admin_page = web.get("/admin").body.decode()
    assert re.search(r'href="/static/css/shop\.\w+\.css".*href="/static/css/admin\.\w+\.css"', admin_page, re.S)
    shop_css = (css.OUTPUT / "shop.css").read_text()
    assert ".admin-head" not in shop_css and ".stock-grid" not in shop_css
    assert ".admin-head" in (css.OUTPUT / "admin.css").read_text()
