"""One LangChain chat model over every backend: messages in, AIMessage(tool_calls) out, streaming."""

from __future__ import annotations

import json
import queue
import re
import threading
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import (
    AIMessage,
    AIMessageChunk,
    BaseMessage,
    HumanMessage,
    SystemMessage,
    ToolMessage,
)
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from langchain_core.utils.function_calling import convert_to_openai_tool

from assistant.answers import quote_result
from assistant.compose import compose, degenerate, free_text, pending_follow_up
from assistant.model.backends import Reply
from assistant.protocol import CALL_OPEN, Call, Turn
from tools.registry import ToolRun, ToolSpec, failed, load_tools

PARSE_ERROR_CALL_ID = "parse-error"  # the tool turn that reports an unreadable call
ANSWER_WRITERS = ("tools", "model")  # who writes the reply after the tools ran


def to_turns(messages: Sequence[BaseMessage]) -> list[Turn]:
    """LangChain messages -> protocol turns (the protocol's own system prompt replaces any given one)."""
    turns = []
    for message in messages:
        if isinstance(message, SystemMessage):
            continue
        if isinstance(message, HumanMessage):
            turns.append(Turn("user", message.text))
        elif isinstance(message, AIMessage):
            calls = [Call(tc["name"], tc["args"]) for tc in message.tool_calls]
            turns.append(Turn("assistant", message.text, calls=calls))
        elif isinstance(message, ToolMessage):
            turns.append(Turn("tool", message.text, tool_name=message.name or ""))
    return turns


def to_message(reply: Reply) -> AIMessage:
    """A parse error keeps the model's raw text out of ``content`` (it is call markup, not an
    answer) and carries it in ``invalid_tool_calls`` and ``response_metadata`` so that the agent
    can report the error back to the model."""
    tool_calls = [
        {
            "name": c.name,
            "args": c.arguments,
            "id": f"call_{uuid.uuid4().hex[:12]}",
            "type": "tool_call",
        }
        for c in reply.calls
    ]
    invalid = []
    metadata: dict = {"stats": reply.stats}
    if reply.parse_error:
        invalid = [
            {
                "name": None,
                "args": reply.text,
                "id": None,
                "error": reply.parse_error,
                "type": "invalid_tool_call",
            }
        ]
        metadata |= {"parse_error": reply.parse_error, "raw_text": reply.text}
    usage = None
    if "prompt_tokens" in reply.stats:
        p, c = reply.stats["prompt_tokens"], reply.stats.get("completion_tokens", 0)
        usage = {"input_tokens": p, "output_tokens": c, "total_tokens": p + c}
    content = "" if reply.parse_error else reply.text
    return AIMessage(
        content=content,
        tool_calls=tool_calls,
        invalid_tool_calls=invalid,
        usage_metadata=usage,
        response_metadata=metadata,
    )


class StockpilotChatModel(BaseChatModel):
    """``backend`` is any object with ``respond(turns, specs, on_token) -> Reply``."""

    backend: Any
    tool_names: list[str] | None = None
    # "tools": the reply is composed in code from the tools' summaries (the small local model
    # only picks tools); "model": the model writes it from the results (a large endpoint model).
    answers: str = "tools"

    @property
    def _llm_type(self) -> str:
        return f"stockpilot-{getattr(self.backend, 'name', 'backend')}"

    def bind_tools(self, tools: Sequence[Any], **kwargs: Any):
        names = [convert_to_openai_tool(t)["function"]["name"] for t in tools]
        unknown = [n for n in names if n not in load_tools()]
        if unknown:
            raise ValueError(f"tools: not in the Stockpilot registry: {unknown}")
        return self.bind(tool_names=names)

    def _specs(self, tool_names: list[str] | None) -> list[ToolSpec]:
        registry = load_tools()
        names = tool_names or self.tool_names or [n for n, s in registry.items() if s.agent]
        return [registry[n] for n in names]

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        tool_names: list[str] | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        composed = self._composed(messages)
        if composed is not None:
            return ChatResult(generations=[ChatGeneration(message=to_message(composed))])
        on_token = CallHider(run_manager.on_llm_new_token) if run_manager else None
        turns = to_turns(messages)
        reply = self.backend.respond(turns, self._specs(tool_names), on_token)
        if on_token:
            on_token.flush()
        reply = without_runaway(answer_instead_of_repeating(turns, reply))
        return ChatResult(generations=[ChatGeneration(message=to_message(reply))])

    def _composed(self, messages: Sequence[BaseMessage]) -> Reply | None:
        """After the tools ran: the completing call, or the reply composed from their results
        (None: the model writes it, or must retry an unreadable call)."""
        last = messages[-1] if messages else None
        if self.answers != "tools" or not isinstance(last, ToolMessage):
            return None
        if last.tool_call_id == PARSE_ERROR_CALL_ID:
            return None
        runs = runs_since_request(messages)
        follow = pending_follow_up(runs)
        if follow is not None:
            return Reply("", calls=[Call(*follow)], stats={"composed": True})
        return Reply(compose(runs), stats={"composed": True})

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        tool_names: list[str] | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        pieces: queue.Queue = queue.Queue()
        done = object()
        result: dict = {}

        specs = self._specs(tool_names)
        known = {spec.name for spec in specs}

        def work():
            hider = CallHider(
                RunawayStop(pieces.put),
                on_call=lambda name: name in known and pieces.put(CallStarted(name)),
            )
            try:
                composed = self._composed(messages)
                if composed is not None:
                    result["reply"] = composed
                    pieces.put(composed.text)
                    return
                turns = to_turns(messages)
                reply = self.backend.respond(turns, specs, hider)
                hider.flush()
                result["reply"] = without_runaway(answer_instead_of_repeating(turns, reply))
                if result["reply"].text != reply.text and not result["reply"].stats.get("runaway"):
                    pieces.put(result["reply"].text)  # a runaway's stream is cut, its text replaced
            except Exception as error:  # surfaced in the consuming thread
                result["error"] = error
            finally:
                pieces.put(done)

        threading.Thread(target=work, daemon=True).start()
        while (
            piece := pieces.get()
        ) is not done:  # callbacks get each chunk from BaseChatModel.stream
            if isinstance(piece, CallStarted):
                announce_call(piece.name)
                continue
            yield ChatGenerationChunk(message=AIMessageChunk(content=piece))
        if "error" in result:
            raise result["error"]
        final = to_message(result["reply"])
        chunks = [
            {
                "name": tc["name"],
                "args": _json(tc["args"]),
                "id": tc["id"],
                "index": i,
                "type": "tool_call_chunk",
            }
            for i, tc in enumerate(final.tool_calls)
        ]
        yield ChatGenerationChunk(
            message=AIMessageChunk(
                content="",
                tool_call_chunks=chunks,
                usage_metadata=final.usage_metadata,
                response_metadata=final.response_metadata,
                chunk_position="last",
            )
        )


