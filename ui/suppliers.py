"""The Supplier desk: suppliers with late or at-risk POs first, an editable e-mail draft for a PO
or a supplier (To is the supplier's contact), and the follow-up drafts for every supplier with
something late at once, to copy or download. Nothing is ever sent from here.

Drafts come straight from the ``draft_supplier_email`` tool (the assistant adds nothing to a
draft but latency). A draft that fails leaves the text box as the user left it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import gradio as gr
import pandas as pd

from tools.registry import ToolRun
from ui.chat import safe_table
from ui.links import escape_markdown
from ui.tables import export_path, present
from ui.workspace import NoDataError, Workspace

log = logging.getLogger(__name__)

DRAFT_TOOL = "draft_supplier_email"
PO_COLUMNS = [
    "po_number",
    "supplier_id",
    "supplier_name",
    "location_id",
    "state",
    "promised_date",
    "days_late",
    "expected_arrival",
    "lines",
]


def orders_frame(*runs: ToolRun) -> pd.DataFrame:
    """One row per PO from ``supplier_orders`` runs (late, at risk), latest first."""
    rows = [
        {
            "po_number": o.po_number,
            "supplier_id": o.supplier_id,
            "supplier_name": getattr(o, "supplier_name", ""),
            "location_id": o.location_id,
            "state": o.state.replace("_", " "),
            "promised_date": o.promised_date,
            "days_late": o.days_late,
            "expected_arrival": getattr(o, "expected_arrival", None),
            "lines": len(o.lines),
        }
        for run in runs
        if run.ok and run.result is not None
        for o in getattr(run.result, "orders", [])
    ]
    frame = pd.DataFrame(rows, columns=PO_COLUMNS).drop_duplicates("po_number")
    return frame.sort_values(["days_late", "po_number"], ascending=[False, True])


def po_choices(frame: pd.DataFrame) -> list[tuple[str, str]]:
    def when(r) -> str:
        return f"{r.days_late} d late" if r.state == "late" else r.state

    return [
        (f"{r.po_number} - {r.supplier_name or r.supplier_id} - {when(r)}", r.po_number)
        for r in frame.itertuples()
    ]


def supplier_choices(suppliers: pd.DataFrame, orders: pd.DataFrame) -> list[tuple[str, str]]:
    """Suppliers with late POs first, then at-risk ones, then the rest; each says why."""
    late = orders[orders["state"] == "late"]["supplier_id"].value_counts()
    risk = orders[orders["state"] == "at risk"]["supplier_id"].value_counts()
    rows = []
    for r in suppliers.itertuples():
        n_late, n_risk = int(late.get(r.supplier_id, 0)), int(risk.get(r.supplier_id, 0))
        why = (
            ", ".join([f"{n_late} late"] * bool(n_late) + [f"{n_risk} at risk"] * bool(n_risk))
            or "nothing late"
        )
        rows.append(
            ((-n_late, -n_risk, r.name), (f"{r.name} ({r.supplier_id}): {why}", r.supplier_id))
        )
    return [choice for _, choice in sorted(rows)]


def email_text(result: Any) -> str:
    """The draft as one editable text: the tool's deliverable (To/Cc/Subject and body)."""
    return result.deliverable() or result.render()


def write_drafts(text: str) -> str:
    path = export_path("supplier-drafts", ".txt")
    path.write_text(text, encoding="utf-8")
    return str(path)


@dataclass
class SuppliersHandles:
    po_outputs: list  # what open_po / open_supplier return
    supplier_outputs: list
    late: gr.Dataframe  # its id cells open like links
    all_outputs: list  # what follow_up_drafts returns


