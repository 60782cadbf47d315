"""Buy list, what-if, sales history and the briefing on the simulated sample data, checked
against the supply engine run by hand, plain DuckDB SQL and the individual tools."""

from __future__ import annotations

import json
import shutil
from datetime import timedelta

import numpy as np
import pandas as pd
import pytest

from tools.anomalies import ScanRequest, scan_anomalies
from tools.briefing import BriefingRequest, briefing
from tools.forecasting import RunForecastsRequest, run_forecasts
from tools.history import HistoryRequest, history_query
from tools.inventory import ReorderRequest, StockoutRiskRequest, reorder_plan, stockout_risk
from tools.registry import ToolContext, call_tool
from tools.store import Store
from tools.suppliers import SupplierOrdersRequest, supplier_orders
from tools.supply import REVIEW_PERIOD_DAYS, load_outlook, project
from tools.whatif import Scenario, apply, run_scenario


@pytest.fixture(scope="module")
def planned(sample_db, tmp_path_factory):
    """A private copy of the sample data with stored forecasts and a fresh alert scan."""
    path = tmp_path_factory.mktemp("planner") / "stockpilot.duckdb"
    shutil.copyfile(sample_db.db_path, path)
    store = Store(path)
    ctx = ToolContext(store)
    run_forecasts(ctx, RunForecastsRequest(horizon_days=42), progress=False)
    scan_anomalies(ctx, ScanRequest())
    yield ctx
    store.close()


def run(ctx, name, **arguments):
    result = call_tool(ctx, name, arguments)
    assert result.ok, result.error
    return result.result


# -- what-if --------------------------------------------------------------------------------
def _open_pos(store: Store) -> pd.DataFrame:
    return store.query(
        "SELECT po_number, supplier_id, promised_date FROM purchase_orders "
        "WHERE status = 'open' ORDER BY po_number"
    )


@pytest.mark.parametrize("days", [3, 10])
def test_a_slip_is_exactly_the_projection_with_the_po_dates_moved(planned, tmp_path, days):
    store = planned.store
    pos = _open_pos(store)
    assert len(pos) >= 3
    changed = 0
    for po in pos.po_number[:4]:
        scenario = Scenario(po_number=po, slip_days=days)
        base, after, changes, o = run_scenario(store, scenario, 28)
        # the same data with the PO's promise moved in the database, projected from scratch
        copy = tmp_path / f"{po}-{days}.duckdb"
        store.con.execute("CHECKPOINT")
        shutil.copyfile(store.path, copy)
        moved = Store(copy)
        moved.con.execute(
            "UPDATE purchase_orders SET promised_date = promised_date + ?::INTEGER WHERE po_number = ?",
            [days, po],
        )
        truth = project(load_outlook(moved, o.keys, 28)).summary
        moved.close()
        for column in ("probability", "units_short", "days_of_cover", "need"):
            np.testing.assert_allclose(after[column], truth[column], atol=1e-9, err_msg=po)
        assert after["stockout_date"].tolist() == truth["stockout_date"].tolist()
        changed += bool(changes)
    assert changed >= 1  # slips do change something: the test could fail


def test_cancel_and_slip_change_only_the_arrival_inputs(planned):
    store = planned.store
    po = _open_pos(store).po_number.iloc[0]
    base, after, changes, o = run_scenario(store, Scenario(po_number=po, cancel=True), 28)
    edited = apply(o, Scenario(po_number=po, cancel=True))
    assert po not in set(edited.inbound.po_number) and po in set(o.inbound.po_number)
    np.testing.assert_array_equal(edited.demand, o.demand)
    assert (after["units_short"] >= base["units_short"] - 1e-9).all()  # losing supply never helps


def test_demand_change_and_stock_loss_scale_the_engine_inputs(planned):
    store = planned.store
    loc = store.locations().location_id.iloc[0]
    s = Scenario(demand_factor=2.0, location_id=loc)
    base, after, changes, o = run_scenario(store, s, 14)
    assert (o.keys.location_id == loc).all()
    edited = apply(o, s)
    np.testing.assert_allclose(edited.demand, 2 * o.demand)
    np.testing.assert_allclose(edited.variance, 4 * o.variance)
    assert after["units_short"].sum() > base["units_short"].sum()
    week = apply(o, Scenario(demand_factor=1.5, location_id=loc, window_days=7))
    np.testing.assert_allclose(week.demand[:, :7], 1.5 * o.demand[:, :7])
    np.testing.assert_array_equal(week.demand[:, 7:], o.demand[:, 7:])
    result = run(planned, "what_if", location=loc, stock_loss_pct=100, horizon_days=14)
    assert result.units_short_after > result.units_short_before
    assert all(
        c.stockout_after == result.start for c in result.changes if c.change == "new stock-out"
    )
    assert result.summary().startswith(f"If {loc} loses 100% of stock")


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({}, "give at least one change"),
        ({"slip_days": 5}, "po_number, supplier: a slip"),
        ({"po_number": "PO-9999", "slip_days": 5}, "po_number"),
        ({"stock_loss_pct": 20}, "location: a stock loss"),
        ({"demand_change_pct": 5000}, "demand_change_pct"),
        ({"supplier": "nobody", "cancel": True}, "supplier"),
        ({"demand_change_pct": 20, "window_days": 0}, "window_days"),
        ({"window_days": 7}, "demand_change_pct: window_days"),
    ],
)
def test_what_if_refuses_incomplete_scenarios_by_argument(planned, arguments, message):
    result = call_tool(planned, "what_if", arguments)
    assert not result.ok and message in result.error


