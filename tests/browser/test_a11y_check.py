"""The accessibility check itself catches what it claims to (so a clean page means something)."""

from tests.browser.a11y import accessibility_problems

GOOD = """<!doctype html><html lang="en"><head><title>t</title></head><body><main><h1>Shoes</h1>
<label for="a">Size</label><input id="a" name="size">
<input type="hidden" name="csrf_token" value="x"><button type="submit">Go</button>
<input aria-label="Search" name="q"><span id="lb">Colour</span><select aria-labelledby="lb"></select>
<label>Note <textarea name="note"></textarea></label><img src="data:," alt=""></main></body></html>"""

BAD = """<!doctype html><html><head><title>t</title></head><body><h1>One</h1><h1>Two</h1>
<input id="orphan" name="email"><label for="x"></label><select id="x" name="size"></select>
<textarea name="note"></textarea><img src="data:,"></body></html>"""


def test_a_labelled_page_passes(shop):
    shop.page.set_content(GOOD)
    assert accessibility_problems(shop.page) == []


def test_each_problem_is_reported(shop):
    shop.page.set_content(BAD)
    problems = accessibility_problems(shop.page)
    assert 'no label: input#orphan[name="email"]' in problems
    assert 'no label: select#x[name="size"]' in problems  # an empty label does not count
    assert 'no label: textarea[name="note"]' in problems
    assert 'no alt: img[src="data:,"]' in problems
    assert "2 h1 elements (want exactly one)" in problems
    assert "html has no lang" in problems
