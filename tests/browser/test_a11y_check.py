"""The accessibility check itself catches what it claims to (so a clean page means something)."""

from tests.browser.a11y import accessibility_problems

GOOD = """<!doctype html><html lang="en"><head><title>t</title></head><body><main><h1>Shoes</h1>
<label for="a">Size</label><input id="a" name="size">
<input type="hidden" name="csrf_token" value="x"><button type="submit">Go</button>
<input aria-label="Search" name="q"><span id="lb">Colour</span><select aria-labelledby="lb"></select>
<label>Note <textarea name="note"></textarea></label><img src="data:," alt=""></main></body></html>"""

BAD = """<!doctype html><html><head><title>t</title></head><body><h1>One</h1><h1>Two</h1>
<input id="orphan" name="email"><label for="x"></label><select id="x" name="size"></select>
<span aria-label="items in cart">3</span>
<p style="color:#fff;background:#e8672a">White on the old orange</p>
<img src="data:,"></body></html>"""


def _ids(problems: list[str]) -> set[str]:
    return {problem.split(" ", 1)[0] for problem in problems}


def test_a_labelled_page_passes(shop):
    shop.page.set_content(GOOD)
    assert accessibility_problems(shop.page) == []


def test_each_problem_is_reported(shop):
    shop.page.set_content(BAD)
    problems = accessibility_problems(shop.page)
    assert {"label", "select-name", "image-alt", "html-has-lang", "color-contrast"} <= _ids(problems), problems
    assert "2 h1 elements (want exactly one)" in problems
