"""The chat tab's pure parts: agent events -> chat messages, the result table, SOP sources."""

from __future__ import annotations

from types import SimpleNamespace

import pandas as pd
import pytest

from assistant.agent import Assistant, AssistantReply
from assistant.context import open_context
from assistant.grounding import GroundingReport
from assistant.model.chat_model import StockpilotChatModel
from assistant.model.rules import RulesBackend
from assistant.settings import load_settings
from tools.registry import Evidence, ToolResult, ToolRun
from ui.chat import AnswerView, final_markdown, main_table, passages, safe_table, sources_markdown
from ui.tables import write_csv


class RankedResult(ToolResult):
    rows: list[dict]

    def render(self) -> str:
        return f"{len(self.rows)} SKUs at risk"

    def table(self) -> pd.DataFrame:
        return pd.DataFrame(self.rows)


class DraftResult(ToolResult):
    body: str

    def deliverable(self) -> str:
        return self.body


class BrokenTable(ToolResult):
    def table(self):
        raise NotImplementedError


def ranked_run(n: int = 3) -> ToolRun:
    rows = [{"sku": f"SKU-{i:05d}", "probability": round(1 - i / 10, 2)} for i in range(n)]
    result = RankedResult(rows=rows, evidence=Evidence(sources=["inventory"], period="2026-11-30"))
    return ToolRun("stockout_risk", {"horizon_days": 7}, result, None, 0.42)


def reply_with(
    runs: list[ToolRun], text: str = "Three SKUs are at risk.", unsupported=()
) -> AssistantReply:
    report = GroundingReport(claims=list(unsupported), unsupported=list(unsupported))
    return AssistantReply(text=text, raw_text=text, tool_runs=runs, grounding=report)


def test_tool_step_is_pending_until_its_result_arrives():
    view = AnswerView()
    view.add("tool_start", {"name": "stockout_risk", "arguments": {"horizon_days": 7}})
    (step,) = view.messages()
    assert step.metadata["status"] == "pending"
    assert step.metadata["title"] == "Tool: stockout_risk(horizon_days=7)"


def test_finished_step_shows_duration_render_and_table_head():
    view = AnswerView()
    view.add("tool_start", {"name": "stockout_risk", "arguments": {"horizon_days": 7}})
    view.add("tool_end", ranked_run(12))
    (step,) = view.messages()
    assert step.metadata["status"] == "done"
    assert step.metadata["duration"] == 0.42
    assert step.content.startswith("12 SKUs at risk")
    assert "| SKU-00000 |" in step.content and "| SKU-00007 |" in step.content
    assert "SKU-00008" not in step.content  # only the head in the chat
    assert "4 more rows in the answer's table" in step.content
    assert "_Evidence: from inventory; 2026-11-30_" in step.content


def test_failed_step_shows_the_error_and_is_flagged():
    view = AnswerView()
    view.add("tool_start", {"name": "forecast_demand", "arguments": {"sku": "SKU-99999"}})
    view.add(
        "tool_end", ToolRun("forecast_demand", {"sku": "SKU-99999"}, None, "sku: unknown sku", 0.01)
    )
    (step,) = view.messages()
    assert step.content == "**Failed:** sku: unknown sku"
    assert step.metadata["log"] == "failed"


def test_events_become_steps_then_the_grounded_answer_in_order():
    run = ranked_run()
    reply = reply_with([run], text="SKU-00000 is at risk.")
    view = AnswerView()
    for kind, payload in [
        ("token", "Let me check. "),
        ("tool_start", {"name": "stockout_risk", "arguments": {"horizon_days": 7}}),
        ("tool_end", run),
        ("token", "SKU-00000 is "),
        ("token", "at risk (draft)"),
        ("final", reply),
    ]:
        view.add(kind, payload)
    messages = view.messages()
    assert [m.metadata.get("title", "") for m in messages] == [
        "",
        "Tool: stockout_risk(horizon_days=7)",
        "",
    ]
    assert messages[0].content == "Let me check. "
    # the streamed draft is replaced by the grounding-checked final text
    assert messages[-1].content == "[SKU-00000](#open/sku/SKU-00000) is at risk."


