"""Anomaly detection over sales, inventory and POs: the rules, severities and alert rows.

``scan_anomalies`` loads the recent daily panel of every (SKU, location) series as numpy
arrays and applies vectorised rules, close to the ones the alert SOPs describe:

- demand_spike: sales above the rolling 28-day median (or last week's, if higher) by more than
  4 robust standard deviations (MAD), by at least 10 units, to at least 3x that level and 1.8x
  the series' usual 99th-percentile day; two or more elevated days in a row pass at lower bars
  (3 sd, 2.5x, above p99). Daily demand is heavy-tailed, so lone days need the strict bars.
  Promotion days are judged against the promotion-adjusted level (lift learned from history).
- demand_drop: 14-day windows selling under 40% of the 28-day level before them (and 3.5 sd
  below it), judged only on days that ended with stock: a stock-out censors sales, it is not
  a drop.
- data_error: records that cannot be right: negative on-hand, sales the stock movement does
  not show (a fat-finger 10x booking), sales above 10x the series' 99th percentile where the
  stock balance cannot confirm them.
- shrinkage: on-hand falling by more than sales explain, net of receipts.
- supplier_delay: POs a week or more past their promised date (open, or received that late);
  ``supplier_orders`` lists every late PO, alerts are for the unusual ones.

Alerts go to the ``alerts`` table with structured JSON evidence, so ``explain_alert`` can rank
likely causes later without rescanning. Thresholds are module constants, named once.
"""

from __future__ import annotations

import json
import warnings
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import numpy as np
import pandas as pd

from tools.alert_types import KINDS, SEVERITIES, AlertKind, Severity
from tools.anomaly_panel import Panel, load_panel, nan_quantile_rows, rolling_median_mad
from tools.store import Store
from tools.supply import OPEN_STATUSES, line_facts, po_headers, series_outlook, typical_delay_days

BASELINE_DAYS = 28  # rolling window of the robust level
MIN_BASELINE_DAYS = 7  # fewer clean days: no judgement
MAD_SCALE = 1.4826  # MAD -> standard deviation for normal data
SPIKE_Z = 4.0
SPIKE_MIN_UNITS = 10  # SOP-06: a spike is at least this many units above the median
SPIKE_RATIO = 3.0  # and at least 3x the usual level: daily demand is heavy-tailed
SPIKE_P99_FACTOR = 1.8  # and clearly above the series' usual 99th-percentile day
SPIKE_MIN_LEVEL = 1.0  # series selling under a unit a day (lumpy) have no meaningful spikes
SPIKE_RECENT_DAYS = 7
SPIKE_RUN_Z, SPIKE_RUN_RATIO = 3.0, 2.5  # bars for days that are elevated two or more in a row
DROP_WINDOW = 14  # two weeks: single weeks of heavy-tailed demand dip by chance
DROP_RATIO = 0.4  # under 40% of the usual level
DROP_Z = 3.5
DROP_MIN_LEVEL = 1.0  # only series that normally sell at least a unit a day
DROP_MIN_OPEN_DAYS = 10  # uncensored days needed in a window
ERROR_P99_FACTOR = 10.0  # SOP-09: sales above 10x the usual 99th percentile day
MIN_HISTORY_DAYS = 90  # days of sales history before a series' p99 means anything
ERROR_MIN_UNITS = 3  # booked sales missing from the stock movement by at least this much...
ERROR_SHARE = 0.5  # ...and by at least half the booking
SHRINK_MIN_UNITS = 2
SHRINK_MIN_SHARE = 0.02  # SOP-11: more than 2% of on-hand...
SHRINK_MIN_VALUE = 500.0  # ...or more than EUR 500 at cost
DELAY_OUTLOOK_DAYS = 28  # horizon of the stock projection that grades a late PO
DELAY_ALERT_DAYS = 7  # ordinary slippage is a few days; a week past the promise is an anomaly
CONTEXT_DAYS = 7  # days before an event kept in the evidence series window


def _num(value) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return "n/a"
    return f"{value:.0f}" if float(value).is_integer() or abs(value) >= 100 else f"{value:.1f}"