# -- buy list -------------------------------------------------------------------------------
def test_buy_list_quantities_keep_every_flagged_series_above_its_reorder_point(planned):
    store = planned.store
    result = reorder_plan(planned, ReorderRequest())
    assert result.lines and not result.placed
    keys = pd.DataFrame(
        {
            "sku": [ln.sku for ln in result.lines],
            "location_id": [ln.location_id for ln in result.lines],
        }
    )
    o = load_outlook(store, keys, REVIEW_PERIOD_DAYS)  # the engine again, independently
    cum = np.cumsum(o.demand, axis=1)
    products = store.products().set_index("sku")
    for i, ln in enumerate(result.lines):
        position = ln.on_hand + ln.on_order
        assert position == pytest.approx(o.on_hand[i] + o.inbound[o.inbound.series == i].qty.sum())
        # without the order the position reaches the reorder point within the review period...
        assert (position - np.concatenate([[0], cum[i, :-1]]) <= ln.reorder_point + 0.05).any()
        # ...with it, it stays above the reorder point every day of the review period
        assert (position + ln.qty - cum[i] > ln.reorder_point - 0.05).all(), ln.sku
        pack = int(products.loc[ln.sku, "case_pack"])
        assert ln.qty % pack == 0 and ln.qty >= ln.moq
        assert ln.value == pytest.approx(ln.qty * products.loc[ln.sku, "unit_cost"], abs=0.01)
        assert ln.order_by - result.today < timedelta(days=REVIEW_PERIOD_DAYS)
    by_po = {(o.supplier_id, o.location_id): o for o in result.orders}
    assert sum(o.lines for o in result.orders) == len(result.lines)
    assert sum(o.value for o in result.orders) == pytest.approx(result.total_value, abs=0.05)
    assert all((ln.supplier_id, ln.location_id) in by_po for ln in result.lines)


def test_buy_list_not_on_it_means_above_the_reorder_point_all_week(planned):
    store = planned.store
    loc = store.locations().location_id.iloc[1]
    result = reorder_plan(planned, ReorderRequest(location=loc))
    listed = {ln.sku for ln in result.lines}
    assert all(ln.location_id == loc for ln in result.lines) and result.scanned > len(listed)
    plans = {
        sku: reorder_plan(planned, ReorderRequest(sku=sku, location=loc)).plans[0]
        for sku in store.series_keys(location_id=loc).sku[:12]
    }
    for sku, plan in plans.items():
        if plan.order_now:  # at or below the reorder point today: on the list
            assert sku in listed, sku


def test_buy_list_for_a_supplier_and_its_summary(planned):
    supplier = planned.store.suppliers().iloc[0]
    result = run(planned, "reorder_plan", supplier=supplier["name"])
    assert all(ln.supplier_id == supplier["supplier_id"] for ln in result.lines)
    text = result.summary()
    assert text.startswith(f"Buy list {result.today} ({supplier['supplier_id']})")
    assert "Nothing has been ordered" in text or "nothing to order" in text


# -- sales history vs plain SQL ----------------------------------------------------------------
def _sql(store: Store, sql: str, params=()) -> pd.DataFrame:
    return store.con.execute(sql, list(params)).df()


def test_units_sold_last_week_by_sku_equals_sql(planned):
    store = planned.store
    today = store.today()
    monday = today - timedelta(days=today.weekday())
    start, end = monday - timedelta(days=7), monday - timedelta(days=1)
    result = history_query(
        store, HistoryRequest(metric="units sold", period="last week", group_by="sku", limit=5)
    )
    expected = _sql(
        store,
        "SELECT sku, sum(units) AS v FROM sales WHERE date BETWEEN ? AND ? GROUP BY sku ORDER BY v DESC, sku LIMIT 5",
        [start, end],
    )
    assert (result.start, result.end) == (start, end)
    assert [r.key for r in result.rows] == expected.sku.tolist()
    assert [r.value for r in result.rows] == expected.v.astype(float).tolist()
    total = _sql(
        store, "SELECT sum(units) FROM sales WHERE date BETWEEN ? AND ?", [start, end]
    ).iloc[0, 0]
    assert result.total == pytest.approx(float(total))


