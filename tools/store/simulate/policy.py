"""Stock day by day under the planners' replenishment policy: sales, lost sales, order lines."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pandas as pd

from tools.store.simulate.catalogue import Catalog
from tools.store.simulate.demand import Series

ARRIVAL_PAD = 90  # days after the horizon that late arrivals may still land on
LATE_LABEL_DAYS = 7  # a PO this many days past its promised date is a labelled supplier delay


@dataclass
class Stock:
    sales: np.ndarray  # (T, n) true sales
    on_hand: np.ndarray  # (T, n) end-of-day stock
    lost: np.ndarray  # (T, n) unmet demand
    orders: dict[
        str, np.ndarray
    ]  # one entry per order line: day, series, qty, qty_received, arrival
    lead_promised: np.ndarray  # per supplier
    shrink: list[tuple[int, int, int]] = field(default_factory=list)  # (day, series, units)


def _lead_times(
    rng: np.random.Generator, suppliers: pd.DataFrame, n_loc: int, horizon: int, days: int
) -> tuple[np.ndarray, np.ndarray]:
    """Promised lead time per supplier, and the actual one per possible PO (supplier, location, day).

    Ordinary lateness stays below LATE_LABEL_DAYS so that every PO at least that late is one of
    the injected, labelled supplier delays (or a late line on top of a late PO).
    """
    mean = suppliers.lead_time_mean_days.to_numpy()
    sd = suppliers.lead_time_sd_days.to_numpy()[:, None, None]
    on_time = suppliers.on_time_rate.to_numpy()[:, None, None]
    promised = np.maximum(1, np.round(mean)).astype(np.int32)
    shape = (len(mean), n_loc, horizon)
    late = rng.random(shape) >= on_time
    slip = np.where(
        late,
        1 + np.minimum(5, np.floor(np.abs(rng.normal(0, 1, shape)) * sd)),
        -rng.integers(0, 3, shape),
    )
    risk = np.full(len(mean), 0.012)
    risk[rng.choice(len(mean), 2, replace=False)] = 0.08  # two unreliable suppliers
    recent = np.where(np.arange(horizon) >= days - 60, 2.5, 1.0)  # so recent scans find some
    injected = rng.random(shape) < risk[:, None, None] * recent[None, None, :]
    slip = np.where(injected, rng.integers(LATE_LABEL_DAYS, 26, shape), slip)
    return promised, np.maximum(1, promised[:, None, None] + slip).astype(np.int32)


def simulate_stock(
    rng: np.random.Generator,
    catalog: Catalog,
    series: Series,
    demand: np.ndarray,
    start: date,
    days: int,
    shrink_targets: list,
) -> Stock:
    """Day-by-day stock under an (s, S) policy run by fallible planners; lost sales, not backorders.

    Planners forecast from recorded (censored) sales, some keep no safety stock, review weekly
    or skip reviews: that is what makes stock-outs happen at a realistic rate.
    """
    horizon, n = demand.shape
    sup = catalog.supplier[series.sku]
    loc = series.loc
    promised, lead = _lead_times(rng, catalog.suppliers, len(catalog.locations), horizon, days)
    case = catalog.products.case_pack.to_numpy()[series.sku].astype(np.int64)
    moq = catalog.suppliers.moq.to_numpy()[sup]
    moq = np.ceil(moq / case).astype(np.int64) * case
    # Each supplier takes orders on one or two fixed weekdays: one PO per order day carries
    # every SKU of that supplier and warehouse that is due, as buyers really batch them.
    order_days = np.zeros((len(promised), 7), dtype=bool)
    for i in range(len(promised)):
        order_days[i, rng.choice(5, int(rng.choice([1, 2], p=[0.6, 0.4])), replace=False)] = True
    weekday0 = start.weekday()
    review = np.rint(7 / order_days.sum(axis=1))[sup]
    z = np.where(rng.random(n) < 0.3, 0.0, rng.uniform(0.8, 1.8, n))  # 30% keep no safety stock
    bias = rng.uniform(0.75, 1.1, n)  # most planners under-forecast a little
    cover = rng.uniform(7, 28, n)
    alpha = rng.uniform(0.05, 0.15, n)
    plan_lead = promised[sup] + review
    order_from = np.where(series.launch > 0, series.launch - promised[sup] - 3, -1)
    f = series.level * rng.uniform(0.8, 1.2, n)  # the planners' belief about daily demand

    def reorder_point(f: np.ndarray) -> np.ndarray:
        f = f * bias
        return f * plan_lead + z * np.sqrt(f * (1 + f / 4)) * np.sqrt(plan_lead)

    low = reorder_point(f)
    oh = np.where(series.launch <= 0, np.round(low + rng.random(n) * f * cover), 0).astype(np.int64)
    on_order = np.zeros(n, dtype=np.int64)
    total = horizon + ARRIVAL_PAD
    arrive = np.zeros((total, n), dtype=np.int64)  # units received at the start of a day
    close = np.zeros((total, n), dtype=np.int64)  # ordered units whose line closes that day
    sales = np.empty((horizon, n), dtype=np.int32)
    on_hand = np.empty((horizon, n), dtype=np.int32)
    lost = np.empty((horizon, n), dtype=np.int32)
    shrink_at: dict[int, list[tuple[int, float]]] = {}
    for s, t0, *_ in shrink_targets:
        shrink_at.setdefault(t0, []).append((s, float(rng.uniform(0.15, 0.4))))
    parts: dict[str, list[np.ndarray]] = {
        k: [] for k in ("day", "series", "qty", "qty_received", "arrival")
    }
    shrunk: list[tuple[int, int, int]] = []

    for t in range(horizon):
        oh += arrive[t]
        on_order -= close[t]
        want = demand[t]
        sold = np.minimum(oh, want)
        oh -= sold
        for s, frac in shrink_at.get(t, ()):
            units = int(min(oh[s], max(2, round(oh[s] * frac)))) if oh[s] >= 4 else 0
            if units:
                oh[s] -= units
                shrunk.append((t, s, units))
        sales[t], on_hand[t], lost[t] = sold, oh, want - sold
        f = np.where(t >= series.launch, f + alpha * (sold - f), f)
        due = order_days[sup, (weekday0 + t) % 7] & (t >= order_from) & (rng.random(n) >= 0.08)
        point = reorder_point(f)
        position = oh + on_order
        idx = np.flatnonzero(due & (position <= point))
        if idx.size == 0:
            continue
        qty = np.maximum(point[idx] + f[idx] * cover[idx] - position[idx], 1)
        qty = np.maximum(np.ceil(qty / case[idx]).astype(np.int64) * case[idx], moq[idx])
        m = idx.size
        extra = np.where(rng.random(m) < 0.03, rng.integers(2, 9, m), 0)  # a line shipped later
        arrival = np.minimum(t + lead[sup[idx], loc[idx], t] + extra, total - 1)
        short = rng.random(m) < 0.05
        received = np.where(
            short, np.maximum(1, np.floor(qty * rng.uniform(0.5, 0.95, m))), qty
        ).astype(np.int64)
        arrive[arrival, idx] += received
        close[arrival, idx] += qty
        on_order[idx] += qty
        for key, value in zip(parts, (np.full(m, t), idx, qty, received, arrival), strict=True):
            parts[key].append(value)

    orders = {k: np.concatenate(v) if v else np.zeros(0, dtype=np.int64) for k, v in parts.items()}
    return Stock(
        sales=sales,
        on_hand=on_hand,
        lost=lost,
        orders=orders,
        lead_promised=promised,
        shrink=shrunk,
    )


def allocated(rng: np.random.Generator, on_hand: np.ndarray) -> np.ndarray:
    """Units reserved for picked-but-not-shipped orders: a small share of what is on hand."""
    share = rng.random(on_hand.shape, dtype=np.float32) * np.float32(0.08)  # 0-8%, 4% on average
    return (np.maximum(on_hand, 0) * share).astype(np.int32)
