"""The tool-call protocol: exact prompt layout, call parsing, and a compact system prompt."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.protocol import (
    Call,
    CallParseError,
    Turn,
    format_call,
    parse_reply,
    render_prompt,
    system_prompt,
    truncate_tool_text,
)
from tools.registry import agent_tools, load_tools

CACHED_MODEL = Path(".cache/models/SmolLM2-135M-Instruct")
MAX_SYSTEM_PROMPT_TOKENS = 560  # its KV cache is computed once per process; 15 tools measured 506


def test_render_prompt_lays_out_chatml_turns_exactly():
    turns = [
        Turn("system", "SYS"),
        Turn("user", "which skus stock out next week"),
        Turn(
            "assistant", "ignored beside calls", calls=[Call("stockout_risk", {"horizon_days": 7})]
        ),
        Turn("tool", '{"rows":[]}', tool_name="stockout_risk"),
        Turn("assistant", "None do."),
    ]
    assert render_prompt(turns) == (
        "<|im_start|>system\nSYS<|im_end|>\n"
        "<|im_start|>user\nwhich skus stock out next week<|im_end|>\n"
        '<|im_start|>assistant\n<tool_call>stockout_risk {"horizon_days": 7}</tool_call><|im_end|>\n'
        '<|im_start|>tool\nstockout_risk: {"rows":[]}<|im_end|>\n'
        "<|im_start|>assistant\nNone do.<|im_end|>\n"
        "<|im_start|>assistant\n"
    )
    assert render_prompt(turns[:2], add_generation_prompt=False).endswith("next week<|im_end|>\n")


def test_parse_reply_round_trips_several_calls_with_unicode_arguments():
    calls = [
        Call("search_sops", {"query": "Lieferverzögerung München – Eskalation ✓"}),
        Call("forecast_demand", {"sku": "SKU-00042", "horizon_days": 14, "location": None}),
        Call("list_alerts", {"filters": {"severity": ["high", "critical"]}}),
    ]
    text = "Checking. " + "".join(format_call(c) for c in calls) + "<|im_end|>trailing"

    assert "München" in text  # written as-is, not \\u-escaped: fewer tokens, same as training
    assert parse_reply(text) == ("Checking.", calls)


def test_parse_reply_reads_plain_answers_and_calls_without_arguments():
    assert parse_reply("  SKU-00042 is fine.  ") == ("SKU-00042 is fine.", [])
    assert parse_reply("<tool_call> list_alerts </tool_call>") == ("", [Call("list_alerts", {})])
    spaced = '<tool_call>supplier_orders {"supplier": " SUP-002", "limit": 5}</tool_call>'
    assert parse_reply(spaced)[1] == [Call("supplier_orders", {"supplier": "SUP-002", "limit": 5})]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            '<tool_call>forecast_demand {"sku": SKU-1}</tool_call>',
            "forecast_demand': arguments are not valid JSON",
        ),
        (
            '<tool_call>forecast_demand ["SKU-1"]</tool_call>',
            "expected <tool_call>name {json}</tool_call>",
        ),
        (
            '<tool_call>forecast_demand {"sku": "SKU-1"}',
            "expected <tool_call>name {json}</tool_call>",
        ),  # cut off
        (
            '<tool_call>list_alerts {}</tool_call><tool_call>forecast_demand {"sku"</tool_call>',
            "expected",
        ),
    ],
)
def test_a_started_call_that_does_not_parse_raises(text, message):
    with pytest.raises(CallParseError, match=message):
        parse_reply(text)


def test_truncate_tool_text_keeps_the_head():
    assert truncate_tool_text("x" * 50, 50) == "x" * 50
    assert truncate_tool_text("abcdefghij" * 5, 20) == "abcdefghijabcdefg..."
    assert truncate_tool_text("abc " * 20, 19) == "abc abc abc abc..."  # no dangling space


def test_system_prompt_lists_every_agent_tool_and_no_batch_tool():
    prompt = system_prompt()
    for spec in agent_tools():
        assert f"\n{spec.signature()} - {spec.summary}\n" in prompt
    batch = [s.name for s in load_tools().values() if not s.agent]
    assert {"run_forecasts", "scan_anomalies"} <= set(batch)
    assert not any(f"\n{name}(" in prompt for name in batch)


def _tokenizer():
    from transformers import AutoTokenizer

    if (CACHED_MODEL / "tokenizer.json").exists():
        return AutoTokenizer.from_pretrained(CACHED_MODEL)
    pytest.skip("no cached SmolLM2 folder; the slow test materialises it")


def test_system_prompt_stays_compact_in_real_tokens():
    tokens = len(_tokenizer()(system_prompt()).input_ids)
    assert 100 < tokens <= MAX_SYSTEM_PROMPT_TOKENS
    assert tokens / len(agent_tools()) < 34  # per tool line, header included


@pytest.mark.slow
def test_system_prompt_token_count_after_materialising_the_embedded_model():
    from transformers import AutoTokenizer

    from assistant.model.loader import materialise_embedded
    from assistant.settings import Settings

    if (CACHED_MODEL / "tokenizer.json").exists():
        pytest.skip("the cached folder exists: the fast test covers this")
    folder = materialise_embedded(Settings().model_cache_dir)  # ~25 s once, then cached
    tokens = len(AutoTokenizer.from_pretrained(folder)(system_prompt()).input_ids)
    assert tokens <= MAX_SYSTEM_PROMPT_TOKENS