def test_revenue_stock_value_and_stockout_days_equal_sql(planned):
    store = planned.store
    loc = store.locations().iloc[1]
    cat = store.categories()[0]
    rev = history_query(store, HistoryRequest(metric="revenue", period="2026-11", category=cat))
    expected = _sql(
        store,
        "SELECT sum(s.units * p.price) FROM sales s JOIN products p USING (sku) "
        "WHERE p.category = ? AND s.date BETWEEN '2026-11-01' AND '2026-11-30'",
        [cat],
    ).iloc[0, 0]
    assert rev.total == pytest.approx(float(expected), abs=0.01)
    value = history_query(store, HistoryRequest(metric="stock value", location=loc["city"]))
    last = store.today() - timedelta(days=1)
    expected = _sql(
        store,
        "SELECT sum(i.on_hand * p.unit_cost) FROM inventory i JOIN products p USING (sku) "
        "WHERE i.location_id = ? AND i.date = ?",
        [loc["location_id"], last],
    ).iloc[0, 0]
    assert (value.start, value.end) == (last, last) and value.total == pytest.approx(
        float(expected), abs=0.01
    )
    outs = history_query(
        store, HistoryRequest(metric="stockout_days", period="last month", group_by="location")
    )
    expected = (
        _sql(
            store,
            "SELECT location_id, count(*) AS n FROM inventory WHERE on_hand <= 0 AND date BETWEEN '2026-10-01' "
            "AND '2026-10-31' GROUP BY 1",
        )
        .set_index("location_id")
        .n
    )
    assert {r.key: r.value for r in outs.rows} == {k: float(v) for k, v in expected.items()}


def test_lost_sales_equal_a_hand_written_query(planned):
    store = planned.store
    result = history_query(
        store, HistoryRequest(metric="lost_sales", period="last month", group_by="sku", limit=100)
    )
    # rate: mean sales on in-stock days from 28 days before the period to its end
    expected = (
        _sql(
            store,
            """
        WITH days AS (
            SELECT i.date, i.sku, i.location_id, i.on_hand, coalesce(s.units, 0) AS units
            FROM inventory i LEFT JOIN sales s USING (date, sku, location_id)
            WHERE i.date BETWEEN DATE '2026-09-03' AND DATE '2026-10-31'),
        rate AS (SELECT sku, location_id, avg(units) AS r FROM days WHERE on_hand > 0 GROUP BY ALL)
        SELECT d.sku, sum(greatest(coalesce(rate.r, 0) - d.units, 0)) AS lost
        FROM days d LEFT JOIN rate USING (sku, location_id)
        WHERE d.on_hand <= 0 AND d.date >= DATE '2026-10-01' GROUP BY 1
        """,
        )
        .set_index("sku")
        .lost
    )
    got = {r.key: r.value for r in result.rows}
    assert set(got) == set(expected.index) and len(got) > 3
    for sku, lost in expected.items():
        assert got[sku] == pytest.approx(float(lost), abs=0.01)


def test_a_period_without_data_says_so_and_names_the_covered_range(planned):
    result = run(planned, "sales_history", period="in 1987")
    first, last = planned.store.con.execute("SELECT min(date), max(date) FROM inventory").fetchone()
    assert result.no_data and (result.start.year, result.end.year) == (1987, 1987)
    assert result.summary() == (
        f"No sales or stock data for 1987 (1987-01-01..1987-12-31): the data covers {first}..{last}."
    )
    bad = call_tool(planned, "sales_history", {"period": "blue moon"})
    assert not bad.ok and bad.error.startswith("period: cannot read 'blue moon'")