def test_final_answer_carries_drafts_verbatim_and_flags_unverified_items():
    draft = ToolRun(
        "draft_supplier_email",
        {"po_number": "PO-1001"},
        DraftResult(body="Dear Anna,\nPO-1001 is late."),
        None,
        0.1,
    )
    text = final_markdown(
        reply_with([draft], text="Here is a draft [unverified].", unsupported=["PO-9999"])
    )
    assert "```text\nDear Anna,\nPO-1001 is late.\n```" in text
    assert "1 item(s) marked [unverified]" in text and "PO-9999" in text


def test_main_table_is_the_last_successful_run_with_rows():
    failed = ToolRun("list_alerts", {}, None, "boom", 0.0)
    empty = ToolRun("supplier_orders", {}, RankedResult(rows=[]), None, 0.0)
    name, table = main_table(reply_with([ranked_run(5), empty, failed]))
    assert name == "stockout_risk"
    assert list(table["sku"]) == [f"SKU-{i:05d}" for i in range(5)]
    assert main_table(reply_with([failed])) is None


def test_a_result_whose_table_breaks_has_no_table_but_still_renders():
    run = ToolRun("explain_alert", {}, BrokenTable(), None, 0.0)
    assert safe_table(run.result) is None
    view = AnswerView()
    view.add("tool_end", run)
    assert view.messages()[0].metadata["status"] == "done"


def test_sop_passages_open_on_click_and_are_escaped():
    passage = SimpleNamespace(
        citation="SOP-07 Supplier communication §3 Escalation ladder",
        text="Escalate after <7> days & call.",
        path="sop-07.md",
    )
    reply = reply_with(
        [ToolRun("search_sops", {"query": "late"}, SimpleNamespace(passages=[passage]), None, 0.1)]
    )
    assert passages(reply) == [passage]
    html = sources_markdown(passages(reply))
    assert "<details><summary>SOP-07 Supplier communication §3 Escalation ladder</summary>" in html
    assert "Escalate after &lt;7&gt; days &amp; call." in html
    assert "Sources: SOP-07 Supplier communication §3 Escalation ladder" in final_markdown(reply)


def test_csv_download_round_trips_the_table():
    _, table = main_table(reply_with([ranked_run(4)]))
    path = write_csv("stockout_risk", table)
    assert path.endswith(".csv")
    pd.testing.assert_frame_equal(pd.read_csv(path), table)


@pytest.fixture
def rules_assistant(sample_db):
    settings = load_settings(db_path=sample_db.db_path, model_source="rules")
    ctx = open_context(settings, read_only=True, with_sops=False)
    yield Assistant(StockpilotChatModel(backend=RulesBackend()), ctx)
    ctx.store.close()


def test_a_real_rules_answer_converts_to_a_tool_step_and_a_table(rules_assistant):
    view = AnswerView()
    for kind, payload in rules_assistant.stream("Which SKUs will stock out next week?", "t1"):
        view.add(kind, payload)
    messages = view.messages()
    assert messages[0].metadata["title"] == "Tool: stockout_risk(horizon_days=7)"
    assert messages[0].metadata["status"] == "done"
    assert "](#open/sku/SKU-" in messages[-1].content  # SKU ids are links
    name, table = main_table(view.reply)
    assert name == "stockout_risk" and "sku" in table.columns and len(table) > 0


def test_a_tool_named_by_the_model_shows_at_once_and_its_checked_call_replaces_it():
    view = AnswerView()
    view.add("tool_pending", {"name": "stockout_risk"})
    (pending,) = view.messages()
    assert pending.metadata["title"] == "Tool: stockout_risk …"
    assert pending.metadata["status"] == "pending"
    view.add("tool_start", {"name": "stockout_risk", "arguments": {"horizon_days": 7}})
    (step,) = view.messages()  # one step, not two
    assert "horizon_days=7" in step.metadata["title"]
