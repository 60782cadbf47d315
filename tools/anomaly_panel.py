"""The daily (series x day) panel the anomaly rules read, and NaN-aware robust statistics on it.

Sales, end-of-day stock, receipts and promotion discounts of every (SKU, location) series over
the scan window plus a year of history, as numpy arrays (at 10k series a pandas pivot would not
fit a small machine).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pandas as pd

from tools.store import Store

HISTORY_DAYS = 365  # for each series' usual 99th percentile and promotion lifts
A_CLASS_SHARE = 0.8  # SKUs making the top 80% of revenue are A-class


# -- the daily panel -------------------------------------------------------------------------
@dataclass
class Panel:
    """(series x day) arrays over [start, end]; the scan window is the last ``lookback`` days."""

    keys: pd.DataFrame  # sku, location_id, unit_cost, price, a_class
    dates: pd.DatetimeIndex
    sales: np.ndarray  # float32, NaN = no record
    on_hand: np.ndarray  # float32, NaN = no record
    receipts: np.ndarray  # float32 units received that day
    discount: np.ndarray  # float32 promotion discount % (0 = no promotion)
    lookback: int

    @property
    def w0(self) -> int:
        return len(self.dates) - self.lookback

    def day(self, column: int) -> date:
        return self.dates[column].date()


def load_panel(store: Store, today: date, lookback: int) -> Panel:
    start = today - timedelta(days=lookback + HISTORY_DAYS)
    end = today - timedelta(days=1)
    keys = store.query(
        "SELECT DISTINCT sku, location_id FROM inventory WHERE date BETWEEN ? AND ? ORDER BY sku, location_id",
        [start, end],
    )
    # Row and column indices are computed in SQL and fetched as numpy: at 10k series this is
    # millions of cells, too many for a pandas pivot on a small machine.
    cells = store.con.execute(
        "WITH k AS (SELECT sku, location_id, row_number() OVER (ORDER BY sku, location_id) - 1 AS r "
        "FROM (SELECT DISTINCT sku, location_id FROM inventory WHERE date BETWEEN ? AND ?)) "
        "SELECT k.r, date_diff('day', ?::DATE, i.date) AS c, i.on_hand, coalesce(s.units, 0) AS units "
        "FROM inventory i JOIN k USING (sku, location_id) LEFT JOIN sales s USING (date, sku, location_id) "
        "WHERE i.date BETWEEN ? AND ?",
        [start, end, start, start, end],
    ).fetchnumpy()
    dates = pd.date_range(start, end, freq="D")
    shape = (len(keys), len(dates))
    sales, on_hand = np.full(shape, np.nan, np.float32), np.full(shape, np.nan, np.float32)
    row, col = np.asarray(cells["r"], np.int64), np.asarray(cells["c"], np.int64)
    sales[row, col] = np.asarray(cells["units"], np.float32)
    on_hand[row, col] = np.asarray(cells["on_hand"], np.float32)
    receipts = _receipts(store, keys, start, end, shape)
    discount = _discounts(store, keys, dates)
    keys = _with_products(store, keys, sales[:, : len(dates) - lookback])
    return Panel(keys, dates, sales, on_hand, receipts, discount, lookback)


def _series_index(frame: pd.DataFrame, keys: pd.DataFrame) -> np.ndarray:
    lookup = pd.Series(np.arange(len(keys)), index=pd.MultiIndex.from_frame(keys))
    return lookup.reindex(pd.MultiIndex.from_frame(frame[["sku", "location_id"]])).to_numpy()


def _receipts(store: Store, keys: pd.DataFrame, start: date, end: date, shape) -> np.ndarray:
    lines = store.query(
        "SELECT l.sku, p.location_id, l.received_date AS date, sum(l.qty_received) AS qty "
        "FROM po_lines l JOIN purchase_orders p USING (po_number) "
        "WHERE l.received_date BETWEEN ? AND ? AND l.qty_received > 0 GROUP BY ALL",
        [start, end],
    )
    out = np.zeros(shape, np.float32)
    if lines.empty:
        return out
    row = _series_index(lines, keys)
    ok = ~np.isnan(row.astype(float))
    col = (pd.to_datetime(lines.date) - pd.Timestamp(start)).dt.days.to_numpy()
    np.add.at(out, (row[ok].astype(int), col[ok]), lines.qty.to_numpy(np.float32)[ok])
    return out


def _discounts(store: Store, keys: pd.DataFrame, dates: pd.DatetimeIndex) -> np.ndarray:
    promos = store.promotions(start=dates[0].date(), end=dates[-1].date())
    out = np.zeros((len(keys), len(dates)), np.float32)
    if promos.empty:
        return out
    series = keys.reset_index().rename(columns={"index": "row"})
    local = promos[promos.location_id.notna()].merge(series, on=["sku", "location_id"])
    every = promos[promos.location_id.isna()].drop(columns="location_id").merge(series, on="sku")
    for p in pd.concat([local, every]).itertuples():
        a = max(0, (pd.Timestamp(p.start_date) - dates[0]).days)
        b = min(len(dates) - 1, (pd.Timestamp(p.end_date) - dates[0]).days)
        out[p.row, a : b + 1] = np.maximum(out[p.row, a : b + 1], p.discount_pct)
    return out


def _with_products(store: Store, keys: pd.DataFrame, history: np.ndarray) -> pd.DataFrame:
    products = store.query("SELECT sku, unit_cost, price FROM products")
    keys = keys.merge(products, on="sku", how="left")
    revenue = np.nansum(history, axis=1) * keys.price.fillna(0).to_numpy()
    order = np.argsort(-revenue)
    share = np.cumsum(revenue[order]) / max(revenue.sum(), 1e-9)
    a_class = np.zeros(len(keys), bool)
    a_class[order[share <= A_CLASS_SHARE]] = True
    if len(order):
        a_class[order[0]] = True
    return keys.assign(a_class=a_class)


# -- robust rolling statistics ---------------------------------------------------------------
def rolling_median_mad(
    values: np.ndarray, first: int, count: int, window: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Median, MAD and number of non-NaN values of ``values[:, c - window : c]`` for each column
    c in [first, first + count): NaN-aware, vectorised by sorting the windows (NaN sorts last)."""
    block = values[:, first - window : first + count - 1]
    windows = np.lib.stride_tricks.sliding_window_view(block, window, axis=1)  # (S, count, window)
    ordered = np.sort(windows, axis=2)
    n = np.sum(~np.isnan(ordered), axis=2)
    median = _sorted_median(ordered, n)
    deviation = np.sort(np.abs(windows - median[..., None]), axis=2)
    mad = _sorted_median(deviation, n)
    return median, mad, n


def _sorted_median(ordered: np.ndarray, n: np.ndarray) -> np.ndarray:
    lo = np.clip((n - 1) // 2, 0, None)[..., None]
    hi = np.clip(n // 2, 0, None)[..., None]
    med = (
        0.5
        * (np.take_along_axis(ordered, lo, axis=2) + np.take_along_axis(ordered, hi, axis=2))[
            ..., 0
        ]
    )
    return np.where(n > 0, med, np.nan)


def nan_quantile_rows(values: np.ndarray, q: float) -> np.ndarray:
    """Linear-interpolated quantile of each row ignoring NaN (np.nanpercentile loops over rows)."""
    ordered = np.sort(values, axis=1)
    n = np.sum(~np.isnan(values), axis=1)
    pos = q * np.maximum(n - 1, 0)
    lo, hi = np.floor(pos).astype(np.int64), np.ceil(pos).astype(np.int64)
    rows = np.arange(len(values))
    low, high = ordered[rows, lo], ordered[rows, hi]
    return np.where(n > 0, low + (high - low) * (pos - lo), np.nan)
