"""Evaluation of any backend on the held-out split.

Scores, per example kind:
- calls (incl. follow-ups): the reply parses, the right tool is chosen, and every argument
  matches after validation through the tool's own request model (BFCL-style AST match;
  free-text SOP queries are compared by word overlap, not string equality);
- refusals: irrelevance detection, i.e. no tool call where none is due;
- answers: whether the reply answers (no further call) and its groundedness, the share of
  figures/entities in the answer found in the tool results; a reply that does not answer
  counts as ungrounded, not as nothing;
- latency per request and generated tokens per second.
"""

from __future__ import annotations

import json
import re
import statistics
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path

from tqdm import tqdm

from assistant import grounding
from assistant.protocol import Call
from finetune.data import Example
from tools.arguments import arguments_of_kind
from tools.periods import resolve_period
from tools.registry import ToolError, agent_tools, validate_arguments

FREE_TEXT_ARGUMENTS = {"query"}


def _words(text: str) -> set[str]:
    return set(re.findall(r"[a-z0-9]+", text.lower()))


def same_meaning(a: str, b: str, threshold: float = 0.6) -> bool:
    wa, wb = _words(a), _words(b)
    if not wa or not wb:
        return wa == wb
    return len(wa & wb) / len(wa | wb) >= threshold


# Periods are compared as the dates the tool reads from them ("in october" is "october"); any
# fixed day serves, both sides are read against the same one.
PERIOD_TODAY = date(2026, 11, 30)


def normalised(call: Call) -> dict | None:
    """Arguments as the tool sees them (defaults filled, case and format normalised)."""
    try:
        request = validate_arguments(call.name, call.arguments)
    except ToolError:
        return None
    values = {k: (v.lower() if isinstance(v, str) else v) for k, v in request.model_dump().items()}
    for key in arguments_of_kind(type(request), "period"):
        if isinstance(values[key], str):
            try:
                period = resolve_period(values[key], PERIOD_TODAY, key)
            except ToolError:
                continue
            values[key] = (period.start, period.end)
    return values


def arguments_match(predicted: Call, expected: Call) -> bool:
    if predicted.name != expected.name:
        return False
    got, want = normalised(predicted), normalised(expected)
    if got is None or want is None:
        return False
    for key in want.keys() | got.keys():
        a, b = got.get(key), want.get(key)
        if key in FREE_TEXT_ARGUMENTS and isinstance(a, str) and isinstance(b, str):
            if not same_meaning(a, b):
                return False
        elif a != b:
            return False
    return True


@dataclass
class ExampleScore:
    kind: str
    template: str
    seconds: float
    tokens: int
    parsed: bool = True
    tool_ok: bool | None = None
    args_ok: bool | None = None
    args_ok_unguarded: bool | None = None  # the model alone, before the argument guard
    refused_ok: bool | None = None
    grounded: list[int] | None = None  # [supported claims, claims]
    output: str = ""
    expected: str = ""
    dropped: list[str] = field(default_factory=list)  # filters the argument guard removed


@dataclass
class Report:
    backend: str
    examples: int
    call_parse: float
    tool_selection: float
    exact_args: float
    irrelevance: float
    groundedness: float
    latency_p50_s: float
    tokens_per_s: float
    exact_args_unguarded: float = float("nan")  # older reports lack it
    answer_choice: float = float("nan")  # answer examples that answered instead of calling
    per_tool_exact: dict[str, float] = field(default_factory=dict)
    per_tool_count: dict[str, int] = field(default_factory=dict)
    failures: list[dict] = field(default_factory=list)

    def row(self) -> str:
        return (
            f"| {self.backend} | {self.call_parse:.1%} | {self.tool_selection:.1%} | {self.exact_args:.1%} | {self.exact_args_unguarded:.1%} | "
            f"{self.irrelevance:.1%} | {self.groundedness:.1%} | {self.latency_p50_s:.2f} | {self.tokens_per_s:.1f} |"
        )


TABLE_HEADER = (
    "| model | call parses | tool choice | exact args | exact args, model alone | irrelevance | groundedness | p50 s/request | tok/s |\n"
    "|---|---|---|---|---|---|---|---|---|"
)