def build_suppliers_tab(app: gr.Blocks, workspace: Workspace) -> SuppliersHandles:
    """Components and events of the Supplier desk (call inside a ``gr.Tab``)."""
    gr.Markdown(
        "Drafts only: nothing is sent from Stockpilot. Edit the draft, copy it, send it "
        "from your own mail client."
    )
    with gr.Row(equal_height=False):
        with gr.Column(scale=2):
            supplier = gr.Dropdown(
                label="Supplier (late or at risk first)", choices=[], elem_id="supplier"
            )
            draft_supplier = gr.Button("Draft e-mail to this supplier", elem_id="draft-supplier")
            po = gr.Dropdown(label="Late or at-risk purchase order", choices=[], elem_id="late-po")
            draft_po = gr.Button(
                "Draft e-mail about this PO", variant="primary", elem_id="draft-po"
            )
            refresh = gr.Button("Refresh lists", size="sm")
            late = gr.Dataframe(
                label="Late and at-risk purchase orders",
                interactive=False,
                max_height=320,
                elem_id="late-pos",
            )
        with gr.Column(scale=3):
            draft = gr.Textbox(
                label="E-mail draft (editable, not sent)",
                lines=16,
                max_lines=40,
                interactive=True,
                buttons=["copy"],
                elem_id="email-draft",
            )
            answer = gr.Markdown(elem_id="draft-answer")
            with gr.Accordion(
                "Follow-ups for all suppliers", open=False, elem_id="all-drafts-box"
            ) as all_box:
                draft_all = gr.Button(
                    "Draft follow-ups for every supplier with late or at-risk POs",
                    elem_id="draft-all",
                )
                all_note = gr.Markdown(elem_id="all-drafts-note")
                all_table = gr.Dataframe(
                    interactive=False, visible=False, elem_id="all-drafts-table"
                )
                all_text = gr.Textbox(
                    label="All drafts (copy into your mail client)",
                    lines=10,
                    buttons=["copy"],
                    elem_id="all-drafts",
                )
                all_file = gr.DownloadButton(
                    "Download all drafts", visible=False, size="sm", elem_id="download-drafts"
                )

    def load_lists():
        try:
            with workspace.reading() as ctx:
                suppliers = ctx.store.suppliers()
            runs = [workspace.call("supplier_orders", {"status": s}) for s in ("late", "at_risk")]
        except NoDataError as error:
            return gr.update(choices=[]), gr.update(choices=[]), pd.DataFrame(), str(error)
        frame = orders_frame(*runs)
        note = "; ".join(f"Could not list POs: {r.error}" for r in runs if not r.ok)
        suppliers_sorted = supplier_choices(suppliers, frame)
        return (
            gr.update(choices=po_choices(frame), value=frame["po_number"].iloc[0] if len(frame) else None),
            gr.update(choices=suppliers_sorted, value=suppliers_sorted[0][1] if suppliers_sorted else None),
            present(frame),
            escape_markdown(note),
        )  # fmt: skip

    draft_po.click(lambda p, t: open_po(workspace, p, t), [po, draft], [po, draft, answer])
    draft_supplier.click(
        lambda s, t: open_supplier(workspace, s, t), [supplier, draft], [supplier, draft, answer]
    )
    all_outputs = [all_box, all_note, all_table, all_text, all_file]
    draft_all.click(lambda: follow_up_drafts(workspace), None, all_outputs)
    refresh.click(load_lists, None, [po, supplier, late, answer])
    app.load(load_lists, None, [po, supplier, late, answer])
    return SuppliersHandles([po, draft, answer], [supplier, draft, answer], late, all_outputs)


def follow_up_drafts(workspace: Workspace) -> list:
    """[accordion, note, table, all drafts text, download] for one draft per supplier with late
    (else at-risk) POs: the tool's follow-ups."""
    opened = gr.update(open=True)
    try:
        run = workspace.call(DRAFT_TOOL, {})
    except NoDataError as error:
        return [opened, str(error), gr.skip(), gr.skip(), gr.update(visible=False)]
    if not run.ok:
        return [
            opened,
            f"**No drafts:** {escape_markdown(run.error)}",
            gr.skip(),
            gr.skip(),
            gr.skip(),
        ]
    result = run.result
    text = result.deliverable() or ""
    table = safe_table(result)
    note = escape_markdown(result.summary() or result.render())
    file = gr.update(value=write_drafts(text), visible=True) if text else gr.skip()
    shown = gr.update(value=present(table), visible=True) if table is not None else gr.skip()
    return [opened, note, shown, text, file]


def _draft(workspace: Workspace, arguments: dict, current: str | None) -> tuple[Any, str]:
    """(new text or gr.skip(), note). On failure the user's text stays as it was."""
    what = ", ".join(f"{v}" for v in arguments.values())
    try:
        run = workspace.call(DRAFT_TOOL, arguments)
    except NoDataError as error:
        return gr.skip(), str(error)
    if not run.ok:
        kept = " Your text above is unchanged." if (current or "").strip() else ""
        return (
            gr.skip(),
            f"**No draft for {escape_markdown(what)}:** {escape_markdown(run.error)}.{kept}",
        )
    result = run.result
    note = escape_markdown(result.summary() or f"Draft for {what}.")
    return email_text(result), note + f" _({run.seconds:.2f} s, not sent)_"


def open_po(workspace: Workspace, po_number: str | None, current: str | None = None) -> list:
    """[PO picker, draft text, note] for a PO (from the picker or a PO link)."""
    if not po_number:
        return [gr.skip(), gr.skip(), "_Pick a PO first._"]
    text, note = _draft(workspace, {"po_number": po_number}, current)
    return [gr.update(value=po_number), text, note]


def open_supplier(
    workspace: Workspace, supplier_id: str | None, current: str | None = None
) -> list:
    """[supplier picker, draft text, note] for a supplier (from the picker or a link)."""
    if not supplier_id:
        return [gr.skip(), gr.skip(), "_Pick a supplier first._"]
    text, note = _draft(workspace, {"supplier": supplier_id}, current)
    return [gr.update(value=supplier_id), text, note]
