"""Copy-constrained decoding: names in a tool call are spans of the conversation.

Suppliers, sites, categories, SOP queries and codes (SKU, PO, alert) are copied from what was
said, never made up; a 135M model sometimes garbles a long name while copying it ("evanandead
logistics inc" for "evergreen logistics inc") or cuts a code short ("PO-1" for "PO-1626").
Once the model has started such a value as a copy, the most likely next token that keeps it a
verbatim span of the conversation wins. Everything else about generation is untouched: when
the model's own choice already copies, or when no likely token can (a name the tool may still
resolve), the model's choice stands.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

import torch
from transformers import LogitsProcessor

from assistant.model.argument_guard import conversation_text
from assistant.protocol import CALL_CLOSE, CALL_OPEN, Turn
from tools.arguments import entity_kind
from tools.registry import agent_tools

# Arguments whose value is copied from the conversation: the user's words, an earlier call or
# a tool result (a site from a stock-out list; the SOP an alert explanation names as a query;
# the PO an alert names, which was once cut to "PO-1" from "PO-1626").
# Read from the argument types: every argument naming one of these kinds.
COPIED_KINDS = {"sku", "location", "category", "supplier", "po", "alert", "text"}
COPIED = {
    name
    for spec in agent_tools()
    for name in spec.request.model_fields
    if entity_kind(spec.request, name) in COPIED_KINDS
}
_VALUE = re.compile(r'"(\w+)"\s*:\s*"((?:[^"\\]|\\.)*)(")?')


def copy_sources(turns: Sequence[Turn]) -> dict[str, str]:
    """{argument: the text its value must be a span of}: the same conversation text the
    argument guard checks values against."""
    return dict.fromkeys(COPIED, conversation_text(turns))


def _last_value(text: str) -> tuple[str, str, str] | None:
    """(argument, value so far, closing quote or "") of the last string value in the open tool
    call of ``text``; None outside a call or before its first string value."""
    start = text.rfind(CALL_OPEN)
    if start < 0 or CALL_CLOSE in text[start:]:
        return None
    values = _VALUE.findall(text[start:])
    return values[-1] if values else None


def _is_span(key: str, value: str, closed: str, sources: dict[str, str]) -> bool:
    span = r"(?<!\w)" + re.escape(value) + (r"(?!\w)" if closed else "")
    return re.search(span, sources[key]) is not None


def copies(text: str, sources: dict[str, str]) -> bool:
    """Is the string value being written last in the open tool call of ``text`` verbatim in its
    source, or not a constrained argument at all? It must start where a word starts and, once
    its closing quote is written, end where a word ends: "expedit" is no copy of "expediting"."""
    last = _last_value(text)
    if last is None or last[0] not in sources or not last[1]:
        return True
    return _is_span(*last, sources)


def copying(text: str, sources: dict[str, str]) -> bool:
    """Has the model started copying a name from the conversation and not finished it yet?"""
    last = _last_value(text)  # parsed once: this runs for every generated token
    return bool(last and last[0] in sources and last[1] and not last[2]) and _is_span(
        *last, sources
    )


class CopySpans(LogitsProcessor):
    """Greedy decoding that, once the model has started copying a name from the conversation,
    prefers among the ``top_k`` likeliest tokens the first that keeps it a verbatim span.

    A value that does not start as a copy is left alone: a filter nobody mentioned is the
    argument guard's to drop, and steering it onto some word of the conversation would hide
    it (steering every name scored 93.9% exact arguments against 94.9% without any). Tokens
    far less likely than the model's choice (logit ``max_gap`` below it, 1/150 as likely) are
    not considered: closing a name early for want of a better copy is worse than a garble."""

    def __init__(
        self,
        tokenizer,
        prompt_length: int,
        sources: dict[str, str],
        top_k: int = 20,
        max_gap: float = 5.0,
    ):
        self.tokenizer, self.prompt_length = tokenizer, prompt_length
        self.sources, self.top_k, self.max_gap = sources, top_k, max_gap
        self.steered = 0  # how many tokens differ from the model's own greedy choice

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor):
        text = self.tokenizer.decode(input_ids[0, self.prompt_length :])
        if not copying(text, self.sources):
            return scores  # whether to write a name, and where it starts, is the model's call
        best = torch.topk(scores[0], self.top_k)
        likely = best.indices[best.values >= best.values[0] - self.max_gap].tolist()
        scores, steered = steer(
            scores, likely, lambda t: copies(text + self.tokenizer.decode([t]), self.sources)
        )
        self.steered += steered
        return scores


def steer(
    scores: torch.FloatTensor, candidates: Sequence[int], keeps: Callable[[int], bool]
) -> tuple[torch.FloatTensor, bool]:
    """Greedy decoding held to a rule: the first of ``candidates`` (likeliest first) that
    ``keeps`` it wins. (scores, whether that differs from the model's own choice); when no
    candidate keeps it, the model's choice stands."""
    for rank, token in enumerate(candidates):
        if keeps(token):
            if rank == 0:
                return scores, False
            chosen = torch.full_like(scores, float("-inf"))
            chosen[0, token] = scores[0, token]
            return chosen, True
    return scores, False