# -- detectors ----------------------------------------------------------------------------------
@dataclass
class Finding:
    """One detected event before it becomes an alert row."""

    kind: AlertKind
    series: int | None
    first: int  # panel columns
    last: int
    observed: float
    expected_low: float
    expected_high: float
    value: float  # EUR impact used for severity
    facts: dict
    po_number: str | None = None
    supplier_id: str | None = None
    location_id: str | None = None
    dates: tuple[date, date] | None = None  # PO alerts: promised date .. last day seen late
    severity: Severity = "medium"


def balance_residual(p: Panel) -> np.ndarray:
    """Units the stock lost beyond what sales explain: on_hand[t-1] + receipts[t] - sales[t] -
    on_hand[t]. Positive: unexplained loss; negative: sales booked that stock never showed."""
    out = np.full(p.sales.shape, np.nan, np.float32)
    out[:, 1:] = p.on_hand[:, :-1] + p.receipts[:, 1:] - p.sales[:, 1:] - p.on_hand[:, 1:]
    return out


def usual_p99(p: Panel, errors: np.ndarray) -> np.ndarray:
    """Each series' 99th-percentile day before the scan window, promotions and errors left out."""
    hist = p.sales[:, : p.w0].copy()
    hist[(p.discount[:, : p.w0] > 0) | errors[:, : p.w0]] = np.nan
    return nan_quantile_rows(hist, 0.99)


def detect_data_errors(p: Panel, residual: np.ndarray) -> tuple[list[Finding], np.ndarray]:
    """Negative on-hand, sales the stock never showed, absurd sales (10x the usual p99)."""
    negative = p.on_hand < 0
    phantom = (residual <= -ERROR_MIN_UNITS) & (-residual >= ERROR_SHARE * p.sales)
    # the day after a negative booking carries its mirror image, not a new error
    after_negative = np.zeros_like(negative)
    after_negative[:, 1:] = negative[:, :-1]
    phantom &= ~negative & ~after_negative
    # A sale the stock movement confirms is real, however large (a launch, a bulk order): the
    # p99 rule only judges days whose stock balance cannot be checked.
    history = np.sum(~np.isnan(p.sales[:, : p.w0]), axis=1) >= MIN_HISTORY_DAYS
    p99 = np.maximum(usual_p99(p, negative | phantom), 1.0)
    absurd = history[:, None] & (p.sales > ERROR_P99_FACTOR * p99[:, None]) & np.isnan(residual)
    errors = negative | phantom | absurd
    findings = []
    for s, c in zip(*np.nonzero(errors[:, p.w0 :]), strict=True):
        c = int(c) + p.w0
        findings.append(
            _data_error(p, int(s), c, residual, bool(negative[s, c]), bool(absurd[s, c]))
        )
    return findings, errors | after_negative


def _data_error(
    p: Panel, s: int, c: int, residual: np.ndarray, negative: bool, absurd: bool
) -> Finding:
    cost = float(p.keys.unit_cost.iat[s] or 0)
    expected_stock = (
        float(p.on_hand[s, c - 1] + p.receipts[s, c] - p.sales[s, c]) if c else float("nan")
    )
    if negative:
        units = float(p.on_hand[s, c])
        facts = {
            "rule": "negative on-hand",
            "table": "inventory",
            "on_hand": units,
            "expected_on_hand": expected_stock,
        }
        return Finding(
            "data_error",
            s,
            c,
            c,
            units,
            max(0.0, expected_stock),
            max(0.0, expected_stock),
            abs(units) * cost,
            facts,
        )
    booked = float(p.sales[s, c])
    moved = booked + float(residual[s, c]) if not np.isnan(residual[s, c]) else float("nan")
    rule = "sales above 10x the usual p99" if absurd else "sales not reflected in stock"
    facts = {
        "rule": rule,
        "table": "sales",
        "sales_booked": booked,
        "stock_movement": moved,
        "ratio": round(booked / moved, 1) if moved and moved > 0 else None,
    }
    low = max(0.0, moved) if not np.isnan(moved) else 0.0
    return Finding("data_error", s, c, c, booked, low, low, abs(booked - low) * cost, facts)


