"""Inventory projection, stock-out risk and reorder maths on a tiny hand-built store whose
answers can be worked out on paper."""

from __future__ import annotations

import math
from datetime import date, timedelta

import pandas as pd
import pytest

from tools.forecasting import Z
from tools.inventory import (
    ReorderRequest,
    StockoutRiskRequest,
    StockProjectionRequest,
    project_stock,
    reorder_plan,
    reorder_policy,
    stock_outlook,
    stock_projection,
    stockout_risk,
)
from tools.registry import ToolContext, call_tool
from tools.store import Store
from tools.store.db import UnknownEntityError

TODAY = date(2026, 3, 2)
SIGMA = 3.0  # daily forecast sd written into the forecasts table


def _insert(store: Store, table: str, frame: pd.DataFrame) -> None:
    store.con.register("_rows", frame)
    cols = ", ".join(frame.columns)
    store.con.execute(f"INSERT INTO {table} ({cols}) SELECT {cols} FROM _rows")
    store.con.unregister("_rows")


def tiny_store(
    on_hand: int = 55,
    lateness: tuple[int, ...] = (2, 4),
    open_po: int | None = 40,
    ham_on_hand: int = 10,
    promised_in: int = 3,
) -> Store:
    """SKU-1 sells 10 a day at BER (and 1 a day at HAM); forecasts are stored: 10/day, sd 3.

    Supplier SUP-1 promises 10 +- 2 days, MOQ 50; SKU-1 comes in cases of 12. Received POs
    were late by ``lateness`` days; an open PO of ``open_po`` units is promised for today + 3.
    """
    store = Store(":memory:")
    _insert(store, "meta", pd.DataFrame({"key": ["today"], "value": [TODAY.isoformat()]}))
    _insert(
        store,
        "suppliers",
        pd.DataFrame(
            [
                {
                    "supplier_id": "SUP-1",
                    "name": "Acme Kitchenware GmbH",
                    "contact_email": "a@acme.de",
                    "lead_time_mean_days": 10.0,
                    "lead_time_sd_days": 2.0,
                    "moq": 50,
                    "on_time_rate": 0.8,
                }
            ]
        ),
    )
    _insert(
        store,
        "locations",
        pd.DataFrame(
            [
                {
                    "location_id": "BER",
                    "name": "Berlin DC",
                    "city": "Berlin",
                    "kind": "dc",
                    "lat": 52.5,
                    "lon": 13.4,
                },
                {
                    "location_id": "HAM",
                    "name": "Hamburg DC",
                    "city": "Hamburg",
                    "kind": "dc",
                    "lat": 53.5,
                    "lon": 10.0,
                },
            ]
        ),
    )
    _insert(
        store,
        "products",
        pd.DataFrame(
            [
                {
                    "sku": "SKU-1",
                    "name": "Chef Frying Pan",
                    "category": "Kitchen",
                    "unit_cost": 10.0,
                    "price": 30.0,
                    "case_pack": 12,
                    "supplier_id": "SUP-1",
                }
            ]
        ),
    )
    days = pd.date_range(TODAY - timedelta(days=60), periods=60).date
    rows = []
    for loc, rate, stock_now in (("BER", 10, on_hand), ("HAM", 1, ham_on_hand)):
        rows += [
            {
                "date": d,
                "sku": "SKU-1",
                "location_id": loc,
                "units": rate,
                "on_hand": stock_now if d == days[-1] else 200,
            }
            for d in days
        ]
    hist = pd.DataFrame(rows)
    _insert(store, "sales", hist[["date", "sku", "location_id", "units"]])
    _insert(store, "inventory", hist[["date", "sku", "location_id", "on_hand"]])
    pos, lines = [], []
    for i, late in enumerate(lateness):
        ordered = TODAY - timedelta(days=50 + 10 * i)
        promised = ordered + timedelta(days=10)
        received = promised + timedelta(days=late)
        pos.append(
            {
                "po_number": f"PO-{100 + i}",
                "supplier_id": "SUP-1",
                "location_id": "BER",
                "order_date": ordered,
                "promised_date": promised,
                "status": "received",
                "received_date": received,
            }
        )
        lines.append(
            {
                "po_number": f"PO-{100 + i}",
                "line_no": 1,
                "sku": "SKU-1",
                "qty_ordered": 120,
                "qty_received": 120,
                "received_date": received,
            }
        )
    if open_po:
        pos.append(
            {
                "po_number": "PO-200",
                "supplier_id": "SUP-1",
                "location_id": "BER",
                "order_date": TODAY - timedelta(days=7),
                "promised_date": TODAY + timedelta(days=promised_in),
                "status": "open",
                "received_date": None,
            }
        )
        lines.append(
            {
                "po_number": "PO-200",
                "line_no": 1,
                "sku": "SKU-1",
                "qty_ordered": open_po,
                "qty_received": 0,
                "received_date": None,
            }
        )
    if pos:
        _insert(store, "purchase_orders", pd.DataFrame(pos))
        _insert(store, "po_lines", pd.DataFrame(lines))
    fc = []
    for loc, rate in (("BER", 10.0), ("HAM", 1.0)):
        for d in pd.date_range(TODAY, periods=28).date:
            sigma = SIGMA if loc == "BER" else 1.0
            fc.append(
                {
                    "sku": "SKU-1",
                    "location_id": loc,
                    "date": d,
                    "model": "ETS",
                    "demand_class": "smooth",
                    "mean": rate,
                    "lo_80": max(rate - Z[80] * sigma, 0),
                    "hi_80": rate + Z[80] * sigma,
                    "lo_95": max(rate - Z[95] * sigma, 0),
                    "hi_95": rate + Z[95] * sigma,
                    "run_at": pd.Timestamp("2026-03-01 06:00"),
                }
            )
    store.replace_table("forecasts", pd.DataFrame(fc))
    return store


