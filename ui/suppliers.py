"""The Supplier desk: pick a supplier or a late PO, get an editable e-mail draft from the
assistant, copy it into your mail client. Nothing is ever sent from here."""

from __future__ import annotations

import logging
import uuid
from typing import Any

import gradio as gr
import pandas as pd

from tools.registry import ToolRun
from ui.chat import AnswerView, final_markdown
from ui.workspace import NoDataError, Workspace

log = logging.getLogger(__name__)

DRAFT_TOOL = "draft_supplier_email"
LATE_COLUMNS = [
    "po_number",
    "supplier_id",
    "supplier_name",
    "location_id",
    "promised_date",
    "days_late",
    "expected_arrival",
    "lines",
]


def po_question(po_number: str) -> str:
    return f"Draft an email to the supplier about {po_number}"


def supplier_question(supplier_id: str, name: str) -> str:
    return f"Draft an email to supplier {name} ({supplier_id}) about their late POs"


def late_orders_frame(run: ToolRun) -> pd.DataFrame:
    """One row per late PO from a ``supplier_orders(status='late')`` run."""
    if not run.ok or run.result is None:
        return pd.DataFrame(columns=LATE_COLUMNS)
    rows = [
        {
            "po_number": o.po_number,
            "supplier_id": o.supplier_id,
            "supplier_name": getattr(o, "supplier_name", ""),
            "location_id": o.location_id,
            "promised_date": o.promised_date,
            "days_late": o.days_late,
            "expected_arrival": getattr(o, "expected_arrival", None),
            "lines": len(o.lines),
        }
        for o in getattr(run.result, "orders", [])
    ]
    return pd.DataFrame(rows, columns=LATE_COLUMNS)


def po_choices(frame: pd.DataFrame) -> list[tuple[str, str]]:
    return [
        (f"{r.po_number} - {r.supplier_name} - {r.days_late} d late", r.po_number)
        for r in frame.itertuples()
    ]


def supplier_choices(suppliers: pd.DataFrame) -> list[tuple[str, str]]:
    return [(f"{r.name} ({r.supplier_id})", r.supplier_id) for r in suppliers.itertuples()]


def email_text(result: Any) -> str:
    """The draft as one editable text: the tool's deliverable (To/Cc/Subject and body)."""
    return result.deliverable() or result.render()


def draft_from_reply(reply: Any) -> str | None:
    """The e-mail the assistant's draft_supplier_email call produced, if it made one."""
    for run in reversed(reply.tool_runs):
        if run.name == DRAFT_TOOL and run.ok and run.result is not None:
            return email_text(run.result)
    return None


def build_suppliers_tab(app: gr.Blocks, workspace: Workspace) -> None:
    """Components and events of the Supplier desk (call inside a ``gr.Tab``)."""
    gr.Markdown(
        "Drafts only: nothing is sent from Stockpilot. Edit the draft, copy it, send it "
        "from your own mail client."
    )
    with gr.Row(equal_height=False):
        with gr.Column(scale=2):
            po = gr.Dropdown(label="Late purchase order", choices=[], elem_id="late-po")
            draft_po = gr.Button(
                "Draft e-mail about this PO", variant="primary", elem_id="draft-po"
            )
            supplier = gr.Dropdown(label="Supplier", choices=[], elem_id="supplier")
            draft_supplier = gr.Button("Draft e-mail to this supplier", elem_id="draft-supplier")
            refresh = gr.Button("Refresh lists", size="sm")
            late = gr.Dataframe(
                label="Late purchase orders", interactive=False, max_height=300, elem_id="late-pos"
            )
        with gr.Column(scale=3):
            draft = gr.Textbox(
                label="E-mail draft (editable, not sent)",
                lines=18,
                max_lines=40,
                interactive=True,
                buttons=["copy"],
                elem_id="email-draft",
            )
            answer = gr.Markdown(elem_id="draft-answer")

    def load_lists():
        try:
            with workspace.reading() as ctx:
                suppliers = ctx.store.suppliers()
            run = workspace.call("supplier_orders", {"status": "late"})
        except NoDataError as error:
            return gr.update(choices=[]), gr.update(choices=[]), pd.DataFrame(), str(error)
        frame = late_orders_frame(run)
        note = "" if run.ok else f"Could not list late POs: {run.error}"
        first = frame["po_number"].iloc[0] if len(frame) else None
        return (
            gr.update(choices=po_choices(frame), value=first),
            gr.update(choices=supplier_choices(suppliers)),
            frame,
            note,
        )

    def ask_for_draft(question: str, fallback_arguments: dict):
        """Ask the assistant; when its model did not call the drafting tool, call it directly
        (and say so) so that the desk works with weak models too."""
        yield gr.skip(), f'_Asking the assistant: "{question}" ..._'
        view = AnswerView()
        try:
            for kind, payload in workspace.stream(question, uuid.uuid4().hex):
                view.add(kind, payload)
        except Exception as error:
            log.exception("drafting failed")
            yield gr.skip(), f"Drafting failed: {type(error).__name__}: {error}"
            return
        text = draft_from_reply(view.reply)
        note = final_markdown(view.reply, documents=False)  # the draft is in the text box
        if text is None:
            run = workspace.call(DRAFT_TOOL, fallback_arguments)
            if not run.ok:
                yield "", note + f"\n\n**No draft:** {run.error}"
                return
            text = email_text(run.result)
            note += (
                f"\n\n_The assistant did not call `{DRAFT_TOOL}`, so the draft comes straight "
                "from the tool._"
            )
        yield text, note

    def draft_for_po(po_number: str | None):
        if not po_number:
            yield gr.skip(), "_Pick a late PO first._"
            return
        yield from ask_for_draft(po_question(po_number), {"po_number": po_number})

    def draft_for_supplier(supplier_id: str | None):
        if not supplier_id:
            yield gr.skip(), "_Pick a supplier first._"
            return
        with workspace.reading() as ctx:
            name = ctx.store.supplier(supplier_id)["name"]
        yield from ask_for_draft(supplier_question(supplier_id, name), {"supplier": supplier_id})

    draft_po.click(draft_for_po, [po], [draft, answer])
    draft_supplier.click(draft_for_supplier, [supplier], [draft, answer])
    refresh.click(load_lists, None, [po, supplier, late, answer])
    app.load(load_lists, None, [po, supplier, late, answer])
