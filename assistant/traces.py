"""Every answered turn, kept: OpenTelemetry spans under the GenAI semantic conventions.

One trace per turn: an ``invoke_agent stockpilot`` root span (the question, the answer, the
argument guard's changes, the grounding report, the model / adapter / data snapshot ids), a
``chat <model>`` span per model call (prompt and generated tokens, seconds) and an
``execute_tool <tool>`` span per tool call (arguments, head of the result, seconds, status).

The assistant reports a turn once it is finished (``TurnTracer.record``, called by
``Assistant.stream``), so the child spans are laid end to end from the durations that were
measured (model seconds, tool seconds) from the turn's start; time spent between them (the
agent loop itself) is not attributed. Spans go to ``data_dir/traces.jsonl`` (one line per
turn: the finished spans as JSON), bounded by a count and an age, and also to an OTLP
collector when ``trace_otlp_endpoint`` is set.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import logging
import os
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExporter, SpanExportResult
from opentelemetry.semconv._incubating.attributes import gen_ai_attributes as gen_ai
from opentelemetry.trace import Status, StatusCode, format_span_id, format_trace_id

TRACE_FILE = "traces.jsonl"
RESULT_HEAD = 500  # characters of a tool's rendered result kept in its span
SERVICE = "stockpilot"
log = logging.getLogger(__name__)


# -- storage -------------------------------------------------------------------------------------
@dataclass
class TraceStore:
    """Turns as JSON lines, newest last; at most ``keep`` turns, none older than ``max_age_days``."""

    path: Path
    keep: int | None = 1000
    max_age_days: float | None = 30.0

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        # The UI, the API and the CLI may write at once: one writer at a time across processes.
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path.with_suffix(".lock"), "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def _read(self) -> list[dict]:
        if not self.path.exists():
            return []
        turns = []
        for line in self.path.read_text(encoding="utf-8").splitlines():
            with contextlib.suppress(json.JSONDecodeError):  # a line cut by a crash
                turns.append(json.loads(line))
        return turns

    def append(self, turn: dict) -> None:
        with self._locked():
            with open(self.path, "a", encoding="utf-8") as out:
                out.write(json.dumps(turn, ensure_ascii=False, default=str) + "\n")
            self._prune()

    def prune(self) -> int:
        """Apply the retention now; returns how many turns were dropped."""
        with self._locked():
            return self._prune()

    def _prune(self) -> int:
        turns = self._read()
        kept = turns
        if self.max_age_days is not None:
            cutoff = (datetime.now(UTC) - timedelta(days=self.max_age_days)).isoformat()
            kept = [t for t in kept if t.get("started", "") >= cutoff]
        if self.keep is not None:
            kept = kept[-self.keep :] if self.keep > 0 else []
        if len(kept) == len(turns):
            return 0
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(
            "".join(json.dumps(t, ensure_ascii=False, default=str) + "\n" for t in kept),
            encoding="utf-8",
        )
        os.replace(tmp, self.path)
        return len(turns) - len(kept)

    def turns(self) -> list[dict]:
        """All kept turns, newest first."""
        return self._read()[::-1]

    def get(self, trace_id: str) -> dict:
        """One turn by its trace id (or a unique prefix of it); KeyError naming the id."""
        trace_id = trace_id.strip().lower()
        found = [t for t in self._read() if t["trace_id"].startswith(trace_id)] if trace_id else []
        if len(found) != 1:
            problem = "no trace" if not found else f"{len(found)} traces start with"
            raise KeyError(
                f"trace_id: {problem} '{trace_id}'; list them with `stockpilot traces list`"
            )
        return found[0]


def summary_row(turn: dict) -> dict:
    """One line of the list: when, what was asked, which tools, how long, how it ended."""
    root = turn["spans"][-1]["attributes"] if turn.get("spans") else {}
    tools = [
        s["attributes"].get(gen_ai.GEN_AI_TOOL_NAME, "?")
        for s in turn.get("spans", [])
        if s["attributes"].get(gen_ai.GEN_AI_OPERATION_NAME) == "execute_tool"
    ]
    failed = sum(
        s["status"] == "ERROR"
        for s in turn.get("spans", [])
        if s["attributes"].get(gen_ai.GEN_AI_OPERATION_NAME) == "execute_tool"
    )
    return {
        "trace_id": turn["trace_id"],
        "started": turn.get("started", "")[:19].replace("T", " "),
        "question": turn.get("question", ""),
        "tools": ", ".join(tools),
        "failed_tools": failed,
        "seconds": round(turn.get("seconds", 0.0), 2),
        "unsupported": len(root.get("stockpilot.grounding.unsupported", []) or []),
    }


# -- spans -> JSON lines -------------------------------------------------------------------------
def span_dict(span: ReadableSpan) -> dict:
    context = span.get_span_context()
    return {
        "name": span.name,
        "trace_id": format_trace_id(context.trace_id),
        "span_id": format_span_id(context.span_id),
        "parent_id": format_span_id(span.parent.span_id) if span.parent else None,
        "start": _iso(span.start_time),
        "end": _iso(span.end_time),
        "seconds": round(((span.end_time or 0) - (span.start_time or 0)) / 1e9, 4),
        "status": span.status.status_code.name,
        "status_description": span.status.description,
        "attributes": {k: _plain(v) for k, v in (span.attributes or {}).items()},
    }


class JsonlExporter(SpanExporter):
    """Collects a turn's spans and writes them as one line when its root span ends."""

    def __init__(self, store: TraceStore):
        self.store = store
        self.pending: dict[str, list[dict]] = {}

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        for span in spans:
            item = span_dict(span)
            self.pending.setdefault(item["trace_id"], []).append(item)
            if span.parent is None:
                items = self.pending.pop(item["trace_id"])
                attributes = item["attributes"]
                self.store.append(
                    {
                        "trace_id": item["trace_id"],
                        "started": item["start"],
                        "seconds": item["seconds"],
                        "question": attributes.get("stockpilot.question", ""),
                        "answer": attributes.get("stockpilot.answer", ""),
                        "spans": items,
                    }
                )
        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        self.pending.clear()


