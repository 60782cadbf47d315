"""Labelled anomalies injected into the history, and the truth file's tables.

Only tests and benchmarks read the truth: it says which series had a spike, a drop, a data
error, shrinkage or a late supplier, and what really happened after ``today``.
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd
import pyarrow as pa

from tools.alert_types import KINDS, AlertKind
from tools.store.simulate.catalogue import Catalog
from tools.store.simulate.demand import PATTERNS, Series
from tools.store.simulate.policy import Stock
from tools.store.simulate.writing import series_frame, series_keys

# The alert kinds (tools.alert_types) in the order the truth table lists them, which fixes the
# generated files' row order; only the order is written here.
ANOMALY_KINDS: tuple[AlertKind, ...] = (
    "demand_spike",
    "demand_drop",
    "data_error",
    "supplier_delay",
    "shrinkage",
)
if sorted(ANOMALY_KINDS) != sorted(KINDS):
    raise ImportError(f"truth.ANOMALY_KINDS {ANOMALY_KINDS} must order exactly the kinds {KINDS}")


def anomaly_targets(rng: np.random.Generator, series: Series, days: int) -> dict[str, list]:
    """Which series get which anomaly, and when: half of them in the last 60 days."""
    n = len(series.sku)
    steady = np.isin(
        series.pattern, [PATTERNS.index(p) for p in ("smooth", "seasonal", "trending")]
    )
    eligible = rng.permutation(np.flatnonzero(steady & (series.level >= 2) & (series.launch <= 0)))
    wanted = {
        "demand_spike": max(3, n // 40),
        "demand_drop": max(2, n // 60),
        "data_error": max(3, n // 50),
        "shrinkage": max(3, n // 60),
    }
    targets: dict[str, list] = {}
    used = 0
    for kind, count in wanted.items():
        picked = eligible[used : used + count]
        used += len(picked)
        items = []
        for i, s in enumerate(picked):
            length = {
                "demand_spike": int(rng.integers(1, 4)),
                "demand_drop": int(rng.integers(7, 22)),
            }.get(kind, 1)
            if i % 2 == 0:  # recent: a 28-60 day scan window must find these
                lo, hi = days - 60, days - length - 1
            else:
                lo, hi = 45, days - 61 - length
            t0 = int(rng.integers(lo, max(lo + 1, hi)))
            items.append((int(s), t0, length, lo, max(lo + 1, hi)))
        targets[kind] = items
    return targets


def label(kind: str, s: int | None, t0: int, t1: int, magnitude: float, **keys) -> dict:
    return {"kind": kind, "series": s, "t0": t0, "t1": t1, "magnitude": float(magnitude), **keys}


def inject_demand_anomalies(
    rng: np.random.Generator,
    targets: dict[str, list],
    expected: np.ndarray,
    demand: np.ndarray,
    labels: list[dict],
) -> None:
    """Spikes and drops change the true (realised) demand; the process mean stays as it was."""
    for s, t0, length, _, _ in targets["demand_spike"]:
        factor = float(rng.uniform(3, 8))
        window = slice(t0, t0 + length)
        spike = np.round(np.maximum(expected[window, s], 1.0) * factor).astype(np.int32)
        demand[window, s] = np.maximum(demand[window, s], spike)
        labels.append(label("demand_spike", s, t0, t0 + length - 1, round(factor, 2)))
    for s, t0, length, _, _ in targets["demand_drop"]:
        keep = float(rng.uniform(0.1, 0.3))
        window = slice(t0, t0 + length)
        demand[window, s] = rng.binomial(demand[window, s], keep)
        labels.append(label("demand_drop", s, t0, t0 + length - 1, round(keep, 2)))


def record_errors(
    rng: np.random.Generator, targets: dict[str, list], stock: Stock, days: int, labels: list[dict]
) -> tuple[np.ndarray, np.ndarray]:
    """Recorded history = true history plus data-entry errors.

    Two in three are an extra zero in booked sales (10x), one in three a sign slip that books
    end-of-day stock as negative. True demand and the physical stock are left as they were.
    """
    rec_sales = stock.sales[:days].copy()
    rec_on_hand = stock.on_hand[:days].copy()
    for i, (s, _, _, lo, hi) in enumerate(targets["data_error"]):
        on_stock = i % 3 == 2
        column = rec_on_hand if on_stock else rec_sales
        candidates = lo + np.flatnonzero(column[lo:hi, s] > 0)
        if candidates.size == 0:
            continue
        t = int(rng.choice(candidates))
        if on_stock:
            column[t, s] = -column[t, s]
        else:
            column[t, s] *= 10
        # magnitude: 10 for an extra zero in sales, the booked negative value for a sign slip
        labels.append(label("data_error", s, t, t, column[t, s] if on_stock else 10))
    return rec_sales, rec_on_hand


def truth_tables(
    catalog: Catalog,
    series: Series,
    start: date,
    days: int,
    horizon: int,
    expected: np.ndarray,
    demand: np.ndarray,
    stock: Stock,
    receipts: pd.DataFrame,
    labels: list[dict],
) -> dict[str, pd.DataFrame | pa.Table]:
    sku_ids = catalog.products.sku.to_numpy()
    loc_ids = catalog.locations.location_id.to_numpy()
    label_rows = []
    for lab in sorted(
        labels,
        key=lambda x: (
            x["t0"],
            ANOMALY_KINDS.index(x["kind"]),
            x["series"] if x["series"] is not None else -1,
            x.get("po_number") or "",
        ),
    ):
        s = lab["series"]
        label_rows.append(
            {
                "kind": lab["kind"],
                "sku": sku_ids[series.sku[s]] if s is not None else None,
                "location_id": loc_ids[series.loc[s]] if s is not None else lab.get("location_id"),
                "supplier_id": lab.get("supplier_id"),
                "po_number": lab.get("po_number"),
                "start_date": start + timedelta(days=lab["t0"]),
                "end_date": start + timedelta(days=lab["t1"]),
                "magnitude": lab["magnitude"],
            }
        )
    label_frame = pd.DataFrame(
        label_rows,
        columns=[
            "kind",
            "sku",
            "location_id",
            "supplier_id",
            "po_number",
            "start_date",
            "end_date",
            "magnitude",
        ],
    )
    label_frame.insert(0, "label_id", np.arange(1, len(label_frame) + 1, dtype=np.int32))
    future = slice(days, horizon)
    return {
        "true_demand": series_frame(
            series_keys(catalog, series, start, 0, horizon),
            {"expected": np.round(expected, 3), "demand": demand},
        ),
        "future_inventory": series_frame(
            series_keys(catalog, series, start, days, horizon),
            {
                "on_hand": stock.on_hand[future],
                "sales": stock.sales[future],
                "lost_sales": stock.lost[future],
            },
        ),
        "future_receipts": receipts,
        "demand_patterns": pd.DataFrame(
            {
                "sku": sku_ids[series.sku],
                "location_id": loc_ids[series.loc],
                "pattern": np.array(PATTERNS, dtype=object)[series.pattern],
            }
        ),
        "anomaly_labels": label_frame,
        "basket_groups": pd.DataFrame(
            {
                "group_id": catalog.groups.group_id.astype(np.int32),
                "kind": catalog.groups.kind,
                "sku": sku_ids[catalog.groups.sku.to_numpy()],
            }
        ),
    }
