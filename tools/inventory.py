"""Inventory projection, stock-out risk, safety stock, reorder points and order quantities.

One vectorised engine (``load_outlook`` -> ``project``) turns on-hand stock, inbound purchase
orders and the demand forecast of any number of series into day-by-day projected stock and
stock-out probabilities. The three tools and ``stock_outlook`` all read from it, so the numbers
a planner sees in the risk list, the projection and the reorder plan always agree.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np
import pandas as pd
from pydantic import BaseModel, Field
from scipy import stats

from tools.arguments import Category, HorizonDays, Limit, Location, Sku
from tools.forecasting import (
    cumulative_quantile,
    forecast_panel,
    load_history,
    resolve_series,
    sigma_from_bounds,
)
from tools.registry import Evidence, Request, ToolContext, ToolError, ToolResult, tool
from tools.store import Store
from tools.store.db import UnknownEntityError

REVIEW_PERIOD_DAYS = 7  # weekly ordering cycle: the order-up-to level covers lead time + this
MIN_LEAD_SAMPLES = 5  # received POs needed before history overrides the supplier's stated lead time
RANDOM_ARRIVALS = 3  # earliest open PO lines per series whose arrival day is treated as uncertain
ACTION_PROBABILITY = 0.2  # below this a series needs no action
NEED_QUANTILE = 0.95  # "need" = units that bring the stock-out risk on every day below 5%
CUMULATIVE_VARIANCE_FACTOR = 1.0  # > 1 if daily forecast errors were found to be correlated
MAX_DAYS_OF_COVER = 999.0
UNKNOWN_ARRIVAL_DAYS = 14  # a PO later than any past one is assumed to land within this window


# -- inputs ----------------------------------------------------------------------------
@dataclass
class Outlook:
    """Everything the projection needs for n series over H days from ``today``."""

    keys: pd.DataFrame  # sku, location_id; row i is series i
    today: date
    horizon: int
    on_hand: np.ndarray  # (n,)
    demand: np.ndarray  # (n, H) mean daily forecast
    variance: np.ndarray  # (n, H) daily forecast variance
    inbound: (
        pd.DataFrame
    )  # open PO lines: series, po_number, qty, promised_date, expected_date, day
    arrival_cdf: np.ndarray  # (lines, H): P(line has arrived by the end of day t)
    notes: list[str] = field(default_factory=list)

    @property
    def dates(self) -> pd.DatetimeIndex:
        return pd.date_range(self.today, periods=self.horizon, freq="D")


def received_pos(store: Store) -> pd.DataFrame:
    """One row per PO with a receipt: supplier_id, order_date, promised_date, first receipt date."""
    lines = store.po_lines(statuses=["received", "partial"])
    received = pd.to_datetime(lines["received_date"].fillna(lines["po_received_date"]))
    pos = (
        lines.assign(received=received)
        .dropna(subset=["received"])
        .groupby("po_number")
        .agg(
            supplier_id=("supplier_id", "first"),
            ordered=("order_date", "first"),
            promised=("promised_date", "first"),
            received=("received", "min"),
        )
    )
    pos["late_days"] = (pos["received"] - pd.to_datetime(pos["promised"])).dt.days
    pos["lead_days"] = (pos["received"] - pd.to_datetime(pos["ordered"])).dt.days
    return pos


def supplier_lateness(store: Store) -> dict[str, np.ndarray]:
    """Days late (receipt - promise, negative = early) of each supplier's received POs, sorted."""
    pos = received_pos(store)
    return {s: np.sort(g.to_numpy(dtype=float)) for s, g in pos.groupby("supplier_id")["late_days"]}


def supplier_lead_times(store: Store) -> pd.DataFrame:
    """Lead time mean/sd per supplier: from received POs when there are enough, else master data."""
    sup = store.suppliers().set_index("supplier_id")
    out = pd.DataFrame(
        {
            "mean": sup["lead_time_mean_days"],
            "sd": sup["lead_time_sd_days"],
            "samples": 0,
            "source": "supplier master data",
            "name": sup["name"],
            "moq": sup["moq"],
        }
    )
    hist = received_pos(store).groupby("supplier_id")["lead_days"].agg(["mean", "std", "size"])
    ok = hist.index[hist["size"] >= MIN_LEAD_SAMPLES].intersection(out.index)
    out.loc[ok, "mean"] = hist.loc[ok, "mean"]
    out.loc[ok, "sd"] = hist.loc[ok, "std"].fillna(0.0)
    out.loc[ok, "samples"] = hist.loc[ok, "size"]
    out.loc[ok, "source"] = "received POs"
    return out


