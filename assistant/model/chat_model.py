"""One LangChain chat model over every backend: messages in, AIMessage(tool_calls) out, streaming."""

from __future__ import annotations

import queue
import threading
import uuid
from collections.abc import Iterator, Sequence
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage, HumanMessage, SystemMessage, ToolMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from langchain_core.utils.function_calling import convert_to_openai_tool

from assistant.model.backends import Reply
from assistant.protocol import CALL_OPEN, Call, Turn
from tools.registry import ToolSpec, load_tools


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
    tool_calls = [
        {"name": c.name, "args": c.arguments, "id": f"call_{uuid.uuid4().hex[:12]}", "type": "tool_call"}
        for c in reply.calls
    ]
    invalid = [{"name": None, "args": reply.text, "id": None, "error": reply.parse_error, "type": "invalid_tool_call"}] if reply.parse_error else []
    usage = None
    if "prompt_tokens" in reply.stats:
        p, c = reply.stats["prompt_tokens"], reply.stats.get("completion_tokens", 0)
        usage = {"input_tokens": p, "output_tokens": c, "total_tokens": p + c}
    content = reply.text if not reply.parse_error else f"(invalid tool call: {reply.parse_error})"
    return AIMessage(content=content, tool_calls=tool_calls, invalid_tool_calls=invalid, usage_metadata=usage,
                     response_metadata={"stats": reply.stats})


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

    def _generate(self, messages: list[BaseMessage], stop: list[str] | None = None,
                  run_manager: CallbackManagerForLLMRun | None = None, tool_names: list[str] | None = None,
                  **kwargs: Any) -> ChatResult:
        on_token = run_manager.on_llm_new_token if run_manager else None
        reply = self.backend.respond(to_turns(messages), self._specs(tool_names), _hide_calls(on_token))
        return ChatResult(generations=[ChatGeneration(message=to_message(reply))])

    def _stream(self, messages: list[BaseMessage], stop: list[str] | None = None,
                run_manager: CallbackManagerForLLMRun | None = None, tool_names: list[str] | None = None,
                **kwargs: Any) -> Iterator[ChatGenerationChunk]:
        pieces: queue.Queue = queue.Queue()
        done = object()
        result: dict = {}

        def work():
            try:
                result["reply"] = self.backend.respond(to_turns(messages), self._specs(tool_names),
                                                       _hide_calls(pieces.put))
            except Exception as error:  # surfaced in the consuming thread
                result["error"] = error
            finally:
                pieces.put(done)

        threading.Thread(target=work, daemon=True).start()
        while (piece := pieces.get()) is not done:
            if run_manager:
                run_manager.on_llm_new_token(piece)
            yield ChatGenerationChunk(message=AIMessageChunk(content=piece))
        if "error" in result:
            raise result["error"]
        final = to_message(result["reply"])
        chunks = [{"name": tc["name"], "args": _json(tc["args"]), "id": tc["id"], "index": i, "type": "tool_call_chunk"}
                  for i, tc in enumerate(final.tool_calls)]
        yield ChatGenerationChunk(message=AIMessageChunk(
            content="" if not final.invalid_tool_calls else final.content,
            tool_call_chunks=chunks, usage_metadata=final.usage_metadata,
            response_metadata=final.response_metadata, chunk_position="last"))


def _json(args: dict) -> str:
    import json

    return json.dumps(args)


def _hide_calls(on_token):
    """Pass streamed text through, except a reply that is a tool call (not for the user's eyes)."""
    if on_token is None:
        return None
    state = {"buffer": "", "decided": False, "blocked": False}

    def feed(piece: str) -> None:
        if state["blocked"]:
            return
        state["buffer"] += piece
        if not state["decided"]:
            head = state["buffer"].lstrip()
            if len(head) < len(CALL_OPEN) and CALL_OPEN.startswith(head):
                return  # might still become a tool call
            state["decided"] = True
            if head.startswith(CALL_OPEN):
                state["blocked"] = True
                return
        on_token(state["buffer"])
        state["buffer"] = ""

    return feed
