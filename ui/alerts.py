"""The Alerts inbox: open alerts by severity, filterable, with each alert's stored evidence and an
"Explain" button that asks the assistant about it.

Listing and evidence are plain reads of the alerts table through ``Store`` (every open alert,
not the agent tool's top-N); the explanation goes through the assistant like a chat question.
"""

from __future__ import annotations

import json
import logging
import uuid
from typing import Any

import gradio as gr
import pandas as pd

from ui.chat import AnswerView, final_markdown
from ui.workspace import NoDataError, Workspace

log = logging.getLogger(__name__)

SEVERITIES = ["all", "critical", "high", "medium", "low"]
KINDS = ["all", "demand_spike", "demand_drop", "data_error", "supplier_delay", "shrinkage"]
COLUMNS = [
    "alert_id",
    "severity",
    "kind",
    "sku",
    "location_id",
    "supplier_id",
    "po_number",
    "start_date",
    "end_date",
    "summary",
]


def explain_question(alert_id: str) -> str:
    return f"Explain alert {alert_id}"


def open_alerts(store, severity: str = "all", kind: str = "all") -> pd.DataFrame:
    """Open alerts, most severe first, with the columns the inbox shows."""
    frame = store.alerts(
        status="open",
        severity=None if severity == "all" else severity,
        kind=None if kind == "all" else kind,
    )
    frame = frame.reindex(columns=COLUMNS)
    for column in ("start_date", "end_date"):  # DuckDB DATE arrives as a midnight timestamp
        frame[column] = pd.to_datetime(frame[column]).dt.strftime("%Y-%m-%d")
    return frame


def alert_evidence(store, alert_id: str) -> tuple[str, Any]:
    """(header markdown, evidence as parsed JSON) for one alert."""
    alert = store.alert(alert_id)
    evidence = alert.get("evidence")
    if isinstance(evidence, str):
        try:
            evidence = json.loads(evidence)
        except json.JSONDecodeError:
            evidence = {"text": evidence}
    bounds = ""
    if alert.get("expected_low") is not None and not pd.isna(alert.get("expected_low")):
        bounds = f" | expected {alert['expected_low']:g}-{alert['expected_high']:g}, observed {alert['observed']:g}"
    header = (
        f"### {alert['alert_id']}: {alert['severity']} {alert['kind'].replace('_', ' ')}\n"
        f"{alert['summary']}\n\n_{_day(alert['start_date'])} to {_day(alert['end_date'])}{bounds}_"
    )
    return header, evidence


def _day(value) -> str:
    return pd.Timestamp(value).strftime("%Y-%m-%d")


def summary_line(frame: pd.DataFrame) -> str:
    if frame.empty:
        return "No open alerts match."
    counts = frame["severity"].value_counts()
    parts = [f"{counts[s]} {s}" for s in SEVERITIES[1:] if s in counts]
    return f"**{len(frame)} open alerts**: " + ", ".join(parts)


def build_alerts_tab(app: gr.Blocks, workspace: Workspace) -> None:
    """Components and events of the Alerts tab (call inside a ``gr.Tab``)."""
    selected = gr.State()
    with gr.Row():
        severity = gr.Dropdown(SEVERITIES, value="all", label="Severity", elem_id="alert-severity")
        kind = gr.Dropdown(KINDS, value="all", label="Kind", elem_id="alert-kind")
        refresh = gr.Button("Refresh", size="sm")
    count = gr.Markdown()
    with gr.Row(equal_height=False):
        with gr.Column(scale=3):
            table = gr.Dataframe(
                interactive=False,
                wrap=True,
                max_height=520,
                elem_id="alerts-table",
                label="Open alerts (click a row)",
            )
        with gr.Column(scale=2):
            header = gr.Markdown("_Select an alert to see its evidence._", elem_id="alert-header")
            evidence = gr.JSON(label="Evidence", elem_id="alert-evidence")
            explain = gr.Button("Explain", variant="primary", interactive=False, elem_id="explain")
            explanation = gr.Markdown(elem_id="alert-explanation")

    def load(severity_value: str, kind_value: str):
        try:
            with workspace.reading() as ctx:
                frame = open_alerts(ctx.store, severity_value, kind_value)
        except NoDataError as error:
            return pd.DataFrame(columns=COLUMNS), str(error)
        return frame, summary_line(frame)

    def select(frame: pd.DataFrame, event: gr.SelectData):
        row = (
            event.row_value if event.row_value is not None else frame.iloc[event.index[0]].tolist()
        )
        alert_id = str(row[0])
        with workspace.reading() as ctx:
            head, data = alert_evidence(ctx.store, alert_id)
        return alert_id, head, data, gr.update(interactive=True), ""

    def explain_alert(alert_id: str | None):
        if not alert_id:
            yield "_Select an alert first._"
            return
        view = AnswerView()
        yield f'_Asking the assistant: "{explain_question(alert_id)}" ..._'
        try:
            for kind_, payload in workspace.stream(explain_question(alert_id), uuid.uuid4().hex):
                view.add(kind_, payload)
        except Exception as error:
            log.exception("explaining %s failed", alert_id)
            yield f"Could not explain {alert_id}: {type(error).__name__}: {error}"
            return
        yield explanation_markdown(view.reply)

    for control in (severity, kind):
        control.change(load, [severity, kind], [table, count])
    refresh.click(load, [severity, kind], [table, count])
    table.select(select, [table], [selected, header, evidence, explain, explanation])
    explain.click(explain_alert, [selected], [explanation])
    app.load(load, [severity, kind], [table, count])


def explanation_markdown(reply) -> str:
    """The assistant's answer plus the tool evidence it rests on (as in the chat)."""
    text = final_markdown(reply)
    steps = [
        f"- `{run.name}` ({run.seconds:.2f} s){'' if run.ok else ': ' + str(run.error)}"
        for run in reply.tool_runs
    ]
    return text + ("\n\n**Tool calls**\n" + "\n".join(steps) if steps else "")