def inbound_lines(
    store: Store,
    keys: pd.DataFrame,
    today: date,
    horizon: int,
    lateness: dict[str, np.ndarray] | None = None,
) -> tuple[pd.DataFrame, np.ndarray]:
    """Open PO lines for the series in ``keys`` with their expected arrival and arrival CDF.

    A line is expected at its promise shifted by the supplier's mean lateness. A line that is
    already overdue is judged only against the past POs that were at least as late, so a PO
    five days late from a supplier that is usually two days late is not assumed to be 'due'.
    """
    lateness = supplier_lateness(store) if lateness is None else lateness
    lines = store.po_lines(statuses=["open", "partial"], skus=keys["sku"].unique().tolist())
    lines = lines.assign(qty=lines["qty_ordered"] - lines["qty_received"])
    index = pd.Series(
        np.arange(len(keys)), index=pd.MultiIndex.from_frame(keys[["sku", "location_id"]])
    )
    lines["series"] = index.reindex(
        pd.MultiIndex.from_frame(lines[["sku", "location_id"]])
    ).to_numpy()
    lines = lines[(lines["qty"] > 0) & lines["series"].notna()].reset_index(drop=True)
    lines["series"] = lines["series"].astype(int)
    cdf = np.zeros((len(lines), horizon))
    expected, shift = [], []
    steps = np.arange(horizon)
    for i, row in enumerate(lines.itertuples()):
        promised = pd.Timestamp(row.promised_date).date()
        overdue = (today - promised).days  # the line has not arrived, so its lateness is >= this
        samples = lateness.get(row.supplier_id, np.empty(0))
        eligible = samples[samples >= overdue]
        if len(eligible):
            late = float(eligible.mean())
            cdf[i] = np.searchsorted(eligible, overdue + steps, side="right") / len(eligible)
        elif len(samples):  # later than any past PO: no basis, spread it over the next weeks
            late = overdue + UNKNOWN_ARRIVAL_DAYS / 2
            cdf[i] = np.minimum((steps + 1) / UNKNOWN_ARRIVAL_DAYS, 1.0)
        else:  # no history for this supplier: take the promise at its word
            late = 0.0
            cdf[i] = steps >= max((promised - today).days, 0)
        day = max(promised + timedelta(days=round(late)), today)
        expected.append(day)
        shift.append(round(late))
    lines["expected_date"] = expected
    lines["lateness_days"] = shift
    lines["day"] = [(d - today).days for d in expected]
    cols = [
        "series",
        "sku",
        "location_id",
        "po_number",
        "qty",
        "promised_date",
        "expected_date",
        "lateness_days",
        "day",
        "supplier_id",
    ]
    return lines[cols], cdf


