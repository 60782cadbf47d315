"""Bounded conversation memory: what of earlier turns the model still sees.

Shared by inference and fine-tuning so that follow-ups ("and for Hamburg?") look the same
in training as in use. Earlier tool results shrink to a short head; the oldest exchanges
go first when the budget is exceeded. The current exchange is always kept whole.

An earlier exchange in which no tool was called (an off-topic request and its refusal, a
greeting) is left out: every fact the assistant states comes from a tool, so it holds nothing a
later request can refer to, and a small model reads its words as arguments ("weather in berlin",
then "similar products to SKU-00020" became ``location="berlin"``). Training conversations never
have one, so leaving it out also keeps what the model sees in use as it was in training.
"""

from __future__ import annotations

from assistant.protocol import TOOL_ROLE, Turn, render_turn, truncate_tool_text

HISTORY_TOOL_CHARS = 160  # earlier tool results: enough for the model to know what was shown
CURRENT_TOOL_CHARS = 450  # ~170 tokens: the UI shows the full table; the model quotes the head
PROMPT_BUDGET_CHARS = 5000  # ~1,500 tokens of conversation on top of the system prompt


def _exchanges(turns: list[Turn]) -> list[list[Turn]]:
    """Group turns into exchanges, each starting at a user turn."""
    groups: list[list[Turn]] = []
    for turn in turns:
        if turn.role == "user" or not groups:
            groups.append([])
        groups[-1].append(turn)
    return groups


def _shrink(turn: Turn, limit: int) -> Turn:
    if turn.role != TOOL_ROLE:
        return turn
    return Turn(turn.role, truncate_tool_text(turn.content, limit), tool_name=turn.tool_name)


def bound_history(turns: list[Turn], budget_chars: int = PROMPT_BUDGET_CHARS) -> list[Turn]:
    """Conversation turns (no system turn) trimmed to the budget."""
    groups = _exchanges([t for t in turns if t.role != "system"])
    if not groups:
        return []
    current = [_shrink(t, CURRENT_TOOL_CHARS) for t in groups[-1]]
    earlier = [
        [_shrink(t, HISTORY_TOOL_CHARS) for t in g] for g in groups[:-1] if any(t.calls for t in g)
    ]
    used = sum(len(render_turn(t)) for t in current)
    kept: list[list[Turn]] = []
    for group in reversed(earlier):
        size = sum(len(render_turn(t)) for t in group)
        if used + size > budget_chars:
            break
        kept.insert(0, group)
        used += size
    return [t for g in kept for t in g] + current