# -- the tracer the assistant calls --------------------------------------------------------------
class TurnTracer:
    """``record(question, reply, messages)`` after each turn; never raises into the turn."""

    def __init__(
        self,
        store: TraceStore,
        ids: dict[str, str] | None = None,
        otlp_endpoint: str | None = None,
        data_path: Path | None = None,
    ):
        self.store, self.ids, self.data_path = store, dict(ids or {}), data_path
        self.provider = TracerProvider(resource=Resource.create({"service.name": SERVICE}))
        self.provider.add_span_processor(SimpleSpanProcessor(JsonlExporter(store)))
        if otlp_endpoint:
            from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
            from opentelemetry.sdk.trace.export import BatchSpanProcessor

            self.provider.add_span_processor(
                BatchSpanProcessor(OTLPSpanExporter(endpoint=otlp_endpoint, insecure=True))
            )
        self.tracer = self.provider.get_tracer("stockpilot.assistant")

    def record(
        self, question: str, reply: Any, messages: Sequence[Any] = (), session: str = ""
    ) -> str | None:
        """Store the finished turn; returns its trace id (None if tracing failed, logged)."""
        try:
            return self._record(question, reply, messages, session)
        except Exception:  # a broken trace must never cost the user the answer
            log.exception("could not record the trace of a turn")
            return None

    def _record(self, question: str, reply: Any, messages: Sequence[Any], session: str) -> str:
        from langchain_core.messages import AIMessage, HumanMessage

        from assistant.agent import argument_checks

        end = time.time_ns()
        start = end - int(reply.seconds * 1e9)
        turn = list(messages)
        starts = [i for i, m in enumerate(turn) if isinstance(m, HumanMessage)]
        turn = turn[starts[-1] + 1 :] if starts else turn  # this turn's messages only
        model = self.ids.get("model", "unknown")
        ids = {f"stockpilot.{k}.id": v for k, v in self.ids.items()}
        if self.data_path is not None:
            ids["stockpilot.data.id"] = data_snapshot_id(self.data_path)
        root = self.tracer.start_span(f"invoke_agent {SERVICE}", start_time=start)
        root.set_attributes(
            {
                gen_ai.GEN_AI_OPERATION_NAME: "invoke_agent",
                gen_ai.GEN_AI_AGENT_NAME: SERVICE,
                gen_ai.GEN_AI_CONVERSATION_ID: session,
                gen_ai.GEN_AI_REQUEST_MODEL: model,
                gen_ai.GEN_AI_USAGE_INPUT_TOKENS: reply.prompt_tokens,
                gen_ai.GEN_AI_USAGE_OUTPUT_TOKENS: reply.completion_tokens,
                gen_ai.GEN_AI_INPUT_MESSAGES: _messages("user", question),
                gen_ai.GEN_AI_OUTPUT_MESSAGES: _messages("assistant", reply.text),
                "stockpilot.question": question,
                "stockpilot.answer": reply.text,
                "stockpilot.notice": reply.notice,
                "stockpilot.guard.changes": list(reply.argument_checks),
                "stockpilot.grounding.claims": list(reply.grounding.claims),
                "stockpilot.grounding.unsupported": list(reply.grounding.unsupported),
                "stockpilot.grounding.grounded_share": reply.grounding.grounded_share,
                **ids,
            }
        )
        context = _context_of(root)
        cursor, runs = start, list(reply.tool_runs)
        for message in (m for m in turn if isinstance(m, AIMessage)):
            cursor = self._model_span(message, model, cursor, context, argument_checks(message))
            for _ in message.tool_calls:
                if runs:
                    cursor = self._tool_span(runs.pop(0), cursor, context)
        for run in runs:  # calls the loop stopped, unreadable calls: still part of the turn
            cursor = self._tool_span(run, cursor, context)
        if reply.notice:
            root.set_status(Status(StatusCode.ERROR, reply.notice))
        root.end(end_time=max(end, cursor))
        return format_trace_id(root.get_span_context().trace_id)

    def _model_span(self, message, model: str, cursor: int, context, checks: list[str]) -> int:
        stats = message.response_metadata.get("stats") or {}
        usage = message.usage_metadata or {}
        seconds = float(stats.get("seconds", 0.0))
        span = self.tracer.start_span(f"chat {model}", context=context, start_time=cursor)
        span.set_attributes(
            {
                gen_ai.GEN_AI_OPERATION_NAME: "chat",
                gen_ai.GEN_AI_REQUEST_MODEL: model,
                gen_ai.GEN_AI_USAGE_INPUT_TOKENS: int(usage.get("input_tokens", 0)),
                gen_ai.GEN_AI_USAGE_OUTPUT_TOKENS: int(usage.get("output_tokens", 0)),
                gen_ai.GEN_AI_RESPONSE_FINISH_REASONS: [
                    "tool_calls" if message.tool_calls else "stop"
                ],
                "stockpilot.guard.changes": checks,
                "stockpilot.tool_calls": [tc["name"] for tc in message.tool_calls],
            }
        )
        if error := message.response_metadata.get("parse_error"):
            span.set_status(Status(StatusCode.ERROR, error))
        cursor += int(seconds * 1e9)
        span.end(end_time=cursor)
        return cursor

    def _tool_span(self, run, cursor: int, context) -> int:
        span = self.tracer.start_span(
            f"execute_tool {run.name}", context=context, start_time=cursor
        )
        span.set_attributes(
            {
                gen_ai.GEN_AI_OPERATION_NAME: "execute_tool",
                gen_ai.GEN_AI_TOOL_NAME: run.name,
                gen_ai.GEN_AI_TOOL_TYPE: "function",
                gen_ai.GEN_AI_TOOL_CALL_ARGUMENTS: json.dumps(run.arguments, default=str),
                gen_ai.GEN_AI_TOOL_CALL_RESULT: run.render()[:RESULT_HEAD],
                "stockpilot.tool.seconds": round(run.seconds, 4),
            }
        )
        if not run.ok:
            span.set_attributes({"error.type": "tool_error"})
            span.set_status(Status(StatusCode.ERROR, run.error))
        cursor += int(run.seconds * 1e9)
        span.end(end_time=cursor)
        return cursor

    def shutdown(self) -> None:
        self.provider.shutdown()


