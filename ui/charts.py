"""Charts a planner reads faster than a table: forecast with intervals, projected stock against
the reorder point, and a route view. Built from tool results (plus a little history or
coordinates from the store) as interactive Plotly figures for ``gr.Plot``: values on hover,
legends under the plot so they never cover the data.

The route view has no basemap by default (nothing may be fetched): depot, numbered stops, one
colour per van, each route's km and load in the legend. A tile layer is drawn only when a tile
URL is configured (``STOCKPILOT_TILE_URL``, e.g. an in-house tile server).
"""

from __future__ import annotations

import logging
import math
import os
from datetime import timedelta
from typing import Any

import pandas as pd
import plotly.graph_objects as go

from tools.registry import ToolRun
from tools.store import Store

log = logging.getLogger(__name__)

HISTORY_DAYS = 56  # eight weeks of context before a forecast
COLORS = [
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#d62728",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#7f7f7f",
    "#bcbd22",
    "#17becf",
]
BAND = "rgba(31, 119, 180, {alpha})"


def _layout(fig: go.Figure, title: str, y_title: str, height: int = 380) -> go.Figure:
    fig.update_layout(
        title={"text": title, "font": {"size": 14}, "x": 0.01},
        height=height,
        margin={"l": 56, "r": 16, "t": 44, "b": 40},
        hovermode="x unified",
        template="plotly_white",
        legend={"orientation": "h", "yanchor": "top", "y": -0.14, "x": 0, "font": {"size": 11}},
        yaxis={"title": y_title, "rangemode": "tozero"},
    )
    return fig


# -- forecast -------------------------------------------------------------------------------
def forecast_history(store: Store, result: Any, days: int = HISTORY_DAYS) -> pd.DataFrame:
    """Recorded daily units before the forecast starts, summed over the forecast's locations."""
    raw = store.demand_history(
        skus=[result.sku],
        start=result.start - timedelta(days=days),
        end=result.start - timedelta(days=1),
    )
    raw = raw[raw["location_id"].isin(result.locations)]
    return raw.groupby("date", as_index=False)["units"].sum()


def _band(fig: go.Figure, x, lo, hi, name: str, alpha: float) -> None:
    """A filled interval: the upper edge, then the lower edge filled up to it."""
    fig.add_trace(
        go.Scatter(
            x=x, y=hi, mode="lines", line={"width": 0}, showlegend=False, hoverinfo="skip",
            legendgroup=name,
        )
    )  # fmt: skip
    fig.add_trace(
        go.Scatter(
            x=x,
            y=lo,
            mode="lines",
            line={"width": 0},
            fill="tonexty",
            fillcolor=BAND.format(alpha=alpha),
            name=name,
            legendgroup=name,
            customdata=hi,
            hovertemplate=f"{name}: %{{y:.1f}}-%{{customdata:.1f}}<extra></extra>",
        )
    )


def forecast_figure(result: Any, history: pd.DataFrame | None = None) -> go.Figure:
    """Recent history, the forecast mean and its 80% and 95% prediction intervals."""
    days = pd.DataFrame([d.model_dump() for d in result.days])
    days["date"] = pd.to_datetime(days["date"])
    where = result.location if result.location != "all" else "all locations"
    fig = go.Figure()
    if history is not None and len(history):
        fig.add_trace(
            go.Scatter(
                x=pd.to_datetime(history["date"]),
                y=history["units"],
                mode="lines",
                line={"color": "#444", "width": 1.2},
                name="recorded sales",
                hovertemplate="sold %{y:.0f}<extra></extra>",
            )
        )
    _band(fig, days["date"], days["lo_95"], days["hi_95"], "95% interval", 0.15)
    _band(fig, days["date"], days["lo_80"], days["hi_80"], "80% interval", 0.3)
    fig.add_trace(
        go.Scatter(
            x=days["date"],
            y=days["mean"],
            mode="lines",
            line={"color": COLORS[0], "width": 2.5},
            name=f"forecast ({result.model})",
            hovertemplate="forecast %{y:.1f}<extra></extra>",
        )
    )
    title = f"Demand forecast {result.sku} {result.name} ({where}), {result.horizon_days} days"
    return _layout(fig, title, "units / day")


# -- stock projection -----------------------------------------------------------------------
def projection_figure(result: Any) -> go.Figure:
    """Projected stock on hand per location against its reorder point, inbound POs marked at
    their expected arrival (with the promised date in the hover)."""
    days = pd.DataFrame(result.days)
    fig = go.Figure()
    for i, loc in enumerate(result.locations):
        color = COLORS[i % len(COLORS)]
        mine = days[days["location_id"] == loc.location_id] if len(days) else days
        if len(mine):
            x = pd.to_datetime(mine["date"])
            fig.add_trace(
                go.Scatter(
                    x=x,
                    y=mine["projected_on_hand"],
                    mode="lines",
                    line={"color": color, "width": 2.5, "shape": "hv"},
                    name=f"{loc.location_id} projected on hand",
                    hovertemplate=f"{loc.location_id} on hand %{{y:.0f}}<extra></extra>",
                )
            )
            fig.add_trace(
                go.Scatter(
                    x=[x.min(), x.max()],
                    y=[loc.reorder_point] * 2,
                    mode="lines",
                    line={"color": color, "width": 1, "dash": "dash"},
                    name=f"{loc.location_id} reorder point {loc.reorder_point:.0f}",
                    hovertemplate=f"reorder point {loc.reorder_point:.0f}<extra></extra>",
                )
            )
        for po in loc.inbound:
            when = pd.Timestamp(po.expected_date)
            fig.add_trace(
                go.Scatter(
                    x=[when],
                    y=[loc.reorder_point],
                    mode="markers+text",
                    marker={"symbol": "triangle-up", "size": 12, "color": color},
                    text=[f"{po.po_number} +{po.qty}"],
                    textposition="top center",
                    name=f"{po.po_number} +{po.qty} expected {po.expected_date}",
                    hovertemplate=(
                        f"{po.po_number} +{po.qty}: expected {po.expected_date}, "
                        f"promised {po.promised_date}<extra></extra>"
                    ),
                )
            )
    title = f"Projected stock {result.sku} {result.name}, {result.horizon_days} days"
    return _layout(fig, title, "units on hand")


