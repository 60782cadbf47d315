"""The assistant: a LangChain ``create_agent`` loop over the registry's tools, with
grounding checks, per-session memory and a trace of every tool call.

Events streamed to the CLI/UI/API: ``token`` (answer text), ``tool_pending`` (the model has
named a tool and is writing its arguments), ``tool_start`` (the checked call), ``tool_end``
(with the ToolRun), ``final`` (the AssistantReply).
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from langchain.agents import create_agent
from langchain.agents.middleware import AgentMiddleware, ToolCallLimitMiddleware, hook_config
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import (
    AIMessage,
    AIMessageChunk,
    BaseMessage,
    HumanMessage,
    ToolMessage,
)
from langchain_core.tools import BaseTool
from langgraph.checkpoint.memory import InMemorySaver
from pydantic import ConfigDict

from assistant import grounding, limits
from assistant.compose import FALLBACK
from assistant.model.chat_model import PARSE_ERROR_CALL_ID, TOOL_PENDING
from assistant.protocol import CALL_OPEN
from assistant.safe_text import reply_markdown
from tools.registry import ToolContext, ToolRun, ToolSpec, agent_tools, call_tool

MAX_TOOL_CALLS_PER_QUESTION = 4  # bounds retries after invalid calls, too
MAX_PARSE_RETRIES = 1  # unreadable tool calls reported back to the model per question
NO_ANSWER = "I could not find an answer to that in the data."
_LIMIT_NODE = ToolCallLimitMiddleware.__name__
log = logging.getLogger(__name__)


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
        started = time.perf_counter()
        try:
            run = call_tool(self.ctx, self.spec.name, arguments)
        except (
            Exception
        ) as error:  # a tool bug must not kill the conversation: show it as a failed call
            log.exception("tool %s failed", self.spec.name)
            run = ToolRun(
                self.spec.name,
                arguments,
                None,
                f"internal error: {type(error).__name__}: {error}",
                time.perf_counter() - started,
            )
        return run.render(), run


class ReportParseErrors(AgentMiddleware):
    """A tool call the model wrote but that is not valid protocol goes back to the model as an
    ``ERROR`` tool turn (as argument errors do), ``MAX_PARSE_RETRIES`` times per question."""

    @hook_config(can_jump_to=["model"])
    def after_model(self, state, runtime) -> dict | None:
        last = state["messages"][-1]
        error = last.response_metadata.get("parse_error") if isinstance(last, AIMessage) else None
        if not error:
            return None
        since_question = []
        for message in reversed(state["messages"]):
            if isinstance(message, HumanMessage):
                break
            since_question.append(message)
        retries = sum(
            isinstance(m, ToolMessage) and m.tool_call_id == PARSE_ERROR_CALL_ID
            for m in since_question
        )
        if retries >= MAX_PARSE_RETRIES:
            return None  # the loop ends; Assistant.stream reports the error
        raw = last.response_metadata.get("raw_text", "")
        name = (
            m.group(1) if (m := re.search(re.escape(CALL_OPEN) + r"\s*(\w+)", raw)) else "tool_call"
        )
        run = ToolRun(name, {}, None, error, 0.0)
        # Same id: replaces the message, so the model sees what it actually wrote.
        written = AIMessage(content=raw, id=last.id, response_metadata=last.response_metadata)
        report = ToolMessage(
            run.render(), tool_call_id=PARSE_ERROR_CALL_ID, name=name, status="error", artifact=run
        )
        return {"messages": [written, report], "jump_to": "model"}


@dataclass
class AssistantReply:
    text: str  # the answer as shown, unsupported items marked
    raw_text: str  # what the model wrote
    tool_runs: list[ToolRun] = field(default_factory=list)
    grounding: grounding.GroundingReport = field(default_factory=grounding.GroundingReport)
    seconds: float = 0.0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    notice: str = ""  # what stopped the loop (tool-call limit, unreadable call); part of text
    argument_checks: list[str] = field(default_factory=list)  # what the argument guard changed

    @property
    def deliverables(self) -> list[str]:
        """Documents a tool produced for the user verbatim (e.g. an e-mail draft)."""
        return [
            doc
            for run in self.tool_runs
            if run.result is not None and (doc := run.result.deliverable())
        ]

    def markdown(self) -> str:
        """Answer plus the evidence (deliverables, each tool's table), escaped: for text clients;
        the same text the API sends."""
        return reply_markdown(self)

    def to_dict(self) -> dict:
        return {
            "answer": self.text,
            "unsupported": self.grounding.unsupported,
            "tool_calls": [
                {
                    "name": r.name,
                    "arguments": r.arguments,
                    "ok": r.ok,
                    "error": r.error,
                    "seconds": round(r.seconds, 3),
                    "result": r.render(),
                }
                for r in self.tool_runs
            ],
            "notice": self.notice,
            "argument_checks": self.argument_checks,
            "seconds": round(self.seconds, 2),
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
        }


def argument_checks(message: AIMessage) -> list[str]:
    """What the argument guard changed in this message's calls: 'dropped tool.arg=value' (not
    said in the conversation, or not a value the tool takes) and 'set tool.arg=value'; and
    whether copy-constrained decoding steered a name back to the conversation's words."""
    stats = message.response_metadata.get("stats") or {}
    checks = [f"dropped {d}" for d in stats.get("dropped_arguments", [])]
    checks += [f"set {r}" for r in stats.get("resolved_arguments", [])]
    if stats.get("copy_steered_tokens"):
        checks.append(f"names copied verbatim ({stats['copy_steered_tokens']} tokens steered)")
    if stats.get("schema_steered_tokens"):
        checks.append(
            f"tool name or choice kept to the registry ({stats['schema_steered_tokens']} tokens steered)"
        )
    return checks