def detect_shrinkage(p: Panel, residual: np.ndarray, errors: np.ndarray) -> list[Finding]:
    before = p.on_hand[:, :-1] + p.receipts[:, 1:]
    share = np.zeros_like(residual)
    share[:, 1:] = residual[:, 1:] / np.maximum(before, 1)
    value = residual * p.keys.unit_cost.fillna(0).to_numpy(np.float32)[:, None]
    clean = ~errors & (p.on_hand >= 0)
    clean[:, 1:] &= p.on_hand[:, :-1] >= 0
    hit = (
        clean
        & (residual >= SHRINK_MIN_UNITS)
        & ((share > SHRINK_MIN_SHARE) | (value > SHRINK_MIN_VALUE))
    )
    findings = []
    for s, first, last in _runs(hit[:, p.w0 :]):
        a, b = first + p.w0, last + p.w0
        lost = float(np.nansum(residual[s, a : b + 1]))
        expected = float(p.on_hand[s, b] + lost)
        facts = {
            "rule": "on-hand fell more than sales and receipts explain",
            "units_lost": lost,
            "receipts": float(p.receipts[s, a : b + 1].sum()),
            "on_hand_after": float(p.on_hand[s, b]),
            "value_at_cost": round(lost * float(p.keys.unit_cost.iat[s] or 0), 2),
        }
        findings.append(
            Finding(
                "shrinkage",
                s,
                a,
                b,
                float(p.on_hand[s, b]),
                expected,
                expected,
                facts["value_at_cost"],
                facts,
            )
        )
    return findings


def promotion_lift(p: Panel, errors: np.ndarray) -> dict[float, float]:
    """Typical sales lift per discount level, measured on past promotion days of all series
    (median of promo-day sales over the series' median non-promotion day)."""
    hist = p.sales[:, : p.w0].copy()
    hist[errors[:, : p.w0] | (p.on_hand[:, : p.w0] <= 0)] = np.nan
    promo = p.discount[:, : p.w0]
    base = np.where(promo > 0, np.nan, hist)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        level = np.nanmedian(base, axis=1)
    lifts: dict[float, float] = {}
    for d in np.unique(promo[promo > 0]):
        rows, cols = np.nonzero(promo == d)
        ratio = hist[rows, cols] / np.maximum(level[rows], 1.0)
        ratio = ratio[~np.isnan(ratio) & (level[rows] >= 2)]
        if ratio.size >= 20:
            lifts[float(d)] = float(np.median(ratio))
    return lifts


def _lift_array(p: Panel, lifts: dict[float, float]) -> np.ndarray:
    window = p.discount[:, p.w0 :]
    out = np.ones_like(window)
    fallback = float(np.median(list(lifts.values()))) if lifts else 1.0
    for d in np.unique(window[window > 0]):
        out[window == d] = max(1.0, lifts.get(float(d), fallback))
    return out


def detect_spikes(p: Panel, errors: np.ndarray) -> list[Finding]:
    clean = np.where(errors | (p.discount > 0) | (p.on_hand <= 0), np.nan, p.sales)
    median, mad, n = rolling_median_mad(clean, p.w0, p.lookback, BASELINE_DAYS)
    # a rising series (launch ramp, trend) is judged against its last week if that is higher
    recent, _, n_recent = rolling_median_mad(clean, p.w0, p.lookback, SPIKE_RECENT_DAYS)
    base = np.where(n_recent >= 4, np.fmax(median, recent), median)
    lift = _lift_array(p, promotion_lift(p, errors))
    level = base * lift
    scale = np.maximum(MAD_SCALE * mad, np.sqrt(np.maximum(level, 1.0))) * np.sqrt(lift)
    x = p.sales[:, p.w0 :]
    p99 = usual_p99(p, errors)[:, None] * lift
    with np.errstate(invalid="ignore"):
        usable = (n >= MIN_BASELINE_DAYS) & (base >= SPIKE_MIN_LEVEL) & ~errors[:, p.w0 :]
        usable &= (x - level) >= SPIKE_MIN_UNITS
        strong = (
            usable
            & ((x - level) > SPIKE_Z * scale)
            & (x >= SPIKE_RATIO * level)
            & (x > SPIKE_P99_FACTOR * p99)
        )
        # Natural heavy-tail days come alone; two elevated days in a row are a sustained jump
        # and pass at lower bars.
        weak = (
            usable
            & ((x - level) > SPIKE_RUN_Z * scale)
            & (x >= SPIKE_RUN_RATIO * level)
            & (x > p99)
        )
    paired = weak & (np.roll(weak, 1, axis=1) | np.roll(weak, -1, axis=1))
    paired[:, 0] &= weak[:, 1]
    paired[:, -1] &= weak[:, -2]
    hit = strong | paired
    findings = []
    for s, first, last in _runs(hit):
        peak = first + int(np.nanargmax(x[s, first : last + 1]))
        a, b = first + p.w0, last + p.w0
        lo = max(0.0, float(level[s, peak] - 2 * scale[s, peak]))
        hi = float(level[s, peak] + 2 * scale[s, peak])
        excess = float(np.nansum(x[s, first : last + 1] - level[s, first : last + 1]))
        facts = {
            "rule": f"sales > rolling {BASELINE_DAYS}-day median + {SPIKE_Z:g} robust sd, >= {SPIKE_MIN_UNITS} units",
            "peak_date": p.day(peak + p.w0).isoformat(),
            "peak_units": float(x[s, peak]),
            "median": float(median[s, peak]),
            "mad": float(mad[s, peak]),
            "p99": float(p99[s, peak]),
            "promotion_lift": float(lift[s, peak]),
            "excess_units": round(excess, 1),
            "z": round(float((x[s, peak] - level[s, peak]) / scale[s, peak]), 1),
        }
        findings.append(
            Finding(
                "demand_spike",
                s,
                a,
                b,
                float(x[s, peak]),
                lo,
                hi,
                excess * float(p.keys.price.iat[s] or 0),
                facts,
            )
        )
    return findings


