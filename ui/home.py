"""Home: the morning briefing, the first thing a planner sees. It shows what PLANNER's
``briefing`` tool returns (the as-of date, stock-outs in the next 7 days, critical alerts, late
POs, the top actions); every id in it is a link to its chart, explanation or draft. No briefing
logic lives here: without the tool the screen says so.
"""

from __future__ import annotations

import logging
from typing import Any

import gradio as gr

from tools.registry import load_tools
from ui.chat import safe_table
from ui.links import escape_markdown, safe_linked
from ui.tables import present
from ui.workspace import NoDataError, Workspace

log = logging.getLogger(__name__)

BRIEFING_TOOL = "briefing"
LOADING = "### Morning briefing\n_Loading…_"


def briefing_markdown(run) -> str:
    """The briefing as Markdown: the tool's own summary first, then its rendering, ids linked."""
    if not run.ok:
        return (
            f"### Morning briefing\n**Could not build the briefing:** {escape_markdown(run.error)}"
        )
    result: Any = run.result
    as_of = getattr(result, "as_of", None) or getattr(result, "today", None)
    head = "### Morning briefing" + (f" — data as of {as_of}" if as_of else "")
    sections = getattr(result, "markdown", None)
    body = sections() if callable(sections) else None
    if body is None:
        parts = [result.summary() or "", result.render()]
        body = "\n\n".join(safe_linked(p) for p in dict.fromkeys(parts) if p)
    return f"{head}\n\n{body}"


def load_briefing(workspace: Workspace):
    """(briefing markdown, its table or None)."""
    if BRIEFING_TOOL not in load_tools():
        return (
            "### Morning briefing\n_The briefing tool is not installed in this version._",
            None,
        )
    try:
        run = workspace.call(BRIEFING_TOOL, {})
    except NoDataError as error:
        return f"### Morning briefing\n{escape_markdown(error)}", None
    table = safe_table(run.result) if run.ok else None
    return briefing_markdown(run), present(table) if table is not None else None


def build_home_tab(app: gr.Blocks, workspace: Workspace) -> gr.Dataframe:
    """Components and events of Home (call inside a ``gr.Tab``); returns its table, whose id
    cells open like links."""
    with gr.Row(equal_height=False):
        with gr.Column(scale=3):
            briefing = gr.Markdown(LOADING, elem_id="briefing")
        with gr.Column(scale=2):
            refresh = gr.Button("Refresh briefing", size="sm", elem_id="refresh-briefing")
            table = gr.Dataframe(
                label="Needs attention (click an id)",
                interactive=False,
                max_height=560,
                visible=False,
                elem_id="briefing-table",
            )

    def show():
        text, frame = load_briefing(workspace)
        return text, gr.update(value=frame, visible=frame is not None and len(frame) > 0)

    refresh.click(show, None, [briefing, table])
    app.load(show, None, [briefing, table])
    return table