class Assistant:
    """One agent graph shared by all sessions; a session is a checkpointer thread."""

    def __init__(
        self,
        model: BaseChatModel,
        ctx: ToolContext,
        specs: list[ToolSpec] | None = None,
        tracer: Any | None = None,  # assistant.traces.TurnTracer: stores each finished turn
    ):
        self.ctx, self.tracer = ctx, tracer
        self.tools = [RegistryTool.wrap(spec, ctx) for spec in (specs or agent_tools())]
        self.checkpointer = InMemorySaver()
        self.graph = create_agent(
            model,
            self.tools,
            middleware=[
                ReportParseErrors(),
                # "end", not "continue": a model that keeps calling would otherwise run into the
                # recursion limit and raise instead of answering.
                ToolCallLimitMiddleware(run_limit=MAX_TOOL_CALLS_PER_QUESTION, exit_behavior="end"),
            ],
            checkpointer=self.checkpointer,
        )

    def new_session(self) -> str:
        return uuid.uuid4().hex

    def messages(self, session_id: str) -> list[BaseMessage]:
        """The session's full conversation (the model sees it trimmed by assistant.memory)."""
        state = self.graph.get_state(self._config(session_id))
        return list(state.values.get("messages", [])) if state else []

    def forget(self, session_id: str) -> None:
        self.checkpointer.delete_thread(session_id)

    @staticmethod
    def _config(session_id: str) -> dict:
        return {
            "configurable": {"thread_id": session_id},
            "recursion_limit": 4 * MAX_TOOL_CALLS_PER_QUESTION + 8,
        }

    def stream(
        self, question: str, session_id: str = "default", history: Sequence[BaseMessage] = ()
    ) -> Iterator[tuple[str, Any]]:
        """Answer ``question`` in ``session_id``; ``history`` seeds earlier turns (for stateless
        clients that send the whole conversation, see assistant.api)."""
        started = time.perf_counter()
        try:  # the same bounds as the API's, for the UI and the CLI
            limits.check_request(question, history)
        except limits.RequestLimitError as error:
            yield (
                "final",
                AssistantReply(
                    text=f"I cannot take that request: {error}.", raw_text="", notice=str(error)
                ),
            )
            return
        runs: list[ToolRun] = []
        calls: dict[str, dict] = {}  # tool_call_id -> call, to name blocked calls' arguments
        last_ai: AIMessage | None = None
        checks: list[str] = []
        limit_hit = False
        usage = {"input_tokens": 0, "output_tokens": 0}
        inputs = {"messages": [*history, HumanMessage(question)]}
        for mode, data in self.graph.stream(
            inputs, self._config(session_id), stream_mode=["messages", "updates", "custom"]
        ):
            if mode == "custom":  # the model has named a tool; its arguments are on the way
                if isinstance(data, dict) and data.get(TOOL_PENDING):
                    yield "tool_pending", {"name": data[TOOL_PENDING]}
                continue
            if mode == "messages":
                chunk, _meta = data
                if isinstance(chunk, AIMessageChunk) and chunk.content:
                    yield "token", chunk.text
                continue
            for node, update in data.items():
                for message in (
                    (update or {}).get("messages", []) if isinstance(update, dict) else []
                ):
                    if isinstance(message, AIMessage):
                        last_ai = message
                        limit_hit = limit_hit or node.startswith(_LIMIT_NODE)
                        for key in usage:
                            usage[key] += (message.usage_metadata or {}).get(key, 0)
                        checked = argument_checks(message)
                        checks += checked
                        for tc in message.tool_calls:
                            calls[tc["id"]] = tc
                            own = f"{tc['name']}."  # checks read '<dropped|set> tool.argument...'
                            mine = [c for c in checked if c.split(" ", 1)[1].startswith(own)]
                            yield (
                                "tool_start",
                                {
                                    "name": tc["name"],
                                    "arguments": tc["args"],
                                    "checked": mine,
                                },
                            )
                    elif isinstance(message, ToolMessage):
                        run = message.artifact if isinstance(message.artifact, ToolRun) else None
                        if run is None:  # blocked by the call limit, or an unknown tool
                            call = calls.get(message.tool_call_id, {})
                            run = ToolRun(
                                message.name or call.get("name", "?"),
                                call.get("args", {}),
                                None,
                                message.text,
                                0.0,
                            )
                        runs.append(run)
                        yield "tool_end", run
        reply = self._reply(question, session_id, last_ai, limit_hit, runs, usage, started)
        reply.argument_checks = checks
        if self.tracer is not None:
            self.tracer.record(question, reply, self.messages(session_id), session_id)
        yield "final", reply

    def _reply(
        self,
        question: str,
        session_id: str,
        last_ai: AIMessage | None,
        limit_hit: bool,
        runs: list[ToolRun],
        usage: dict,
        started: float,
    ) -> AssistantReply:
        notice = ""
        parse_error = last_ai.response_metadata.get("parse_error") if last_ai is not None else None
        if limit_hit:
            notice = (
                f"Stopped after {MAX_TOOL_CALLS_PER_QUESTION} tool calls without a final answer."
            )
        elif parse_error:
            notice = f"The model wrote a tool call that could not be read: {parse_error}."
            runs.append(ToolRun("tool_call", {}, None, parse_error, 0.0))
        answered = (
            last_ai is not None and not last_ai.tool_calls and not limit_hit and not parse_error
        )
        raw = last_ai.text.strip() if answered else ""
        if answered and (last_ai.response_metadata.get("stats") or {}).get("runaway"):
            raw = FALLBACK  # what streamed before the text ran away is not the answer
        # Sources: everything the tools returned in this session (follow-ups quote earlier
        # results) and the user's own words. System notices are not model claims: not checked.
        history = self.messages(session_id)
        sources = [m.text for m in history if isinstance(m, HumanMessage | ToolMessage)]
        sources += [question] + [r.render() for r in runs] + [str(r.arguments) for r in runs]
        # a reply composed from the tools' own summaries holds only what the tools wrote
        sources += [s for r in runs if r.ok and (s := r.result.summary())]
        report = grounding.check(raw, sources)
        text = grounding.mark_unsupported(raw, report) if raw else ("" if notice else NO_ANSWER)
        return AssistantReply(
            text="\n\n".join(p for p in [text, notice] if p),
            raw_text=raw,
            tool_runs=runs,
            grounding=report,
            seconds=time.perf_counter() - started,
            prompt_tokens=usage["input_tokens"],
            completion_tokens=usage["output_tokens"],
            notice=notice,
        )

    def ask(
        self, question: str, session_id: str = "default", history: Sequence[BaseMessage] = ()
    ) -> AssistantReply:
        reply = None
        for kind, payload in self.stream(question, session_id, history):
            if kind == "final":
                reply = payload
        return reply