def detect_drops(p: Panel, errors: np.ndarray) -> list[Finding]:
    """7-day windows (ending in the scan window) that sold under half the level of the 28 days
    before them, counting only days that ended with stock on hand."""
    open_day = (p.on_hand > 0) & ~errors & ~np.isnan(p.sales)
    clean = np.where(open_day & (p.discount == 0), p.sales, np.nan)
    first = p.w0 - DROP_WINDOW + 1  # the first window starts here
    median, mad, n = rolling_median_mad(clean, first, p.lookback, BASELINE_DAYS)
    sold = np.where(open_day, p.sales, 0.0)
    csum = np.concatenate([np.zeros((len(sold), 1)), np.cumsum(sold, axis=1)], axis=1)
    ccount = np.concatenate([np.zeros((len(sold), 1)), np.cumsum(open_day, axis=1)], axis=1)
    ends = np.arange(p.w0, p.w0 + p.lookback) + 1
    observed = csum[:, ends] - csum[:, ends - DROP_WINDOW]
    days = ccount[:, ends] - ccount[:, ends - DROP_WINDOW]
    expected = median * days
    sd = np.maximum(MAD_SCALE * mad, np.sqrt(np.maximum(median, 1.0))) * np.sqrt(
        np.maximum(days, 1)
    )
    with np.errstate(invalid="ignore", divide="ignore"):
        hit = (
            (n >= MIN_BASELINE_DAYS)
            & (median >= DROP_MIN_LEVEL)
            & (days >= DROP_MIN_OPEN_DAYS)
            & (observed < DROP_RATIO * expected)
            & ((observed - expected) / sd < -DROP_Z)
        )
    findings = []
    # Every day of a flagged window is covered; overlapping windows make one event.
    covered = np.zeros((hit.shape[0], hit.shape[1] + DROP_WINDOW - 1), bool)
    for k in range(DROP_WINDOW):
        covered[:, k : k + hit.shape[1]] |= hit
    for s, a_win, last in _runs(covered):
        a, b = first + a_win, first + last  # a_win is also the index of the first flagged window
        level = float(median[s, a_win])
        while a < b and (not open_day[s, a] or p.sales[s, a] >= DROP_RATIO * level):
            a += 1  # the event starts on its first low day, not where its first window starts
        span = slice(a, b + 1)
        days_open = int(open_day[s, span].sum())
        obs = float(np.nansum(np.where(open_day[s, span], p.sales[s, span], 0)))
        spread = (
            2
            * max(MAD_SCALE * float(mad[s, a_win]), np.sqrt(max(level, 1.0)))
            * np.sqrt(max(days_open, 1))
        )
        facts = {
            "rule": f"{DROP_WINDOW}-day sales < {DROP_RATIO:.0%} of the prior {BASELINE_DAYS}-day level",
            "median_before": level,
            "days_with_stock": days_open,
            "days": b - a + 1,
            "stockout_days": int((p.on_hand[s, span] <= 0).sum()),
            "drop_share": round(1 - obs / max(level * days_open, 1e-9), 2),
        }
        findings.append(
            Finding(
                "demand_drop",
                s,
                a,
                b,
                obs,
                max(0.0, level * days_open - spread),
                level * days_open + spread,
                max(0.0, level * days_open - obs) * float(p.keys.price.iat[s] or 0),
                facts,
            )
        )
    return findings


