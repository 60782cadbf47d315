"""The Chat tab: streaming answers with tool steps; each answer keeps its own evidence (table with
every row, chart, SOP passages) in the chat and in the evidence panel, which shows any earlier
answer's evidence on request, with CSV/XLSX export and copy with headers.

While an answer streams the input is locked (no second send can cut into it) and Stop cancels it.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass

import gradio as gr

from tools.registry import ToolRun, load_tools
from ui.charts import chart_for_reply
from ui.chat import (
    AnswerView,
    Evidence,
    answer_evidence,
    error_message,
    safe_table,
    user_message,
)
from ui.tables import clipboard_text, write_csv, write_xlsx
from ui.workspace import NoDataError, Workspace

log = logging.getLogger(__name__)

STARTERS = [
    "Which SKUs will stock out next week?",
    "Show open alerts",
    "Draft an email to the supplier about late POs",
    "Show late purchase orders",
    "Forecast demand for SKU-00001 over the next 4 weeks",
    "Project stock on hand for SKU-00001",
    "Plan delivery routes",
    "What is the procedure for cycle counts?",
]
NO_EVIDENCE = "### Evidence\n_Each answer's table and chart appear here and stay with it._"
NO_SOURCES = "_No SOP passages cited in this answer._"
WORKING = gr.ChatMessage(
    role="assistant", content="", metadata={"title": "Working…", "status": "pending"}
)
STOPPED = gr.ChatMessage(role="assistant", content="_Stopped. Ask again when you are ready._")
COPY_JS = """() => {
  const text = document.querySelector('#table-tsv textarea')?.value || '';
  navigator.clipboard?.writeText(text);
  return [];
}"""


def new_session_id() -> str:
    return uuid.uuid4().hex


@dataclass
class ChatHandles:
    """The components other tabs' links reach: the evidence panel and its answers."""

    evidences: gr.State
    pick: gr.Dropdown
    panel: list  # title, table, csv, xlsx, tsv, plot, sources (show_evidence's outputs)
    table: gr.Dataframe


def show_evidence(evidences: list[Evidence] | None, number: int | None) -> list:
    """Updates for the evidence panel showing answer ``number`` (the newest when None)."""
    evidences = evidences or []
    chosen = next((e for e in evidences if e.number == number), None)
    if chosen is None and evidences and number is None:
        chosen = evidences[-1]
    if chosen is None:
        hidden = gr.update(value=None, visible=False)
        return [NO_EVIDENCE, hidden, hidden, hidden, "", hidden, NO_SOURCES]
    table, figure = chosen.table, chosen.figure
    has_table = table is not None
    name = chosen.tool or "answer"
    return [
        chosen.title(),
        gr.update(value=table if has_table else None, visible=has_table),
        gr.update(value=write_csv(name, table) if has_table else None, visible=has_table),
        gr.update(value=write_xlsx(name, table) if has_table else None, visible=has_table),
        clipboard_text(table) if has_table else "",
        gr.update(value=figure, visible=figure is not None),
        chosen.sources or NO_SOURCES,
    ]


def stop_key(request: gr.Request | None) -> str | None:
    """The key Stop cancels by: the browser session (one answer streams per session)."""
    return getattr(request, "session_hash", None)


def evidence_choices(evidences: list[Evidence]) -> list[tuple[str, int]]:
    return [(e.choice, e.number) for e in evidences]


