"""Schema-constrained decoding: a tool call names a registered tool, and an argument with fixed
choices takes one of them.

The 135M model sometimes invents a tool ("alert_error", "forecast", "tool_call") or a value
outside an argument's choices ("critical_demand_drop"). While it writes a tool's name, or a value
of an argument whose choices the registry fixes, the likeliest of its top tokens that keeps the
text a prefix of something that exists wins. Whether to call a tool at all, and which of the
existing ones, stays the model's choice, except in a second try that ``must_call``: a request
the model refused though it names the workspace's own SKUs or suppliers
(assistant.model.argument_guard) starts with a call.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import torch
from transformers import LogitsProcessor

from assistant.model.argument_guard import choices
from assistant.model.copy_constraint import steer
from assistant.protocol import CALL_CLOSE, CALL_OPEN
from tools.registry import ToolSpec

_NAME_END = re.compile(r"[\s{]")
_OPEN_VALUE = re.compile(r'"(\w+)"\s*:\s*"([^"\\]*)$')


class SchemaChoices(LogitsProcessor):
    def __init__(
        self,
        tokenizer,
        prompt_length: int,
        specs: Sequence[ToolSpec],
        top_k: int = 40,
        must_call: bool = False,
    ):
        self.tokenizer, self.prompt_length, self.top_k = tokenizer, prompt_length, top_k
        self.must_call = must_call
        self.names = [spec.name for spec in specs]
        self.values = {spec.name: choices(spec.request) for spec in specs}
        self.steered = 0

    def allowed(self, text: str) -> bool:
        """Can ``text`` (generated so far) still become a call that the registry accepts?"""
        at = text.rfind(CALL_OPEN)
        if at < 0:
            return not self.must_call or CALL_OPEN.startswith(text.lstrip())
        if CALL_CLOSE in text[at:]:
            return True
        body = text[at + len(CALL_OPEN) :].lstrip()
        name, ended, rest = _split_name(body)
        if not ended:
            return any(n.startswith(name) for n in self.names)
        if name not in self.names:
            return False
        value = _OPEN_VALUE.search(rest)
        options = self.values[name].get(value.group(1)) if value else None
        return options is None or any(str(o).startswith(value.group(2)) for o in options)

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor):
        text = self.tokenizer.decode(input_ids[0, self.prompt_length :])
        if text.rfind(CALL_OPEN) < 0 and not self.must_call:
            return scores  # free text, or before the call: the model's choice
        candidates = torch.topk(scores[0], self.top_k).indices.tolist()
        # nothing likely fits: the model's text stands, the parser and the agent report it
        scores, steered = steer(
            scores, candidates, lambda t: self.allowed(text + self.tokenizer.decode([t]))
        )
        self.steered += steered
        return scores


def _split_name(body: str) -> tuple[str, bool, str]:
    """(the tool name written so far, whether it is complete, the text after it)."""
    end = _NAME_END.search(body)
    if end is None:
        return body, False, ""
    return body[: end.start()], True, body[end.start() :]
