"""Entity ids (SKU, PO, alert, supplier) in answers become links that open what explains them:
a SKU its forecast and projection, a PO its draft, an alert its evidence, a supplier its draft.

A link is ``#open/<kind>/<id>``; one document-level click handler (``LINK_JS``, installed on page
load) hands the target to a hidden button whose Python handler switches tab and fills it in.
Text is escaped with ``assistant.safe_text`` before ids are linked, so only our links are links.
"""

from __future__ import annotations

import re

from assistant.safe_text import escape_markdown

ENTITY = re.compile(r"(?<![\w-])(SKU-\d{3,}|PO-\d+|SUP-\d{3,}|A-\d+)(?![\w-])")
KINDS = {"SKU": "sku", "PO": "po", "SUP": "supplier", "A": "alert"}
_FENCE = re.compile(r"(```.*?```)", re.S)
_TARGET = re.compile(r"^(sku|po|supplier|alert)/([A-Z]+-\d+)$|^(answer)/(\d+)$|^(drafts)/(all)$")


def kind_of(entity_id: str) -> str | None:
    match = ENTITY.fullmatch(str(entity_id).strip())
    return KINDS[match.group(1).split("-")[0]] if match else None


def href(entity_id: str) -> str:
    return f"#open/{kind_of(entity_id)}/{entity_id}"


def link_ids(markdown: str) -> str:
    """Ids in (already safe) Markdown as links; code blocks (e-mail drafts) are left as written."""
    parts = _FENCE.split(markdown)
    for i in range(0, len(parts), 2):  # even parts are outside code fences
        parts[i] = ENTITY.sub(lambda m: f"[{m.group(1)}]({href(m.group(1))})", parts[i])
    return "".join(parts)


def safe_linked(text: str) -> str:
    """Data-borne text made safe as Markdown, then its ids linked."""
    return link_ids(escape_markdown(text))


def parse_target(target: str | None) -> tuple[str, str] | None:
    """'sku/SKU-00001' -> ('sku', 'SKU-00001'), 'answer/2' -> ('answer', '2') (an answer's
    evidence); anything else (a tampered value) -> None."""
    match = _TARGET.match((target or "").strip())
    if not match:
        return None
    if match.group(3):
        return "answer", match.group(4)
    if match.group(5):
        return "drafts", "all"
    if kind_of(match.group(2)) != match.group(1):
        return None
    return match.group(1), match.group(2)


# Installed once on page load. Capture phase: the chatbot's own handler would open the link in
# a new tab. The target travels in window.__stockpilotTarget to the hidden button's js hook.
LINK_JS = """
() => {
  if (window.__stockpilotLinks) return;
  window.__stockpilotLinks = true;
  document.addEventListener('click', (event) => {
    const link = event.target.closest && event.target.closest('a[href*="#open/"]');
    if (!link) return;
    event.preventDefault();
    event.stopPropagation();
    window.__stockpilotTarget = link.getAttribute('href').split('#open/')[1];
    const go = document.querySelector('#entity-go');
    if (go) go.click();
  }, true);
}
"""
TARGET_JS = "(value) => { const t = window.__stockpilotTarget || value; window.__stockpilotTarget = null; return t; }"
