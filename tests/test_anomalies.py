"""Anomaly scan on a hand-built store with one planted anomaly per series, and on the
simulated sample store against its labels; list/explain alerts and argument errors."""

from __future__ import annotations

import json
from datetime import date, timedelta

import duckdb
import numpy as np
import pandas as pd
import pytest

from tools.registry import ToolContext, call_tool
from tools.store import Store

TODAY = date(2026, 11, 30)
DAYS = 200
START = TODAY - timedelta(days=DAYS)


def day(text: str) -> int:
    """Column of an ISO date in the simulated history."""
    return (date.fromisoformat(text) - START).days


def simulate(
    rng,
    level: float,
    *,
    spike=None,
    drop=None,
    shrink=None,
    fat_finger=None,
    negative=None,
    stockout=None,
) -> tuple[np.ndarray, np.ndarray, dict[int, int]]:
    """Daily sales and end-of-day stock that balance exactly, replenished by receipts, with
    the given anomaly planted: (column, units) or (first, last) spans."""
    demand = rng.poisson(level, DAYS).astype(float)
    if spike:
        demand[spike[0]] = spike[1]
    if drop:
        demand[drop[0] : drop[1] + 1] = rng.poisson(level * 0.15, drop[1] - drop[0] + 1)
    stock, receipts = np.zeros(DAYS), {}
    on_hand = level * 20
    sales = np.zeros(DAYS)
    for t in range(DAYS):
        blocked = stockout and stockout[0] <= t <= stockout[1]
        if on_hand < level * 8 and not blocked:
            receipts[t] = int(level * 20)
            on_hand += receipts[t]
        sales[t] = min(on_hand, demand[t])
        on_hand -= sales[t]
        if shrink and t == shrink[0]:
            on_hand -= shrink[1]
        stock[t] = on_hand
    recorded_sales, recorded_stock = sales.copy(), stock.copy()
    if fat_finger is not None:
        recorded_sales[fat_finger] *= 10
    if negative is not None:
        recorded_stock[negative] = -recorded_stock[negative]
    return recorded_sales, recorded_stock, receipts


SERIES = {  # sku: (level, anomaly)
    "SKU-001": (20, {"spike": (day("2026-11-20"), 140)}),
    "SKU-002": (15, {"negative": day("2026-11-12")}),
    "SKU-003": (12, {"fat_finger": day("2026-11-15")}),
    "SKU-004": (10, {"shrink": (day("2026-11-18"), 30)}),
    "SKU-005": (20, {"drop": (day("2026-11-06"), day("2026-11-29"))}),
    "SKU-006": (12, {"stockout": (day("2026-10-20"), day("2026-11-29"))}),  # no receipts: sells out
    "SKU-007": (18, {"spike": (day("2026-11-24"), 130)}),  # during a promotion
    "SKU-008": (16, {}),
}


