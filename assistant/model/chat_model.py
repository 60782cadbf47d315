"""One LangChain chat model over every backend: messages in, AIMessage(tool_calls) out, streaming."""

from __future__ import annotations

import json
import queue
import threading
import uuid
from collections.abc import Iterator, Sequence
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
from assistant.model.backends import Reply
from assistant.protocol import CALL_OPEN, Call, Turn
from tools.registry import ToolSpec, failed, load_tools


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
        on_token = CallHider(run_manager.on_llm_new_token) if run_manager else None
        turns = to_turns(messages)
        reply = self.backend.respond(turns, self._specs(tool_names), on_token)
        if on_token:
            on_token.flush()
        reply = answer_instead_of_repeating(turns, reply)
        return ChatResult(generations=[ChatGeneration(message=to_message(reply))])

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

        def work():
            hider = CallHider(pieces.put)
            try:
                turns = to_turns(messages)
                reply = self.backend.respond(turns, self._specs(tool_names), hider)
                hider.flush()
                result["reply"] = answer_instead_of_repeating(turns, reply)
                if result["reply"] is not reply:
                    pieces.put(result["reply"].text)
            except Exception as error:  # surfaced in the consuming thread
                result["error"] = error
            finally:
                pieces.put(done)

        threading.Thread(target=work, daemon=True).start()
        while (
            piece := pieces.get()
        ) is not done:  # callbacks get each chunk from BaseChatModel.stream
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


def _json(args: dict) -> str:
    return json.dumps(args, ensure_ascii=False)


class CallHider:
    """Passes streamed text through but stops at tool-call markup (not for the user's eyes).
    A tail that might be the start of ``<tool_call>`` is held back until it is decided;
    ``flush`` releases it when the reply ends."""

    def __init__(self, on_token):
        self.on_token, self.buffer, self.blocked = on_token, "", False

    def __call__(self, piece: str) -> None:
        if self.blocked:
            return
        self.buffer += piece
        if (at := self.buffer.find(CALL_OPEN)) >= 0:
            self.blocked = True
            self._emit(self.buffer[:at])
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
