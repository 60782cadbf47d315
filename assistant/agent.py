"""The assistant: a LangChain ``create_agent`` loop over the registry's tools, with
grounding checks, per-session memory and a trace of every tool call.

Events streamed to the CLI/UI/API: ``token`` (answer text), ``tool_start``, ``tool_end``
(with the ToolRun), ``final`` (the AssistantReply).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from langchain.agents import create_agent
from langchain.agents.middleware import ToolCallLimitMiddleware
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, HumanMessage, ToolMessage
from langchain_core.tools import BaseTool
from langgraph.checkpoint.memory import InMemorySaver
from pydantic import ConfigDict

from assistant import grounding
from tools.registry import ToolContext, ToolRun, ToolSpec, agent_tools, call_tool

MAX_TOOL_CALLS_PER_QUESTION = 4  # bounds retries after invalid calls, too
NO_ANSWER = "I could not find an answer to that in the data."


class RegistryTool(BaseTool):
    """A registry tool as a LangChain tool. The args schema is given as JSON schema so that
    validation happens in ``call_tool`` and errors come back readable, naming the argument."""

    model_config = ConfigDict(arbitrary_types_allowed=True)
    spec: Any  # ToolSpec
    ctx: Any  # ToolContext
    response_format: str = "content_and_artifact"

    @classmethod
    def wrap(cls, spec: ToolSpec, ctx: ToolContext) -> RegistryTool:
        schema = spec.json_schema()["function"]["parameters"]
        return cls(name=spec.name, description=spec.summary, args_schema=schema, spec=spec, ctx=ctx)

    def _run(self, **arguments: Any) -> tuple[str, ToolRun]:
        arguments.pop("run_manager", None)
        run = call_tool(self.ctx, self.spec.name, arguments)
        return run.render(), run


@dataclass
class AssistantReply:
    text: str  # the answer as shown, unsupported items marked
    raw_text: str  # what the model wrote
    tool_runs: list[ToolRun] = field(default_factory=list)
    grounding: grounding.GroundingReport = field(default_factory=grounding.GroundingReport)
    seconds: float = 0.0
    prompt_tokens: int = 0
    completion_tokens: int = 0

    @property
    def deliverables(self) -> list[str]:
        """Documents a tool produced for the user verbatim (e.g. an e-mail draft)."""
        return [doc for run in self.tool_runs if run.result is not None and (doc := run.result.deliverable())]

    def markdown(self, max_rows: int = 10) -> str:
        """Answer plus the evidence: deliverables and each tool's table, for text clients."""
        parts = [self.text]
        parts += [f"```text\n{doc}\n```" for doc in self.deliverables]
        for run in self.tool_runs:
            args = ", ".join(f"{k}={v!r}" for k, v in run.arguments.items())
            if not run.ok:
                parts.append(f"> tool `{run.name}({args})` failed: {run.error}")
                continue
            table = run.result.table()
            source = f"> source: `{run.name}({args})`"
            if table is not None and len(table):
                source += "\n\n" + table.head(max_rows).to_markdown(index=False)
            parts.append(source)
        return "\n\n".join(p for p in parts if p)

    def to_dict(self) -> dict:
        return {
            "answer": self.text,
            "unsupported": self.grounding.unsupported,
            "tool_calls": [
                {"name": r.name, "arguments": r.arguments, "ok": r.ok, "error": r.error,
                 "seconds": round(r.seconds, 3), "result": r.render()}
                for r in self.tool_runs
            ],
            "seconds": round(self.seconds, 2),
            "prompt_tokens": self.prompt_tokens,
        }


class Assistant:
    def __init__(self, model: BaseChatModel, ctx: ToolContext, specs: list[ToolSpec] | None = None):
        self.ctx = ctx
        self.tools = [RegistryTool.wrap(spec, ctx) for spec in (specs or agent_tools())]
        self.graph = create_agent(
            model,
            self.tools,
            middleware=[ToolCallLimitMiddleware(run_limit=MAX_TOOL_CALLS_PER_QUESTION, exit_behavior="continue")],
            checkpointer=InMemorySaver(),
        )

    def new_session(self) -> str:
        return uuid.uuid4().hex

    def stream(self, question: str, session_id: str = "default") -> Iterator[tuple[str, Any]]:
        started = time.perf_counter()
        config = {"configurable": {"thread_id": session_id}, "recursion_limit": 4 * MAX_TOOL_CALLS_PER_QUESTION + 4}
        runs: list[ToolRun] = []
        last_ai: AIMessage | None = None
        usage = {"input_tokens": 0, "output_tokens": 0}
        for mode, data in self.graph.stream({"messages": [HumanMessage(question)]}, config,
                                            stream_mode=["messages", "updates"]):
            if mode == "messages":
                chunk, _meta = data
                if isinstance(chunk, AIMessageChunk) and chunk.content:
                    yield "token", chunk.text
                continue
            for update in data.values():
                for message in (update or {}).get("messages", []):
                    if isinstance(message, AIMessage):
                        last_ai = message
                        for key in usage:
                            usage[key] += (message.usage_metadata or {}).get(key, 0)
                        for tc in message.tool_calls:
                            yield "tool_start", {"name": tc["name"], "arguments": tc["args"]}
                    elif isinstance(message, ToolMessage):
                        run = message.artifact if isinstance(message.artifact, ToolRun) else ToolRun(
                            message.name or "?", {}, None, message.text, 0.0)
                        runs.append(run)
                        yield "tool_end", run
        raw = (last_ai.text if last_ai is not None and not last_ai.tool_calls else "").strip() or NO_ANSWER
        sources = [question] + [r.render() for r in runs] + [str(r.arguments) for r in runs]
        report = grounding.check(raw, sources)
        reply = AssistantReply(
            text=grounding.mark_unsupported(raw, report), raw_text=raw, tool_runs=runs, grounding=report,
            seconds=time.perf_counter() - started, prompt_tokens=usage["input_tokens"],
            completion_tokens=usage["output_tokens"],
        )
        yield "final", reply

    def ask(self, question: str, session_id: str = "default") -> AssistantReply:
        reply = None
        for kind, payload in self.stream(question, session_id):
            if kind == "final":
                reply = payload
        return reply


def build_chat_model(settings) -> BaseChatModel:
    """The configured backend behind one chat model (embedded / local folder / endpoint)."""
    from assistant.model.backends import ChatEndpointBackend, CompletionEndpointBackend, LocalBackend
    from assistant.model.chat_model import StockpilotChatModel

    source = settings.model_source
    if source == "rules":
        from assistant.model.rules import RulesBackend

        return StockpilotChatModel(backend=RulesBackend())
    if source in {"openai", "openai-chat"}:
        backend = ChatEndpointBackend(settings.openai_base_url, settings.openai_model, settings.openai_api_key)
    elif source == "openai-completions":
        backend = CompletionEndpointBackend(settings.openai_base_url, settings.openai_model,
                                            settings.openai_api_key, settings.max_new_tokens)
    else:
        from assistant.model.loader import load_model

        loaded = load_model(source, settings.adapter_path, settings.model_cache_dir, settings.threads)
        backend = LocalBackend(loaded, agent_tools(), settings.max_new_tokens)
    return StockpilotChatModel(backend=backend)


def build_assistant(settings, model: BaseChatModel | None = None) -> Assistant:
    from assistant.context import open_context

    return Assistant(model or build_chat_model(settings), open_context(settings, read_only=True))