@pytest.fixture
def ctx() -> ToolContext:
    return ToolContext(tiny_store())


def test_projection_crosses_zero_on_the_hand_computed_day():
    # 55 on hand, 10 a day: 45, 35, 25, 15, 5, then -5 on day 5; the PO lands a day later
    store = tiny_store()
    days = project_stock(store, "SKU-1", "BER", 10)
    assert days["projected_on_hand"].tolist()[:7] == [45, 35, 25, 15, 5, 0, 30]
    outlook = stock_outlook(store, "SKU-1", "BER", 7)
    assert outlook.stockout_date == TODAY + timedelta(days=5)
    assert outlook.days_of_cover == 5.5
    assert outlook.on_hand == 55


def test_open_po_is_expected_at_promise_plus_supplier_mean_lateness():
    # past POs were 2 and 4 days late: the open PO promised for day 3 is expected on day 6
    days = project_stock(tiny_store(lateness=(2, 4)), "SKU-1", "BER", 10)
    assert days["inbound"].tolist()[:8] == [0, 0, 0, 0, 0, 0, 40, 0]
    on_time = project_stock(tiny_store(lateness=(0, 0)), "SKU-1", "BER", 10)
    assert on_time["inbound"].tolist()[3] == 40
    # arriving on the promise (day 3) it bridges the gap: no stock-out in the first 8 days
    assert (on_time["projected_on_hand"].iloc[:8] > 0).all()


def test_po_later_than_any_past_po_is_spread_over_the_next_two_weeks():
    # promised 5 days ago, and this supplier was never more than 4 days late
    days = project_stock(tiny_store(lateness=(2, 4), promised_in=-5), "SKU-1", "BER", 10)
    assert days["inbound"].tolist()[7] == 40


def test_lead_time_comes_from_received_pos_once_there_are_five():
    # six POs each received one day after a 10-day promise: 11 days, no spread
    plan = reorder_plan(
        ToolContext(tiny_store(lateness=(1,) * 6)), ReorderRequest(sku="SKU-1", location="BER")
    )
    assert (plan.plans[0].lead_time_days, plan.plans[0].lead_time_sd) == (11.0, 0.0)
    assert plan.plans[0].lead_time_source == "received PO lines (6)"
    assert plan.plans[0].safety_stock == pytest.approx(
        1.6448536 * math.sqrt(11 * SIGMA**2), abs=0.05
    )


def test_stockout_probability_matches_gamma_of_cumulative_demand_without_pos():
    from scipy import stats

    store = tiny_store(open_po=None)
    outlook = stock_outlook(store, "SKU-1", "BER", 7)
    mean, var = 70.0, 7 * SIGMA**2
    expected = stats.gamma.sf(55 - 0.5, a=mean**2 / var, scale=var / mean)
    assert outlook.stockout_probability == pytest.approx(expected, abs=1e-3)
    assert outlook.stockout_probability > 0.95