def _runs(mask: np.ndarray):
    """(row, first, last) of each run of consecutive True values along axis 1."""
    padded = np.zeros((mask.shape[0], mask.shape[1] + 2), bool)
    padded[:, 1:-1] = mask
    diff = np.diff(padded.astype(np.int8), axis=1)
    starts, ends = np.nonzero(diff == 1), np.nonzero(diff == -1)
    for s, a, b in zip(starts[0], starts[1], ends[1] - 1, strict=True):
        yield int(s), int(a), int(b)


def detect_supplier_delays(store: Store, today: date, lookback: int) -> list[Finding]:
    """Open POs at least DELAY_ALERT_DAYS past their promised date, and POs received that late
    within the scan window."""
    facts = line_facts(store)
    if facts.empty:
        return []
    po = po_headers(facts)
    usual = typical_delay_days(store, today)
    start = pd.Timestamp(today - timedelta(days=lookback))
    now = pd.Timestamp(today)
    is_open = po.status.isin(OPEN_STATUSES)
    late_open = is_open & ((now - po.promised_date).dt.days >= DELAY_ALERT_DAYS)
    done = po.status == "received"
    late_done = (
        done
        & (po.receipt_date >= start)
        & ((po.receipt_date - po.promised_date).dt.days >= DELAY_ALERT_DAYS)
    )
    findings = []
    late = po[late_open | late_done]
    lines = {k: g for k, g in facts[facts.po_number.isin(late.po_number)].groupby("po_number")}
    for row in late.itertuples():
        open_now = row.status in OPEN_STATUSES
        end = (now - pd.Timedelta(days=1)) if open_now else row.receipt_date
        days_late = int(((now if open_now else row.receipt_date) - row.promised_date).days)
        items = lines[row.po_number]
        facts_row = {
            "rule": f"PO {'still open' if open_now else 'received'} {days_late} days after the promised date",
            "status": row.status,
            "order_date": row.order_date.date().isoformat(),
            "promised_date": row.promised_date.date().isoformat(),
            "received_date": None if open_now else row.receipt_date.date().isoformat(),
            "days_late": days_late,
            "supplier_usual_delay_days": usual.get(row.supplier_id, 0),
            "lines": [
                {
                    "sku": r.sku,
                    "qty_ordered": int(r.qty_ordered),
                    "qty_outstanding": int(max(0, r.qty_ordered - r.qty_received)),
                }
                for r in items.itertuples()
            ],
        }
        findings.append(
            Finding(
                "supplier_delay",
                None,
                0,
                0,
                float(days_late),
                float(usual.get(row.supplier_id, 0)),
                float(usual.get(row.supplier_id, 0)),
                0.0,
                facts_row,
                po_number=row.po_number,
                supplier_id=row.supplier_id,
                location_id=row.location_id,
                dates=(row.promised_date.date(), end.date()),
            )
        )
    return findings


# -- severity ----------------------------------------------------------------------------------
def _level(value: float, limits: tuple[float, float, float]) -> str:
    """value vs (medium, high, critical) limits."""
    for name, limit in zip(SEVERITIES[:3], reversed(limits), strict=True):
        if value >= limit:
            return name
    return "low"


def grade(p: Panel, f: Finding) -> str:
    """Severity from magnitude and stock/financial impact, following the alert SOPs."""
    if f.kind == "data_error":  # never below medium: SOP-09 blocks decisions on the data
        return _level(max(f.value, 1.0), (0.0, 1_000, 10_000))
    if f.kind == "shrinkage":  # SOP-11 approval limits
        return _level(f.value, (SHRINK_MIN_VALUE, 1_000, 2_500))
    if f.kind == "supplier_delay":
        return f.severity
    s = f.series
    a_class = bool(p.keys.a_class.iat[s])
    if f.kind == "demand_spike":  # SOP-06
        after = p.on_hand[s, f.first : p.w0 + p.lookback]
        if np.nanmin(after) <= 0:
            f.facts["stockout_after"] = True
            return "critical"
        stock_before = float(p.on_hand[s, f.first - 1])
        if a_class or f.facts["excess_units"] > 0.5 * max(stock_before, 0):
            return "high"
        return "medium"
    # demand_drop (SOP-08): A-class is high, else medium
    return "high" if a_class else "medium"


