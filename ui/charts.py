"""Charts a planner reads faster than a table: forecast with intervals, projected stock against
the reorder point, and a route map. Built from tool results (plus a little history or
coordinates from the store) as matplotlib figures for ``gr.Plot``.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

import pandas as pd
from matplotlib.figure import Figure

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


def _figure(title: str) -> tuple[Figure, Any]:
    fig = Figure(figsize=(8, 3.6), layout="constrained")
    ax = fig.add_subplot()
    ax.set_title(title, fontsize=11)
    ax.grid(alpha=0.3)
    return fig, ax


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


def forecast_figure(result: Any, history: pd.DataFrame | None = None) -> Figure:
    """Recent history, the forecast mean and its 80% and 95% prediction intervals."""
    days = pd.DataFrame([d.model_dump() for d in result.days])
    days["date"] = pd.to_datetime(days["date"])
    where = result.location if result.location != "all" else "all locations"
    fig, ax = _figure(f"Demand forecast {result.sku} {result.name} ({where})")
    if history is not None and len(history):
        ax.plot(
            pd.to_datetime(history["date"]),
            history["units"],
            color="#444",
            lw=1.2,
            label="recorded sales",
        )
    ax.fill_between(
        days["date"],
        days["lo_95"],
        days["hi_95"],
        color=COLORS[0],
        alpha=0.15,
        label="95% interval",
    )
    ax.fill_between(
        days["date"], days["lo_80"], days["hi_80"], color=COLORS[0], alpha=0.3, label="80% interval"
    )
    ax.plot(days["date"], days["mean"], color=COLORS[0], lw=2, label=f"forecast ({result.model})")
    ax.set_ylabel("units / day")
    ax.set_ylim(bottom=0)
    ax.legend(loc="upper left", fontsize=8)
    fig.autofmt_xdate()
    return fig


# -- stock projection -----------------------------------------------------------------------
def projection_figure(result: Any) -> Figure:
    """Projected stock on hand per location against its reorder point, inbound POs marked at
    their expected arrival."""
    days = pd.DataFrame(result.days)
    fig, ax = _figure(f"Projected stock {result.sku} {result.name}")
    for i, loc in enumerate(result.locations):
        color = COLORS[i % len(COLORS)]
        mine = days[days["location_id"] == loc.location_id] if len(days) else days
        if len(mine):
            ax.step(
                pd.to_datetime(mine["date"]),
                mine["projected_on_hand"],
                where="post",
                color=color,
                lw=2,
                label=f"{loc.location_id} projected on hand",
            )
        ax.axhline(
            loc.reorder_point,
            color=color,
            ls="--",
            lw=1,
            label=f"{loc.location_id} reorder point {loc.reorder_point:.0f}",
        )
        for po in loc.inbound:
            when = pd.Timestamp(po.expected_date)
            ax.axvline(when, color=color, ls=":", alpha=0.8)
            ax.annotate(
                f"{po.po_number} +{po.qty}",
                (when, loc.reorder_point),
                rotation=90,
                fontsize=7,
                color=color,
                xytext=(2, 4),
                textcoords="offset points",
            )
    ax.axhline(0, color="#000", lw=0.8)
    ax.set_ylabel("units")
    ax.set_ylim(bottom=0)
    ax.legend(loc="upper right", fontsize=7)
    fig.autofmt_xdate()
    return fig


# -- routes ---------------------------------------------------------------------------------
def route_coordinates(store: Store, plan: Any) -> tuple[dict, pd.DataFrame]:
    """The depot row and the (order_id, lat, lon) of the plan's delivery orders."""
    depot = store.location(plan.location_id)
    orders = store.deliveries(plan.date, plan.location_id)
    return depot, orders[["order_id", "lat", "lon"]]


def route_figure(plan: Any, depot: dict, coords: pd.DataFrame) -> Figure:
    """Each vehicle's path depot -> stops -> depot on lon/lat; unserved orders as crosses."""
    where = coords.set_index("order_id")[["lat", "lon"]]
    fig = Figure(figsize=(7, 6), layout="constrained")
    ax = fig.add_subplot()
    ax.set_title(
        f"Routes {plan.location_id} {plan.date}: {plan.vehicles_used} vehicles, "
        f"{plan.total_distance_km:g} km",
        fontsize=11,
    )
    for i, route in enumerate(plan.routes):
        stops = [s.order_id for s in route.stops if s.order_id in where.index]
        lats = [depot["lat"], *where.loc[stops, "lat"], depot["lat"]]
        lons = [depot["lon"], *where.loc[stops, "lon"], depot["lon"]]
        color = COLORS[i % len(COLORS)]
        ax.plot(
            lons,
            lats,
            "-o",
            color=color,
            ms=4,
            lw=1.4,
            label=f"V{route.vehicle}: {len(route.stops)} stops, {route.distance_km:g} km",
        )
        for seq, (lon, lat) in enumerate(zip(lons[1:-1], lats[1:-1], strict=True), start=1):
            ax.annotate(str(seq), (lon, lat), fontsize=6, xytext=(2, 2), textcoords="offset points")
    unserved = [o for o in plan.unserved if o in where.index]
    if unserved:
        ax.scatter(
            where.loc[unserved, "lon"],
            where.loc[unserved, "lat"],
            marker="x",
            color="#d62728",
            label=f"unserved ({len(unserved)})",
        )
    ax.scatter(
        [depot["lon"]],
        [depot["lat"]],
        marker="*",
        s=250,
        color="#000",
        zorder=5,
        label=f"depot {plan.location_id}",
    )
    ax.set_xlabel("longitude")
    ax.set_ylabel("latitude")
    ax.grid(alpha=0.3)
    ax.legend(loc="best", fontsize=7)
    return fig


# -- dispatch -------------------------------------------------------------------------------
CHARTED_TOOLS = ("forecast_demand", "stock_projection", "plan_routes")


def chart_for_run(run: ToolRun, store: Store) -> Figure | None:
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


def chart_for_reply(reply: Any, store: Store) -> Figure | None:
    """The chart of the last charted tool call of an answer."""
    for run in reversed(getattr(reply, "tool_runs", []) or []):
        if run.name in CHARTED_TOOLS and run.ok:
            try:
                return chart_for_run(run, store)
            except Exception:  # a chart is a bonus: never let it break the answer
                log.exception("chart for %s failed", run.name)
                return None
    return None
