"""Synthetic supply-chain history with a hidden ground truth.

``generate`` writes two DuckDB files from one seed: the visible store (schema.sql: what a
shop system would hold up to yesterday) and a separate truth file (truth.sql: true demand,
demand patterns, labelled anomalies, planted basket structure and the hidden future) that
only tests and benchmarks read. Work is vectorised over series; only the stock simulation
loops over days, because today's stock depends on yesterday's.

One module per job: catalogue (products, suppliers, warehouses; literals in catalogue.toml),
demand (series, promotions, daily demand), policy (stock and replenishment), orders (purchase
and customer orders), truth (labelled anomalies, truth tables), writing (long tables, files).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from tools.store.simulate import writing
from tools.store.simulate.catalogue import LOCATIONS, make_catalog
from tools.store.simulate.demand import PATTERNS, make_demand, make_promotions, make_series
from tools.store.simulate.orders import BASKET_DAYS, customer_orders, purchase_orders
from tools.store.simulate.policy import allocated, simulate_stock
from tools.store.simulate.truth import (
    ANOMALY_KINDS,
    anomaly_targets,
    inject_demand_anomalies,
    label,
    record_errors,
    truth_tables,
)

DEFAULT_TODAY = date(2026, 11, 30)  # fixed, so that sample data is reproducible

__all__ = ["ANOMALY_KINDS", "DEFAULT_TODAY", "PATTERNS", "SimulationSummary", "generate"]


@dataclass(frozen=True)
class SimulationSummary:
    """What ``generate`` wrote, with headline properties of the data."""

    db_path: Path
    truth_path: Path
    today: date
    seed: int
    skus: int
    days: int
    locations: int
    series: int
    rows: dict[str, int]  # visible tables
    truth_rows: dict[str, int]
    stockout_rate: float  # share of history series-days that end with zero stock
    anomalies: dict[str, int]  # labels per kind
    seconds: float  # wall time, reported only (never written into the data)

    @property
    def total_rows(self) -> int:
        return sum(self.rows.values()) + sum(self.truth_rows.values())


def generate(
    db_path: str | Path,
    truth_path: str | Path,
    skus: int = 300,
    days: int = 730,
    seed: int = 7,
    today: date = DEFAULT_TODAY,
    locations: int = 3,
    future_days: int = 28,
    progress: Callable[[str], None] | None = None,
) -> SimulationSummary:
    """Simulate ``days`` of history before ``today`` and write the visible and truth databases.

    Both files are built under temporary names and moved into place at the end, so a failure
    never leaves half-written data behind. The same arguments give identical tables.
    """
    _check_arguments(skus, days, locations, future_days)
    db_path, truth_path = Path(db_path), Path(truth_path)
    if db_path.resolve() == truth_path.resolve():
        raise ValueError("truth_path: must differ from db_path, the truth must stay separate")
    say = progress or (lambda _message: None)
    started = time.perf_counter()
    streams = [np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(6)]
    rng_catalog, rng_demand, rng_stock, rng_anomaly, rng_orders, rng_promo = streams

    say(f"catalog: {skus} SKUs, {locations} locations")
    start = today - timedelta(days=days)
    horizon = days + future_days
    catalog = make_catalog(rng_catalog, skus, locations)
    series = make_series(rng_catalog, catalog, locations, days, start)
    promotions, lift = make_promotions(rng_promo, catalog, series, horizon, start)

    say(f"demand: {len(series.sku)} series x {horizon} days")
    expected, demand = make_demand(rng_demand, catalog, series, lift, horizon, start, days)
    del lift
    labels: list[dict] = []
    targets = anomaly_targets(rng_anomaly, series, days)
    inject_demand_anomalies(rng_anomaly, targets, expected, demand, labels)

    say("stock: replenishment and sales, day by day")
    stock = simulate_stock(rng_stock, catalog, series, demand, start, days, targets["shrinkage"])
    labels += [label("shrinkage", s, t, t, units) for t, s, units in stock.shrink]
    pos, lines, receipts, delays = purchase_orders(catalog, series, stock, days, start)
    labels += delays
    rec_sales, rec_on_hand = record_errors(rng_anomaly, targets, stock, days, labels)

    say("customer orders: baskets and deliveries")
    orders, order_lines = customer_orders(rng_orders, catalog, series, today)

    say("tables: long-format frames for both files")
    history = writing.series_keys(catalog, series, start, 0, days)
    tables = {
        "meta": pd.DataFrame(
            {
                "key": ["today", "seed", "skus", "days", "future_days", "locations", "generator"],
                "value": [
                    today.isoformat(),
                    str(seed),
                    str(skus),
                    str(days),
                    str(future_days),
                    str(locations),
                    "tools.store.simulate",
                ],
            }
        ),
        "suppliers": catalog.suppliers,
        "locations": catalog.locations,
        "products": catalog.products,
        "promotions": promotions,
        "purchase_orders": pos,
        "po_lines": lines,
        "customer_orders": orders,
        "customer_order_lines": order_lines,
        "sales": writing.series_frame(history, {"units": rec_sales}),
        "inventory": writing.series_frame(
            history, {"on_hand": rec_on_hand, "allocated": allocated(rng_stock, rec_on_hand)}
        ),
    }
    truth = truth_tables(
        catalog, series, start, days, horizon, expected, demand, stock, receipts, labels
    )
    say("writing databases")
    tmp_db, tmp_truth = writing.temp_path(db_path), writing.temp_path(truth_path)
    try:
        rows = writing.write_visible(tmp_db, tables)
        truth_rows = writing.write_truth(tmp_truth, truth)
        writing.publish(tmp_truth, truth_path)
        writing.publish(tmp_db, db_path)
    except BaseException:
        writing.remove(tmp_db)
        writing.remove(tmp_truth)
        raise
    hist = stock.on_hand[:days]
    active = np.arange(days)[:, None] >= series.launch[None, :]
    kinds = [lab["kind"] for lab in labels]
    return SimulationSummary(
        db_path=db_path,
        truth_path=truth_path,
        today=today,
        seed=seed,
        skus=skus,
        days=days,
        locations=locations,
        series=len(series.sku),
        rows=rows,
        truth_rows=truth_rows,
        stockout_rate=round(float(((hist <= 0) & active).sum() / active.sum()), 4),
        anomalies={k: kinds.count(k) for k in ANOMALY_KINDS},
        seconds=round(time.perf_counter() - started, 2),
    )


def _check_arguments(skus: int, days: int, locations: int, future_days: int) -> None:
    if skus < 10:
        raise ValueError(f"skus: need at least 10, got {skus}")
    if days < BASKET_DAYS + 30:
        raise ValueError(f"days: need at least {BASKET_DAYS + 30} days of history, got {days}")
    if not 1 <= locations <= len(LOCATIONS):
        raise ValueError(f"locations: between 1 and {len(LOCATIONS)}, got {locations}")
    if not 1 <= future_days <= 365:
        raise ValueError(f"future_days: between 1 and 365, got {future_days}")