# -- briefing ----------------------------------------------------------------------------------
def test_briefing_lists_exactly_what_the_tools_list(planned):
    result = briefing(planned, BriefingRequest())
    risk = stockout_risk(planned, StockoutRiskRequest(horizon_days=7, limit=100))
    assert [(s.sku, s.location_id, s.stockout_date) for s in result.stockouts] == [
        (i.sku, i.location_id, i.stockout_date) for i in risk.items if i.stockout_date
    ]
    late = supplier_orders(planned, SupplierOrdersRequest(status="late")).orders
    assert [o.po_number for o in result.late_pos] == [o.po_number for o in late]
    alerts = planned.store.alerts(status="open")
    recent = result.today - timedelta(days=3)
    expected = set(
        alerts[
            (alerts.severity == "critical") | (pd.to_datetime(alerts.start_date).dt.date >= recent)
        ].alert_id
    )
    assert {a.alert_id for a in result.alerts} == expected
    assert result.as_of == result.today - timedelta(days=1)
    assert result.summary().startswith(
        f"Briefing for {result.today} (data as of {result.as_of}): {len(result.stockouts)} stock-outs"
    )
    table = result.table()
    assert set(table.section) >= {"stock-out", "late PO"} and len(table) >= len(
        result.stockouts
    ) + len(late)


def test_the_home_screen_suggests_a_buy_list_question_that_names_a_site(planned):
    from ui.home import briefing_markdown

    result = briefing(planned, BriefingRequest())
    assert result.buy_lines > 0
    site = [*result.stockouts, *result.late_pos][0].location_id
    # a bare "what should I order?" is refused by the shipped model; naming a site is answered
    assert f"ask _what should we order at {site}?_ in the chat" in briefing_markdown(result)


def test_every_new_tool_runs_from_the_registry_and_summarises(planned):
    cases = {
        "reorder_plan": {},
        "what_if": {"supplier": planned.store.suppliers().supplier_id.iloc[0], "slip_days": 7},
        "sales_history": {"metric": "revenue", "group_by": "category"},
        "briefing": {},
        "draft_supplier_email": {},
    }
    for name, arguments in cases.items():
        result = run(planned, name, **arguments)
        assert result.summary() and result.render(), name
        assert result.table() is not None, name


def test_numbers_on_one_row_never_contradict(planned):
    risk = stockout_risk(planned, StockoutRiskRequest(horizon_days=28, limit=100))
    for it in risk.items:
        if it.stockout_date is not None:  # the cover runs out during the stock-out day
            day = (it.stockout_date - risk.start).days
            assert day - 0.05 <= it.days_of_cover <= day + 1.05, it
        else:
            assert it.days_of_cover >= 28, it
        assert not it.action.startswith("order 0")


def test_a_sku_with_someone_elses_supplier_is_named_not_ignored(planned):
    product = planned.store.products().iloc[0]
    other = planned.store.suppliers().query("supplier_id != @product.supplier_id").iloc[0]
    result = call_tool(
        planned, "reorder_plan", {"sku": product["sku"], "supplier": other["supplier_id"]}
    )
    assert not result.ok
    assert result.error == (
        f"supplier: {product['sku']} is bought from {product['supplier_id']}, not '{other['supplier_id']}'"
    )


def test_alerts_orders_and_drafts_quote_the_same_stock_out_dates(planned):
    """One engine: a late PO's alert, its row in supplier_orders and its e-mail draft agree."""
    store = planned.store
    alerts = store.alerts(status="open", kind="supplier_delay")
    orders = {
        o.po_number: o
        for o in supplier_orders(planned, SupplierOrdersRequest(status="open")).orders
    }
    checked = 0
    for record in alerts.to_dict("records"):
        facts = json.loads(record["evidence"])
        order = orders.get(record["po_number"])
        if order is None or "stock_impact" not in facts:
            continue
        by_sku = {ln.sku: ln for ln in order.lines}
        for impact in facts["stock_impact"]:
            line = by_sku[impact["sku"]]
            assert impact["stockout_date"] == (
                line.stockout_date.isoformat() if line.stockout_date else None
            )
            checked += 1
        email = run(planned, "draft_supplier_email", po_number=record["po_number"])
        for ln in order.lines:
            if ln.stockout_date is not None and ln.qty_outstanding > 0:
                assert f"projected stock-out {ln.stockout_date.isoformat()}" in email.body
        soonest = order.earliest_stockout()
        days = None if soonest is None else (soonest - store.today()).days
        expected = (
            "critical"
            if days is not None and days <= 3
            else "high"
            if days is not None and days <= 7
            else "medium"
        )
        assert record["severity"] == expected, record["alert_id"]
    assert checked >= 1


def test_a_grouped_summary_counts_its_groups_in_words(planned):
    store = planned.store
    by_category = history_query(
        store, HistoryRequest(metric="revenue", period="last month", group_by="category")
    )
    count = len(store.categories())
    assert count > 5 and by_category.groups == count
    assert f"({count} categories in all)" in by_category.summary()
    by_sku = history_query(
        store, HistoryRequest(metric="revenue", period="last month", group_by="sku")
    )
    assert f"({by_sku.groups} skus in all)" in by_sku.summary()