def test_late_po_uncertainty_lowers_but_does_not_remove_risk():
    # 50% of past POs came on day 5 (in time), 50% on day 7 (too late)
    risky = stock_outlook(tiny_store(lateness=(2, 4)), "SKU-1", "BER", 7).stockout_probability
    safe = stock_outlook(tiny_store(lateness=(0, 0)), "SKU-1", "BER", 7).stockout_probability
    none = stock_outlook(tiny_store(open_po=None), "SKU-1", "BER", 7).stockout_probability
    assert safe < 0.05 < risky < none


def test_safety_stock_and_reorder_point_match_hand_computation(ctx):
    plan = reorder_plan(ctx, ReorderRequest(sku="sku-1", location="Berlin DC")).plans[0]
    z = 1.6448536
    ss = z * math.sqrt(10 * SIGMA**2 + 10**2 * 2.0**2)  # L = 10 +- 2 (master data: 2 POs < 5)
    assert plan.safety_stock == pytest.approx(ss, abs=0.05)  # 36.4
    assert plan.reorder_point == pytest.approx(10 * 10 + ss, abs=0.05)  # 136.4
    assert plan.order_up_to == pytest.approx(10 * 17 + ss, abs=0.05)  # 206.4
    # position 55 + 40 on order = 95 <= ROP: order 206.4 - 95 = 111.4 -> 10 cases of 12
    assert (plan.position, plan.order_now, plan.order_qty) == (95, True, 120)
    assert plan.expected_arrival == TODAY + timedelta(days=10)


def test_order_quantity_rounds_up_to_case_pack_and_moq():
    small = reorder_policy(
        d=1.0, sigma_d=0.0, lead=10, lead_sd=0, z=1.65, position=10, case_pack=12, moq=50
    )
    assert small["order_now"] and small["order_qty"] == 60  # needs 7, MOQ 50 -> 5 cases
    big = reorder_policy(
        d=10.0, sigma_d=0.0, lead=10, lead_sd=0, z=1.65, position=0, case_pack=12, moq=50
    )
    assert big["order_qty"] == 180  # needs 170 -> 15 cases
    idle = reorder_policy(
        d=1.0, sigma_d=0.0, lead=10, lead_sd=0, z=1.65, position=11, case_pack=12, moq=50
    )
    assert not idle["order_now"] and idle["order_qty"] == 0


def test_stockout_risk_ranks_and_recommends_expediting_the_late_po(ctx):
    result = stockout_risk(ctx, StockoutRiskRequest(horizon_days=7))
    top = result.items[0]
    assert (top.sku, top.location_id, top.stockout_date) == (
        "SKU-1",
        "BER",
        TODAY + timedelta(days=5),
    )
    assert top.action.startswith("expedite PO-200")
    assert top.inbound[0].expected_date == TODAY + timedelta(days=6)
    assert "SKU-1 BER 49% out 2026-03-07: expedite PO-200 (due 2026-03-08)" in result.render()
    assert list(result.table().columns)[:4] == ["sku", "name", "location_id", "probability"]


def test_stockout_risk_suggests_transfer_when_another_location_has_surplus():
    store = tiny_store(open_po=None, ham_on_hand=400)
    item = stockout_risk(ToolContext(store), StockoutRiskRequest(location="BER")).items[0]
    assert item.action.startswith("transfer") and item.action.endswith("from HAM")


def test_stockout_risk_reads_a_category_given_as_location_as_the_category(ctx):
    category = ctx.store.categories()[0]
    mixed = stockout_risk(ctx, StockoutRiskRequest(location=category.lower()))
    assert (mixed.location, mixed.category) == (None, category)
    assert f"'{category}' is a category, not a location" in mixed.evidence.notes[0]
    swapped = stockout_risk(ctx, StockoutRiskRequest(category="berlin"))
    assert (swapped.location, swapped.category) == ("BER", None)
    with pytest.raises(UnknownEntityError, match="location: unknown location 'Atlantis'"):
        stockout_risk(ctx, StockoutRiskRequest(location="Atlantis"))


def test_stock_projection_without_location_reports_each_location(ctx):
    result = stock_projection(ctx, StockProjectionRequest(sku="SKU-1", horizon_days=14))
    assert [loc.location_id for loc in result.locations] == ["BER", "HAM"]
    assert len(result.table()) == 28
    assert "BER: on hand 55" in result.render() and "HAM: on hand 10" in result.render()


