"""Home: the morning briefing, the first thing a planner sees. It shows what PLANNER's
``briefing`` tool returns (the as-of date, stock-outs in the next 7 days, critical and new
alerts, late POs, the top actions); every id in it links to its chart, explanation or draft.
No briefing logic lives here: this module only lays the tool's result out.

The briefing is computed once per version of the data (``Workspace.data_version``) and kept, so
a page load shows it at once: the launcher warms it before the first visitor (``warm``).
"""

from __future__ import annotations

import logging
import threading
from typing import Any

import gradio as gr

from tools.registry import load_tools
from ui.chat import safe_table
from ui.links import escape_markdown, href, safe_linked
from ui.tables import present
from ui.workspace import NoDataError, Workspace

log = logging.getLogger(__name__)

BRIEFING_TOOL = "briefing"
TITLE = "### Morning briefing"
LOADING = f"{TITLE}\n_Loading…_"
ACTION_LINKS = {  # the tool an action points at -> what its link opens
    "stock_projection": lambda a: a.get("sku") and href(a["sku"]),
    "forecast_demand": lambda a: a.get("sku") and href(a["sku"]),
    "explain_alert": lambda a: a.get("alert_id") and href(a["alert_id"]),
    "draft_supplier_email": lambda a: (
        href(a["po_number"]) if a.get("po_number") else "#open/drafts/all"
    ),
}
ACTION_WORDS = {
    "stock_projection": "projection",
    "forecast_demand": "forecast",
    "explain_alert": "explanation",
    "draft_supplier_email": "drafts",
}


def _section(title: str, lines: list[str], empty: str) -> str:
    body = "\n".join(f"- {line}" for line in lines) if lines else f"_{empty}_"
    return f"**{title}**\n\n{body}"


def _action_line(action: Any) -> str:
    link = ACTION_LINKS.get(action.tool, lambda a: None)(action.arguments or {})
    more = f" — [open {ACTION_WORDS[action.tool]}]({link})" if link else ""
    return safe_linked(action.text) + more


def briefing_markdown(result: Any) -> str:
    """The briefing laid out: date line, top actions, then each section, ids linked."""
    head = f"{TITLE} — data as of {result.as_of} (planning date {result.today})"
    actions = [f"{i}. {_action_line(a)}" for i, a in enumerate(result.actions, 1)]
    stockouts = [
        f"{safe_linked(s.sku)} at {escape_markdown(s.location_id)}: out "
        f"{s.stockout_date or 'n/a'}, {s.probability:.0%} chance — {safe_linked(s.action)}"
        for s in result.stockouts
    ]
    alerts = [
        f"{safe_linked(a.alert_id)} {a.severity} {a.kind.replace('_', ' ')}: "
        f"{safe_linked(a.summary)}"
        for a in result.alerts
    ]
    late = [
        f"{safe_linked(o.po_number)} from {escape_markdown(o.supplier_name or o.supplier_id)} "
        f"to {escape_markdown(o.location_id)}: {o.days_late} days late (promised "
        f"{o.promised_date}, now expected {o.expected_arrival or 'unknown'})"
        for o in result.late_pos
    ]
    parts = [
        head,
        escape_markdown(result.summary().split(" Top actions:")[0]),
        "**Top actions**\n\n" + ("\n".join(actions) if actions else "_Nothing needs action._"),
        _section("Stock-outs in the next 7 days", stockouts, "None expected."),
        _section("Critical and new alerts", alerts, "None."),
        _section("Late purchase orders", late, "None."),
    ]
    if getattr(result, "buy_lines", 0):
        # a question the shipped model answers with the buy list: one naming a site or supplier
        sites = [s.location_id for s in result.stockouts] + [o.location_id for o in result.late_pos]
        ask = f"what should we order at {sites[0]}?" if sites else "what should we order at <site>?"
        parts.append(
            f"**Buy list:** {result.buy_lines} lines from {result.buy_suppliers} suppliers "
            f"({result.buy_value:,.0f} at cost) — ask _{escape_markdown(ask)}_ in the chat."
        )
    return "\n\n".join(parts)


class BriefingCache:
    """The latest briefing (markdown, table) per data version; one computation at a time."""

    def __init__(self, workspace: Workspace):
        self.workspace = workspace
        self._lock = threading.Lock()
        self._version: int | None = None
        self._value: tuple[str, Any] | None = None

    def get(self, refresh: bool = False) -> tuple[str, Any]:
        with self._lock:
            if refresh or self._value is None or self._version != self.workspace.data_version:
                version = self.workspace.data_version
                self._value = compute(self.workspace)
                self._version = version
            return self._value


def compute(workspace: Workspace) -> tuple[str, Any]:
    """(briefing markdown, its table for people or None)."""
    if BRIEFING_TOOL not in load_tools():
        return f"{TITLE}\n_The briefing tool is not installed in this version._", None
    try:
        run = workspace.call(BRIEFING_TOOL, {})
    except NoDataError as error:
        return f"{TITLE}\n{escape_markdown(error)}", None
    if not run.ok:
        return f"{TITLE}\n**Could not build the briefing:** {escape_markdown(run.error)}", None
    try:
        text = briefing_markdown(run.result)
    except Exception:  # a result shape this layout does not know: show the tool's own words
        log.exception("briefing layout failed")
        text = f"{TITLE}\n\n" + safe_linked(run.result.summary() or run.render())
    table = safe_table(run.result)
    return text, present(table) if table is not None else None


def cache_of(workspace: Workspace) -> BriefingCache:
    cache = getattr(workspace, "briefing_cache", None)
    if cache is None:
        cache = workspace.briefing_cache = BriefingCache(workspace)
    return cache


def warm(workspace: Workspace) -> None:
    """Compute the briefing before the first visitor asks for it (in the background)."""
    if workspace.settings.database.exists():
        threading.Thread(target=cache_of(workspace).get, daemon=True).start()


def build_home_tab(app: gr.Blocks, workspace: Workspace):
    """Components and events of Home (call inside a ``gr.Tab``); returns its table, whose id
    cells open like links, and the page-load event that shows the briefing."""
    with gr.Row(equal_height=False):
        with gr.Column(scale=3):
            briefing = gr.Markdown(LOADING, elem_id="briefing")
        with gr.Column(scale=2):
            refresh = gr.Button("Refresh briefing", size="sm", elem_id="refresh-briefing")
            table = gr.Dataframe(
                label="Needs attention (click an id)",
                interactive=False,
                max_height=640,
                visible=False,
                elem_id="briefing-table",
            )

    def show(refresh_now: bool = False):
        text, frame = cache_of(workspace).get(refresh=refresh_now)
        return text, gr.update(value=frame, visible=frame is not None and len(frame) > 0)

    refresh.click(lambda: show(True), None, [briefing, table])
    shown = app.load(show, None, [briefing, table])
    return table, shown
