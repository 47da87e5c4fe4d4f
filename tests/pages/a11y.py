"""What the browser tests measure on a page: axe-core's serious and critical violations
(bundled by axe-playwright-python, no network), width off-screen, words broken across lines."""

from __future__ import annotations

from axe_playwright_python.sync_playwright import Axe

AXE = Axe()
BLOCKING = {"serious", "critical"}
# WCAG 2.1 A and AA only (best-practice rules are advice, and skipping them keeps axe quick).
WCAG_AA = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}}

# A word (letters and digits, 2 to 20 of them: "endocrinology", an NPI) that the page
# wraps onto two lines; longer tokens (keys, hashes) may break anywhere.
_BROKEN_WORDS = """() => {
  const broken = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const word = /[A-Za-z0-9]{2,20}/g;
  while (walker.nextNode()) {
    const node = walker.currentNode;
    for (const m of node.data.matchAll(word)) {
      const range = document.createRange();
      range.setStart(node, m.index);
      range.setEnd(node, m.index + m[0].length);
      const tops = new Set([...range.getClientRects()]
        .filter(r => r.width > 0).map(r => Math.round(r.top)));
      if (tops.size > 1) broken.push(m[0]);
    }
  }
  return broken;
}"""


def axe_problems(page) -> list[str]:
    """One line per serious or critical violation on the page as it stands."""
    page.wait_for_load_state("networkidle")
    results = AXE.run(page, options=WCAG_AA)
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at "
        + "; ".join(
            n["target"][0] if isinstance(n["target"][0], str) else str(n["target"])
            for n in v["nodes"][:3]
        )
        for v in results.response["violations"]
        if v.get("impact") in BLOCKING
    ]


def assert_axe_clean(page, label: str) -> None:
    report = axe_problems(page)
    assert not report, f"{label} {page.url}:\n" + "\n".join(report)


def off_screen(page) -> int:
    """How many pixels the page is wider than the window (0 when it fits)."""
    return page.evaluate("document.documentElement.scrollWidth - window.innerWidth")


def broken_words(page) -> list[str]:
    return page.evaluate(_BROKEN_WORDS)


# The focused element, and whether its focus ring shows (:focus-visible with an outline
# at least 2 px wide, or a box shadow).
_FOCUSED = """() => {
  const e = document.activeElement;
  if (!e || e === document.body) return null;
  const s = getComputedStyle(e);
  const ring = (s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2)
    || (s.boxShadow && s.boxShadow !== 'none');
  const holder = e.closest('[data-path]');
  return {
    tag: e.tagName.toLowerCase(), id: e.id, type: e.getAttribute('type') || '',
    name: e.getAttribute('aria-label') || (e.textContent || '').trim().slice(0, 80),
    role: e.getAttribute('data-role') || '', value: e.value === undefined ? '' : String(e.value),
    path: holder ? holder.getAttribute('data-path') : '',
    addFor: (e.closest('[data-add-for]') || {getAttribute: () => ''}).getAttribute('data-add-for'),
    visible: e.matches(':focus-visible') && Boolean(ring),
  };
}"""


def focused(page) -> dict | None:
    return page.evaluate(_FOCUSED)


def tab_to(page, wanted, *, back: bool = False, limit: int = 80) -> dict:
    """Press Tab (or Shift+Tab) until ``wanted(focused)``; every stop shows its focus."""
    for _ in range(limit):
        page.keyboard.press("Shift+Tab" if back else "Tab")
        now = focused(page)
        assert now is None or now["visible"], f"focus is not visible on {now}"
        if now is not None and wanted(now):
            return now
    raise AssertionError(f"Tab never reached the control ({limit} presses)")


def choose_by_keys(page, value: str, *, limit: int = 80) -> None:
    """On a focused select, press ArrowDown (from the top) until ``value`` is chosen."""
    page.keyboard.press("Home")
    for _ in range(limit):
        if focused(page)["value"] == value:
            return
        page.keyboard.press("ArrowDown")
    raise AssertionError(f"no option {value!r} in {focused(page)}")
