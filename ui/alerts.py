"""The Alerts inbox: alerts by severity with where each one stands (acknowledged, assigned,
snoozed, closed), the alert's evidence as labelled fields, its explanation, and the actions:
acknowledge, assign to a name, snooze until a date, close with a note, reopen.

Actions are stored with who and when through ``tools.alert_actions`` under the workspace's write
lock (never through the read-only agent); they survive a re-scan, and the history shows them.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import date
from typing import Any

import gradio as gr
import pandas as pd

from tools import alert_actions, alert_types
from tools.store import UnknownEntityError
from ui.links import escape_markdown, safe_linked
from ui.tables import label, present
from ui.workspace import NoDataError, Workspace

log = logging.getLogger(__name__)

SEVERITIES = ["all", *alert_types.SEVERITIES]
KINDS = ["all", *alert_types.KINDS]
# what a planner scans first comes first; PO, supplier and dates are in the summary and detail
SHOWN = ["alert_id", "severity", "state", "kind", "sku", "location_id", "summary"]
WIDTHS = ["64px", "92px", "110px", "110px", "100px", "100px", "300px"]
NO_ALERT = "_Select an alert to see its evidence._"
NAME_KEY = "stockpilot-actor"


def _day(value) -> str:
    return "" if value is None or pd.isna(value) else pd.Timestamp(value).strftime("%Y-%m-%d")


def inbox(store, severity: str = "all", kind: str = "all", everything: bool = False):
    """Alerts most severe first with their state; closed and snoozed ones only with
    ``everything``. Returns (raw frame, table for people)."""
    frame = store.alerts(
        status=None,
        severity=None if severity == "all" else severity,
        kind=None if kind == "all" else kind,
    )
    states = alert_actions.states(store, frame)
    today = store.today()
    frame["state"] = [states[a].label(today) for a in frame["alert_id"]]
    if not everything:
        keep = [
            states[a].status != "closed" and not states[a].snoozed(today) for a in frame["alert_id"]
        ]
        frame = frame[keep]
    frame = frame.reindex(columns=SHOWN)
    frame["kind"] = frame["kind"].str.replace("_", " ")
    return frame, present(frame)


def summary_line(frame: pd.DataFrame, everything: bool) -> str:
    if frame.empty:
        return "No alerts match." if everything else "No open alerts match."
    counts = frame["severity"].value_counts()
    parts = [f"{counts[s]} {s}" for s in SEVERITIES[1:] if s in counts]
    what = "alerts" if everything else "alerts to handle"
    return f"**{len(frame)} {what}**: " + ", ".join(parts)


def _value(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.0%}" if 0 < abs(value) < 1 else f"{value:g}"
    if isinstance(value, dict):
        return "; ".join(f"{label(k).lower()} {_value(v)}" for k, v in value.items())
    if isinstance(value, list):
        return ", ".join(_value(v) for v in value[:12]) + (" ..." if len(value) > 12 else "")
    return str(value)


def evidence_markdown(evidence: Any) -> str:
    """The stored evidence as a two-column table of labelled fields (never raw JSON)."""
    if isinstance(evidence, str):
        try:
            evidence = json.loads(evidence)
        except json.JSONDecodeError:
            return escape_markdown(evidence)
    if not isinstance(evidence, dict) or not evidence:
        return "_No stored evidence._"
    rows = ["| Field | Value |", "|---|---|"]
    for key, value in evidence.items():
        text = escape_markdown(_value(value)).replace("|", "\\|").replace("\n", " ")
        rows.append(f"| {escape_markdown(label(key))} | {text} |")
    return "\n".join(rows)


def alert_header(alert: dict, state: alert_actions.AlertState, today: date) -> str:
    where = " ".join(
        str(alert[k]) for k in ("sku", "location_id", "po_number") if _filled(alert[k])
    )
    bounds = ""
    if _filled(alert.get("expected_low")) and _filled(alert.get("observed")):
        bounds = (
            f"\n\nObserved **{alert['observed']:g}**, expected "
            f"{alert['expected_low']:g}-{alert['expected_high']:g}"
        )
    return (
        f"### {alert['alert_id']}: {alert['severity']} {alert['kind'].replace('_', ' ')}\n"
        f"{safe_linked(where)}: {escape_markdown(alert['summary'])}\n\n"
        f"From {_day(alert['start_date'])} to {_day(alert['end_date'])}{bounds}\n\n"
        f"**Status:** {escape_markdown(state.label(today))}"
    )


def _filled(value) -> bool:
    return value is not None and not (isinstance(value, float) and pd.isna(value)) and value != ""


def explanation_markdown(run) -> str:
    """The explain_alert tool's result as a short readable note: causes as a list."""
    if not run.ok:
        return f"**Could not explain:** {escape_markdown(run.error)}"
    result = run.result
    causes = getattr(result, "causes", []) or []
    lines = ["**Likely causes**"]
    lines += [
        f"{i}. {safe_linked(c.detail)} _(weight {c.weight:.0%})_" for i, c in enumerate(causes, 1)
    ] or ["_None found in the data._"]
    if getattr(result, "sop_query", ""):
        lines.append(f"\n**Procedure to follow:** {escape_markdown(result.sop_query)}")
    return "\n".join(lines) + f"\n\n_explain_alert, {run.seconds:.2f} s_"