def _calls_text(calls: list[Call]) -> str:
    return " ".join(f"{c.name} {json.dumps(c.arguments)}" for c in calls)


def score_example(example: Example, backend, specs) -> ExampleScore:
    from assistant.model.chat_model import answer_instead_of_repeating

    started = time.perf_counter()
    reply = backend.respond(example.context, specs)
    # The app's own post-processing of a reply (assistant.model.chat_model).
    reply = answer_instead_of_repeating(example.context, reply)
    seconds = time.perf_counter() - started
    tokens = int(reply.stats.get("completion_tokens", 0))
    output = _calls_text(reply.calls) if reply.calls else reply.text
    score = ExampleScore(
        example.kind,
        example.template,
        seconds,
        tokens,
        parsed=reply.parse_error is None,
        output=output[:300],
        expected=_calls_text(example.target.calls) if example.target.calls else "",
        dropped=list(reply.stats.get("dropped_arguments", [])),
    )
    expected = example.target
    if expected.calls:
        first = reply.calls[0] if reply.calls else None
        score.tool_ok = first is not None and first.name == expected.calls[0].name
        score.args_ok = first is not None and arguments_match(first, expected.calls[0])
        raw = reply.stats.get("unguarded_calls", reply.calls)
        score.args_ok_unguarded = bool(raw) and arguments_match(raw[0], expected.calls[0])
    elif example.kind == "refusal":
        score.refused_ok = not reply.calls and reply.parse_error is None
    else:  # a final answer after tool results
        score.tool_ok = not reply.calls and bool(reply.text.strip())  # answer, not call again
        if score.tool_ok:
            sources = [t.content for t in example.context if t.role in {"tool", "user"}]
            report = grounding.check(reply.text, sources)
            score.grounded = [len(report.claims) - len(report.unsupported), len(report.claims)]
        else:
            score.grounded = [0, 1]  # no answer is no grounded answer
    return score


def _share(values: Sequence[bool | None]) -> float:
    known = [v for v in values if v is not None]
    return sum(known) / len(known) if known else float("nan")


def summarise(name: str, scores: list[ExampleScore]) -> Report:
    calls = [s for s in scores if s.args_ok is not None]
    grounded = [s.grounded for s in scores if s.grounded]
    claims = sum(g[1] for g in grounded)
    per_tool: dict[str, list[bool]] = {}
    for s in calls:
        per_tool.setdefault(s.template.split("/")[0], []).append(bool(s.args_ok))
    total_tokens = sum(s.tokens for s in scores)
    total_seconds = sum(s.seconds for s in scores)
    failures = [
        asdict(s)
        for s in scores
        if s.args_ok is False
        or s.refused_ok is False
        or (s.grounded and s.grounded[0] < s.grounded[1])
    ][:40]
    return Report(
        backend=name,
        examples=len(scores),
        call_parse=_share([s.parsed for s in calls]),
        tool_selection=_share([s.tool_ok for s in calls]),
        answer_choice=_share([s.tool_ok for s in scores if s.kind == "answer"]),
        exact_args=_share([s.args_ok for s in calls]),
        exact_args_unguarded=_share([s.args_ok_unguarded for s in calls]),
        irrelevance=_share([s.refused_ok for s in scores]),
        groundedness=(sum(g[0] for g in grounded) / claims) if claims else float("nan"),
        latency_p50_s=statistics.median([s.seconds for s in scores]) if scores else float("nan"),
        tokens_per_s=total_tokens / total_seconds if total_seconds else float("nan"),
        per_tool_exact={k: round(sum(v) / len(v), 3) for k, v in sorted(per_tool.items())},
        per_tool_count={k: len(v) for k, v in sorted(per_tool.items())},
        failures=failures,
    )


def score_all(
    backend, examples: list[Example], name: str, progress: bool = True
) -> list[ExampleScore]:
    specs = agent_tools()
    return [
        score_example(e, backend, specs)
        for e in tqdm(examples, desc=f"eval {name}", disable=not progress)
    ]


def evaluate(backend, examples: list[Example], name: str, progress: bool = True) -> Report:
    return summarise(name, score_all(backend, examples, name, progress))


def save_report(report: Report, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(asdict(report), indent=2))
