"""The supply engine: PO receipts, lead times, lateness, expected arrivals, demand, and the
day-by-day stock projection, computed once for every tool that quotes them.

``load_outlook`` gathers on-hand stock, open PO lines (with their expected arrival and arrival
CDF) and the demand forecast of any number of series; ``project`` turns that into expected stock,
first stock-out day, days of cover, units short and stock-out probabilities. Inventory, the buy
list, what-if, supplier orders, e-mail drafts, alert severity and the briefing all read these
numbers from here, so two screens can never disagree about the same series.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np
import pandas as pd
from pydantic import BaseModel
from scipy import stats

from tools.forecasting import cumulative_quantile, forecast_panel, load_history, sigma_from_bounds
from tools.store import Store

WINDOW_DAYS = 365  # trailing window for lead times, lateness and scorecards
OPEN_STATUSES = ("open", "partial")
REVIEW_PERIOD_DAYS = 7  # weekly ordering cycle: the order-up-to level covers lead time + this
MIN_LEAD_SAMPLES = (
    5  # received PO lines needed before history overrides the supplier's stated lead time
)
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
    inbound: pd.DataFrame  # open PO lines, INBOUND_COLUMNS
    arrival_cdf: np.ndarray  # (lines, H): P(line has arrived by the end of day t)
    notes: list[str] = field(default_factory=list)
    lateness: dict[str, np.ndarray] = field(default_factory=dict)  # per supplier, sorted

    @property
    def dates(self) -> pd.DatetimeIndex:
        return pd.date_range(self.today, periods=self.horizon, freq="D")


def receipt_lines(store: Store, today: date) -> pd.DataFrame:
    """Received PO lines due (promised) in the trailing window, with lead and late days.

    The one definition of a receipt sample: lead times, lateness, expected arrivals and the
    scorecards all read it (SOP-24 scores lines, so lines are the unit everywhere)."""
    due = due_in_window(line_facts(store), today)
    got = due[due.receipt_date.notna()]
    return got.assign(
        lead_days=(got.receipt_date - got.order_date).dt.days,
        late_days=(got.receipt_date - got.promised_date).dt.days,
    )


def supplier_lateness(store: Store, today: date) -> dict[str, np.ndarray]:
    """Days late (receipt - promise, negative = early) of each supplier's receipts, sorted."""
    got = receipt_lines(store, today)
    return {s: np.sort(g.to_numpy(dtype=float)) for s, g in got.groupby("supplier_id")["late_days"]}


def supplier_lead_times(store: Store, today: date | None = None) -> pd.DataFrame:
    """Lead time mean/sd per supplier: from receipts when there are enough, else master data."""
    today = today or store.today()
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
    hist = (
        receipt_lines(store, today).groupby("supplier_id")["lead_days"].agg(["mean", "std", "size"])
    )
    ok = hist.index[hist["size"] >= MIN_LEAD_SAMPLES].intersection(out.index)
    out.loc[ok, "mean"] = hist.loc[ok, "mean"]
    out.loc[ok, "sd"] = hist.loc[ok, "std"].fillna(0.0)
    out.loc[ok, "samples"] = hist.loc[ok, "size"]
    out.loc[ok, "source"] = "received PO lines"
    return out


INBOUND_COLUMNS = [
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


def open_lines(store: Store, keys: pd.DataFrame) -> pd.DataFrame:
    """Open PO lines of the series in ``keys``: series index, outstanding qty, promise, supplier."""
    lines = store.po_lines(statuses=list(OPEN_STATUSES), skus=keys["sku"].unique().tolist())
    lines = lines.assign(qty=lines["qty_ordered"] - lines["qty_received"])
    index = pd.Series(
        np.arange(len(keys)), index=pd.MultiIndex.from_frame(keys[["sku", "location_id"]])
    )
    lines["series"] = index.reindex(
        pd.MultiIndex.from_frame(lines[["sku", "location_id"]])
    ).to_numpy()
    lines = lines[(lines["qty"] > 0) & lines["series"].notna()].reset_index(drop=True)
    lines["series"] = lines["series"].astype(int)
    lines["promised_date"] = pd.to_datetime(lines["promised_date"]).dt.date
    return lines[
        ["series", "sku", "location_id", "po_number", "qty", "promised_date", "supplier_id"]
    ]


def arrivals(
    lines: pd.DataFrame, lateness: dict[str, np.ndarray], today: date, horizon: int
) -> tuple[pd.DataFrame, np.ndarray]:
    """Expected arrival and arrival CDF of open PO lines (columns of ``open_lines``).

    A line is expected at its promise shifted by the supplier's mean lateness. A line that is
    already overdue is judged only against the past receipts that were at least as late, so a PO
    five days late from a supplier that is usually two days late is not assumed to be 'due'.
    """
    lines = lines.reset_index(drop=True)
    cdf = np.zeros((len(lines), horizon))
    expected, shift = [], []
    steps = np.arange(horizon)
    for i, row in enumerate(lines.itertuples()):
        promised = row.promised_date
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
    return lines[INBOUND_COLUMNS], cdf


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
    if (on_hand < 0).any():  # a data error (SOP-09): stock cannot be negative
        notes.append(f"{int((on_hand < 0).sum())} series booked below zero: projected from 0")
        on_hand = np.maximum(on_hand, 0.0)
    lateness = supplier_lateness(store, today)
    inbound, cdf = arrivals(open_lines(store, keys), lateness, today, horizon)
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
        lateness,
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
    stock, first_out, cover, short, days_out = _expected_path(o.on_hand, receipts, o.demand)
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
        units_short=short,
        stockout_days=days_out,
    )
    return Projection(summary, stock, receipts, risk)


