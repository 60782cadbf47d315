"""Backends that turn a conversation into a reply (text and/or tool calls).

- LocalBackend: the in-process model (embedded SmolLM2 or a local HF folder) speaking our protocol.
- CompletionEndpointBackend: an OpenAI-compatible /v1/completions server (vLLM, llama.cpp)
  serving our base model + adapter: same raw protocol prompt, so the same adapter works.
- ChatEndpointBackend: an OpenAI-compatible /v1/chat/completions server with native tool
  calling (vLLM, Ollama, hosted models): tool schemas from the registry.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from assistant.memory import bound_history
from assistant.protocol import (
    IM_END,
    Call,
    CallParseError,
    Turn,
    parse_reply,
    render_prompt,
    render_turn,
    system_prompt,
)
from tools.registry import ToolSpec

OnToken = Callable[[str], None] | None


@dataclass
class Reply:
    text: str
    calls: list[Call] = field(default_factory=list)
    parse_error: str | None = None
    stats: dict = field(default_factory=dict)


def protocol_prompt(turns: Sequence[Turn], specs: Sequence[ToolSpec]) -> str:
    return render_prompt([Turn("system", system_prompt(specs)), *bound_history(list(turns))])


def constraint_inputs(
    turns: Sequence[Turn],
    specs: Sequence[ToolSpec],
    copy_names: bool,
    choose_from: Sequence[str] | None = None,
) -> tuple[dict[str, str] | None, list[ToolSpec] | None]:
    """(copy sources, the tools a call's name is held to) for an in-process model's constrained
    decoding, the same on either runtime: names are copied when ``copy_names``; tool names and
    fixed choices are held to the registry then too, and to ``choose_from`` in a re-choice."""
    from assistant.model.copy_constraint import copy_sources

    held = [s for s in specs if s.name in choose_from] if choose_from else list(specs)
    return (
        copy_sources(turns) if copy_names else None,
        held if copy_names or choose_from else None,
    )


def parsed(text: str, stats: dict) -> Reply:
    try:
        free_text, calls = parse_reply(text)
        return Reply(free_text, calls, stats=stats)
    except CallParseError as error:
        return Reply(text.strip(), [], parse_error=str(error), stats=stats)


class LocalBackend:
    name = "local"

    def __init__(
        self,
        loaded,
        specs: Sequence[ToolSpec],
        max_new_tokens: int = 256,
        copy_names: bool = True,
    ):
        from assistant.model.local import LocalGenerator

        self.loaded, self.max_new_tokens = loaded, max_new_tokens
        self.copy_names = copy_names  # names in calls copied verbatim (copy_constraint)
        self.generator = LocalGenerator(loaded, render_turn(Turn("system", system_prompt(specs))))

    chooses_tools = True  # respond(choose_from=...): the prompt stays, the call's name is held

    def respond(
        self,
        turns: Sequence[Turn],
        specs: Sequence[ToolSpec],
        on_token: OnToken = None,
        choose_from: Sequence[str] | None = None,
        must_call: bool = False,
    ) -> Reply:
        """``choose_from``: a call names one of these tools (decoding holds it to them), with
        the same prompt, so its cache and what the model was trained on are unchanged;
        ``must_call`` with it: the reply is a call."""
        started = time.perf_counter()
        sources, held = constraint_inputs(turns, specs, self.copy_names, choose_from)
        text, stats = self.generator.complete(
            protocol_prompt(turns, specs), self.max_new_tokens, on_token, sources, held, must_call
        )
        stats["seconds"] = time.perf_counter() - started
        return parsed(text, stats)


def _client(base_url: str, api_key: str | None):
    from openai import OpenAI

    return OpenAI(base_url=base_url, api_key=api_key or "not-needed", timeout=120)


class _Endpoint:
    """An OpenAI-compatible server: client, model name and generation cap."""

    def __init__(
        self, base_url: str, model: str, api_key: str | None = None, max_new_tokens: int = 256
    ):
        self.client = _client(base_url, api_key)
        self.model, self.max_new_tokens = model, max_new_tokens


class CompletionEndpointBackend(_Endpoint):
    name = "openai-completions"

    def respond(
        self, turns: Sequence[Turn], specs: Sequence[ToolSpec], on_token: OnToken = None
    ) -> Reply:
        started = time.perf_counter()
        stream = self.client.completions.create(
            model=self.model,
            prompt=protocol_prompt(turns, specs),
            max_tokens=self.max_new_tokens,
            temperature=0,
            stop=[IM_END],
            stream=True,
        )
        pieces = []
        for chunk in stream:
            piece = chunk.choices[0].text if chunk.choices else ""
            pieces.append(piece)
            if on_token and piece:
                on_token(piece)
        return parsed("".join(pieces), {"seconds": time.perf_counter() - started})


def _openai_messages(turns: Sequence[Turn], specs: Sequence[ToolSpec]) -> list[dict]:
    messages: list[dict] = [{"role": "system", "content": system_prompt(specs)}]
    pending: list[str] = []
    for i, turn in enumerate(bound_history(list(turns))):
        if turn.role == "assistant" and turn.calls:
            ids = [f"call_{i}_{j}" for j in range(len(turn.calls))]
            pending = ids
            messages.append(
                {
                    "role": "assistant",
                    "content": None,
                    "tool_calls": [
                        {
                            "id": cid,
                            "type": "function",
                            "function": {"name": c.name, "arguments": json.dumps(c.arguments)},
                        }
                        for cid, c in zip(ids, turn.calls, strict=True)
                    ],
                }
            )
        elif turn.role == "tool" and pending:
            messages.append(
                {"role": "tool", "tool_call_id": pending.pop(0), "content": turn.content}
            )
        elif turn.role == "tool":
            # e.g. a parse-error report: the API rejects a tool message that answers no call
            messages.append(
                {"role": "user", "content": f"{turn.tool_name or 'tool'}: {turn.content}"}
            )
        else:
            messages.append({"role": turn.role, "content": turn.content})
    return messages


class ChatEndpointBackend(_Endpoint):
    name = "openai-chat"

    def __init__(
        self, base_url: str, model: str, api_key: str | None = None, max_new_tokens: int = 512
    ):
        super().__init__(
            base_url, model, api_key, max_new_tokens
        )  # endpoint models write longer answers

    def respond(
        self, turns: Sequence[Turn], specs: Sequence[ToolSpec], on_token: OnToken = None
    ) -> Reply:
        started = time.perf_counter()
        response = self.client.chat.completions.create(
            model=self.model,
            messages=_openai_messages(turns, specs),
            temperature=0,
            tools=[spec.json_schema() for spec in specs],
            max_tokens=self.max_new_tokens,
        )
        message = response.choices[0].message
        calls, error = [], None
        for tc in message.tool_calls or []:
            try:
                calls.append(Call(tc.function.name, json.loads(tc.function.arguments or "{}")))
            except json.JSONDecodeError as exc:
                error = f"tool call '{tc.function.name}': arguments are not valid JSON ({exc.msg})"
        if on_token and message.content:
            on_token(message.content)
        return Reply(
            message.content or "",
            calls,
            parse_error=error,
            stats={"seconds": time.perf_counter() - started},
        )
