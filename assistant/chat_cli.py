"""Terminal chat (`stockpilot chat`): streams the answer, shows each tool call with its arguments,
duration and first result lines, and lists figures no tool returned. A thin loop over
``Assistant.stream``; ``/reset`` starts a new conversation, ``/quit`` (or Ctrl-D) leaves.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TextIO

from assistant.agent import Assistant, AssistantReply
from assistant.safe_text import plain_text
from assistant.settings import Settings
from tools.registry import ToolRun
from tools.text import call_text, clip

RESULT_LINES = 3
LINE_CHARS = 100
HELP = "Ask about stock, forecasts, alerts, suppliers, routes or SOPs. /reset: new conversation, /quit: leave."


class ChatPrinter:
    """Turns Assistant events into terminal output (ASCII only: any terminal encoding works)."""

    def __init__(self, out: TextIO, show_tools: bool):
        self.out, self.show_tools = out, show_tools
        self.streamed, self.at_line_start = "", True

    def write(self, text: str) -> None:
        text = plain_text(text)  # names and SOP text from data cannot drive the terminal
        self.out.write(text)
        self.out.flush()
        if text:
            self.at_line_start = text.endswith("\n")

    def line(self, text: str) -> None:
        self.write(("" if self.at_line_start else "\n") + text + "\n")

    def token(self, text: str) -> None:
        self.streamed += text
        self.write(text)

    def tool_start(self, call: dict) -> None:
        if self.show_tools:
            self.line(f"  -> {call_text(call['name'], call['arguments'])}")
            for check in call.get("checked", []):
                self.line(f"     (guard: {check})")

    def tool_end(self, run: ToolRun) -> None:
        if not run.ok:  # failures always show: the answer may depend on them
            self.line(f"  !! {run.name} failed after {run.seconds:.2f} s: {run.error}")
            return
        if self.show_tools:
            self.line(f"  ok {run.name} {run.seconds:.2f} s")
            lines = [line for line in run.render().splitlines() if line.strip()]
            for line in lines[:RESULT_LINES]:
                self.line(f"     | {clip(line, LINE_CHARS)}")
            if len(lines) > RESULT_LINES:
                self.line(f"     | ... {len(lines) - RESULT_LINES} more lines")

    def final(self, reply: AssistantReply) -> None:
        if not self.streamed.strip():
            self.line(reply.text)  # nothing streamed (stopped loop, unreadable call): show it all
        elif reply.notice:
            self.line(reply.notice)
        for document in reply.deliverables:
            self.line(f"----- draft -----\n{document}\n-----------------")
        if reply.grounding.unsupported:
            items = ", ".join(dict.fromkeys(reply.grounding.unsupported))
            self.line(f"  [unverified] not in any tool result: {items}")
        self.line(f"  ({reply.seconds:.1f} s)")
        self.streamed = ""


def chat_turn(
    assistant: Assistant, question: str, session: str, printer: ChatPrinter
) -> AssistantReply | None:
    reply, printer.streamed = None, ""
    for kind, payload in assistant.stream(question, session):
        if kind == "token":
            printer.token(payload)
        elif kind == "tool_start":
            printer.tool_start(payload)
        elif kind == "tool_end":
            printer.tool_end(payload)
        elif kind == "final":
            reply = payload
            printer.final(reply)
    return reply


def run_chat(
    settings: Settings,
    show_tools: bool = True,
    *,
    assistant: Assistant | None = None,
    read: Callable[[str], str] = input,
    out: TextIO | None = None,
) -> None:
    """The REPL. ``assistant``, ``read`` and ``out`` are for tests and embedding."""
    out = out or sys.stdout
    printer = ChatPrinter(out, show_tools)
    if assistant is None:
        from assistant.agent import build_assistant

        printer.line(f"Loading the model ({settings.model_source})...")
        assistant = build_assistant(settings)
    printer.line(f"Stockpilot. {HELP}")
    session = assistant.new_session()
    while True:
        try:
            question = read("you> ").strip()
        except (EOFError, KeyboardInterrupt):
            printer.line("")
            return
        if not question:
            continue
        if question in {"/quit", "/exit", "/q"}:
            return
        if question == "/reset":
            assistant.forget(session)
            session = assistant.new_session()
            printer.line("(new conversation)")
            continue
        if question.startswith("/"):
            printer.line(f"unknown command {question}. {HELP}")
            continue
        try:
            chat_turn(assistant, question, session, printer)
        except KeyboardInterrupt:
            printer.line("(interrupted)")
        except Exception as error:  # keep the session alive; the message says what went wrong
            printer.line(f"error: {type(error).__name__}: {error}")