def demand_arrays(
    store: Store, keys: pd.DataFrame, today: date, horizon: int
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Mean and variance of daily demand from the forecasts table, forecasting missing series now."""
    end = today + timedelta(days=horizon - 1)
    stored = store.forecasts(skus=keys["sku"].unique().tolist(), start=today, end=end)
    ids = keys["sku"] + "@" + keys["location_id"]
    frame = pd.DataFrame(
        {
            "unique_id": stored["sku"] + "@" + stored["location_id"],
            "ds": pd.to_datetime(stored["date"]),
            "mean": stored["mean"],
            "hi_80": stored["hi_80"],
        }
    )
    notes = []
    missing = sorted(set(ids) - set(frame["unique_id"]))
    if missing:
        history = load_history(store, skus=sorted({m.split("@")[0] for m in missing}))
        history = history[history["unique_id"].isin(missing)]
        gap = max((pd.Timestamp(today) - history["ds"].max()).days, 1) if len(history) else 1
        if len(history):
            fresh = forecast_panel(history, horizon + gap - 1)
            frame = pd.concat([frame, fresh[fresh["ds"] >= pd.Timestamp(today)][frame.columns]])
        notes.append(f"{len(missing)} series had no stored forecast and were forecast now")
    dates = pd.date_range(today, periods=horizon, freq="D")
    mean = _pivot(frame, "mean", ids, dates)
    sigma = sigma_from_bounds(frame["mean"], frame["hi_80"])
    var = _pivot(frame.assign(var=sigma**2), "var", ids, dates)
    short = np.isnan(mean).any(axis=1) & ~np.isnan(mean).all(axis=1)
    if short.any():
        notes.append(f"{int(short.sum())} series' stored forecasts end early: last week repeated")
    mean, var = _fill_forward_weeks(mean), _fill_forward_weeks(var)
    return np.nan_to_num(mean), np.nan_to_num(var), notes


def _pivot(frame: pd.DataFrame, column: str, ids: pd.Series, dates: pd.DatetimeIndex) -> np.ndarray:
    wide = frame.pivot_table(index="unique_id", columns="ds", values=column, aggfunc="first")
    return wide.reindex(index=ids.to_numpy(), columns=dates).to_numpy(dtype=float)


def _fill_forward_weeks(values: np.ndarray) -> np.ndarray:
    """Extend a forecast that ends before the horizon by repeating its last seven days."""
    out = values.copy()
    for t in range(7, out.shape[1]):
        gap = np.isnan(out[:, t])
        out[gap, t] = out[gap, t - 7]
    return out


def load_outlook(store: Store, keys: pd.DataFrame, horizon: int) -> Outlook:
    """Gather stock, inbound POs and demand for the series in ``keys`` (columns sku, location_id)."""
    keys = keys[["sku", "location_id"]].reset_index(drop=True)
    today = store.today()
    positions = store.stock_positions(skus=keys["sku"].unique().tolist())
    on_hand = (
        keys.merge(positions, on=["sku", "location_id"], how="left")["on_hand"]
        .fillna(0)
        .to_numpy(float)
    )
    demand, variance, notes = demand_arrays(store, keys, today, horizon)
    inbound, cdf = inbound_lines(store, keys, today, horizon)
    return Outlook(
        keys,
        today,
        horizon,
        on_hand,
        demand,
        variance * CUMULATIVE_VARIANCE_FACTOR,
        inbound,
        cdf,
        notes,
    )


# -- the projection ----------------------------------------------------------------------------
@dataclass
class Projection:
    summary: pd.DataFrame  # one row per series
    stock: np.ndarray  # (n, H) expected end-of-day stock (lost sales: never below zero)
    receipts: np.ndarray  # (n, H) expected receipts per day
    risk_by_day: np.ndarray  # (n, H) P(stocked out by the end of day t)


def project(o: Outlook) -> Projection:
    """Expected stock path, first stock-out day, days of cover and stock-out probability."""
    n, h = o.demand.shape
    receipts = np.zeros((n, h))
    inside = o.inbound[o.inbound["day"] < h]
    np.add.at(
        receipts,
        (inside["series"].to_numpy(int), inside["day"].to_numpy(int)),
        inside["qty"].to_numpy(float),
    )
    stock, first_out, cover = _expected_path(o.on_hand, receipts, o.demand)
    risk = _risk_by_day(o, receipts)
    cum_mean, cum_var = np.cumsum(o.demand, axis=1), np.cumsum(o.variance, axis=1)
    position = o.on_hand[:, None] + np.cumsum(receipts, axis=1)
    need = np.clip(cumulative_quantile(cum_mean, cum_var, NEED_QUANTILE) - position, 0, None).max(
        axis=1
    )
    dates = o.dates
    summary = o.keys.assign(
        on_hand=o.on_hand,
        inbound_qty=np.bincount(o.inbound["series"], weights=o.inbound["qty"], minlength=n)
        if n
        else [],
        demand_total=cum_mean[:, -1] if n else [],
        stockout_day=first_out,
        stockout_date=[dates[d].date() if d >= 0 else None for d in first_out],
        days_of_cover=cover,
        probability=risk[:, -1] if n else [],
        need=np.ceil(need - 1e-9),
    )
    return Projection(summary, stock, receipts, risk)


def _expected_path(on_hand, receipts, demand):
    """Day-by-day stock at expected demand with lost sales; first day it runs out; days of cover."""
    n, h = demand.shape
    stock = np.zeros((n, h))
    first_out = np.full(n, -1)
    cover = np.full(n, np.nan)
    level = on_hand.astype(float).copy()
    for t in range(h):
        available = level + receipts[:, t]
        end = available - demand[:, t]
        new = (end <= 0) & (first_out < 0)
        first_out[new] = t
        with np.errstate(divide="ignore", invalid="ignore"):
            cover[new] = t + np.where(demand[new, t] > 0, available[new] / demand[new, t], 0.0)
        level = np.maximum(end, 0.0)
        stock[:, t] = level
    rest = first_out < 0
    daily = demand.mean(axis=1) if h else np.zeros(n)
    with np.errstate(divide="ignore", invalid="ignore"):
        beyond = np.where(daily[rest] > 0, h + level[rest] / daily[rest], MAX_DAYS_OF_COVER)
    cover[rest] = beyond
    return stock, first_out, np.minimum(cover, MAX_DAYS_OF_COVER)


def _stockout_chance(cum_mean, cum_var, available):
    """P(cumulative demand >= available stock), demand ~ moment-matched gamma, integer-corrected."""
    var = np.maximum(cum_var, 1e-9)
    with np.errstate(divide="ignore", invalid="ignore"):
        shape, scale = cum_mean**2 / var, var / np.maximum(cum_mean, 1e-12)
        p = stats.gamma.sf(available - 0.5, a=shape, scale=scale)
    p = np.where(cum_mean > 0, p, 0.0)
    return np.where(available <= 0, 1.0, p)


def _risk_by_day(o: Outlook, receipts: np.ndarray) -> np.ndarray:
    """P(stocked out by day t): mixture over which uncertain PO lines have arrived by then.

    The earliest ``RANDOM_ARRIVALS`` lines of a series arrive per their CDF (independently);
    later lines at their expected day. The chance of a stock-out by t is approximated by the
    largest single-day chance up to t (exact without receipts, since demand only accumulates).
    """
    n, h = o.demand.shape
    cum_mean, cum_var = np.cumsum(o.demand, axis=1), np.cumsum(o.variance, axis=1)
    base = o.on_hand[:, None]
    lines = o.inbound.assign(cdf_row=np.arange(len(o.inbound))).sort_values(["series", "day"])
    lines["rank"] = lines.groupby("series").cumcount()
    uncertain = lines[lines["rank"] < RANDOM_ARRIVALS]
    fixed = np.zeros((n, h))
    later = lines[(lines["rank"] >= RANDOM_ARRIVALS) & (lines["day"] < h)]
    np.add.at(
        fixed,
        (later["series"].to_numpy(int), later["day"].to_numpy(int)),
        later["qty"].to_numpy(float),
    )
    fixed = np.cumsum(fixed, axis=1)
    risk = _stockout_chance(cum_mean, cum_var, base + fixed)
    rows = uncertain["series"].unique()
    if len(rows):
        k = int(uncertain["rank"].max()) + 1
        qty, cdf = np.zeros((len(rows), k)), np.ones((len(rows), k, h))
        pos = pd.Series(np.arange(len(rows)), index=rows)
        r, c = pos[uncertain["series"]].to_numpy(), uncertain["rank"].to_numpy()
        qty[r, c] = uncertain["qty"].to_numpy(float)
        cdf[r, c] = o.arrival_cdf[uncertain["cdf_row"].to_numpy()]
        mixed = np.zeros((len(rows), h))
        for scenario in range(2**k):
            arrived = np.array([(scenario >> j) & 1 for j in range(k)], dtype=bool)
            weight = np.prod(np.where(arrived[None, :, None], cdf, 1 - cdf), axis=1)
            stock = base[rows] + fixed[rows] + (qty * arrived).sum(axis=1)[:, None]
            mixed += weight * _stockout_chance(cum_mean[rows], cum_var[rows], stock)
        risk[rows] = mixed
    return np.maximum.accumulate(np.clip(risk, 0, 1), axis=1)


# -- public helpers ----------------------------------------------------------------------
class StockOutlook(BaseModel):
    """The four numbers other modules (e-mail drafts, alerts) quote about one series."""

    on_hand: float
    days_of_cover: float
    stockout_date: date | None
    stockout_probability: float


def project_stock(store: Store, sku: str, location_id: str, horizon_days: int) -> pd.DataFrame:
    """Day-by-day projection of one series: date, demand, demand_hi_95, inbound, projected_on_hand,
    stockout_probability (cumulative, by the end of that day)."""
    o = load_outlook(
        store, pd.DataFrame({"sku": [sku], "location_id": [location_id]}), horizon_days
    )
    return _day_table(o, project(o), 0)


def stock_outlook(store: Store, sku: str, location_id: str, horizon_days: int = 28) -> StockOutlook:
    """On hand, days of cover, first expected stock-out date and its probability within the horizon."""
    o = load_outlook(
        store, pd.DataFrame({"sku": [sku], "location_id": [location_id]}), horizon_days
    )
    row = project(o).summary.iloc[0]
    return StockOutlook(
        on_hand=float(row["on_hand"]),
        days_of_cover=round(float(row["days_of_cover"]), 1),
        stockout_date=row["stockout_date"],
        stockout_probability=round(float(row["probability"]), 3),
    )


def _day_table(o: Outlook, p: Projection, i: int) -> pd.DataFrame:
    sd = np.sqrt(o.variance[i])
    return pd.DataFrame(
        {
            "date": o.dates.date,
            "demand": o.demand[i].round(2),
            "demand_hi_95": (o.demand[i] + 1.96 * sd).round(2),
            "inbound": p.receipts[i],
            "projected_on_hand": p.stock[i].round(1),
            "stockout_probability": p.risk_by_day[i].round(3),
        }
    )


# -- reorder policy ----------------------------------------------------------------------
def reorder_policy(
    d, sigma_d, lead, lead_sd, z, position, case_pack, moq, review=REVIEW_PERIOD_DAYS
) -> dict:
    """Safety stock, reorder point, order-up-to level and order quantity (array-friendly).

    SS = z * sqrt(L * sigma_d^2 + d^2 * sigma_L^2); ROP = d * L + SS; order-up-to
    S = d * (L + R) + SS. Order when the inventory position is at or below ROP, S - position
    rounded up to whole cases and to at least the MOQ (itself in whole cases).
    """
    d, sigma_d, lead, lead_sd = map(np.asarray, (d, sigma_d, lead, lead_sd))
    ss = z * np.sqrt(lead * sigma_d**2 + d**2 * lead_sd**2)
    rop = d * lead + ss
    up_to = d * (lead + review) + ss
    order_now = np.asarray(position) <= rop
    cases = np.ceil(np.maximum(up_to - position, 0) / case_pack - 1e-9)
    min_cases = np.ceil(np.asarray(moq) / case_pack - 1e-9)
    qty = np.where(order_now, np.maximum(cases, min_cases) * case_pack, 0)
    return {
        "safety_stock": ss,
        "reorder_point": rop,
        "order_up_to": up_to,
        "order_now": order_now,
        "order_qty": qty,
    }


# -- tool requests and results --------------------------------------------------------------
class StockoutRiskRequest(Request):
    horizon_days: HorizonDays = 7
    location: Location = None
    category: Category = None
    limit: Limit = 10


class StockProjectionRequest(Request):
    sku: Sku
    location: Location = None
    horizon_days: HorizonDays = 28


class ReorderRequest(Request):
    sku: Sku
    location: Location = None
    service_level: float = Field(0.95, ge=0.5, le=0.999, description="target cycle service level")


class InboundPO(BaseModel):
    po_number: str
    qty: int
    promised_date: date
    expected_date: date


class RiskItem(BaseModel):
    sku: str
    name: str
    location_id: str
    probability: float
    stockout_date: date | None
    days_of_cover: float
    on_hand: int
    inbound: list[InboundPO]
    action: str


class StockoutRiskResult(ToolResult):
    horizon_days: int
    start: date
    end: date
    location: str | None
    category: str | None
    scanned: int
    at_risk: int  # series with probability >= 50%
    items: list[RiskItem]

    def render(self) -> str:
        scope = " ".join(x for x in (self.category, self.location) if x) or "all"
        head = (
            f"Stock-out risk {self.start} to {self.end} ({scope}): {self.scanned} series, "
            f"{self.at_risk} at >=50%."
        )
        acting = [it for it in self.items if it.action != "no action"]
        lines = [
            f"{it.sku} {it.location_id} {it.probability:.0%}"
            + (f" out {it.stockout_date}" if it.stockout_date else "")
            + f": {it.action}"
            for it in acting
        ]
        calm = [
            f"{it.sku} {it.location_id} {it.probability:.0%}"
            for it in self.items
            if it not in acting
        ]
        if calm:
            lines.append("No action needed: " + ", ".join(calm))
        return "\n".join([head, *lines]) if self.items else head + " None at risk."

    def table(self) -> pd.DataFrame:
        rows = [
            it.model_dump()
            | {
                "inbound": "; ".join(
                    f"{p.po_number} {p.qty} exp {p.expected_date}" for p in it.inbound
                )
            }
            for it in self.items
        ]
        return pd.DataFrame(rows)


class LocationProjection(BaseModel):
    location_id: str
    on_hand: int
    inbound: list[InboundPO]
    stockout_date: date | None
    days_of_cover: float
    stockout_probability: float
    safety_stock: float
    reorder_point: float
    end_stock: float


class StockProjectionResult(ToolResult):
    sku: str
    name: str
    horizon_days: int
    start: date
    end: date
    locations: list[LocationProjection]
    days: list[
        dict
    ]  # location_id, date, demand, demand_hi_95, inbound, projected_on_hand, stockout_probability

    def render(self) -> str:
        parts = [f"{self.sku} ({self.name}) stock {self.start} to {self.end}:"]
        for loc in self.locations:
            inbound = (
                "; ".join(
                    f"{p.po_number} +{p.qty} exp {p.expected_date}"
                    + (
                        f" (promised {p.promised_date})"
                        if p.expected_date != p.promised_date
                        else ""
                    )
                    for p in loc.inbound
                )
                or "no open POs"
            )
            weekly = ", ".join(
                f"{d['date']} {d['projected_on_hand']:.0f}"
                for d in self.days
                if d["location_id"] == loc.location_id
            )
            weekly = ", ".join(weekly.split(", ")[6::7]) if len(self.locations) == 1 else ""
            out = f"stock-out {loc.stockout_date}" if loc.stockout_date else "no stock-out expected"
            parts.append(
                f"{loc.location_id}: on hand {loc.on_hand}, {inbound}; {out}, cover {_days(loc.days_of_cover)}, "
                f"P(stock-out) {loc.stockout_probability:.0%}; safety stock {loc.safety_stock:.0f}, "
                f"reorder point {loc.reorder_point:.0f}"
                + (f". Projected: {weekly}" if weekly else "")
                + "."
            )
        return " ".join(parts)

    def table(self) -> pd.DataFrame:
        return pd.DataFrame(self.days)


class ReorderPlan(BaseModel):
    location_id: str
    supplier_id: str
    supplier: str
    avg_daily_demand: float
    demand_sd: float
    lead_time_days: float
    lead_time_sd: float
    lead_time_source: str
    review_days: int
    safety_stock: float
    reorder_point: float
    order_up_to: float
    on_hand: int
    on_order: int
    position: int
    order_now: bool
    order_qty: int
    case_pack: int
    moq: int
    expected_arrival: date | None  # when an order placed today would arrive
    next_order_date: date | None  # when the position is expected to reach the reorder point


class ReorderPlanResult(ToolResult):
    sku: str
    name: str
    service_level: float
    z: float
    plans: list[ReorderPlan]

    def render(self) -> str:
        parts = [
            f"Reorder {self.sku} ({self.name}) at {self.service_level:.1%} service (z {self.z:.2f}):"
        ]
        for p in self.plans:
            decision = (
                f"order {p.order_qty} now (case {p.case_pack}, MOQ {p.moq}), arrives ~{p.expected_arrival}"
                if p.order_now
                else "no order now"
                + (f"; reorder ~{p.next_order_date}" if p.next_order_date else "")
            )
            parts.append(
                f"{p.location_id}: demand {p.avg_daily_demand:.1f}/day (sd {p.demand_sd:.1f}), lead time "
                f"{p.lead_time_days:.1f}±{p.lead_time_sd:.1f} d ({p.supplier}); safety stock {p.safety_stock:.0f}, "
                f"reorder point {p.reorder_point:.0f}, order-up-to {p.order_up_to:.0f}; position {p.position} "
                f"(on hand {p.on_hand} + on order {p.on_order}): {decision}."
            )
        return " ".join(parts)

    def table(self) -> pd.DataFrame:
        return pd.DataFrame([p.model_dump() for p in self.plans])


def _days(value: float) -> str:
    return f">{MAX_DAYS_OF_COVER:.0f} d" if value >= MAX_DAYS_OF_COVER else f"{value:.1f} d"


# -- tools ---------------------------------------------------------------------------------
@tool(
    "stockout_risk", "SKUs most likely to stock out within the horizon, ranked", StockoutRiskRequest
)
def stockout_risk(ctx: ToolContext, req: StockoutRiskRequest) -> StockoutRiskResult:
    """Every series in scope projected at once; the most likely to run out first, with a fix."""
    store = ctx.store
    location_id, category, scope_notes = _scope(store, req.location, req.category)
    skus = store.products(category=category)["sku"].tolist() if category else None
    keys = store.series_keys(location_id=location_id, skus=skus)
    if keys.empty:
        raise ToolError(
            "location: no stocked SKUs match"
            + (f" at {location_id}" if location_id else "")
            + (f" in category {category}" if category else "")
        )
    o = load_outlook(store, keys, req.horizon_days)
    p = project(o)
    ranked = _rank(p.summary)
    top = ranked.head(req.limit)
    items = _risk_items(store, o, top, req.horizon_days)
    return StockoutRiskResult(
        horizon_days=req.horizon_days,
        start=o.today,
        end=o.dates[-1].date(),
        location=location_id,
        category=category,
        scanned=len(keys),
        at_risk=int((ranked["probability"] >= 0.5).sum()),
        items=items,
        evidence=Evidence(
            sources=[
                "inventory",
                "forecasts",
                "purchase_orders",
                "po_lines",
                "products",
                "suppliers",
            ],
            method=(
                "projected stock = on hand + open PO receipts (promise + supplier mean lateness) - forecast; "
                "P(stock-out) from gamma cumulative demand, mixed over PO arrival timing"
            ),
            period=f"{o.today} to {o.dates[-1].date()}",
            notes=scope_notes
            + o.notes
            + ["series with under 0.5 units of forecast demand are not ranked"],
        ),
    )


def _known(resolve, text: str) -> bool:
    try:
        resolve(text)
    except UnknownEntityError:
        return False
    return True


def _scope(
    store: Store, location: str | None, category: str | None
) -> tuple[str | None, str | None, list[str]]:
    """(location id, category, notes). "Garden at Lyon" and "Lyon garden" are easy to mix up: a
    location that is no location but a category (or the reverse) is read as what it is."""
    as_category = bool(location and not category) and (
        not _known(store.location, location) and _known(store.resolve_category, location)
    )
    as_location = bool(category and not location) and (
        not _known(store.resolve_category, category) and _known(store.location, category)
    )
    if as_category or as_location:
        location, category = category, location
    location_id = store.location(location)["location_id"] if location else None
    category = store.resolve_category(category) if category else None
    notes = []
    if as_category:
        notes.append(f"'{category}' is a category, not a location: read as the category")
    if as_location:
        notes.append(f"'{location_id}' is a location, not a category: read as the location")
    return location_id, category, notes


def _rank(summary: pd.DataFrame) -> pd.DataFrame:
    """Most likely first, then soonest; dormant series (no forecast demand) are not ranked."""
    active = summary[summary["demand_total"] >= 0.5]
    order = active.assign(_day=active["stockout_day"].where(active["stockout_day"] >= 0, 10_000))
    return order.sort_values(
        ["probability", "_day", "days_of_cover"], ascending=[False, True, True]
    )


def _risk_items(store: Store, o: Outlook, top: pd.DataFrame, horizon: int) -> list[RiskItem]:
    products = store.products(skus=top["sku"].unique().tolist()).set_index("sku")
    actions = _actions(store, o, top, products, horizon)
    items = []
    for (i, row), action in zip(top.iterrows(), actions, strict=True):
        inbound = o.inbound[o.inbound["series"] == i]
        items.append(
            RiskItem(
                sku=row["sku"],
                name=products.loc[row["sku"], "name"],
                location_id=row["location_id"],
                probability=round(float(row["probability"]), 2),
                stockout_date=row["stockout_date"],
                days_of_cover=round(float(row["days_of_cover"]), 1),
                on_hand=int(row["on_hand"]),
                inbound=[_inbound_po(r) for r in inbound.itertuples()],
                action=action,
            )
        )
    return items


def _inbound_po(row) -> InboundPO:
    return InboundPO(
        po_number=row.po_number,
        qty=int(row.qty),
        promised_date=pd.Timestamp(row.promised_date).date(),
        expected_date=row.expected_date,
    )


def _actions(
    store: Store, o: Outlook, top: pd.DataFrame, products: pd.DataFrame, horizon: int
) -> list[str]:
    """The fastest credible fix: expedite a PO that lands after the stock-out, else transfer
    surplus from another location, else order now (the reorder-plan quantity)."""
    surplus = _surplus_elsewhere(store, o, top, horizon)
    plans = _reorder_rows(store, o, top, products)
    actions = []
    for (i, row), plan in zip(top.iterrows(), plans, strict=True):
        need = int(row["need"])
        inbound = o.inbound[o.inbound["series"] == i].sort_values("day")
        late = (
            inbound[inbound["day"] > row["stockout_day"]]
            if row["stockout_day"] >= 0
            else inbound.iloc[0:0]
        )
        pack = int(products.loc[row["sku"], "case_pack"])
        donors = surplus.get(row["sku"], {})
        donors = {loc: qty for loc, qty in donors.items() if loc != row["location_id"]}
        if row["probability"] < ACTION_PROBABILITY:
            actions.append("no action")
        elif len(late) and late["qty"].sum() >= need:
            po = late.iloc[0]
            actions.append(f"expedite {po['po_number']} (due {po['expected_date']})")
        elif donors and max(donors.values()) >= need > 0:
            loc = max(donors, key=donors.get)
            qty = min(donors[loc], math.ceil(need / pack) * pack)
            actions.append(f"transfer {qty} from {loc}")
        else:
            qty = max(int(plan["order_qty"]), math.ceil(need / pack) * pack)
            actions.append(f"order {qty} now (arrives ~{plan['arrival']})")
    return actions


def _surplus_elsewhere(
    store: Store, o: Outlook, top: pd.DataFrame, horizon: int
) -> dict[str, dict[str, int]]:
    """Per SKU and location: units above the 95% quantile of its own demand over the horizon.

    Series already in the scanned outlook are reused; only other locations are loaded.
    """
    keys = store.series_keys(skus=top["sku"].unique().tolist())
    if keys.empty:
        return {}
    scanned = o.keys.reset_index().merge(keys, on=["sku", "location_id"])
    parts = [(scanned[["sku", "location_id"]], o.on_hand, o.demand, o.variance, scanned["index"])]
    others = keys.merge(o.keys, on=["sku", "location_id"], how="left", indicator=True)
    others = others[others["_merge"] == "left_only"][["sku", "location_id"]]
    if len(others):
        extra = load_outlook(store, others, horizon)
        parts.append(
            (extra.keys, extra.on_hand, extra.demand, extra.variance, np.arange(len(others)))
        )
    out: dict[str, dict[str, int]] = {}
    for part_keys, on_hand, demand, variance, rows in parts:
        rows = np.asarray(rows, dtype=int)
        keep = cumulative_quantile(
            demand[rows].sum(axis=1), variance[rows].sum(axis=1), NEED_QUANTILE
        )
        spare = np.floor(on_hand[rows] - keep)
        for (sku, loc), qty in zip(part_keys.itertuples(index=False), spare, strict=True):
            if qty > 0:
                out.setdefault(sku, {})[loc] = int(qty)
    return out


def _reorder_rows(
    store: Store,
    o: Outlook,
    rows: pd.DataFrame,
    products: pd.DataFrame,
    service_level: float = 0.95,
) -> list[dict]:
    """Reorder policy for some series of an outlook, with demand over lead time + review."""
    if rows.empty:
        return []
    lead = supplier_lead_times(store)
    z = float(stats.norm.ppf(service_level))
    sup = products.loc[rows["sku"], "supplier_id"].to_numpy()
    L, L_sd = lead.loc[sup, "mean"].to_numpy(float), lead.loc[sup, "sd"].to_numpy(float)
    window = int(min(max(np.ceil(L.max() + REVIEW_PERIOD_DAYS), 1), o.horizon))
    idx = rows.index.to_numpy()
    d = o.demand[idx, :window].mean(axis=1)
    sigma_d = np.sqrt(o.variance[idx, :window].mean(axis=1))
    on_order = np.bincount(o.inbound["series"], weights=o.inbound["qty"], minlength=len(o.keys))[
        idx
    ]
    position = o.on_hand[idx] + on_order
    pol = reorder_policy(
        d,
        sigma_d,
        L,
        L_sd,
        z,
        position,
        products.loc[rows["sku"], "case_pack"].to_numpy(float),
        lead.loc[sup, "moq"].to_numpy(float),
    )
    out = []
    for j in range(len(rows)):
        out.append(
            {k: v[j] for k, v in pol.items()}
            | {
                "d": d[j],
                "sigma_d": sigma_d[j],
                "lead": L[j],
                "lead_sd": L_sd[j],
                "on_order": on_order[j],
                "position": position[j],
                "supplier_id": sup[j],
                "arrival": o.today + timedelta(days=round(L[j])),
                "lead_source": lead.loc[sup[j], "source"],
                "lead_samples": int(lead.loc[sup[j], "samples"]),
                "supplier": lead.loc[sup[j], "name"],
                "moq": int(lead.loc[sup[j], "moq"]),
                "z": z,
            }
        )
    return out


@tool(
    "stock_projection",
    "day-by-day projected stock for one SKU with inbound POs",
    StockProjectionRequest,
)
def stock_projection(ctx: ToolContext, req: StockProjectionRequest) -> StockProjectionResult:
    """Day by day per location; without ``location``, every location that stocks the SKU
    (stock in one warehouse does not serve another's demand, so they are never summed)."""
    store = ctx.store
    product, location_ids = resolve_series(store, req.sku, req.location)
    keys = pd.DataFrame({"sku": product["sku"], "location_id": location_ids})
    # reorder maths needs lead time + review days of demand, which can exceed the asked horizon
    horizon = max(req.horizon_days, _policy_window(store, product))
    o = load_outlook(store, keys, horizon)
    p = project(o)
    products = store.products(skus=[product["sku"]]).set_index("sku")
    plans = _reorder_rows(store, o, p.summary, products)
    o_h, p_h = _truncate(o, p, req.horizon_days)
    locations, days = [], []
    for i, (row, plan) in enumerate(zip(p_h.summary.to_dict("records"), plans, strict=True)):
        inbound = o_h.inbound[o_h.inbound["series"] == i]
        locations.append(
            LocationProjection(
                location_id=row["location_id"],
                on_hand=int(row["on_hand"]),
                inbound=[_inbound_po(r) for r in inbound.itertuples()],
                stockout_date=row["stockout_date"],
                days_of_cover=round(float(row["days_of_cover"]), 1),
                stockout_probability=round(float(row["probability"]), 2),
                safety_stock=round(float(plan["safety_stock"]), 1),
                reorder_point=round(float(plan["reorder_point"]), 1),
                end_stock=round(float(p_h.stock[i, -1]), 1),
            )
        )
        days += _day_table(o_h, p_h, i).assign(location_id=row["location_id"]).to_dict("records")
    return StockProjectionResult(
        sku=product["sku"],
        name=product["name"],
        horizon_days=req.horizon_days,
        start=o.today,
        end=o_h.dates[-1].date(),
        locations=locations,
        days=days,
        evidence=Evidence(
            sources=["inventory", "forecasts", "purchase_orders", "po_lines", "suppliers"],
            method="on hand + expected PO receipts - forecast demand, lost sales; gamma cumulative demand risk",
            period=f"{o.today} to {o_h.dates[-1].date()}",
            notes=o.notes
            + [f"PO expected = promised + supplier's mean lateness ({_lateness_note(o_h)})"],
        ),
    )


def _lateness_note(o: Outlook) -> str:
    if o.inbound.empty:
        return "no open POs"
    return ", ".join(f"{r.po_number} {r.lateness_days:+d} d" for r in o.inbound.itertuples())


def _policy_window(store: Store, product: dict) -> int:
    lead = supplier_lead_times(store).loc[product["supplier_id"]]
    return int(min(np.ceil(lead["mean"] + REVIEW_PERIOD_DAYS), 84))


def _truncate(o: Outlook, p: Projection, horizon: int) -> tuple[Outlook, Projection]:
    """The same projection cut to the asked horizon (the stock-out fields recomputed on it)."""
    if horizon == o.horizon:
        return o, p
    cut = Outlook(
        o.keys,
        o.today,
        horizon,
        o.on_hand,
        o.demand[:, :horizon],
        o.variance[:, :horizon],
        o.inbound,
        o.arrival_cdf[:, :horizon],
        o.notes,
    )
    return cut, project(cut)


@tool("reorder_plan", "safety stock, reorder point and order quantity for one SKU", ReorderRequest)
def reorder_plan(ctx: ToolContext, req: ReorderRequest) -> ReorderPlanResult:
    """One plan per location (POs are raised per location); all locations when none is given."""
    store = ctx.store
    product, location_ids = resolve_series(store, req.sku, req.location)
    keys = pd.DataFrame({"sku": product["sku"], "location_id": location_ids})
    horizon = _policy_window(store, product)
    o = load_outlook(store, keys, max(horizon, 1))
    products = store.products(skus=[product["sku"]]).set_index("sku")
    rows = _reorder_rows(store, o, o.keys, products, req.service_level)
    cum = np.cumsum(o.demand, axis=1)
    plans = []
    for i, r in enumerate(rows):
        reach = np.nonzero(r["position"] - cum[i] <= r["reorder_point"])[0]
        plans.append(
            ReorderPlan(
                location_id=location_ids[i],
                supplier_id=r["supplier_id"],
                supplier=r["supplier"],
                avg_daily_demand=round(float(r["d"]), 2),
                demand_sd=round(float(r["sigma_d"]), 2),
                lead_time_days=round(float(r["lead"]), 1),
                lead_time_sd=round(float(r["lead_sd"]), 1),
                lead_time_source=f"{r['lead_source']} ({r['lead_samples']} POs)"
                if r["lead_samples"]
                else r["lead_source"],
                review_days=REVIEW_PERIOD_DAYS,
                safety_stock=round(float(r["safety_stock"]), 1),
                reorder_point=round(float(r["reorder_point"]), 1),
                order_up_to=round(float(r["order_up_to"]), 1),
                on_hand=int(o.on_hand[i]),
                on_order=int(r["on_order"]),
                position=int(r["position"]),
                order_now=bool(r["order_now"]),
                order_qty=int(r["order_qty"]),
                case_pack=int(product["case_pack"]),
                moq=r["moq"],
                expected_arrival=r["arrival"] if r["order_now"] else None,
                next_order_date=(o.today + timedelta(days=int(reach[0]) + 1))
                if not r["order_now"] and len(reach)
                else None,
            )
        )
    return ReorderPlanResult(
        sku=product["sku"],
        name=product["name"],
        service_level=req.service_level,
        z=round(rows[0]["z"], 3),
        plans=plans,
        evidence=Evidence(
            sources=[
                "forecasts",
                "inventory",
                "purchase_orders",
                "po_lines",
                "suppliers",
                "products",
            ],
            method=(
                "SS = z*sqrt(L*sd_d^2 + d^2*sd_L^2); ROP = d*L + SS; order-up-to = d*(L+R) + SS, "
                f"R = {REVIEW_PERIOD_DAYS} d; qty rounded up to case pack, at least MOQ"
            ),
            period=f"{o.today} to {o.dates[-1].date()}",
            notes=o.notes
            + [
                "d and sd_d: forecast mean and error over lead time + review period",
                "position = on hand + open PO quantity",
            ],
        ),
    )
