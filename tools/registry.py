"""The one place where tools are declared.

A tool is a function ``fn(ctx, request) -> ToolResult`` with a pydantic request model. The
agent's tool schemas, the compact tool list in the prompt, the fine-tuning data and the
evaluation are all generated from this registry, never written twice. Adding a capability
means adding a module to ``CAPABILITY_MODULES`` that decorates its functions with ``@tool``.
"""

from __future__ import annotations

import importlib
import json
import math
import time
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol, get_args

import pandas as pd
from pydantic import BaseModel, ConfigDict, ValidationError, ValidationInfo, field_validator

from tools.store import Store, UnknownEntityError

CAPABILITY_MODULES = (
    "tools.forecasting",
    "tools.inventory",
    "tools.anomalies",
    "tools.routing",
    "tools.suppliers",
    "tools.supplier_email",
    "tools.whatif",
    "tools.history",
    "tools.briefing",
    "tools.recommendations",
    "knowledge.tool",
)


MAX_NUMBER = 1e9  # no tool argument (days, kg, units, %) is larger; 1e18 overflowed routing


class Request(BaseModel):
    """Base for tool arguments: unknown keys are errors, so typos in calls surface. Every
    number is finite and within +-MAX_NUMBER (fields add their own tighter bounds), a boolean
    is not a number (``horizon_days=true`` is refused, not read as 1 day), and text holds no
    control characters: whatever a model or a user sends, validation fails with a message
    naming the argument, never with a traceback from the tool."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, allow_inf_nan=False)

    @field_validator("*", mode="before")
    @classmethod
    def _plain_values(cls, value: Any, info: ValidationInfo) -> Any:
        field = cls.model_fields.get(info.field_name or "")
        if field is not None and _takes_number(field.annotation):
            if isinstance(value, bool):
                raise ValueError("expected a number, not true/false")
            number = _as_number(value)
            if number is not None and not (math.isfinite(number) and abs(number) <= MAX_NUMBER):
                raise ValueError(f"expected a finite number within +-{MAX_NUMBER:.0e}")
        if isinstance(value, str) and any(
            unicodedata.category(c) == "Cc" and c not in "\t\n" for c in value
        ):
            raise ValueError("holds a control character")
        return value


def _takes_number(annotation: Any) -> bool:
    """int or float (optionally in a union or Annotated), but not bool or a Literal."""
    if annotation in (int, float):
        return True
    return any(_takes_number(a) for a in get_args(annotation) if a is not type(None))


def _as_number(value: Any) -> float | None:
    if isinstance(value, int | float):
        return float(value) if not isinstance(value, int) or abs(value) < 10**300 else math.inf
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            return None
    return None


class Evidence(BaseModel):
    """Where a result's numbers come from."""

    sources: list[str] = []  # tables or documents read
    method: str = ""  # model / algorithm used
    period: str = ""  # date range of the data used, ISO dates
    notes: list[str] = []


class ToolResult(BaseModel):
    """Base for tool results: numbers, their evidence, and a compact rendering for the LLM."""

    evidence: Evidence = Evidence()

    def render(self) -> str:  # compact text the model reads; every figure it may quote
        return json.dumps(self.model_dump(mode="json", exclude={"evidence"}), separators=(",", ":"))

    def table(self) -> pd.DataFrame | None:  # the main table for the UI / CSV download
        return None

    def deliverable(self) -> str | None:  # a document shown verbatim to the user (e-mail draft)
        return None

    def summary(self) -> str | None:
        """A short, complete answer in plain words, written for people: the counts, the top
        items, the recommended action. The reply leads with it, so the model never re-types
        tool output. None: the reply quotes the head of ``render()``."""
        return None

    def follow_up(self) -> tuple[str, dict] | None:
        """A call that completes this answer, run in code (an alert explanation -> the SOP
        for its kind), as (tool name, arguments); None when the answer is complete."""
        return None


class Retriever(Protocol):
    def search(self, query: str, k: int = 3) -> list[Any]: ...


@dataclass
class ToolContext:
    """What a tool may read: the data store and (for SOP search) the knowledge base, and
    where batch forecasts run (the entry point sets these from its settings)."""

    store: Store
    sops: Retriever | None = None
    forecast_backend: str = "local"  # statsforecast backend: local, dask, spark, ray
    dask_address: str | None = None