def answer_instead_of_repeating(turns: list[Turn], reply: Reply) -> Reply:
    """A small model sometimes calls a tool again after that tool already answered in this
    exchange, instead of answering. Answer from the result it has (the answer the model is
    trained to give) rather than loop until the call limit."""
    since_user = turns[max((i for i, t in enumerate(turns) if t.role == "user"), default=0) :]
    results = [t for t in since_user if t.role == "tool" and not failed(t.content)]
    answered = {t.tool_name for t in results}
    if not any(c.name in answered for c in reply.calls):
        return reply
    stats = dict(reply.stats, fallback="repeated call answered from its result")
    return Reply(quote_result(results[-1].content), stats=stats)


def runs_since_request(messages: Sequence[BaseMessage]) -> list[ToolRun]:
    """The tool runs of the current request (after its user message), in order."""
    runs: list[ToolRun] = []
    for message in messages:
        if isinstance(message, HumanMessage):
            runs = []
        elif isinstance(message, ToolMessage) and message.tool_call_id != PARSE_ERROR_CALL_ID:
            run = message.artifact
            runs.append(
                run
                if isinstance(run, ToolRun)
                else ToolRun(message.name or "?", {}, None, message.text, 0.0)
            )
    return runs  # fmt: skip


def without_runaway(reply: Reply) -> Reply:
    """A free-text reply that ran away is replaced: it never reaches the user."""
    if reply.calls or reply.parse_error or not degenerate(reply.text):
        return reply
    return Reply(free_text(reply.text), stats=dict(reply.stats, runaway=True))


class RunawayStop:
    """Streams text until it runs away, then holds the rest back (the final reply replaces it)."""

    def __init__(self, on_token):
        self.on_token, self.text, self.stopped = on_token, "", False

    def __call__(self, piece: str) -> None:
        self.text += piece
        self.stopped = self.stopped or degenerate(self.text)
        if not self.stopped:
            self.on_token(piece)


def _json(args: dict) -> str:
    return json.dumps(args, ensure_ascii=False)


@dataclass(frozen=True)
class CallStarted:
    """The model has written a tool's name; its arguments are still being written."""

    name: str


TOOL_PENDING = "tool_pending"  # the custom stream event that names a tool being called


def announce_call(name: str) -> None:
    """Tell the agent's stream which tool the model is calling, before its arguments are done,
    so the step shows at once (the call itself follows when the model has finished it)."""
    from langgraph.config import get_stream_writer

    try:
        write = get_stream_writer()
    except RuntimeError:  # not inside a graph run (a direct invoke): nobody to tell
        return
    write({TOOL_PENDING: name})


_CALLED_NAME = re.compile(r"\s*([\w.-]+)[\s{]")


class CallHider:
    """Passes streamed text through but stops at tool-call markup (not for the user's eyes).
    A tail that might be the start of ``<tool_call>`` is held back until it is decided;
    ``flush`` releases it when the reply ends. ``on_call`` hears the first call's tool name as
    soon as it is written."""

    def __init__(self, on_token, on_call=None):
        self.on_token, self.on_call = on_token, on_call
        self.buffer, self.blocked, self.call = "", False, None

    def __call__(self, piece: str) -> None:
        if self.blocked:
            self._read_name(piece)
            return
        self.buffer += piece
        if (at := self.buffer.find(CALL_OPEN)) >= 0:
            self.blocked = True
            self._emit(self.buffer[:at])
            self.call = ""
            self._read_name(self.buffer[at + len(CALL_OPEN) :])
            return
        held = next(
            (
                n
                for n in range(min(len(CALL_OPEN) - 1, len(self.buffer)), 0, -1)
                if CALL_OPEN.startswith(self.buffer[-n:])
            ),
            0,
        )
        self._emit(self.buffer[: len(self.buffer) - held])
        self.buffer = self.buffer[len(self.buffer) - held :]

    def flush(self) -> None:
        if not self.blocked:
            self._emit(self.buffer)
        self.buffer = ""

    def _emit(self, text: str) -> None:
        if text:
            self.on_token(text)

    def _read_name(self, piece: str) -> None:
        if self.call is None or self.on_call is None:
            return
        self.call += piece
        if found := _CALLED_NAME.match(self.call):
            self.call = None  # the first call only
            self.on_call(found.group(1))