def _delay_severity(store: Store, findings: list[Finding], today: date) -> None:
    """SOP-10: critical if a SKU on the PO is projected to stock out within 3 days, high within 7."""
    pairs = [
        (ln["sku"], f.location_id)
        for f in findings
        if f.facts["status"] != "received"
        for ln in f.facts["lines"]
        if ln["qty_outstanding"] > 0
    ]
    # the same projection the stock-out list and the e-mail drafts quote (one engine)
    summary = series_outlook(store, pairs, DELAY_OUTLOOK_DAYS)
    cover = {(r["sku"], r["location_id"]): r for r in summary.to_dict("records")}
    for f in findings:
        if f.facts["status"] == "received":
            f.severity = "medium" if f.observed >= 2 * DELAY_ALERT_DAYS else "low"
            continue
        outs = [
            cover[(ln["sku"], f.location_id)]
            for ln in f.facts["lines"]
            if ln["qty_outstanding"] > 0
        ]
        days = [(o["stockout_date"] - today).days for o in outs if o["stockout_date"]]
        soonest = min(days) if days else None
        f.facts["stock_impact"] = [
            {
                "sku": o["sku"],
                "on_hand": float(o["on_hand"]),
                "days_of_cover": round(float(o["days_of_cover"]), 1),
                "stockout_date": o["stockout_date"].isoformat() if o["stockout_date"] else None,
            }
            for o in outs
        ]
        f.severity = (
            "critical"
            if soonest is not None and soonest <= 3
            else "high"
            if soonest is not None and soonest <= 7
            else "medium"
        )


# -- from findings to alert rows ---------------------------------------------------------------------
def _series_window(p: Panel, s: int, a: int, b: int) -> dict:
    lo = max(0, a - CONTEXT_DAYS)
    cols = range(lo, b + 1)
    return {
        "dates": [p.day(c).isoformat() for c in cols],
        "sales": [None if np.isnan(p.sales[s, c]) else float(p.sales[s, c]) for c in cols],
        "on_hand": [None if np.isnan(p.on_hand[s, c]) else float(p.on_hand[s, c]) for c in cols],
        "receipts": [float(p.receipts[s, c]) for c in cols],
        "discount_pct": [float(p.discount[s, c]) for c in cols],
    }


def _summary(f: Finding, sku: str | None, loc: str | None, start: date, end: date) -> str:
    where = f"{sku} at {loc}"
    period = start.isoformat() if start == end else f"{start.isoformat()}..{end.isoformat()}"
    x = f.facts
    if f.kind == "demand_spike":
        return (
            f"{where} sold {_num(f.observed)} on {x['peak_date']} vs {_num(f.expected_low)}-"
            f"{_num(f.expected_high)} expected ({period})"
        )
    if f.kind == "demand_drop":
        return (
            f"{where} sold {_num(f.observed)} in {period} vs {_num(f.expected_low)}-{_num(f.expected_high)} "
            f"expected ({x['drop_share']:.0%} below, {x['days_with_stock']} days with stock)"
        )
    if f.kind == "data_error":
        if x["table"] == "inventory":
            return f"{where} on-hand booked as {_num(f.observed)} on {period}: stock cannot be negative"
        return (
            f"{where} sales booked {_num(f.observed)} on {period} but stock fell by "
            f"{_num(x['stock_movement'])}: likely entry error"
        )
    if f.kind == "shrinkage":
        return (
            f"{where} lost {_num(x['units_lost'])} units on {period} not explained by sales or receipts "
            f"(EUR {x['value_at_cost']:,.0f} at cost)"
        )
    state = "still open" if x["status"] != "received" else f"received {x['received_date']}"
    return (
        f"{f.po_number} from {f.supplier_id} to {f.location_id} {x['days_late']} days late: promised "
        f"{x['promised_date']}, {state}"
    )


