"""The in-product help: task-oriented guides (``core/guides/*.md``) rendered as pages.

The guides are written for the people using the pages, one per role; the
engineers' documentation stays in ``docs/``. Headings get ids from their words
so a page can link to a passage ("/help/brand/#membership-and-the-exit-rule").
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

from markdown_it import MarkdownIt

GUIDES_DIR = Path(__file__).resolve().parent / "guides"
GUIDES = {
    "index": "Help",
    "brand": "Brand managers",
    "reviewer": "Reviewers",
    "compliance": "Compliance",
    "field-lead": "Field leads",
    "admin": "Administrators",
    "imports": "Importing your data",
}


def slugify_heading(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


@cache
def _parser() -> MarkdownIt:
    # "js-default": no raw HTML in guides, tables allowed.
    return MarkdownIt("js-default")


@cache
def render_guide(slug: str) -> tuple[str, str] | None:
    """(title, html) of the guide called ``slug``, or None."""
    if slug not in GUIDES:
        return None
    source = (GUIDES_DIR / f"{slug}.md").read_text(encoding="utf-8")
    md = _parser()
    tokens = md.parse(source)
    for i, token in enumerate(tokens):
        if token.type == "heading_open" and token.tag in ("h2", "h3"):
            token.attrSet("id", slugify_heading(tokens[i + 1].content))
    return GUIDES[slug], md.renderer.render(tokens, md.options, {})
