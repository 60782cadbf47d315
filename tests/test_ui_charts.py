"""Charts built from tool results: forecast bands, projected stock vs reorder point, route map."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from tools.forecasting import ForecastDay, ForecastResult
from tools.inventory import InboundPO, LocationProjection, StockProjectionResult
from tools.registry import ToolRun
from tools.routing import RoutePlan, RouteStop, VehicleRoute
from ui.charts import chart_for_reply, forecast_figure, projection_figure, route_figure

START = date(2026, 11, 30)


def forecast_result(days: int = 14) -> ForecastResult:
    rows = [
        ForecastDay(date=START + timedelta(d), mean=5.0, lo_80=3.0, hi_80=7.0, lo_95=2.0, hi_95=8.0)
        for d in range(days)
    ]
    return ForecastResult(
        sku="SKU-00001",
        name="Basmati Rice",
        location="BER",
        locations=["BER"],
        horizon_days=days,
        start=START,
        end=START + timedelta(days - 1),
        model="ETS",
        demand_class="smooth",
        total=70,
        total_lo_80=60,
        total_hi_80=80,
        total_lo_95=55,
        total_hi_95=85,
        avg_daily=5,
        recent_avg_daily=4.8,
        imputed_stockout_days=0,
        days=rows,
    )


def test_forecast_chart_draws_history_mean_and_both_intervals():
    history = pd.DataFrame(
        {"date": [START - timedelta(d) for d in range(28, 0, -1)], "units": np.arange(28)}
    )
    fig = forecast_figure(forecast_result(), history)
    named = [t for t in fig.data if t.showlegend is not False]
    assert [t.name for t in named] == [
        "recorded sales",
        "95% interval",
        "80% interval",
        "forecast (ETS)",
    ]
    bands = [t for t in fig.data if t.fill == "tonexty"]
    assert [list(t.y[:2]) for t in bands] == [[2.0, 2.0], [3.0, 3.0]]  # the lower edges
    assert list(named[-1].y) == [5.0] * 14
    assert "SKU-00001" in fig.layout.title.text and "14 days" in fig.layout.title.text
    assert fig.layout.legend.orientation == "h"  # under the plot, never over the data


def test_projection_chart_marks_reorder_point_and_inbound_po():
    po = InboundPO(
        po_number="PO-1339",
        qty=120,
        promised_date=START + timedelta(3),
        expected_date=START + timedelta(4),
    )
    loc = LocationProjection(
        location_id="MUC",
        on_hand=40,
        inbound=[po],
        stockout_date=START + timedelta(2),
        days_of_cover=2.0,
        stockout_probability=0.9,
        safety_stock=20,
        reorder_point=55,
        end_stock=80,
    )
    days = [
        {
            "location_id": "MUC",
            "date": START + timedelta(d),
            "projected_on_hand": max(40 - 20 * d, 0),
        }
        for d in range(7)
    ]
    result = StockProjectionResult(
        sku="SKU-00018",
        name="Rice",
        horizon_days=7,
        start=START,
        end=START + timedelta(6),
        locations=[loc],
        days=days,
    )
    fig = projection_figure(result)
    names = [t.name for t in fig.data]
    assert "MUC projected on hand" in names
    assert "MUC reorder point 55" in names
    po_marker = fig.data[names.index(f"PO-1339 +120 expected {START + timedelta(4)}")]
    assert list(po_marker.text) == ["PO-1339 +120"]
    assert f"promised {START + timedelta(3)}" in po_marker.hovertemplate


def route_plan() -> RoutePlan:
    def stop(seq, order):
        return RouteStop(
            seq=seq, order_id=order, customer_id="C", arrival="09:00", window=None, weight_kg=10
        )

    routes = [
        VehicleRoute(
            vehicle=1,
            depart="08:00",
            back="12:00",
            distance_km=12.5,
            load_kg=20,
            stops=[stop(1, "O-1"), stop(2, "O-2")],
        ),
        VehicleRoute(
            vehicle=2,
            depart="08:00",
            back="11:00",
            distance_km=8.0,
            load_kg=10,
            stops=[stop(1, "O-3")],
        ),
    ]
    return RoutePlan(
        location_id="BER",
        date=START,
        solver="pyvrp",
        orders=4,
        vehicles_available=3,
        vehicles_used=2,
        capacity_kg=500,
        total_distance_km=20.5,
        total_load_kg=30,
        routes=routes,
        unserved=["O-4"],
    )


def test_route_map_draws_a_closed_path_per_vehicle_and_unserved_orders():
    coords = pd.DataFrame(
        {
            "order_id": ["O-1", "O-2", "O-3", "O-4"],
            "lat": [52.6, 52.7, 52.4, 52.3],
            "lon": [13.5, 13.6, 13.3, 13.2],
        }
    )
    depot = {"lat": 52.52, "lon": 13.405}
    fig = route_figure(route_plan(), depot, coords)
    paths = fig.data[:2]
    assert [p.name for p in paths] == [
        "Van 1: 2 stops, 12.5 km, 20 kg",
        "Van 2: 1 stops, 8 km, 10 kg",
    ]
    assert list(paths[0].x) == [13.405, 13.5, 13.6, 13.405]  # depot -> stops -> depot
    assert list(paths[1].y) == [52.52, 52.4, 52.52]
    assert list(paths[0].text) == ["", "1", "2", ""]  # numbered stops
    assert paths[0].line.color != paths[1].line.color  # one colour per van
    names = [t.name for t in fig.data]
    assert "unserved (1)" in names and "depot BER" in names
    assert fig.layout.xaxis.visible is False  # a plan view without a basemap
    assert fig.layout.yaxis.rangemode == "normal"  # around the stops, not from latitude 0


def test_reply_chart_comes_from_the_last_charted_tool(store):
    from assistant.agent import AssistantReply
    from tools.registry import ToolContext, call_tool

    run = call_tool(
        ToolContext(store=store), "forecast_demand", {"sku": "SKU-00001", "horizon_days": 7}
    )
    assert run.ok, run.error
    other = ToolRun("stockout_risk", {}, None, "not charted", 0.0)
    fig = chart_for_reply(AssistantReply(text="", raw_text="", tool_runs=[run, other]), store)
    assert isinstance(fig, go.Figure)
    history = fig.data[0]
    assert history.name == "recorded sales" and len(history.x) == 56
    assert chart_for_reply(AssistantReply(text="", raw_text="", tool_runs=[other]), store) is None


def test_route_view_draws_on_tiles_only_when_a_tile_url_is_configured(monkeypatch):
    coords = pd.DataFrame(
        {"order_id": ["O-1", "O-2", "O-3", "O-4"], "lat": [52.6, 52.7, 52.4, 52.3],
         "lon": [13.5, 13.6, 13.3, 13.2]}
    )  # fmt: skip
    depot = {"lat": 52.52, "lon": 13.405}
    assert route_figure(route_plan(), depot, coords).data[0].type == "scatter"  # nothing fetched
    monkeypatch.setenv("STOCKPILOT_TILE_URL", "http://tiles.internal/{z}/{x}/{y}.png")
    fig = route_figure(route_plan(), depot, coords)
    assert fig.data[0].type == "scattermap" and list(fig.data[0].lon)[:2] == [13.405, 13.5]
    assert fig.layout.map.layers[0].source == ("http://tiles.internal/{z}/{x}/{y}.png",)