def build_backend(settings, guard: bool = True, resolver=None):
    """The configured backend (rules / endpoint / embedded or local folder + adapter) behind
    the argument guard, which reads entity slots from the user's words with ``resolver``
    (the workspace's tools.resolver); the model reads staff shorthand spelled out. The agent and
    the evaluation both use this, so they always score what the app runs (``guard=False``
    measures the model alone, on the same spelled-out words)."""
    from assistant.model.argument_guard import ArgumentGuard
    from assistant.model.staff_words import StaffWords

    backend = StaffWords(_model_backend(settings))
    return ArgumentGuard(backend, resolver) if guard else backend


def _model_backend(settings):
    from assistant.model.backends import (
        ChatEndpointBackend,
        CompletionEndpointBackend,
        LocalBackend,
    )

    source = settings.model_source
    if source == "rules":
        from assistant.model.rules import RulesBackend

        return RulesBackend()
    if source in {"openai", "openai-chat"}:
        return ChatEndpointBackend(
            settings.openai_base_url, settings.openai_model, settings.openai_api_key
        )
    if source == "openai-completions":
        return CompletionEndpointBackend(
            settings.openai_base_url,
            settings.openai_model,
            settings.openai_api_key,
            settings.max_new_tokens,
        )
    if source == "llama-cpp":  # the fast CPU path: the shipped GGUF + adapter on llama.cpp
        from assistant.model.llama_cpp import LlamaCppBackend

        return LlamaCppBackend(
            agent_tools(),
            settings.adapter_path,
            settings.model_cache_dir,
            settings.threads,
            settings.max_new_tokens,
            settings.copy_names,
        )
    from assistant.model.loader import load_model

    loaded = load_model(source, settings.adapter_path, settings.model_cache_dir, settings.threads)
    return LocalBackend(loaded, agent_tools(), settings.max_new_tokens, settings.copy_names)


def build_chat_model(settings, resolver=None) -> BaseChatModel:
    """The configured backend behind one chat model (embedded / local folder / endpoint)."""
    from assistant.model.chat_model import StockpilotChatModel

    return StockpilotChatModel(
        backend=build_backend(settings, resolver=resolver), answers=settings.answers
    )


def build_assistant(settings, model: BaseChatModel | None = None) -> Assistant:
    from assistant.context import open_context
    from assistant.traces import open_tracer

    ctx = open_context(settings, read_only=True)
    return Assistant(
        model or build_chat_model(settings, ctx.store.resolver),
        ctx,
        tracer=open_tracer(settings),
    )
