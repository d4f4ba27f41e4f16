"""Accessibility, checked by the standard tool: axe-core (npm, pinned in package.json, installed
by `make test`) run in the page on every page a journey visits, for WCAG 2.2 A and AA, plus the
one-h1 rule axe lacks. No rule is switched off.

axe is evaluated through the DevTools protocol (Playwright's evaluate), which the page's CSP does
not govern, so the shop's CSP stays as strict as it is served.
"""

from functools import cache

from tests.local_stack import ROOT

AXE_JS = ROOT / "node_modules" / "axe-core" / "axe.min.js"
WCAG_22_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa"]
MISSING_AXE = f"{AXE_JS} is missing: run `make test` (it runs `npm ci`) or `npm ci` in the repository"

RUN_AXE = """
async (tags) => {
  const results = await axe.run(document, {
    runOnly: {type: 'tag', values: tags},
    resultTypes: ['violations'],
  });
  return results.violations.map((violation) => ({
    id: violation.id,
    impact: violation.impact,
    help: violation.help,
    targets: violation.nodes.slice(0, 5).map((node) => node.target.join(' ') + ': ' + node.failureSummary),
  }));
}
"""

ONE_H1 = "() => document.querySelectorAll('h1').length"


@cache
def axe_source() -> str:
    assert AXE_JS.exists(), MISSING_AXE
    return AXE_JS.read_text(encoding="utf-8")


def accessibility_problems(page) -> list[str]:
    """axe's WCAG 2.2 A/AA violations on the page as it is now, and a wrong number of h1s."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.evaluate(axe_source())
    problems = [
        f"{v['id']} ({v['impact']}): {v['help']} at {'; '.join(v['targets'])}"
        for v in page.evaluate(RUN_AXE, WCAG_22_AA)
    ]
    headings = page.evaluate(ONE_H1)
    if headings != 1:
        problems.append(f"{headings} h1 elements (want exactly one)")
    return problems


def assert_accessible(page) -> None:
    problems = accessibility_problems(page)
    assert not problems, f"accessibility problems on {page.url}: {problems}"
