"""A small automated accessibility check run on every page a journey visits.

Checks what a screen reader or keyboard user trips over first: every form control has a label,
every image has alt text, and the page has exactly one main heading.
"""

CHECK_SCRIPT = """
() => {
  const problems = [];
  const describe = (el) => {
    const id = el.id ? '#' + el.id : '';
    const name = el.getAttribute('name') ? `[name="${el.getAttribute('name')}"]` : '';
    return el.tagName.toLowerCase() + id + name;
  };
  const hasText = (id) => {
    const target = id && document.getElementById(id);
    return Boolean(target && target.textContent.trim());
  };
  for (const el of document.querySelectorAll('input, select, textarea')) {
    const type = (el.getAttribute('type') || '').toLowerCase();
    if (['hidden', 'submit', 'button', 'reset', 'image'].includes(type)) continue;
    const byFor = el.id && [...document.querySelectorAll('label[for]')].some(
      (label) => label.htmlFor === el.id && label.textContent.trim());
    const wrapped = el.closest('label') && el.closest('label').textContent.trim();
    const aria = (el.getAttribute('aria-label') || '').trim();
    const labelledBy = (el.getAttribute('aria-labelledby') || '').split(/\\s+/).some(hasText);
    if (!(byFor || wrapped || aria || labelledBy)) problems.push(`no label: ${describe(el)}`);
  }
  for (const img of document.querySelectorAll('img')) {
    if (!img.hasAttribute('alt')) problems.push(`no alt: img[src="${img.getAttribute('src')}"]`);
  }
  const headings = document.querySelectorAll('h1');
  if (headings.length !== 1) problems.push(`${headings.length} h1 elements (want exactly one)`);
  if (!document.documentElement.getAttribute('lang')) problems.push('html has no lang');
  if (!document.title.trim()) problems.push('empty title');
  return problems;
}
"""


def accessibility_problems(page) -> list[str]:
    return page.evaluate(CHECK_SCRIPT)


def assert_accessible(page) -> None:
    problems = accessibility_problems(page)
    assert not problems, f"accessibility problems on {page.url}: {problems}"
