"""The Chat tab: streaming answers with tool steps, the answer's table (sortable, CSV download),
its chart and the SOP passages it cited."""

from __future__ import annotations

import logging
import re
import tempfile
import time
import uuid
from pathlib import Path

import gradio as gr
import pandas as pd

from ui.charts import chart_for_reply
from ui.chat import AnswerView, error_message, main_table, passages, sources_markdown, user_message
from ui.workspace import NoDataError, Workspace

log = logging.getLogger(__name__)

STARTERS = [
    "Which SKUs will stock out next week?",
    "Show open alerts",
    "Draft an email to the supplier about late POs",
    "Show late purchase orders",
    "Forecast demand for SKU-00001 over the next 14 days",
    "Project stock on hand for SKU-00001",
    "Plan delivery routes",
    "What is the procedure for cycle counts?",
]
TABLE_PLACEHOLDER = "### Result table\n_The table of the latest answer appears here._"
EXPORT_KEEP_S = 24 * 3600
_EXPORT_DIR = Path(tempfile.gettempdir()) / "stockpilot-ui"


def new_session_id() -> str:
    return uuid.uuid4().hex


def write_csv(name: str, table: pd.DataFrame) -> str:
    """The table as a CSV file for the download button (gradio serves files from the temp dir)."""
    _EXPORT_DIR.mkdir(parents=True, exist_ok=True)
    stale = time.time() - EXPORT_KEEP_S
    for old in _EXPORT_DIR.glob("*.csv"):  # downloads are one-off: keep the folder small
        if old.stat().st_mtime < stale:
            old.unlink(missing_ok=True)
    safe = re.sub(r"[^A-Za-z0-9_-]+", "_", name)
    path = _EXPORT_DIR / f"{safe}-{time.strftime('%Y%m%d-%H%M%S')}-{uuid.uuid4().hex[:6]}.csv"
    table.to_csv(path, index=False)
    return str(path)


def build_chat_tab(workspace: Workspace) -> None:
    """Components and events of the Chat tab (call inside a ``gr.Tab``)."""
    session = gr.State()
    with gr.Row(equal_height=False):
        with gr.Column(scale=3):
            chatbot = gr.Chatbot(
                label="Stockpilot",
                height=560,
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
            with gr.Row(elem_id="starters"):
                starters = [gr.Button(text, size="sm") for text in STARTERS]
            reset = gr.Button("New conversation", size="sm", elem_id="reset")
        with gr.Column(scale=2):
            table_title = gr.Markdown(TABLE_PLACEHOLDER)
            table = gr.Dataframe(
                interactive=False, wrap=True, max_height=320, elem_id="result-table"
            )
            download = gr.DownloadButton(
                "Download CSV", visible=False, size="sm", elem_id="download-csv"
            )
            plot = gr.Plot(label="Chart", elem_id="answer-chart", visible=False)
            with gr.Accordion("SOP sources", open=False, elem_id="sources"):
                sources = gr.Markdown("_No SOP passages cited yet._")

    def respond(text: str, history: list, session_id: str | None):
        """Stream one answer; side panels change only when the answer is final."""
        text = (text or "").strip()
        if not text:
            yield (gr.skip(),) * 8
            return
        session_id = session_id or new_session_id()
        shown = list(history or []) + [user_message(text)]
        view = AnswerView()
        keep = (gr.skip(),) * 5
        yield shown, "", session_id, *keep
        try:
            for kind, payload in workspace.stream(text, session_id):
                view.add(kind, payload)
                if kind != "final":
                    yield shown + view.messages(), gr.skip(), gr.skip(), *keep
        except NoDataError as error:
            yield (
                shown + [gr.ChatMessage(role="assistant", content=str(error))],
                gr.skip(),
                gr.skip(),
                *keep,
            )
            return
        except Exception as error:  # show it in the chat rather than a bare "Error" toast
            log.exception("answering %r failed", text)
            yield shown + view.messages() + [error_message(error)], gr.skip(), gr.skip(), *keep
            return
        yield shown + view.messages(), gr.skip(), gr.skip(), *side_panels(workspace, view.reply)

    outputs = [chatbot, question, session, table_title, table, download, plot, sources]
    question.submit(respond, [question, chatbot, session], outputs)
    send.click(respond, [question, chatbot, session], outputs)
    for button, text in zip(starters, STARTERS, strict=True):
        button.click(lambda t=text: t, None, question).then(
            respond, [question, chatbot, session], outputs
        )

    def start_over():
        return (
            [],
            new_session_id(),
            TABLE_PLACEHOLDER,
            None,
            gr.update(value=None, visible=False),
            gr.update(value=None, visible=False),
            "_No SOP passages cited yet._",
        )

    cleared = [chatbot, session, table_title, table, download, plot, sources]
    reset.click(start_over, None, cleared)
    chatbot.clear(start_over, None, cleared)  # the chat's own bin icon: forget the session too


def side_panels(workspace: Workspace, reply) -> tuple:
    """(table title, table, download button, chart, sources) for a final reply."""
    found = main_table(reply)
    if found is None:
        title, table, download = (
            "### Result table\n_This answer has no table._",
            None,
            gr.update(value=None, visible=False),
        )
    else:
        name, frame = found
        title = f"### Result table: `{name}` ({len(frame)} rows)"
        table, download = frame, gr.update(value=write_csv(name, frame), visible=True)
    try:
        with workspace.reading() as ctx:
            figure = chart_for_reply(reply, ctx.store)
    except Exception:
        log.exception("chart failed")
        figure = None
    chart = gr.update(value=figure, visible=figure is not None)
    return title, table, download, chart, sources_markdown(passages(reply))