@dataclass
class AlertsHandles:
    outputs: list  # what open_alert returns


def build_alerts_tab(app: gr.Blocks, workspace: Workspace) -> AlertsHandles:
    """Components and events of the Alerts tab (call inside a ``gr.Tab``)."""
    selected = gr.State()
    raw = gr.State()
    with gr.Row():
        severity = gr.Dropdown(SEVERITIES, value="all", label="Severity", elem_id="alert-severity")
        kind = gr.Dropdown(KINDS, value="all", label="Kind", elem_id="alert-kind")
        everything = gr.Checkbox(False, label="Show closed and snoozed", elem_id="alert-all")
        refresh = gr.Button("Refresh", size="sm")
    count = gr.Markdown()
    with gr.Row(equal_height=False):
        with gr.Column(scale=3):
            table = gr.Dataframe(
                interactive=False,
                wrap=True,
                column_widths=WIDTHS,
                max_height=620,
                elem_id="alerts-table",
                label="Alerts (click a row)",
            )
        with gr.Column(scale=2):
            header = gr.Markdown(NO_ALERT, elem_id="alert-header")
            with gr.Accordion("Evidence", open=True):
                evidence = gr.Markdown(elem_id="alert-evidence")
            explanation = gr.Markdown(elem_id="alert-explanation")
            gr.Markdown("#### Actions", elem_id="alert-actions")
            actor = gr.Textbox(label="Your name", elem_id="alert-actor", max_lines=1)
            with gr.Row():
                acknowledge = gr.Button("Acknowledge", size="sm", elem_id="alert-ack")
                reopen = gr.Button("Reopen", size="sm", elem_id="alert-reopen")
            with gr.Row(equal_height=True):
                assignee = gr.Textbox(label="Assign to", elem_id="alert-assignee", scale=3)
                assign = gr.Button("Assign", size="sm", elem_id="alert-assign", scale=1)
            with gr.Row(equal_height=True):
                until = gr.Textbox(
                    label="Snooze until (YYYY-MM-DD)", elem_id="alert-until", scale=3
                )
                snooze = gr.Button("Snooze", size="sm", elem_id="alert-snooze", scale=1)
            with gr.Row(equal_height=True):
                note = gr.Textbox(label="Closing note", elem_id="alert-note", scale=3)
                close = gr.Button("Close", size="sm", elem_id="alert-close", scale=1)
            action_status = gr.Markdown(elem_id="alert-action-status")
            history = gr.Dataframe(
                label="History",
                interactive=False,
                elem_id="alert-history",
                max_height=240,
                visible=False,
            )

    def load(severity_value: str, kind_value: str, all_value: bool):
        try:
            with workspace.reading() as ctx:
                frame, shown = inbox(ctx.store, severity_value, kind_value, all_value)
        except NoDataError as error:
            return None, pd.DataFrame(columns=[label(c) for c in SHOWN]), str(error)
        return frame, shown, summary_line(frame, all_value)

    def select(frame: pd.DataFrame | None, event: gr.SelectData):
        if frame is None or event.index is None:
            return [gr.skip()] * 6
        # the row as shown (the user may have sorted the table); its first cell is the id
        row = event.row_value or frame.iloc[event.index[0]].tolist()
        return open_alert(workspace, str(row[0]))

    def act(action: str, alert_id, who, assignee_v, until_v, note_v, request: gr.Request):
        who = (who or "").strip() or (getattr(request, "username", None) or "")
        if not alert_id:
            return "_Select an alert first._", gr.skip(), gr.skip()
        try:
            with workspace.writing() as ctx:
                alert_actions.record(
                    ctx.store, alert_id, action, who, assignee=assignee_v, until=until_v,
                    note=note_v,
                )  # fmt: skip
        except (alert_actions.AlertActionError, UnknownEntityError) as error:
            return f"**Not recorded:** {escape_markdown(error)}", gr.skip(), gr.skip()
        with workspace.reading() as ctx:
            head, hist = _header_and_history(ctx.store, alert_id)
        return f"Recorded: {action} by {escape_markdown(who)}.", head, hist

    listing = [severity, kind, everything]
    for control in listing:
        control.change(load, listing, [raw, table, count])
    refresh.click(load, listing, [raw, table, count])
    outputs = [selected, header, evidence, explanation, history, action_status]
    table.select(select, [raw], outputs)
    fields = [selected, actor, assignee, until, note]
    for button, action in (
        (acknowledge, "acknowledge"),
        (assign, "assign"),
        (snooze, "snooze"),
        (close, "close"),
        (reopen, "reopen"),
    ):
        button.click(_bind(act, action), fields, [action_status, header, history]).then(
            load, listing, [raw, table, count]
        )
    app.load(load, listing, [raw, table, count])
    # the name this browser used last comes back after a reload (plain localStorage: a name
    # is no secret); with ui_auth the login name wins
    app.load(None, None, actor, js=f"() => localStorage.getItem('{NAME_KEY}') || ''")
    app.load(_user, None, actor)
    actor.change(None, actor, None, js=f"(v) => {{ localStorage.setItem('{NAME_KEY}', v); }}")
    return AlertsHandles(outputs)


