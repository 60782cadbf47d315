"""Turn the assistant's streamed events into Gradio chat messages, and pull out what stays with
each answer: its table, chart and the SOP passages it cited. Pure functions, no Gradio events.

Everything a tool or the model wrote is data: it is escaped (``assistant.safe_text``) before it
is shown as Markdown, and only the ids we link (ui.links) are links.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from typing import Any

import gradio as gr
import pandas as pd

from assistant.safe_text import code_block, markdown_table
from tools.registry import ToolRun
from tools.text import call_text, clip
from ui.links import escape_markdown, safe_linked
from ui.tables import asks_in_weeks, present, weekly

MAX_STEP_ROWS = 8  # rows of a result shown inside the chat; the full table is in the side panel
MAX_RENDER_CHARS = 700


def step_title(name: str, arguments: dict | None) -> str:
    return escape_markdown(f"Tool: {call_text(name, arguments)}")


def safe_table(result: Any) -> pd.DataFrame | None:
    """``result.table()``, or None when the result has none (or building it fails: the chat must
    still show the answer)."""
    try:
        table = result.table() if result is not None else None
    except Exception:  # a broken table must not hide the answer
        return None
    return table if isinstance(table, pd.DataFrame) and len(table.columns) else None


def evidence_line(result: Any) -> str:
    evidence = getattr(result, "evidence", None)
    if evidence is None:
        return ""
    bits = []
    if evidence.sources:
        bits.append("from " + ", ".join(evidence.sources))
    if evidence.period:
        bits.append(evidence.period)
    if evidence.method:
        bits.append(evidence.method)
    return ("_Evidence: " + escape_markdown("; ".join(bits)) + "_") if bits else ""


def step_content(run: ToolRun) -> str:
    """What a finished tool step shows when opened: the text the model read, the head of the
    table, and where the numbers come from."""
    if not run.ok:
        return f"**Failed:** {escape_markdown(run.error)}"
    text = run.render()
    text = clip(text, MAX_RENDER_CHARS, at="word", mark=" ...")
    parts = [safe_linked(text)]
    table = safe_table(run.result)
    if table is not None and len(table):
        parts.append(markdown_table(present(table.head(MAX_STEP_ROWS))))
        if len(table) > MAX_STEP_ROWS:
            parts.append(f"_{len(table) - MAX_STEP_ROWS} more rows in the answer's table._")
    parts.append(evidence_line(run.result))
    return "\n\n".join(p for p in parts if p)


@dataclass
class _Step:
    name: str
    arguments: dict
    run: ToolRun | None = None
    checked: list[str] = field(default_factory=list)  # the argument guard's changes
    pending: bool = False  # named by the model, its arguments not written yet

    def message(self) -> gr.ChatMessage:
        if self.run is None:
            title = (
                f"Tool: {self.name} …" if self.pending else step_title(self.name, self.arguments)
            )
            return gr.ChatMessage(
                role="assistant",
                content="writing the call ..." if self.pending else "running ...",
                metadata={"title": title, "status": "pending"},
            )
        metadata = {
            "title": step_title(self.name, self.run.arguments or self.arguments),
            "status": "done",
            "duration": round(self.run.seconds, 2),
        }
        if not self.run.ok:
            metadata["log"] = "failed"
        content = step_content(self.run)
        if self.checked:
            content += "\n\n_Arguments checked: " + escape_markdown("; ".join(self.checked)) + "_"
        return gr.ChatMessage(role="assistant", content=content, metadata=metadata)


@dataclass
class AnswerView:
    """One answer as it streams: tool steps and text in the order they happened.

    ``add`` takes the events of ``Assistant.stream``; ``messages`` is what the chatbot shows
    for this answer (the user's question is not included).
    """

    segments: list[_Step | str] = field(default_factory=list)
    reply: Any = None  # AssistantReply once "final" arrives

    def add(self, kind: str, payload: Any) -> None:
        if kind == "token":
            if self.segments and isinstance(self.segments[-1], str):
                self.segments[-1] += payload
            else:
                self.segments.append(payload)
        elif kind == "tool_pending":
            self.segments.append(_Step(payload["name"], {}, pending=True))
        elif kind == "tool_start":
            step = _Step(
                payload["name"],
                dict(payload.get("arguments") or {}),
                checked=list(payload.get("checked") or []),
            )
            announced = [s for s in self.segments if isinstance(s, _Step) and s.pending]
            for old in announced:  # the checked call replaces its announcement (even renamed)
                self.segments.remove(old)
            self.segments.append(step)
        elif kind == "tool_end":
            self._finish_step(payload)
        elif kind == "final":
            self.reply = payload
            # the final text is the grounding-checked one: it replaces the streamed draft
            if self.segments and isinstance(self.segments[-1], str):
                self.segments.pop()
            self.segments.append(final_markdown(payload))

    def _finish_step(self, run: ToolRun) -> None:
        for segment in self.segments:
            if isinstance(segment, _Step) and segment.run is None and segment.name == run.name:
                segment.run = run
                return
        self.segments.append(_Step(run.name, dict(run.arguments or {}), run))

    def messages(self) -> list[gr.ChatMessage]:
        out = []
        for segment in self.segments:
            if isinstance(segment, _Step):
                out.append(segment.message())
            elif segment.strip():
                out.append(gr.ChatMessage(role="assistant", content=segment))
        return out


def final_markdown(reply: Any, documents: bool = True) -> str:
    """The answer (escaped, ids linked), any document a tool drafted (verbatim in a code block;
    ``documents=False`` where the caller shows it elsewhere), a note on unverified figures and
    the SOP sections cited."""
    parts = [safe_linked(reply.text)]
    if documents:
        parts += [code_block(doc) for doc in _deliverables(reply)]
    unsupported = list(getattr(getattr(reply, "grounding", None), "unsupported", []) or [])
    if unsupported:
        parts.append(
            f"_{len(unsupported)} item(s) marked [unverified] do not appear in the tool results: "
            + escape_markdown(", ".join(unsupported[:6]))
            + "_"
        )
    citations = [p_citation(p) for p in passages(reply)]
    if citations:
        parts.append("Sources: " + escape_markdown("; ".join(dict.fromkeys(citations))))
    return "\n\n".join(p for p in parts if p)


def _deliverables(reply: Any) -> list[str]:
    try:
        return list(reply.deliverables)
    except Exception:  # a tool whose deliverable() is unfinished must not hide the answer
        return []


def passages(reply: Any) -> list[Any]:
    """SOP passages the answer drew on: those of every successful search_sops call."""
    found = []
    for run in getattr(reply, "tool_runs", []) or []:
        if run.ok and run.result is not None:
            found += list(getattr(run.result, "passages", []) or [])
    return found


def p_citation(passage: Any) -> str:
    return getattr(passage, "citation", None) or getattr(passage, "doc_id", "SOP")


def sources_markdown(found: list[Any]) -> str:
    """Each cited passage as a closed <details> block that opens on click."""
    if not found:
        return "_No SOP passages cited in this answer._"
    blocks = []
    for passage in found:
        title = html.escape(p_citation(passage))
        text = html.escape(getattr(passage, "text", ""))
        path = getattr(passage, "path", "")
        where = f"<br><small>{html.escape(path)}</small>" if path else ""
        blocks.append(f"<details><summary>{title}</summary>\n\n{text}{where}\n\n</details>")
    return "\n".join(blocks)


# Tools whose table is not the evidence: a draft's is its PO list (the e-mail is the point),
# SOP search's is its passages (shown as sources). They give the table only when nothing else does.
SECONDARY_TABLES = ("draft_supplier_email", "search_sops")


def main_table(reply: Any) -> tuple[str, pd.DataFrame] | None:
    """The answer's table: the first successful tool call with rows (a ranked SKU list, alerts,
    PO lines, route stops...), before drafts' and SOP searches' tables."""
    found = []
    for run in getattr(reply, "tool_runs", []) or []:
        if not run.ok:
            continue
        table = safe_table(run.result)
        if table is not None and len(table):
            found.append((run.name not in SECONDARY_TABLES, run, table))
    primary = [f for f in found if f[0]] or found
    if not primary:
        return None
    _, run, table = primary[0]
    return run.name, table


@dataclass
class Evidence:
    """What stays with one answer: its question, table (every row, for people), chart, sources."""

    number: int
    question: str
    tool: str | None = None
    call: str = ""
    table: pd.DataFrame | None = None  # presented: human labels, percentages, dates
    rollup: str = ""  # how the rows were rolled up, '' for as the tool gave them
    figure: Any = None
    sources: str = ""

    @property
    def choice(self) -> str:
        what = f": {self.tool}" if self.tool else ""
        return f"{self.number}. {self.question[:60]}{what}"

    def title(self) -> str:
        if self.table is None:
            return f"### Answer {self.number}\n_This answer has no table._"
        rows = f"{len(self.table)} rows" + (f", {self.rollup}" if self.rollup else "")
        return f"### Answer {self.number}: {escape_markdown(self.call)} ({rows})"


def answer_evidence(
    number: int, question: str, reply: Any, figure: Any = None, rerun: Any = None
) -> Evidence:
    """The evidence of one final reply. ``rerun(run)`` may return the same call with every row
    (a call cut to its top-N); a question asked in weeks gets daily rows as weeks."""
    found = main_table(reply)
    evidence = Evidence(number, question, figure=figure, sources=sources_markdown(passages(reply)))
    if found is None:
        return evidence
    name, frame = found
    run = next(r for r in reply.tool_runs if r.name == name and r.ok)
    evidence.tool, evidence.call = name, call_text(name, run.arguments)
    full = rerun(run) if rerun is not None else None
    if full is not None and full.ok and (bigger := safe_table(full.result)) is not None:
        frame = bigger if len(bigger) > len(frame) else frame
    if asks_in_weeks(question) and (rolled := weekly(frame)) is not None:
        frame = rolled
        evidence.rollup = "weekly: units summed, stock as at the week's last day"
    evidence.table = present(frame)
    return evidence


def user_message(text: str) -> gr.ChatMessage:
    return gr.ChatMessage(role="user", content=text)


def error_message(error: BaseException) -> gr.ChatMessage:
    return gr.ChatMessage(
        role="assistant",
        content=f"Something went wrong while answering: {type(error).__name__}: {error}",
        metadata={"title": "Error", "status": "done"},
    )
