"""The History tab: past turns (assistant.traces) newest first; a row opens the turn, span by
span (each model call with its tokens, each tool call with its arguments, seconds and status),
and the whole trace downloads as JSON, as `stockpilot traces export` writes it."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import gradio as gr
import pandas as pd

from assistant.traces import TRACE_FILE, TraceStore, summary_row
from ui.links import escape_markdown
from ui.tables import label
from ui.workspace import Workspace

COLUMNS = ["started", "question", "tools", "failed_tools", "seconds", "unsupported", "trace_id"]
STEP_COLUMNS = ["step", "seconds", "status", "detail"]
# Headers are ui.tables' labels, in columns wide enough that none breaks mid-word.
WIDTHS = ["170px", "360px", "150px", "90px", "100px", "120px", "300px"]
NO_TURN = "_Select a turn to see what the assistant did._"
SHOWN_TURNS = 200


def trace_store(workspace: Workspace) -> TraceStore:
    settings = workspace.settings
    return TraceStore(
        settings.data_dir / TRACE_FILE, settings.trace_keep, settings.trace_max_age_days
    )


def turn_table(store: TraceStore) -> pd.DataFrame:
    rows = [summary_row(t) for t in store.turns()[:SHOWN_TURNS]]
    return pd.DataFrame(rows, columns=COLUMNS)


def shown(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.rename(columns=label)


def span_rows(turn: dict) -> pd.DataFrame:
    """One row per model or tool call, in the order they ran."""
    rows = []
    for span in sorted(turn["spans"][:-1], key=lambda s: s["start"]):
        attributes = span["attributes"]
        if attributes.get("gen_ai.operation.name") == "chat":
            detail = (
                f"prompt {attributes.get('gen_ai.usage.input_tokens', 0)} tokens, "
                f"generated {attributes.get('gen_ai.usage.output_tokens', 0)}"
            )
            changes = attributes.get("stockpilot.guard.changes") or []
            if changes:
                detail += "; guard: " + "; ".join(changes)
        else:
            detail = attributes.get("gen_ai.tool.call.arguments", "")
        status = (
            "error: " + (span["status_description"] or "") if span["status"] == "ERROR" else "ok"
        )
        rows.append(
            {"step": span["name"], "seconds": span["seconds"], "status": status, "detail": detail}
        )
    return pd.DataFrame(rows, columns=STEP_COLUMNS)


def turn_markdown(turn: dict) -> str:
    root = turn["spans"][-1]["attributes"] if turn["spans"] else {}
    ids = ", ".join(
        f"{key.split('.')[1]} `{value}`"
        for key, value in root.items()
        if key.startswith("stockpilot.") and key.endswith(".id")
    )
    unsupported = root.get("stockpilot.grounding.unsupported") or []
    lines = [
        f"**Question:** {escape_markdown(turn['question'])}",
        f"**Answer:** {escape_markdown(turn.get('answer', ''))}",
        f"<small>trace `{turn['trace_id']}` | {turn['started'][:19].replace('T', ' ')} UTC | "
        f"{turn['seconds']:.2f} s | {ids}</small>",
        "**Not found in any tool result:** " + ", ".join(unsupported)
        if unsupported
        else "Every figure in the answer was found in a tool result.",
    ]
    return "\n\n".join(lines)


def build_history_tab(app: gr.Blocks, workspace: Workspace) -> None:
    """The tab itself (one line in ui/app.py adds it)."""
    with gr.Tab("History", id="history") as tab:
        with gr.Row():
            gr.Markdown("Every answered question, newest first. Select one to open it.")
            refresh = gr.Button("Refresh", elem_id="history-refresh", scale=0)
        table = gr.Dataframe(
            value=pd.DataFrame(columns=[label(c) for c in COLUMNS]),
            interactive=False,
            column_widths=WIDTHS,
            elem_id="history-table",
            wrap=True,
        )
        ids = gr.State([])
        detail = gr.Markdown(NO_TURN, elem_id="history-detail")
        steps = gr.Dataframe(
            value=pd.DataFrame(columns=[label(c) for c in STEP_COLUMNS]),
            interactive=False,
            elem_id="history-steps",
            wrap=True,
        )
        download = gr.DownloadButton(
            "Download trace (JSON)", elem_id="history-download", visible=False
        )

    def load():
        frame = turn_table(trace_store(workspace))
        return shown(frame), list(frame["trace_id"])

    def open_turn(trace_ids: list[str], event: gr.SelectData):
        row = event.index[0] if isinstance(event.index, list | tuple) else event.index
        if row is None or row >= len(trace_ids):
            return NO_TURN, gr.update(), gr.update(visible=False)
        turn = trace_store(workspace).get(trace_ids[row])
        folder = Path(tempfile.mkdtemp(prefix="stockpilot-trace-"))
        path = folder / f"trace-{turn['trace_id'][:12]}.json"
        path.write_text(json.dumps(turn, indent=2, ensure_ascii=False), encoding="utf-8")
        steps = shown(span_rows(turn))
        return turn_markdown(turn), steps, gr.update(value=str(path), visible=True)

    for trigger in (refresh.click, tab.select, app.load):
        trigger(load, outputs=[table, ids])
    table.select(open_turn, inputs=[ids], outputs=[detail, steps, download])