def build_store() -> Store:
    rng = np.random.default_rng(5)
    store = Store(":memory:")
    con = store.con
    con.execute("INSERT INTO meta VALUES ('today', ?)", [TODAY.isoformat()])
    con.execute(
        "INSERT INTO suppliers VALUES ('SUP-001', 'Acme Parts', 'Jane Roe', 'jane@acme.test', 'DE', 7, 1, 1, 0.9)"
    )
    con.execute("INSERT INTO locations VALUES ('BER', 'Berlin DC', 'Berlin', 'dc', 52.52, 13.40)")
    sales, inventory, pos, lines = [], [], [], []
    for sku, (level, anomaly) in SERIES.items():
        con.execute(
            "INSERT INTO products VALUES (?, ?, 'Misc', 5, 10, 1, NULL, 'SUP-001', NULL)",
            [sku, f"Item {sku}"],
        )
        units, stock, receipts = simulate(rng, level, **anomaly)
        for t in range(DAYS):
            d = START + timedelta(days=t)
            sales.append((d, sku, "BER", int(units[t])))
            inventory.append((d, sku, "BER", int(stock[t]), 0))
        for t, qty in receipts.items():
            po = f"PO-{1000 + len(pos)}"
            d = START + timedelta(days=t)
            pos.append((po, "SUP-001", "BER", d - timedelta(days=7), d, "received", d))
            lines.append((po, 1, sku, qty, qty, d, 5.0))
    # supplier delays: one open 11 days late, one received 9 days late, one received on time
    late_open, late_done, on_time = "PO-9001", "PO-9002", "PO-9003"
    pos += [
        (
            late_open,
            "SUP-001",
            "BER",
            TODAY - timedelta(days=20),
            TODAY - timedelta(days=11),
            "open",
            None,
        ),
        (
            late_done,
            "SUP-001",
            "BER",
            TODAY - timedelta(days=30),
            TODAY - timedelta(days=20),
            "received",
            TODAY - timedelta(days=11),
        ),
        (
            on_time,
            "SUP-001",
            "BER",
            TODAY - timedelta(days=20),
            TODAY - timedelta(days=10),
            "received",
            TODAY - timedelta(days=10),
        ),
    ]
    # on a SKU without stock records, so the receipts do not disturb any stock balance
    con.execute(
        "INSERT INTO products VALUES ('SKU-009', 'Item SKU-009', 'Misc', 5, 10, 1, NULL, 'SUP-001', NULL)"
    )
    lines += [
        (late_open, 1, "SKU-009", 50, 0, None, 5.0),
        (late_done, 1, "SKU-009", 40, 40, TODAY - timedelta(days=11), 5.0),
        (on_time, 1, "SKU-009", 30, 30, TODAY - timedelta(days=10), 5.0),
    ]
    for table, rows in (
        ("sales", sales),
        ("inventory", inventory),
        ("purchase_orders", pos),
        ("po_lines", lines),
    ):
        frame = pd.DataFrame(rows)
        con.register("_rows", frame)
        con.execute(f"INSERT INTO {table} SELECT * FROM _rows")
        con.unregister("_rows")
    con.execute(
        "INSERT INTO promotions VALUES ('PR-00001', 'SKU-007', NULL, '2026-11-22', '2026-11-27', 30)"
    )
    return store


@pytest.fixture(scope="module")
def ctx():
    store = build_store()
    context = ToolContext(store)
    result = call_tool(context, "scan_anomalies", {})
    assert result.ok, result.error
    yield context
    store.close()


def alerts(ctx) -> pd.DataFrame:
    frame = ctx.store.query("SELECT * FROM alerts ORDER BY alert_id")
    for column in ("start_date", "end_date"):
        frame[column] = pd.to_datetime(frame[column]).dt.date
    return frame


def only(frame: pd.DataFrame, **where) -> dict:
    for column, value in where.items():
        frame = frame[frame[column] == value]
    assert len(frame) == 1, frame
    return frame.iloc[0].to_dict()


def test_injected_spike_is_found_with_its_numbers(ctx):
    spike = only(alerts(ctx), kind="demand_spike", sku="SKU-001")
    assert spike["start_date"] == spike["end_date"] == date(2026, 11, 20)
    assert spike["observed"] == 140 and spike["expected_high"] < 40
    evidence = json.loads(spike["evidence"])
    assert evidence["peak_date"] == "2026-11-20" and 15 <= evidence["median"] <= 25
    assert "2026-11-20" in evidence["series_window"]["dates"]


def test_negative_on_hand_is_a_data_error_not_shrinkage(ctx):
    frame = alerts(ctx)
    error = only(frame, kind="data_error", sku="SKU-002")
    assert error["start_date"] == date(2026, 11, 12) and error["observed"] < 0
    assert "stock cannot be negative" in error["summary"]
    assert frame[(frame.sku == "SKU-002") & (frame.kind != "data_error")].empty