class ToolError(ValueError):
    """A call the user or model can fix: bad or unknown arguments. The message names the argument."""


@dataclass(frozen=True)
class ToolSpec:
    name: str
    summary: str  # one line, shown in the prompt: keep it short, it costs tokens every turn
    request: type[Request]
    fn: Callable[[ToolContext, Any], ToolResult]
    agent: bool = True  # offered to the chat agent (batch jobs are CLI only)
    writes: bool = False  # the only tools that may write: batch forecast, alert scan
    # What the latest request must say for the tool to apply (what_if: a change to run); a
    # model's call to it without that is chosen again among the other tools (argument_guard).
    grounds: Callable[[str], bool] | None = None

    def signature(self) -> str:
        """'name(sku, location?, horizon_days?)': the compact form used in the prompt."""
        parts = []
        for name, info in self.request.model_fields.items():
            parts.append(name if info.is_required() else f"{name}?")
        return f"{self.name}({', '.join(parts)})"

    def json_schema(self) -> dict:
        """OpenAI-style function schema (for endpoints that take native tool definitions)."""
        schema = self.request.model_json_schema()
        schema.pop("title", None)
        return {
            "type": "function",
            "function": {"name": self.name, "description": self.summary, "parameters": schema},
        }


REGISTRY: dict[str, ToolSpec] = {}


def tool(
    name: str,
    summary: str,
    request: type[Request],
    *,
    agent: bool = True,
    writes: bool = False,
    grounds: Callable[[str], bool] | None = None,
    registry: dict[str, ToolSpec] | None = None,
):
    """Register ``fn(ctx, request)`` as a tool in ``registry`` (default: the app's REGISTRY).

    Tests declare their own tools in a registry of their own, so that none of them leaks into
    the app's prompt, its tool list or another test."""

    def register(fn):
        into = REGISTRY if registry is None else registry
        into[name] = ToolSpec(name, summary, request, fn, agent, writes, grounds)
        return fn

    return register


def load_tools() -> dict[str, ToolSpec]:
    for module in CAPABILITY_MODULES:
        importlib.import_module(module)
    return REGISTRY


def agent_tools() -> list[ToolSpec]:
    return [spec for spec in load_tools().values() if spec.agent]


def describe_validation_error(tool_name: str, error: ValidationError) -> str:
    problems = []
    for item in error.errors():
        where = ".".join(str(p) for p in item["loc"]) or "arguments"
        if item["type"] == "extra_forbidden":
            problems.append(f"{where}: not an argument of {tool_name}")
        elif item["type"] == "missing":
            problems.append(f"{where}: required")
        else:
            problems.append(f"{where}: {item['msg']} (got {item.get('input')!r})")
    return f"{tool_name}: invalid arguments: " + "; ".join(problems)


def validate_arguments(name: str, arguments: dict) -> Request:
    specs = load_tools()
    if name not in specs:
        raise ToolError(f"tool: unknown tool '{name}'; available: {', '.join(sorted(specs))}")
    try:
        return specs[name].request.model_validate(arguments or {})
    except ValidationError as error:
        raise ToolError(describe_validation_error(name, error)) from None
    except (TypeError, ValueError, ArithmeticError) as error:  # a constraint that cannot apply
        raise ToolError(f"{name}: invalid arguments: {error}") from None


ERROR = "ERROR"  # how a failed call's output starts, for the model and the code that reads it


def failed(output: str) -> bool:
    """Is this tool output an error (which echoes the bad input back, and holds no facts)?"""
    return output.startswith(ERROR)


@dataclass
class ToolRun:
    """One executed call, as the trace/UI shows it."""

    name: str
    arguments: dict
    result: ToolResult | None
    error: str | None
    seconds: float

    @property
    def ok(self) -> bool:
        return self.error is None

    def render(self) -> str:
        return self.result.render() if self.result is not None else f"{ERROR} {self.error}"


def call_tool(ctx: ToolContext, name: str, arguments: dict) -> ToolRun:
    """Validate and run one call; user-fixable problems come back as ``error`` text, not exceptions."""
    started = time.perf_counter()
    try:
        request = validate_arguments(name, arguments)
        result = REGISTRY[name].fn(ctx, request)
        return ToolRun(name, arguments, result, None, time.perf_counter() - started)
    except (ToolError, UnknownEntityError) as error:
        return ToolRun(name, arguments, None, str(error), time.perf_counter() - started)
