"""Bounded conversation memory: the current exchange stays whole, earlier tool results shrink,
the oldest exchanges go first."""

from __future__ import annotations

from assistant.memory import CURRENT_TOOL_CHARS, HISTORY_TOOL_CHARS, bound_history
from assistant.protocol import Call, Turn, render_turn


def exchange(n: int, result_chars: int = 100) -> list[Turn]:
    return [
        Turn("user", f"question {n}"),
        Turn("assistant", calls=[Call("stockout_risk", {"horizon_days": n})]),
        Turn("tool", f"{n}:" + "r" * (result_chars - len(f"{n}:")), tool_name="stockout_risk"),
        Turn("assistant", f"answer {n}"),
    ]


def size(turns: list[Turn]) -> int:
    return sum(len(render_turn(t)) for t in turns)


def test_the_current_exchange_is_kept_whole_even_over_budget():
    current = [Turn("user", "q" * 3000), *exchange(9, CURRENT_TOOL_CHARS)[1:3]]
    kept = bound_history([*exchange(1), *current], budget_chars=1000)
    assert kept == current  # the earlier exchange no longer fits; the current one is untouched


def test_the_current_tool_result_is_cut_at_its_own_limit():
    kept = bound_history(exchange(1, CURRENT_TOOL_CHARS + 500))
    assert len(kept[2].content) == CURRENT_TOOL_CHARS and kept[2].content.endswith("...")
    assert kept[2].tool_name == "stockout_risk"


def test_earlier_tool_results_shrink_to_a_short_head():
    kept = bound_history([*exchange(1, 1000), *exchange(2, CURRENT_TOOL_CHARS)])
    earlier, current = kept[:4], kept[4:]
    assert earlier[2].content == "1:" + "r" * (HISTORY_TOOL_CHARS - 5) + "..."
    assert [t.content for t in earlier if t.role != "tool"] == ["question 1", "", "answer 1"]
    assert current == exchange(2, CURRENT_TOOL_CHARS)


def test_the_oldest_exchanges_are_dropped_to_fit_the_budget():
    turns = [t for n in range(1, 11) for t in exchange(n)]  # 100-char results: nothing shrinks
    one = size(exchange(5))
    kept = bound_history(turns, budget_chars=3 * one + 10)

    assert [t.content for t in kept if t.role == "user"] == [
        "question 8",
        "question 9",
        "question 10",
    ]
    assert kept == turns[-12:]
    assert size(kept) <= 3 * one + 10


def test_system_turns_are_left_to_the_protocol():
    assert bound_history([Turn("system", "S"), *exchange(1)]) == exchange(1)
    assert bound_history([]) == []


def test_earlier_exchanges_without_a_tool_call_are_left_out():
    refused = [Turn("user", "whats the weather in berlin"), Turn("assistant", "Sorry, I can't.")]
    current = [Turn("user", "similar products to SKU-00020")]
    assert bound_history([*exchange(1), *refused, *current]) == [*exchange(1), *current]
    # The current exchange stays even without a call: it is the request being answered.
    assert bound_history([*exchange(1), *refused]) == [*exchange(1), *refused]
