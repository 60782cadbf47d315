"""One click from an id to what explains it: the links in answers and the briefing, and the id
cells of tables, open the SKU's charts, the alert's evidence, the PO's or supplier's draft, or
an earlier answer's evidence, on their own tab."""

from __future__ import annotations

from dataclasses import dataclass

import gradio as gr

from ui.alerts import AlertsHandles, open_alert
from ui.charts_tab import ChartsHandles, open_sku
from ui.chat_tab import ChatHandles, show_evidence
from ui.links import ENTITY, LINK_JS, TARGET_JS, kind_of, parse_target
from ui.suppliers import SuppliersHandles, follow_up_drafts, open_po, open_supplier
from ui.workspace import Workspace


@dataclass
class Screens:
    tabs: gr.Tabs
    chat: ChatHandles
    charts: ChartsHandles
    alerts: AlertsHandles
    suppliers: SuppliersHandles


def wire_links(app: gr.Blocks, workspace: Workspace, screens: Screens, tables: list) -> None:
    """The hidden link button, the page-load click handler, and id cells of ``tables``."""
    target = gr.Textbox(visible="hidden", elem_id="entity-link")
    go = gr.Button("open", visible="hidden", elem_id="entity-go")
    chat, charts, alerts, desk = screens.chat, screens.charts, screens.alerts, screens.suppliers
    outputs = [
        screens.tabs,
        chat.pick,
        *chat.panel,
        *charts.outputs,
        *alerts.outputs,
        *dict.fromkeys([*desk.po_outputs, *desk.supplier_outputs]),
        *desk.all_outputs,
    ]

    def open_target(value: str | None, evidences) -> dict:
        parsed = parse_target(value)
        if parsed is None:
            return {}
        kind, key = parsed
        if kind == "answer":
            updates = dict(zip(chat.panel, show_evidence(evidences, int(key)), strict=True))
            return {screens.tabs: gr.Tabs(selected="chat"), chat.pick: int(key), **updates}
        if kind == "sku":
            updates = dict(zip(charts.outputs, open_sku(workspace, key), strict=True))
            return {screens.tabs: gr.Tabs(selected="charts"), **updates}
        if kind == "alert":
            updates = dict(zip(alerts.outputs, open_alert(workspace, key), strict=True))
            return {screens.tabs: gr.Tabs(selected="alerts"), **updates}
        if kind == "drafts":
            updates = dict(zip(desk.all_outputs, follow_up_drafts(workspace), strict=True))
            return {screens.tabs: gr.Tabs(selected="suppliers"), **updates}
        if kind == "po":
            updates = dict(zip(desk.po_outputs, open_po(workspace, key), strict=True))
        else:
            updates = dict(zip(desk.supplier_outputs, open_supplier(workspace, key), strict=True))
        return {screens.tabs: gr.Tabs(selected="suppliers"), **updates}

    # the js step copies the clicked link's target into the hidden box, then Python opens it
    go.click(None, [target], [target], js=TARGET_JS).then(
        open_target, [target, chat.evidences], outputs
    )

    def open_cell(evidences, event: gr.SelectData):
        found = ENTITY.search(str(event.value or ""))  # 'SKU-00038 HAM' opens SKU-00038
        value = found.group(1) if found else ""
        return open_target(f"{kind_of(value)}/{value}" if found else None, evidences)

    for table in tables:
        table.select(open_cell, [chat.evidences], outputs)
    app.load(None, None, None, js=LINK_JS)