def _alert_rows(
    p: Panel, findings: list[Finding], promotions: pd.DataFrame, now: datetime
) -> pd.DataFrame:
    rows = []
    for f in findings:
        if f.kind == "supplier_delay":
            (start, end), loc = f.dates, f.location_id
            skus = [ln["sku"] for ln in f.facts["lines"]]
            sku = skus[0] if len(skus) == 1 else None
        else:
            start, end = p.day(f.first), p.day(f.last)
            sku, loc = p.keys.sku.iat[f.series], p.keys.location_id.iat[f.series]
            f.facts["series_window"] = _series_window(p, f.series, f.first, f.last)
            f.facts["promotions"] = _promotions_near(promotions, sku, loc, start, end)
        rows.append(
            {
                "created_at": now,
                "kind": f.kind,
                "severity": f.severity,
                "status": "open",
                "sku": sku,
                "location_id": loc,
                "supplier_id": f.supplier_id,
                "po_number": f.po_number,
                "start_date": start,
                "end_date": end,
                "observed": round(f.observed, 2),
                "expected_low": round(f.expected_low, 2),
                "expected_high": round(f.expected_high, 2),
                "summary": _summary(f, sku, loc, start, end),
                "evidence": json.dumps(_jsonable(f.facts)),
            }
        )
    frame = pd.DataFrame(
        rows,
        columns=[
            "created_at",
            "kind",
            "severity",
            "status",
            "sku",
            "location_id",
            "supplier_id",
            "po_number",
            "start_date",
            "end_date",
            "observed",
            "expected_low",
            "expected_high",
            "summary",
            "evidence",
        ],
    )
    frame["_sev"] = frame.severity.map(SEVERITIES.index)
    frame["_kind"] = frame.kind.map(KINDS.index)
    frame = frame.sort_values(
        ["_sev", "_kind", "end_date", "sku", "location_id", "po_number"],
        ascending=[True, True, False, True, True, True],
        na_position="last",
    )
    frame.insert(0, "alert_id", [f"A-{i}" for i in range(1, len(frame) + 1)])
    return frame.drop(columns=["_sev", "_kind"]).reset_index(drop=True)


def _promotions_near(
    promotions: pd.DataFrame, sku: str, loc: str, start: date, end: date
) -> list[dict]:
    """Promotions of the SKU at the location (or everywhere) overlapping the event or the week before.
    ``promotions`` has Timestamp start/end columns and is indexed by sku."""
    if sku not in promotions.index:
        return []
    near = promotions.loc[[sku]]
    near = near[
        (near.location_id.isna() | (near.location_id == loc))
        & (near.start_date <= pd.Timestamp(end + timedelta(days=1)))
        & (near.end_date >= pd.Timestamp(start - timedelta(days=CONTEXT_DAYS)))
    ]
    return [
        {
            "promo_id": r.promo_id,
            "start_date": r.start_date.date().isoformat(),
            "end_date": r.end_date.date().isoformat(),
            "discount_pct": float(r.discount_pct),
        }
        for r in near.itertuples()
    ]


def _jsonable(value):
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and np.isnan(value):
        return None
    if isinstance(value, date):
        return value.isoformat()
    return value


# -- the scan ----------------------------------------------------------------------------------------
def scan(store: Store, lookback_days: int = 28, today: date | None = None) -> pd.DataFrame:
    """All alerts for the last ``lookback_days`` as rows of the alerts table (not written)."""
    today = today or store.today()
    p = load_panel(store, today, lookback_days)
    residual = balance_residual(p)
    errors, error_mask = detect_data_errors(p, residual)
    findings = errors + detect_shrinkage(p, residual, error_mask)
    findings += detect_spikes(p, error_mask) + detect_drops(p, error_mask)
    for f in findings:
        f.severity = grade(p, f)
    delays = detect_supplier_delays(store, today, lookback_days)
    _delay_severity(store, delays, today)
    promotions = store.promotions(start=p.dates[0].date(), end=today)
    for column in ("start_date", "end_date"):
        promotions[column] = pd.to_datetime(promotions[column])
    promotions = promotions.set_index("sku", drop=False)
    return _alert_rows(
        p, findings + delays, promotions, datetime.combine(today, datetime.min.time())
    )