def build_chat_tab(workspace: Workspace) -> ChatHandles:
    """Components and events of the Chat tab (call inside a ``gr.Tab``)."""
    session = gr.State()
    evidences = gr.State([])
    with gr.Row(equal_height=False):
        with gr.Column(scale=3):
            chatbot = gr.Chatbot(
                label="Stockpilot",
                height=600,
                buttons=["copy"],
                elem_id="chatbot",
                placeholder="Ask about stock, forecasts, alerts, suppliers, routes or SOPs.",
            )
            with gr.Row():
                question = gr.Textbox(
                    show_label=False,
                    placeholder="Ask a question and press Enter",
                    scale=5,
                    elem_id="question",
                    autofocus=True,
                )
                send = gr.Button("Send", variant="primary", scale=1, elem_id="send")
                stop = gr.Button("Stop", variant="stop", scale=1, visible=False, elem_id="stop")
            with gr.Row(elem_id="starters"):
                starters = [gr.Button(text, size="sm") for text in STARTERS]
            reset = gr.Button("New conversation", size="sm", elem_id="reset")
        with gr.Column(scale=2, elem_id="evidence"):
            pick = gr.Dropdown(
                label="Evidence of answer", choices=[], value=None, elem_id="evidence-pick"
            )
            title = gr.Markdown(NO_EVIDENCE, elem_id="evidence-title")
            table = gr.Dataframe(
                interactive=False,
                max_height=380,
                visible=False,
                buttons=["fullscreen"],  # its own copy leaves the header row out: ours below
                show_search="search",
                elem_id="result-table",
            )
            with gr.Row():
                csv = gr.DownloadButton("CSV", visible=False, size="sm", elem_id="download-csv")
                xlsx = gr.DownloadButton("Excel", visible=False, size="sm", elem_id="download-xlsx")
                copy = gr.Button("Copy table", size="sm", elem_id="copy-table")
            tsv = gr.Textbox(visible="hidden", elem_id="table-tsv")
            plot = gr.Plot(label="Chart", elem_id="answer-chart", visible=False)
            with gr.Accordion("SOP sources", open=False, elem_id="sources"):
                sources = gr.Markdown(NO_SOURCES)
    panel = [title, table, csv, xlsx, tsv, plot, sources]
    controls = [question, send, *starters]

    def lock():
        return [gr.update(interactive=False)] * len(controls) + [gr.update(visible=True)]

    def unlock():
        return [gr.update(interactive=True)] * len(controls) + [
            gr.update(visible=False, interactive=True)
        ]

    def respond(
        text: str,
        history: list,
        session_id: str | None,
        kept: list[Evidence],
        request: gr.Request,
    ):
        """Stream one answer; its evidence is added to the panel when the answer is final.

        Stop reaches it through the browser's session (``request.session_hash``), not the chat
        state, which the first update may not have stored yet."""
        text = (text or "").strip()
        if not text:
            yield [gr.skip()] * (5 + len(panel))
            return
        session_id = session_id or new_session_id()
        shown = list(history or []) + [user_message(text)]
        view = AnswerView()
        rest = [gr.skip()] * (2 + len(panel))  # evidences, pick, panel
        yield [shown + [WORKING], "", session_id, *rest]
        try:
            for kind, payload in workspace.stream(text, session_id, stop_key(request)):
                if kind == "stopped":  # the model stopped at its next token: say so, keep text
                    yield [shown + view.messages() + [STOPPED], gr.skip(), gr.skip(), *rest]
                    return
                view.add(kind, payload)
                if kind != "final":
                    yield [shown + (view.messages() or [WORKING]), gr.skip(), gr.skip(), *rest]
        except NoDataError as error:
            message = gr.ChatMessage(role="assistant", content=str(error))
            yield [shown + [message], gr.skip(), gr.skip(), *rest]
            return
        except Exception as error:  # show it in the chat rather than a bare "Error" toast
            log.exception("answering %r failed", text)
            yield [shown + view.messages() + [error_message(error)], gr.skip(), gr.skip(), *rest]
            return
        evidence = answer_evidence(
            len(kept) + 1,
            text,
            view.reply,
            chart(workspace, view.reply),
            rerun=lambda run: every_row(workspace, run),
        )
        kept = [*kept, evidence]
        yield [
            shown + view.messages() + inline_evidence(evidence),
            gr.skip(),
            gr.skip(),
            kept,
            gr.update(choices=evidence_choices(kept), value=evidence.number),
            *show_evidence(kept, evidence.number),
        ]

    inputs = [question, chatbot, session, evidences]
    outputs = [chatbot, question, session, evidences, pick, *panel]
    lock_outputs = [*controls, stop]
    for trigger in (question.submit, send.click):
        step = trigger(lock, None, lock_outputs).then(respond, inputs, outputs)
        step.then(unlock, None, lock_outputs)
    for button, text in zip(starters, STARTERS, strict=True):
        step = (
            button.click(lambda t=text: t, None, question)
            .then(lock, None, lock_outputs)
            .then(respond, inputs, outputs)
        )
        step.then(unlock, None, lock_outputs)

    def stop_answer(request: gr.Request):
        # the answer ends itself (and says "Stopped.") at the model's next token; no Gradio
        # ``cancels``: cancelling the event instead could drop that last update
        workspace.cancel(stop_key(request))
        return gr.update(interactive=False)

    stop.click(stop_answer, None, stop, queue=False)
    pick.input(show_evidence, [evidences, pick], panel)
    copy.click(None, None, None, js=COPY_JS)

    def start_over():
        return [[], new_session_id(), [], gr.update(choices=[], value=None)] + show_evidence(
            [], None
        )

    cleared = [chatbot, session, evidences, pick, *panel]
    reset.click(start_over, None, cleared)
    chatbot.clear(start_over, None, cleared)  # the chat's own bin icon: forget the session too
    return ChatHandles(evidences, pick, panel, table)


def every_row(workspace: Workspace, run) -> ToolRun | None:
    """The same call with the largest ``limit`` its tool takes, when the answer's call was cut
    to its top-N (the answer quotes the top; the evidence table holds every row)."""
    spec = load_tools().get(run.name)
    field = spec.request.model_fields.get("limit") if spec is not None else None
    if field is None:
        return None
    most = max((m.le for m in field.metadata if getattr(m, "le", None)), default=None)
    table = safe_table(run.result)
    shown = int((run.arguments or {}).get("limit") or field.default or 0)
    if not most or table is None or len(table) < shown or shown >= most:
        return None  # not cut: the answer already holds every row
    try:
        return workspace.call(run.name, {**(run.arguments or {}), "limit": most})
    except Exception:  # the full table is a bonus: the answer's own rows still show
        log.exception("full table for %s failed", run.name)
        return None


def chart(workspace: Workspace, reply):
    try:
        with workspace.reading() as ctx:
            return chart_for_reply(reply, ctx.store)
    except Exception:  # a chart is a bonus: never let it break the answer
        log.exception("chart failed")
        return None


def inline_evidence(evidence: Evidence) -> list[gr.ChatMessage]:
    """What stays in the chat under the answer: its chart, and a link to its full table."""
    out = []
    if evidence.figure is not None:
        out.append(gr.ChatMessage(role="assistant", content=gr.Plot(evidence.figure)))
    if evidence.table is not None:
        out.append(
            gr.ChatMessage(
                role="assistant",
                content=f"[Table of answer {evidence.number}: {len(evidence.table)} rows, "
                f"CSV and Excel](#open/answer/{evidence.number})",
            )
        )
    return out