def _context_of(span):
    from opentelemetry.trace import set_span_in_context

    return set_span_in_context(span)


def _messages(role: str, text: str) -> str:
    return json.dumps([{"role": role, "parts": [{"type": "text", "content": text}]}])


def _iso(ns: int | None) -> str:
    return datetime.fromtimestamp((ns or 0) / 1e9, UTC).isoformat()


def _plain(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value


def file_id(path: Path) -> str:
    """A short content id of a file (the adapter weights): same bytes, same id."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()[:12]


def data_snapshot_id(path: Path) -> str:
    """The database's state when the turn ran: any write (import, forecast run) changes it."""
    try:
        stat = Path(path).stat()
    except OSError:
        return "missing"
    return hashlib.sha256(
        f"{Path(path).name}:{stat.st_size}:{stat.st_mtime_ns}".encode()
    ).hexdigest()[:12]


def model_ids(settings) -> dict[str, str]:
    """{'model': ..., 'adapter': ...} for the configured backend."""
    source = settings.model_source
    model = settings.openai_model if source.startswith("openai") else source
    if source in {"embedded", "llama-cpp"}:  # the same model on either runtime
        from assistant.model.loader import EMBEDDED_ID

        model = EMBEDDED_ID
    ids = {"model": model, "adapter": "none"}
    if source not in {"rules"} and not source.startswith("openai"):
        from assistant.model.loader import resolve_adapter

        with contextlib.suppress(FileNotFoundError):
            adapter = resolve_adapter(settings.adapter_path)
            if adapter is not None:
                weights = sorted(adapter.glob("*.safetensors"))
                digest = file_id(weights[0]) if weights else "no-weights"
                ids["adapter"] = f"{adapter.name}@{digest}"
    return ids


def open_tracer(settings) -> TurnTracer | None:
    """The tracer the settings ask for (None when ``trace_keep`` is 0)."""
    keep = getattr(settings, "trace_keep", 1000)
    if keep == 0:
        return None
    store = TraceStore(
        settings.data_dir / TRACE_FILE, keep, getattr(settings, "trace_max_age_days", 30.0)
    )
    return TurnTracer(
        store,
        model_ids(settings),
        getattr(settings, "trace_otlp_endpoint", None),
        data_path=settings.database,
    )