def test_fat_finger_sales_are_a_data_error_not_a_spike(ctx):
    frame = alerts(ctx)
    error = only(frame, kind="data_error", sku="SKU-003")
    evidence = json.loads(error["evidence"])
    assert error["start_date"] == date(2026, 11, 15) and evidence["ratio"] == 10.0
    assert frame[(frame.sku == "SKU-003") & (frame.kind == "demand_spike")].empty


def test_shrinkage_is_found_with_units_and_value(ctx):
    loss = only(alerts(ctx), kind="shrinkage", sku="SKU-004")
    evidence = json.loads(loss["evidence"])
    assert loss["start_date"] == date(2026, 11, 18)
    assert evidence["units_lost"] == 30 and evidence["value_at_cost"] == 150.0
    assert loss["severity"] == "low"  # EUR 150 at cost is under SOP-11's EUR 500


def test_demand_drop_found_but_stockout_zeros_are_not_a_drop(ctx):
    frame = alerts(ctx)
    drop = only(frame, kind="demand_drop", sku="SKU-005")
    assert drop["end_date"] == date(2026, 11, 29) and date(2026, 11, 4) <= drop[
        "start_date"
    ] <= date(2026, 11, 8)
    assert json.loads(drop["evidence"])["drop_share"] > 0.6
    assert frame[frame.sku == "SKU-006"].empty  # sold out: censored sales, not lower demand


def test_late_pos_are_supplier_delays_with_days_late(ctx):
    frame = alerts(ctx)
    open_late = only(frame, kind="supplier_delay", po_number="PO-9001")
    assert open_late["observed"] == 11 and open_late["start_date"] == TODAY - timedelta(days=11)
    assert "11 days late" in open_late["summary"] and "still open" in open_late["summary"]
    done_late = only(frame, kind="supplier_delay", po_number="PO-9002")
    assert done_late["observed"] == 9 and done_late["end_date"] == TODAY - timedelta(days=11)
    assert frame[frame.po_number == "PO-9003"].empty


def test_no_false_alarms_on_a_quiet_series(ctx):
    frame = alerts(ctx)
    assert frame[frame.sku == "SKU-008"].empty


def test_alert_ids_are_sequential_and_most_severe_first(ctx):
    frame = alerts(ctx)
    ids = sorted(frame.alert_id, key=lambda a: int(a.split("-")[1]))
    assert ids == [f"A-{i}" for i in range(1, len(frame) + 1)]
    order = (
        frame.set_index("alert_id")
        .loc[ids]
        .severity.map(["critical", "high", "medium", "low"].index)
    )
    assert order.is_monotonic_increasing


def test_list_alerts_filters_and_renders(ctx):
    run = call_tool(ctx, "list_alerts", {"kind": "Data Error"})
    assert run.ok, run.error
    assert run.result.total == 2 and {a.sku for a in run.result.alerts} == {"SKU-002", "SKU-003"}
    text = run.render()
    assert text.startswith("2 matching open alerts") and "data_error" in text
    run = call_tool(ctx, "list_alerts", {"sku": "sku-001", "location": "berlin", "limit": 1})
    assert run.ok and len(run.result.alerts) == 1 and run.result.alerts[0].kind == "demand_spike"


def test_explain_alert_ranks_the_promotion_first_for_a_promo_spike(ctx):
    spike = only(alerts(ctx), kind="demand_spike", sku="SKU-007")
    run = call_tool(ctx, "explain_alert", {"alert_id": spike["alert_id"].lower().replace("-", " ")})
    assert run.ok, run.error
    assert run.result.causes[0].cause == "promotion" and "PR-00001" in run.result.causes[0].detail
    assert run.result.sop_query == "handling demand_spike alerts"
    text = run.render()
    assert spike["alert_id"] in text and "PR-00001" in text and "Observed 130 units sold" in text


def test_explain_data_error_names_the_pattern(ctx):
    error = only(alerts(ctx), kind="data_error", sku="SKU-003")
    run = call_tool(ctx, "explain_alert", {"alert_id": error["alert_id"]})
    assert run.ok and run.result.causes[0].cause == "data_error"
    assert "10x: an extra zero" in run.result.causes[0].detail