# -- routes ---------------------------------------------------------------------------------
def route_coordinates(store: Store, plan: Any) -> tuple[dict, pd.DataFrame]:
    """The depot row and the (order_id, lat, lon) of the plan's delivery orders."""
    depot = store.location(plan.location_id)
    orders = store.deliveries(plan.date, plan.location_id)
    return depot, orders[["order_id", "lat", "lon"]]


def route_label(route: Any) -> str:
    return (
        f"Van {route.vehicle}: {len(route.stops)} stops, {route.distance_km:g} km, "
        f"{route.load_kg:g} kg"
    )


def route_figure(plan: Any, depot: dict, coords: pd.DataFrame) -> go.Figure:
    """Each van's path depot -> numbered stops -> depot; unserved orders as red crosses."""
    where = coords.set_index("order_id")[["lat", "lon"]]
    tiles = os.environ.get("STOCKPILOT_TILE_URL", "").strip()
    scatter = go.Scattermap if tiles else go.Scatter
    xy = (lambda lon, lat: {"lon": lon, "lat": lat}) if tiles else (
        lambda lon, lat: {"x": lon, "y": lat}
    )  # fmt: skip
    fig = go.Figure()
    for i, route in enumerate(plan.routes):
        stops = [s for s in route.stops if s.order_id in where.index]
        lats = [depot["lat"], *(where.loc[s.order_id, "lat"] for s in stops), depot["lat"]]
        lons = [depot["lon"], *(where.loc[s.order_id, "lon"] for s in stops), depot["lon"]]
        labels = ["", *(str(n) for n in range(1, len(stops) + 1)), ""]
        hover = [
            f"depot {plan.location_id}",
            *(f"stop {n}: {s.order_id} at {s.arrival}, {s.weight_kg:g} kg" for n, s in
              enumerate(stops, 1)),
            f"back at depot {route.back}",
        ]  # fmt: skip
        fig.add_trace(
            scatter(
                **xy(lons, lats),
                mode="lines+markers+text",
                line={"color": COLORS[i % len(COLORS)], "width": 2},
                marker={"size": 16, "color": COLORS[i % len(COLORS)]},
                text=labels,
                textfont={"color": "white", "size": 10},
                name=route_label(route),
                hovertext=hover,
                hoverinfo="text",
            )
        )
    unserved = [o for o in plan.unserved if o in where.index]
    if unserved:
        fig.add_trace(
            scatter(
                **xy(list(where.loc[unserved, "lon"]), list(where.loc[unserved, "lat"])),
                mode="markers",
                marker={"symbol": "x", "size": 11, "color": "#d62728"},
                name=f"unserved ({len(unserved)})",
                hovertext=unserved,
                hoverinfo="text",
            )
        )
    fig.add_trace(
        scatter(
            **xy([depot["lon"]], [depot["lat"]]),
            mode="markers",
            marker={"symbol": "star" if not tiles else "circle", "size": 20, "color": "#000"},
            name=f"depot {plan.location_id}",
            hovertext=[f"depot {plan.location_id}"],
            hoverinfo="text",
        )
    )
    title = (
        f"Routes from {plan.location_id} on {plan.date}: {plan.vehicles_used} vans, "
        f"{plan.total_distance_km:g} km, {plan.total_load_kg:g} kg"
    )
    _layout(fig, title, "", height=560)
    fig.update_layout(hovermode="closest")
    if tiles:
        fig.update_layout(
            map={
                "style": "white-bg",
                "layers": [{"sourcetype": "raster", "source": [tiles], "below": "traces"}],
                "center": {"lat": depot["lat"], "lon": depot["lon"]},
                "zoom": 10,
            }
        )
    else:  # a plan view, not a graph of latitudes: a km is as long north-south as east-west
        fig.update_xaxes(visible=False)
        ratio = 1 / max(math.cos(math.radians(float(depot["lat"]))), 0.1)
        # rangemode normal: the plan's latitudes, not 0..52 (which squashes it into a dot)
        fig.update_yaxes(visible=False, scaleanchor="x", scaleratio=ratio, rangemode="normal")
    return fig


# -- dispatch -------------------------------------------------------------------------------
CHARTED_TOOLS = ("forecast_demand", "stock_projection", "plan_routes")


def chart_for_run(run: ToolRun, store: Store) -> go.Figure | None:
    """The chart for a tool call whose result is better seen than read, else None."""
    if not run.ok or run.result is None:
        return None
    if run.name == "forecast_demand":
        return forecast_figure(run.result, forecast_history(store, run.result))
    if run.name == "stock_projection":
        return projection_figure(run.result)
    if run.name == "plan_routes":
        depot, coords = route_coordinates(store, run.result)
        return route_figure(run.result, depot, coords)
    return None


def chart_for_reply(reply: Any, store: Store) -> go.Figure | None:
    """The chart of the last charted tool call of an answer."""
    for run in reversed(getattr(reply, "tool_runs", []) or []):
        if run.name in CHARTED_TOOLS and run.ok:
            try:
                return chart_for_run(run, store)
            except Exception:  # a chart is a bonus: never let it break the answer
                log.exception("chart for %s failed", run.name)
                return None
    return None