@pytest.mark.parametrize(
    ("name", "arguments", "message"),
    [
        ("stock_projection", {"sku": "SKU-9"}, "sku: unknown sku 'SKU-9'"),
        (
            "stock_projection",
            {"sku": "SKU-1", "location": "Paris"},
            "location: unknown location 'Paris'",
        ),
        ("stock_projection", {"sku": "SKU-1", "horizon_days": 0}, "horizon_days"),
        ("stockout_risk", {"horizon_days": 100}, "horizon_days"),
        ("stockout_risk", {"category": "Garden"}, "category: unknown category 'Garden'"),
        ("reorder_plan", {"sku": "SKU-1", "service_level": 1.5}, "service_level"),
        ("reorder_plan", {"sku": "SKU-1", "category": "Garden"}, "category: unknown category"),
        ("reorder_plan", {"location": "Paris"}, "location: unknown location 'Paris'"),
    ],
)
def test_invalid_arguments_name_the_argument(ctx, name, arguments, message):
    run = call_tool(ctx, name, arguments)
    assert not run.ok and message in run.error


def test_sample_data_forecast_and_risk_agree_with_the_hidden_future(sample_db, writable_store):
    """On simulated data: the batch forecast's total is close to true demand, and P(stock-out)
    ranks the series that really run out within 7 days above those that do not."""
    import duckdb

    from tools.forecasting import RunForecastsRequest, run_forecasts
    from tools.inventory import load_outlook, project

    ctx = ToolContext(writable_store)
    run = run_forecasts(ctx, RunForecastsRequest(horizon_days=28), progress=False)
    keys = writable_store.series_keys()
    assert run.series == len(keys) and run.rows == 28 * len(keys)
    today = writable_store.today()
    with duckdb.connect(str(sample_db.truth_path), read_only=True) as truth:
        demand = truth.execute(
            "SELECT sum(demand) FROM true_demand WHERE date >= ?", [today]
        ).fetchone()[0]
        out = truth.execute(
            "SELECT sku, location_id, bool_or(on_hand = 0) AS out FROM future_inventory "
            "WHERE date < ? GROUP BY ALL",
            [today + timedelta(days=7)],
        ).df()
    assert writable_store.forecasts()["mean"].sum() == pytest.approx(demand, rel=0.15)

    summary = project(load_outlook(writable_store, keys, 7)).summary.merge(
        out, on=["sku", "location_id"]
    )
    pos, neg = (
        summary.loc[summary["out"], "probability"],
        summary.loc[~summary["out"], "probability"],
    )
    auc = (pos.to_numpy()[:, None] > neg.to_numpy()[None, :]).mean()
    assert len(pos) >= 2 and auc >= 0.8

    risk = stockout_risk(ctx, StockoutRiskRequest(horizon_days=7, limit=5))
    probabilities = [item.probability for item in risk.items]
    assert probabilities == sorted(probabilities, reverse=True)
    assert probabilities[0] == pytest.approx(summary["probability"].max(), abs=0.005)


def test_no_stock_means_no_cover_and_never_an_order_of_zero():
    # nothing on the shelf and the open PO lands on day 6: out today, zero days of cover
    store = tiny_store(on_hand=0)
    outlook = stock_outlook(store, "SKU-1", "BER", 14)
    assert (outlook.on_hand, outlook.days_of_cover, outlook.stockout_date) == (0, 0.0, TODAY)
    risk = stockout_risk(ToolContext(store), StockoutRiskRequest(horizon_days=14))
    top = risk.items[0]
    assert (top.on_hand, top.days_of_cover) == (0, 0.0)
    assert all(not it.action.startswith("order 0") for it in risk.items)
    assert risk.summary().startswith("2 of 2 series are at 50%+ risk")  # HAM: 10 left, 1 a day


def test_buy_list_on_the_hand_built_store_matches_the_reorder_plan(ctx):
    from tools.buylist import BuyListResult

    plan = reorder_plan(ctx, ReorderRequest(sku="SKU-1", location="BER")).plans[0]
    result = reorder_plan(ctx, ReorderRequest(location="BER"))
    assert isinstance(result, BuyListResult) and len(result.lines) == 1
    line = result.lines[0]
    # position 95 <= ROP 136.4 today; up to 206.4 needs 111.4 -> 10 cases of 12
    assert (line.order_by, line.qty, line.reorder_point) == (
        TODAY,
        plan.order_qty,
        plan.reorder_point,
    )
    assert line.value == 120 * 10.0 and result.orders[0].supplier_id == "SUP-1"
    assert "Nothing has been ordered" in result.summary()
