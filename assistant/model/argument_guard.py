"""Optional filters the conversation never mentioned are dropped before a call runs.

A small model sometimes adds a filter nobody asked for (``supplier="supplier_performance"``,
``capacity_kg=100``); the tool would then quietly answer a narrower question than the one
asked. An optional argument whose value appears nowhere in the conversation (user turns,
earlier calls, tool results) is removed and noted in the reply's stats. Required arguments
are left for the tool to validate, and values the model derives from words (horizons,
service levels, alert kinds, PO status) are not checked: "next month" is 28 days without
the digits appearing anywhere.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence

from assistant.protocol import Call, Turn
from tools.registry import ToolSpec

CHECKED = {
    "sku",
    "location",
    "category",
    "supplier",
    "po_number",
    "alert_id",
    "date",
    "limit",
    "vehicles",
    "capacity_kg",
}


def _squash(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.lower())


def conversation_text(turns: Sequence[Turn]) -> str:
    parts = []
    for turn in turns:
        if turn.role in {"user", "tool"}:
            parts.append(turn.content)
        parts += [json.dumps(c.arguments) for c in turn.calls]
    return "\n".join(parts)


def mentioned(value, text: str) -> bool:
    """Is ``value`` written somewhere in ``text`` (loosely: case, spaces, dashes aside)?"""
    if isinstance(value, bool) or value is None:
        return True
    if isinstance(value, int | float):
        number = str(int(value)) if float(value).is_integer() else str(value)
        return number in re.findall(r"\d+(?:\.\d+)?", text)
    squashed, haystack = _squash(str(value)), _squash(text)
    if not squashed or squashed in haystack:
        return True
    code = re.fullmatch(r"[a-z]{1,3}(\d+)", squashed)  # PO-1234 said as "purchase order 1234"
    return bool(code) and code.group(1) in re.findall(r"\d+", text)


def drop_unsaid(
    calls: list[Call], turns: Sequence[Turn], specs: Sequence[ToolSpec]
) -> tuple[list[Call], list[str]]:
    """(calls without unmentioned optional filters, ['tool.argument=value', ...] dropped)."""
    text = conversation_text(turns)
    by_name = {spec.name: spec for spec in specs}
    kept, dropped = [], []
    for call in calls:
        spec = by_name.get(call.name)
        if spec is None:
            kept.append(call)
            continue
        fields = spec.request.model_fields
        arguments = {}
        for key, value in call.arguments.items():
            optional = key in fields and not fields[key].is_required()
            if key in CHECKED and optional and not mentioned(value, text):
                dropped.append(f"{call.name}.{key}={value!r}")
            else:
                arguments[key] = value
        kept.append(Call(call.name, arguments))
    return kept, dropped


class ArgumentGuard:
    """Wraps any backend; its replies' calls carry only filters the conversation mentioned."""

    def __init__(self, backend):
        self.backend = backend

    def __getattr__(self, name):  # name, loaded, generator, ... of the wrapped backend
        return getattr(self.backend, name)

    def respond(self, turns: Sequence[Turn], specs: Sequence[ToolSpec], on_token=None):
        reply = self.backend.respond(turns, specs, on_token)
        if reply.calls:
            unguarded = reply.calls
            reply.calls, dropped = drop_unsaid(unguarded, turns, specs)
            if dropped:  # kept so the evaluation can score the model alone in the same pass
                reply.stats["dropped_arguments"] = dropped
                reply.stats["unguarded_calls"] = unguarded
        return reply