@pytest.mark.parametrize(
    ("name", "arguments", "argument"),
    [
        ("explain_alert", {"alert_id": "A-999"}, "alert_id"),
        ("explain_alert", {}, "alert_id"),
        ("list_alerts", {"kind": "earthquake"}, "kind"),
        ("list_alerts", {"severity": "urgent"}, "severity"),
        ("list_alerts", {"sku": "SKU-404"}, "sku"),
        ("list_alerts", {"location": "Atlantis"}, "location"),
        ("scan_anomalies", {"lookback_days": 3}, "lookback_days"),
    ],
)
def test_invalid_arguments_name_the_argument(ctx, name, arguments, argument):
    run = call_tool(ctx, name, arguments)
    assert not run.ok and argument in run.error


def test_scan_on_a_read_only_store_is_a_clear_error(sample_db):
    store = Store(sample_db.db_path, read_only=True)
    try:
        run = call_tool(ToolContext(store), "scan_anomalies", {})
        assert not run.ok and "read-only" in run.error
    finally:
        store.close()


def test_sample_data_labels_in_the_window_are_found(writable_store, sample_db):
    run = call_tool(ToolContext(writable_store), "scan_anomalies", {"lookback_days": 60})
    assert run.ok, run.error
    found = writable_store.query("SELECT * FROM alerts")
    with duckdb.connect(str(sample_db.truth_path), read_only=True) as truth:
        labels = truth.execute(
            "SELECT * FROM anomaly_labels WHERE end_date >= ?::DATE - 60", [sample_db.today]
        ).df()
    for kind in ("data_error", "shrinkage", "supplier_delay"):
        for label in labels[labels.kind == kind].itertuples():
            same = found[
                (found.kind == kind)
                & (
                    found.sku == label.sku
                    if kind != "supplier_delay"
                    else found.po_number == label.po_number
                )
            ]
            assert len(same) >= 1, (kind, label)
    spikes = labels[labels.kind == "demand_spike"]
    hits = [
        (
            (found.kind == "demand_spike")
            & (found.sku == s.sku)
            & (found.location_id == s.location_id)
        ).any()
        for s in spikes.itertuples()
    ]
    assert sum(hits) >= 1


def test_alert_kinds_and_severities_are_defined_once_and_match_the_schema():
    import re
    from pathlib import Path
    from typing import get_args

    from tools.alert_causes import AlertRow
    from tools.alert_types import KINDS, SEVERITIES, AlertKind, Severity

    schema = (Path(__file__).parents[1] / "tools" / "store" / "schema.sql").read_text()
    table = schema.split("CREATE TABLE IF NOT EXISTS alerts", 1)[1]
    for column, values in (("kind", KINDS), ("severity", SEVERITIES)):
        allowed = re.search(rf"{column} VARCHAR NOT NULL CHECK \({column} IN \(([^)]*)\)", table)[1]
        assert set(re.findall(r"'(\w+)'", allowed)) == set(values), column
    assert get_args(AlertRow.model_fields["kind"].annotation) == get_args(AlertKind)
    assert SEVERITIES[0] == "critical" and get_args(Severity) == SEVERITIES


def test_an_alert_staff_closed_leaves_the_open_list_and_the_list_says_so(writable_store):
    from tools.alert_actions import record
    from tools.registry import ToolContext, call_tool

    ctx = ToolContext(writable_store)
    assert call_tool(ctx, "scan_anomalies", {}).ok
    before = call_tool(ctx, "list_alerts", {"limit": 100}).result
    closed = before.alerts[0].alert_id
    record(writable_store, closed, "close", "Ana", note="checked with the supplier")
    after = call_tool(ctx, "list_alerts", {"limit": 100}).result
    assert after.total == before.total - 1
    assert closed not in {a.alert_id for a in after.alerts}
    assert "1 closed or snoozed by staff not shown" in after.evidence.notes