def _expected_path(on_hand, receipts, demand):
    """Day-by-day stock at expected demand with lost sales; first day it runs out; days of cover
    (days until the projected stock, receipts included, runs out); units short; days out."""
    n, h = demand.shape
    stock = np.zeros((n, h))
    first_out = np.full(n, -1)
    cover = np.full(n, np.nan)
    short = np.zeros(n)  # expected demand not served (lost sales) over the horizon
    days_out = np.zeros(n, dtype=int)  # days that end with no stock
    level = on_hand.astype(float).copy()
    for t in range(h):
        available = level + receipts[:, t]
        end = available - demand[:, t]
        short += np.maximum(-end, 0.0)
        days_out += (end <= 0) & (demand[:, t] > 0)
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
    return stock, first_out, np.minimum(cover, MAX_DAYS_OF_COVER), short, days_out


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
    return day_table(o, project(o), 0)


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


def day_table(o: Outlook, p: Projection, i: int) -> pd.DataFrame:
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


def reorder_rows(
    store: Store,
    o: Outlook,
    rows: pd.DataFrame,
    products: pd.DataFrame,
    service_level: float = 0.95,
) -> list[dict]:
    """Reorder policy for some series of an outlook, with demand over lead time + review."""
    if rows.empty:
        return []
    lead = supplier_lead_times(store, o.today)
    z = float(stats.norm.ppf(service_level))
    sup = products.loc[rows["sku"], "supplier_id"].to_numpy()
    L, L_sd = lead.loc[sup, "mean"].to_numpy(float), lead.loc[sup, "sd"].to_numpy(float)
    # each series over its own supplier's lead time + review period (a buy list mixes suppliers)
    window = np.clip(np.ceil(L + REVIEW_PERIOD_DAYS), 1, o.horizon)
    idx = rows.index.to_numpy()
    inside = np.arange(o.horizon)[None, :] < window[:, None]
    d = (o.demand[idx] * inside).sum(axis=1) / window
    sigma_d = np.sqrt((o.variance[idx] * inside).sum(axis=1) / window)
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


# -- PO facts ----------------------------------------------------------------------------------
LINE_COLUMNS = [
    "po_number",
    "line_no",
    "sku",
    "supplier_id",
    "location_id",
    "order_date",
    "promised_date",
    "status",
    "receipt_date",
    "qty_ordered",
    "qty_received",
    "in_full",
]


def line_facts(store: Store) -> pd.DataFrame:
    """One row per PO line with its receipt date (line date, else the header's once anything
    arrived: importers differ in where they book it) and whether it arrived in full."""
    lines = store.po_lines()
    if lines.empty:  # typed, so date arithmetic on an empty frame still works
        dates = ("order_date", "promised_date", "receipt_date")
        return pd.DataFrame(
            {c: pd.Series(dtype="datetime64[ns]" if c in dates else object) for c in LINE_COLUMNS}
        )
    header = lines.po_received_date.where(lines.qty_received > 0)
    lines["receipt_date"] = pd.to_datetime(
        lines.received_date.where(lines.received_date.notna(), header)
    )
    lines["in_full"] = (lines.qty_received >= lines.qty_ordered) & lines.receipt_date.notna()
    for column in ("order_date", "promised_date"):
        lines[column] = pd.to_datetime(lines[column])
    return lines[LINE_COLUMNS]


def po_headers(lines: pd.DataFrame) -> pd.DataFrame:
    """One row per PO: header fields, units ordered / received, last receipt date."""
    return (
        lines.groupby("po_number", sort=True)
        .agg(
            supplier_id=("supplier_id", "first"),
            location_id=("location_id", "first"),
            order_date=("order_date", "first"),
            promised_date=("promised_date", "first"),
            status=("status", "first"),
            receipt_date=("receipt_date", "max"),
            qty_ordered=("qty_ordered", "sum"),
            qty_received=("qty_received", "sum"),
        )
        .reset_index()
    )


def due_in_window(frame: pd.DataFrame, today: date, days: int = WINDOW_DAYS) -> pd.DataFrame:
    """Rows (PO lines or POs) whose promised date lies in the trailing window; cancelled excluded."""
    start, end = pd.Timestamp(today - timedelta(days=days)), pd.Timestamp(today - timedelta(days=1))
    return frame[frame.promised_date.between(start, end) & (frame.status != "cancelled")]


def typical_delay_days(store: Store, today: date) -> dict[str, int]:
    """Per supplier: mean signed delay of its receipts, rounded, never negative (early deliveries
    offset late ones; an early-on-average supplier is expected on time)."""
    got = receipt_lines(store, today)
    means = got.groupby("supplier_id")["late_days"].mean()
    return {s: max(0, int(round(v))) for s, v in means.items()}


def series_outlook(store: Store, pairs: list[tuple[str, str]], horizon: int) -> pd.DataFrame:
    """The projection summary (on_hand, days_of_cover, stockout_date, probability, ...) of the
    given (sku, location_id) pairs, one row each: what alerts and e-mails quote."""
    keys = pd.DataFrame(sorted(set(pairs)), columns=["sku", "location_id"])
    if keys.empty:
        return project_summary_columns()
    return project(load_outlook(store, keys, horizon)).summary


def project_summary_columns() -> pd.DataFrame:
    columns = ["sku", "location_id", "on_hand", "days_of_cover", "stockout_date", "probability"]
    return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})
