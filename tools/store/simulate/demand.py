"""Series (SKU x location), promotions and daily demand by pattern class."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pandas as pd

from tools.store.simulate.catalogue import CATEGORIES, CATEGORY_NAMES, Catalog

PATTERNS = ("smooth", "seasonal", "trending", "intermittent", "lumpy", "new_launch")
PATTERN_SHARE = (0.30, 0.18, 0.12, 0.18, 0.10, 0.12)


@dataclass
class Series:
    sku: np.ndarray  # SKU index per series, sorted by (sku, location)
    loc: np.ndarray
    pattern: np.ndarray  # index into PATTERNS
    launch: np.ndarray  # day index of launch (negative: before the history starts)
    level: np.ndarray  # typical daily demand
    rate: np.ndarray  # share of days with demand (1 for steady patterns)
    size: np.ndarray  # mean demand on a day with demand


def make_series(
    rng: np.random.Generator, catalog: Catalog, n_loc: int, days: int, start: date
) -> Series:
    """One series per SKU at its home location, plus a second location for about a third."""
    skus = len(catalog.home)
    planted = np.zeros(skus, dtype=bool)
    planted[catalog.groups.sku.to_numpy()] = True
    pattern = rng.choice(len(PATTERNS), skus, p=PATTERN_SHARE)
    new = PATTERNS.index("new_launch")
    pattern[planted & (pattern == new)] = PATTERNS.index("smooth")  # baskets need a past
    launch = np.where(
        pattern == new,
        days - rng.integers(20, min(150, days - 30) + 1, skus),
        -rng.integers(30, 1500, skus),
    )
    catalog.products["launch_date"] = [start + timedelta(days=int(x)) for x in launch]

    level = np.exp(rng.normal(np.log(6.0), 0.8, skus)).clip(0.8, 80)
    rate = np.ones(skus)
    size = level.copy()
    sparse = pattern == PATTERNS.index("intermittent")
    rate[sparse] = rng.uniform(0.08, 0.35, sparse.sum())
    size[sparse] = 1 + rng.uniform(0.2, 1.5, sparse.sum())
    lumpy = pattern == PATTERNS.index("lumpy")
    rate[lumpy] = rng.uniform(0.04, 0.15, lumpy.sum())
    size[lumpy] = rng.uniform(5, 25, lumpy.sum())
    level = np.where(sparse | lumpy, rate * size, level)

    second = (rng.random(skus) < 0.35) & (n_loc > 1)
    other = (catalog.home + rng.integers(1, max(2, n_loc), skus)) % max(1, n_loc)
    share = rng.uniform(0.3, 0.8, skus)  # the second location sells less
    sku = np.concatenate([np.arange(skus), np.flatnonzero(second)])
    loc = np.concatenate([catalog.home, other[second]])
    scale = np.concatenate([np.ones(skus), share[second]])
    order = np.lexsort((loc, sku))
    sku, loc, scale = sku[order], loc[order], scale[order]
    sparse_series = (sparse | lumpy)[sku]
    return Series(
        sku=sku,
        loc=loc,
        pattern=pattern[sku],
        launch=launch[sku],
        level=level[sku] * scale,
        rate=np.where(sparse_series, rate[sku] * scale, 1.0),
        size=size[sku],
    )


def make_promotions(
    rng: np.random.Generator, catalog: Catalog, series: Series, horizon: int, start: date
) -> tuple[pd.DataFrame, np.ndarray]:
    """A promotions calendar (past and planned) and the demand lift it causes per series-day."""
    skus = len(catalog.home)
    lift = np.ones((horizon, len(series.sku)), dtype=np.float32)
    first = np.searchsorted(series.sku, np.arange(skus))
    last = np.searchsorted(series.sku, np.arange(skus), side="right")
    loc_ids = catalog.locations.location_id.to_numpy()
    discounts = np.array([10, 15, 20, 25, 30, 40, 50])
    records = []
    for k in np.flatnonzero(rng.random(skus) < 0.4):
        count = 1 + int(rng.poisson(1.0))
        slot = horizon // count
        for j in range(count):
            length = int(rng.integers(3, 15))
            if slot <= length + 1:
                continue
            begin = j * slot + int(rng.integers(0, slot - length))
            discount = float(rng.choice(discounts, p=[0.15, 0.2, 0.2, 0.15, 0.15, 0.1, 0.05]))
            targets = np.arange(first[k], last[k])
            location = None
            if targets.size > 1 and rng.random() < 0.3:  # a local promotion at one warehouse
                targets = targets[int(rng.integers(targets.size)) :][:1]
                location = loc_ids[series.loc[targets[0]]]
            lift[begin : begin + length, targets] = 1.2 + 3.6 * discount / 100
            records.append(
                (
                    catalog.products.sku.iat[k],
                    location,
                    start + timedelta(days=begin),
                    start + timedelta(days=begin + length - 1),
                    discount,
                )
            )
    frame = pd.DataFrame(
        records, columns=["sku", "location_id", "start_date", "end_date", "discount_pct"]
    )
    frame = frame.sort_values(["start_date", "sku"], kind="stable").reset_index(drop=True)
    frame.insert(0, "promo_id", [f"PR-{i + 1:05d}" for i in range(len(frame))])
    return frame, lift


WEEKLY = np.array([0.92, 0.95, 0.97, 1.0, 1.08, 1.12, 0.96])  # Monday..Sunday


def make_demand(
    rng: np.random.Generator,
    catalog: Catalog,
    series: Series,
    lift: np.ndarray,
    horizon: int,
    start: date,
    days: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Expected and realised daily demand, (days, series) arrays, by pattern class."""
    n = len(series.sku)
    pat = series.pattern
    t = np.arange(horizon, dtype=np.float32)[:, None]
    dates = pd.date_range(start, periods=horizon, freq="D")
    dow = dates.dayofweek.to_numpy()
    doy = dates.dayofyear.to_numpy().astype(np.float32)[:, None]
    seasonal = pat == PATTERNS.index("seasonal")
    week_amp = np.where(seasonal, 1.0, 0.35).astype(np.float32)
    mult = 1 + week_amp[None, :] * (WEEKLY[dow].astype(np.float32)[:, None] - 1)
    peaks = np.array([CATEGORIES[c].peak_day or 180 for c in CATEGORY_NAMES])[
        catalog.category[series.sku]
    ]
    amp = np.where(seasonal, rng.uniform(0.35, 0.8, n), 0.0).astype(np.float32)
    mult *= 1 + amp * np.cos(2 * np.pi * (doy - peaks.astype(np.float32)) / 365.25)
    growth = np.where(
        pat == PATTERNS.index("trending"),
        rng.choice([-1.0, 1.0], n, p=[0.35, 0.65]) * rng.uniform(0.3, 0.9, n),
        0.0,
    )
    mult *= np.maximum(0.15, 1 + growth.astype(np.float32) * (t - days) / 365)
    new = pat == PATTERNS.index("new_launch")
    tau = rng.uniform(10, 40, n).astype(np.float32)
    ramp = 1 - np.exp(-np.clip(t - series.launch.astype(np.float32), 0, None) / tau)
    mult *= np.where(new[None, :], ramp * (t >= series.launch), 1.0).astype(np.float32)
    mult *= lift

    expected = np.empty((horizon, n), dtype=np.float64)
    demand = np.empty((horizon, n), dtype=np.int32)
    steady = np.flatnonzero(
        ~np.isin(pat, [PATTERNS.index("intermittent"), PATTERNS.index("lumpy")])
    )
    mu = mult[:, steady] * series.level[steady].astype(np.float32)
    k = rng.uniform(3, 12, steady.size)
    expected[:, steady] = mu
    # Gamma-Poisson (negative binomial) noise; float32 gamma draws halve the cost at 10k SKUs.
    noise = rng.standard_gamma(k.astype(np.float32), (horizon, steady.size), dtype=np.float32)
    demand[:, steady] = rng.poisson(mu * noise / k.astype(np.float32))
    for name in ("intermittent", "lumpy"):
        cols = np.flatnonzero(pat == PATTERNS.index(name))
        p = np.minimum(0.95, mult[:, cols] * series.rate[cols])
        size = series.size[cols]
        occurs = rng.random((horizon, cols.size)) < p
        if name == "intermittent":  # sizes close to their mean: low CV2
            amount = 1 + rng.poisson(size - 1, (horizon, cols.size))
        else:  # rare and very variable: high CV2
            amount = 1 + rng.poisson(rng.gamma(0.8, (size - 1) / 0.8, (horizon, cols.size)))
        expected[:, cols] = p * size
        demand[:, cols] = occurs * amount
    return expected, demand