def _bind(act, action: str):
    def bound(alert_id, who, assignee_v, until_v, note_v, request: gr.Request):
        return act(action, alert_id, who, assignee_v, until_v, note_v, request)

    return bound


def _user(request: gr.Request):
    """The logged-in user's name (with ui_auth) as the actor."""
    return getattr(request, "username", None) or gr.skip()


def _header_and_history(store, alert_id: str) -> tuple[str, pd.DataFrame]:
    alert = store.alert(alert_id)
    state = alert_actions.state(store, alert_id)
    hist = alert_actions.history(store, alert_id)
    hist["acted_at"] = pd.to_datetime(hist["acted_at"]).dt.strftime("%Y-%m-%d %H:%M")
    hist = hist.rename(columns={"acted_at": "when", "actor": "who", "action": "what"})
    shown = present(hist.drop(columns=["alert_id"]))
    return alert_header(alert, state, store.today()), gr.update(value=shown, visible=len(shown) > 0)


def open_alert(workspace: Workspace, alert_id: str) -> list:
    """[selected id, header, evidence, explanation, history, action status] for one alert."""
    try:
        with workspace.reading() as ctx:
            alert = ctx.store.alert(alert_id)
            head, hist = _header_and_history(ctx.store, alert_id)
    except (UnknownEntityError, NoDataError) as error:
        return [None, escape_markdown(error), "", "", gr.update(visible=False), ""]
    run = workspace.call("explain_alert", {"alert_id": alert_id})
    return [
        alert["alert_id"],
        head,
        evidence_markdown(alert.get("evidence")),
        explanation_markdown(run),
        hist,
        "",
    ]
