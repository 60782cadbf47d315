"""Every turn is stored as OpenTelemetry spans (assistant.traces): each model call and each tool
call with its arguments, timing and status; bounded by count and age; listed and exported by
`stockpilot traces`."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from fake_assistant import ScriptedBackend, make_assistant
from typer.testing import CliRunner

from assistant.traces import TRACE_FILE, TraceStore, TurnTracer, open_tracer, summary_row

BAD = '<tool_call>test_stock_level {"sku": "SKU-00042", "horizon_days": "lots"}</tool_call>'
GOOD = '<tool_call>test_stock_level {"sku": "SKU-00042"}</tool_call>'
ANSWER = "SKU-00042 has 120 units on hand."
MODEL_SECONDS = 0.25

pytestmark = pytest.mark.usefixtures("test_tools")  # the fake tools, in the registry


class TimedScript(ScriptedBackend):
    """The scripted model, reporting a fixed generation time as a real backend does."""

    def respond(self, turns, specs, on_token=None):
        reply = super().respond(turns, specs, on_token)
        reply.stats["seconds"] = MODEL_SECONDS
        return reply


@pytest.fixture
def traced(tmp_path):
    store = TraceStore(tmp_path / TRACE_FILE, keep=50, max_age_days=30)
    tracer = TurnTracer(store, {"model": "scripted", "adapter": "none"})
    assistant = make_assistant(TimedScript(BAD, GOOD, ANSWER))  # the model writes the answer
    assistant.tracer = tracer  # as Assistant(..., tracer=) does
    return assistant, store


def test_a_turn_trace_holds_every_tool_call_with_arguments_and_timing(traced):
    assistant, store = traced
    reply = assistant.ask("How many units of SKU-00042 do we have?", "s1")
    assert [r.ok for r in reply.tool_runs] == [False, True]

    (turn,) = store.turns()
    spans = turn["spans"]
    root = spans[-1]
    assert root["name"] == "invoke_agent stockpilot" and root["parent_id"] is None
    assert all(s["parent_id"] == root["span_id"] for s in spans[:-1])
    assert {s["trace_id"] for s in spans} == {turn["trace_id"]}

    tools = [s for s in spans if s["attributes"]["gen_ai.operation.name"] == "execute_tool"]
    assert len(tools) == len(reply.tool_runs) == 2
    for span, run in zip(tools, reply.tool_runs, strict=True):
        attributes = span["attributes"]
        assert span["name"] == "execute_tool test_stock_level"
        assert attributes["gen_ai.tool.name"] == run.name
        assert json.loads(attributes["gen_ai.tool.call.arguments"]) == run.arguments
        assert attributes["stockpilot.tool.seconds"] == round(run.seconds, 4)
        assert span["seconds"] == pytest.approx(run.seconds, abs=1e-3)
        assert attributes["gen_ai.tool.call.result"] == run.render()[:500]
    assert (
        json.loads(tools[0]["attributes"]["gen_ai.tool.call.arguments"])["horizon_days"] == "lots"
    )
    assert tools[0]["status"] == "ERROR" and "horizon_days" in tools[0]["status_description"]
    assert tools[1]["status"] == "UNSET"
    assert '"on_hand":120' in tools[1]["attributes"]["gen_ai.tool.call.result"]

    chats = [s for s in spans if s["attributes"]["gen_ai.operation.name"] == "chat"]
    assert len(chats) == 3  # bad call, good call, answer
    assert [c["attributes"]["gen_ai.response.finish_reasons"] for c in chats] == [
        ["tool_calls"],
        ["tool_calls"],
        ["stop"],
    ]
    assert all(c["seconds"] == pytest.approx(MODEL_SECONDS, abs=1e-3) for c in chats)
    assert all(c["attributes"]["gen_ai.usage.input_tokens"] > 0 for c in chats)
    # spans are laid end to end in the order they ran: model, tool, model, tool, model
    order = [
        s["attributes"]["gen_ai.operation.name"]
        for s in sorted(spans[:-1], key=lambda s: s["start"])
    ]
    assert order == ["chat", "execute_tool", "chat", "execute_tool", "chat"]

    attributes = root["attributes"]
    assert attributes["stockpilot.question"] == "How many units of SKU-00042 do we have?"
    assert attributes["stockpilot.answer"] == reply.text
    assert attributes["gen_ai.conversation.id"] == "s1"
    assert attributes["stockpilot.model.id"] == "scripted"
    assert attributes["gen_ai.usage.input_tokens"] == reply.prompt_tokens
    assert attributes["stockpilot.grounding.unsupported"] == reply.grounding.unsupported
    assert turn["question"] == "How many units of SKU-00042 do we have?"


def test_a_second_turn_holds_only_its_own_calls(traced):
    assistant, store = traced
    assistant.ask("How many units of SKU-00042 do we have?", "s1")
    assistant.ask("And how many are reserved?", "s1")  # the script now only answers
    newest, first = store.turns()
    assert newest["question"] == "And how many are reserved?"
    assert summary_row(newest)["tools"] == ""
    assert summary_row(first)["tools"] == "test_stock_level, test_stock_level"
    assert summary_row(first)["failed_tools"] == 1


def _turn(trace_id: str, days_ago: float) -> dict:
    started = (datetime.now(UTC) - timedelta(days=days_ago)).isoformat()
    return {
        "trace_id": trace_id,
        "started": started,
        "seconds": 1.0,
        "question": trace_id,
        "spans": [],
    }


def test_retention_keeps_the_newest_turns_by_count(tmp_path):
    store = TraceStore(tmp_path / TRACE_FILE, keep=3, max_age_days=None)
    for i in range(5):
        store.append(_turn(f"t{i}", 0))
    assert [t["trace_id"] for t in store.turns()] == ["t4", "t3", "t2"]
    assert len((tmp_path / TRACE_FILE).read_text().splitlines()) == 3


def test_retention_drops_turns_older_than_the_age_limit(tmp_path):
    store = TraceStore(tmp_path / TRACE_FILE, keep=None, max_age_days=30)
    store.append(_turn("old", 45))
    store.append(_turn("recent", 2))
    assert [t["trace_id"] for t in store.turns()] == ["recent"]
    store.max_age_days = 1
    assert store.prune() == 1 and store.turns() == []


def test_tracing_is_off_when_keep_is_zero_and_settings_set_the_bounds(tmp_path):
    from assistant.settings import load_settings

    assert open_tracer(load_settings(data_dir=tmp_path, trace_keep=0)) is None
    tracer = open_tracer(load_settings(data_dir=tmp_path, trace_keep=7, trace_max_age_days=2))
    assert (tracer.store.keep, tracer.store.max_age_days) == (7, 2)
    assert tracer.store.path == tmp_path / TRACE_FILE


def test_a_failing_trace_never_costs_the_answer(tmp_path):
    tracer = TurnTracer(TraceStore(tmp_path / TRACE_FILE))
    assert tracer.record("q", object()) is None  # logged, not raised


def test_cli_lists_shows_and_exports_a_trace(traced, tmp_path, monkeypatch):
    from assistant.cli import app

    assistant, store = traced
    assistant.ask("How many units of SKU-00042 do we have?", "s1")
    trace_id = store.turns()[0]["trace_id"]
    monkeypatch.setenv("STOCKPILOT_DATA_DIR", str(tmp_path))
    runner = CliRunner()
    listed = runner.invoke(app, ["traces", "list"])
    assert listed.exit_code == 0 and trace_id[:12] in listed.output
    shown = runner.invoke(app, ["traces", "show", trace_id[:8]])
    assert shown.exit_code == 0 and "execute_tool test_stock_level" in shown.output
    out = tmp_path / "trace.json"
    exported = runner.invoke(app, ["traces", "export", trace_id, "-o", str(out)])
    assert exported.exit_code == 0
    assert json.loads(out.read_text())["trace_id"] == trace_id
    missing = runner.invoke(app, ["traces", "show", "ffff0000"])
    assert missing.exit_code != 0 and "no trace 'ffff0000'" in missing.output
