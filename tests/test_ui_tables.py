"""Tables for people (labels, percentages, dates, weekly rollups), exports with headers, id links
and data-borne markup kept as text."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pandas as pd
from openpyxl import load_workbook

from assistant.agent import AssistantReply
from tools.registry import ToolResult, ToolRun
from ui.chat import answer_evidence, final_markdown
from ui.links import link_ids, parse_target, safe_linked
from ui.tables import clipboard_text, present, weekly, write_csv, write_xlsx

START = date(2026, 11, 30)


def test_present_labels_columns_with_units_and_percentages():
    frame = pd.DataFrame(
        {
            "sku": ["SKU-00001"],
            "probability": [0.96],
            "promised_date": [START],
            "expected_arrival": [START + timedelta(3)],
            "lo_80": [3.14159],
            "weird_new_column": [1],
        }
    )
    shown = present(frame)
    assert list(shown.columns) == [
        "SKU",
        "Stock-out probability (%)",
        "Promised date (supplier)",
        "Expected arrival (estimate)",
        "80% low (units)",
        "Weird new column",
    ]
    assert shown.iloc[0].tolist() == ["SKU-00001", 96.0, "2026-11-30", "2026-12-03", 3.1, 1]


def test_weekly_rollup_sums_flows_and_keeps_the_last_level():
    days = pd.DataFrame(
        {
            "date": [START + timedelta(d) for d in range(14)],
            "mean": [1.0] * 7 + [2.0] * 7,
            "projected_on_hand": list(range(14, 0, -1)),
        }
    )
    rolled = weekly(days)
    assert rolled["week"].tolist() == [START, START + timedelta(7)]
    assert rolled["mean"].tolist() == [7.0, 14.0]
    assert rolled["projected_on_hand"].tolist() == [8, 1]  # stock at each week's last day
    assert weekly(days.head(7)) is None  # a week or less stays daily


def test_exports_hold_every_row_and_the_header(tmp_path):
    table = present(pd.DataFrame({"sku": [f"SKU-{i:05d}" for i in range(31)], "qty": range(31)}))
    csv = pd.read_csv(write_csv("stockout_risk", table))
    assert list(csv.columns) == ["SKU", "Quantity (units)"] and len(csv) == 31
    sheet = load_workbook(write_xlsx("stockout_risk", table)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == ("SKU", "Quantity (units)") and len(rows) == 32 and rows[-1][1] == 30
    text = clipboard_text(table).splitlines()
    assert text[0] == "SKU\tQuantity (units)" and len(text) == 32


def test_ids_become_links_but_not_inside_code_blocks():
    text = "SKU-00001 late on PO-1234 (A-7, SUP-002)\n```text\nPO-1234\n```"
    linked = link_ids(text)
    assert "[SKU-00001](#open/sku/SKU-00001)" in linked
    assert "[PO-1234](#open/po/PO-1234)" in linked and "[A-7](#open/alert/A-7)" in linked
    assert "[SUP-002](#open/supplier/SUP-002)" in linked
    assert linked.endswith("```text\nPO-1234\n```")
    assert parse_target("alert/A-7") == ("alert", "A-7")
    assert parse_target("po/SKU-00001") is None and parse_target("sku/../x") is None


def test_data_borne_markup_stays_text():
    name = '<img src=x onerror="alert(1)"> [click](http://evil.example) <script>x()</script>'
    shown = safe_linked(f"SKU-00001 {name}")
    unescaped = re.compile(r"(?<!\\)[<\[]")  # a tag or link opener without its backslash
    assert unescaped.findall(shown) == ["["]  # ours: the SKU link
    assert shown.startswith("[SKU-00001](#open/sku/SKU-00001)")
    assert "\\<img" in shown and "\\[click\\]" in shown
    reply = AssistantReply(text=name, raw_text=name)
    assert not unescaped.findall(final_markdown(reply))


class Rows(ToolResult):
    n: int

    def table(self) -> pd.DataFrame:
        return pd.DataFrame({"sku": [f"SKU-{i:05d}" for i in range(self.n)]})


def test_evidence_holds_every_row_when_the_answer_was_cut_to_its_top():
    run = ToolRun("stockout_risk", {"horizon_days": 7}, Rows(n=10), None, 0.1)
    full = ToolRun("stockout_risk", {"horizon_days": 7, "limit": 100}, Rows(n=31), None, 0.1)
    reply = AssistantReply(text="", raw_text="", tool_runs=[run])
    evidence = answer_evidence(1, "which skus stock out?", reply, rerun=lambda r: full)
    assert len(evidence.table) == 31 and list(evidence.table.columns) == ["SKU"]
    assert evidence.title().startswith("### Answer 1: stockout_risk(horizon_days=7)")
    assert evidence.title().endswith("(31 rows)")
