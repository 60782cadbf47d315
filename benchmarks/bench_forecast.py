"""Forecast accuracy and throughput benchmark.

accuracy: rolling-origin backtest (3 origins 28 days apart, 28-day horizon) on simulated data,
    scored against true (unconstrained) demand from the simulator's truth file. MASE and WAPE
    per demand class and overall for Stockpilot's pipeline, a seasonal-naive baseline on the
    recorded sales, and the simulator's expected demand (the noise floor no forecast can beat).
real: the same pipeline on small real series that ship inside pmdarima (monthly and
    quarterly), against seasonal naive.
throughput: batch forecast (run_forecasts) and the stock-out scan (stockout_risk over every
    series) for N SKUs x 730 days.

Prints tables and writes the sections "## Demand forecasting" and "## Forecast and stock-out
scan throughput" of docs/benchmarks.md.

    .venv/bin/python benchmarks/bench_forecast.py [--parts accuracy,real,throughput]
        [--skus 1000] [--throughput-skus 10000] [--no-write]
"""

from __future__ import annotations

import argparse
import platform
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).parent))

from bench_stockout import MACHINE  # noqa: E402
from docs_section import DOC as DOCS  # noqa: E402
from docs_section import write_section  # noqa: E402

from tools.forecasting import (  # noqa: E402
    RunForecastsRequest,
    forecast_panel,
    load_history,
    run_forecasts,
)
from tools.inventory import StockoutRiskRequest, stockout_risk  # noqa: E402
from tools.registry import ToolContext  # noqa: E402
from tools.store import Store  # noqa: E402
from tools.store.simulate import generate  # noqa: E402

HORIZON = 28
ORIGINS = 3  # 28 days apart, the last one at 'today'
SEED = 303
CLASSES = ["smooth", "erratic", "intermittent", "lumpy"]


# -- accuracy on simulated data ---------------------------------------------------------------
def seasonal_naive(history: pd.DataFrame, horizon: int, season: int = 7) -> pd.DataFrame:
    """The last season repeated, on the frame as given (recorded sales: no censoring fix)."""
    out = pd.DataFrame({"unique_id": history["unique_id"].unique()})
    last = history.groupby("unique_id").tail(season)
    rows = []
    for uid, grp in last.groupby("unique_id"):
        values = np.resize(grp["y"].to_numpy(), horizon)
        ds = pd.date_range(grp["ds"].max() + pd.Timedelta(days=1), periods=horizon)
        rows.append(pd.DataFrame({"unique_id": uid, "ds": ds, "naive": values}))
    return pd.concat(rows, ignore_index=True) if rows else out


def mase_scale(history: pd.DataFrame, season: int = 7) -> pd.Series:
    """In-sample mean absolute seasonal difference of the training history, per series."""
    diff = history.groupby("unique_id")["y"].diff(season).abs()
    return diff.groupby(history["unique_id"]).mean()


def backtest_origin(store: Store, truth: pd.DataFrame, origin: date) -> pd.DataFrame:
    history = load_history(store, end=origin)
    ours = forecast_panel(history, HORIZON)[["unique_id", "ds", "mean", "demand_class"]]
    naive = seasonal_naive(history, HORIZON)
    frame = ours.merge(naive, on=["unique_id", "ds"]).merge(truth, on=["unique_id", "ds"])
    frame["scale"] = frame["unique_id"].map(mase_scale(history))
    return frame.assign(origin=origin)


def load_truth(truth_path: Path) -> tuple[pd.DataFrame, pd.Series]:
    with duckdb.connect(str(truth_path), read_only=True) as con:
        demand = con.execute(
            "SELECT sku || '@' || location_id AS unique_id, date AS ds, demand, expected FROM true_demand"
        ).df()
        patterns = con.execute(
            "SELECT sku || '@' || location_id AS unique_id, pattern FROM demand_patterns"
        ).df()
    demand["ds"] = pd.to_datetime(demand["ds"]).astype("datetime64[ns]")
    return demand, patterns.set_index("unique_id")["pattern"]


def score(frame: pd.DataFrame, group: str) -> pd.DataFrame:
    """MASE (mean over series of MAE / scale) and WAPE (sum |e| / sum demand) per group."""
    rows = []
    for name, g in [("all", frame), *frame.groupby(group)]:
        row = {"group": name, "series": g["unique_id"].nunique()}
        for method in ("mean", "naive", "expected"):
            err = (g[method] - g["demand"]).abs()
            per = (
                err.groupby([g["unique_id"], g["origin"]]).mean()
                / g.groupby(["unique_id", "origin"])["scale"].first()
            )
            row[f"mase_{method}"] = per.replace([np.inf, -np.inf], np.nan).mean()
            row[f"wape_{method}"] = err.sum() / max(g["demand"].sum(), 1e-9)
        row["bias"] = (g["mean"].sum() - g["demand"].sum()) / max(g["demand"].sum(), 1e-9)
        rows.append(row)
    return pd.DataFrame(rows)


def accuracy(skus: int, folder: Path) -> tuple[str, dict]:
    summary = generate(
        folder / "acc.duckdb", folder / "acc_truth.duckdb", skus=skus, days=730, seed=SEED
    )
    store = Store(summary.db_path, read_only=True)
    truth, patterns = load_truth(summary.truth_path)
    today = store.today()
    started = time.perf_counter()
    frames = [
        backtest_origin(store, truth, today - timedelta(days=HORIZON * k))
        for k in reversed(range(ORIGINS))
    ]
    seconds = time.perf_counter() - started
    store.close()
    frame = pd.concat(frames, ignore_index=True)
    frame["pattern"] = frame["unique_id"].map(patterns)
    by_class = score(frame, "demand_class")
    by_class["order"] = (
        by_class["group"].map({c: i for i, c in enumerate(["all", *CLASSES])}).fillna(9)
    )
    by_class = by_class.sort_values("order")
    by_pattern = score(frame, "pattern")
    info = {
        "skus": skus,
        "series": frame["unique_id"].nunique(),
        "seconds": seconds,
        "stockout_rate": summary.stockout_rate,
    }
    return render_accuracy(by_class, by_pattern, info), info


def _table(df: pd.DataFrame, label: str) -> list[str]:
    lines = [
        f"| {label} | series | MASE ours | MASE naive | MASE floor | WAPE ours | WAPE naive | WAPE floor | bias ours |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in df.itertuples():
        lines.append(
            f"| {r.group} | {r.series} | {r.mase_mean:.3f} | {r.mase_naive:.3f} | {r.mase_expected:.3f} | "
            f"{r.wape_mean:.1%} | {r.wape_naive:.1%} | {r.wape_expected:.1%} | {r.bias:+.1%} |"
        )
    return lines


def render_accuracy(by_class: pd.DataFrame, by_pattern: pd.DataFrame, info: dict) -> str:
    lines = [
        "## Demand forecasting",
        "",
        f"`benchmarks/bench_forecast.py`, {date.today()}, machine: {MACHINE} (Python {platform.python_version()}).",
        "",
        f"Simulated data: {info['skus']} SKUs x 730 days ({info['series']} series, seed {SEED}, "
        f"{info['stockout_rate']:.1%} of history days end out of stock). Rolling origin: {ORIGINS} origins "
        f"{HORIZON} days apart, {HORIZON}-day horizon, scored against true unconstrained demand. 'naive' = "
        "seasonal naive (last week repeated) on recorded sales; 'floor' = the simulator's expected demand, "
        "the error no forecast can beat. MASE = MAE / in-sample seasonal-naive MAE, averaged over series; "
        "WAPE = sum |error| / sum demand; bias = (sum forecast - sum demand) / sum demand. "
        f"All {ORIGINS} origins took {info['seconds']:.0f} s.",
        "",
        *_table(by_class, "demand class"),
        "",
        "By the simulator's demand pattern:",
        "",
        *_table(by_pattern, "pattern"),
    ]
    return "\n".join(lines) + "\n"


# -- real series ------------------------------------------------------------------------------
REAL = (  # name, loader, season, freq, horizon
    ("wineind", "load_wineind", 12, "MS", 12),
    ("airpassengers", "load_airpassengers", 12, "MS", 12),
    ("ausbeer", "load_ausbeer", 4, "QS", 8),
    ("austres", "load_austres", 4, "QS", 8),
    ("woolyrnq", "load_woolyrnq", 4, "QS", 8),
)


def real_series() -> str:
    try:
        from pmdarima import datasets
    except ImportError:
        return "Real series: pmdarima is not installed (`pip install -e .[dev]`).\n"
    lines = [
        "Real series shipped inside the pmdarima wheel (no download), 3 rolling origins one horizon apart, same pipeline "
        "(class, backtest-selected model) with the series' own season:",
        "",
        "| series | length | season | horizon | models chosen | MASE ours | MASE seasonal naive |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, loader, season, freq, h in REAL:
        y = np.asarray(getattr(datasets, loader)(), dtype=float)
        y = y[~np.isnan(y)]  # ausbeer ends with a missing quarter
        ds = pd.date_range("2000-01-01", periods=len(y), freq=freq)
        full = pd.DataFrame({"unique_id": name, "ds": ds, "y": y})
        ours, naive, models = [], [], []
        for k in reversed(range(ORIGINS)):
            train, test = (
                full.iloc[: len(y) - (k + 1) * h],
                full.iloc[len(y) - (k + 1) * h : len(y) - k * h],
            )
            fc = forecast_panel(train, h, season=season, freq=freq)
            scale = np.abs(train["y"].to_numpy()[season:] - train["y"].to_numpy()[:-season]).mean()
            sn = np.resize(train["y"].to_numpy()[-season:], h)
            ours.append(np.abs(fc["mean"].to_numpy() - test["y"].to_numpy()).mean() / scale)
            naive.append(np.abs(sn - test["y"].to_numpy()).mean() / scale)
            models.append(fc["model"].iloc[0])
        lines.append(
            f"| {name} | {len(y)} | {season} | {h} | {', '.join(models)} | {np.mean(ours):.3f} | {np.mean(naive):.3f} |"
        )
    return "\n".join(lines) + "\n"


# -- throughput -------------------------------------------------------------------------------
def throughput(skus: int, folder: Path) -> str:
    started = time.perf_counter()
    summary = generate(
        folder / "big.duckdb", folder / "big_truth.duckdb", skus=skus, days=730, seed=SEED + 1
    )
    gen_s = time.perf_counter() - started
    store = Store(summary.db_path)
    ctx = ToolContext(store)
    result = run_forecasts(ctx, RunForecastsRequest(horizon_days=HORIZON))
    started = time.perf_counter()
    risk = stockout_risk(ctx, StockoutRiskRequest(horizon_days=7, limit=10))
    scan_s = time.perf_counter() - started
    started = time.perf_counter()
    risk28 = stockout_risk(ctx, StockoutRiskRequest(horizon_days=HORIZON, limit=100))
    scan28_s = time.perf_counter() - started
    store.close()
    mix = "; ".join(f"{c} {n}" for c, n in result.class_counts.items())
    lines = [
        "## Forecast and stock-out scan throughput",
        "",
        f"`benchmarks/bench_forecast.py --parts throughput`, {date.today()}, machine: {MACHINE} "
        f"(Python {platform.python_version()}), shared with other jobs while it ran.",
        "",
        f"{skus} SKUs x 730 days, {summary.series} series (simulated in {gen_s:.0f} s).",
        "",
        "| step | seconds | series/s |",
        "|---|---|---|",
        f"| batch forecast, {HORIZON} days, backtest selection (run_forecasts, n_jobs {result.n_jobs}) "
        f"| {result.seconds:.0f} | {result.series / result.seconds:.0f} |",
        f"| stock-out scan, 7 days, all series (stockout_risk) | {scan_s:.1f} | {risk.scanned / scan_s:.0f} |",
        f"| stock-out scan, {HORIZON} days, top 100 with actions | {scan28_s:.1f} | {risk28.scanned / scan28_s:.0f} |",
        "",
        f"Classes: {mix}. Models by class: "
        + "; ".join(
            f"{c}: " + ", ".join(f"{m} {n}" for m, n in ms.items())
            for c, ms in result.model_mix.items()
        )
        + ".",
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--parts", default="accuracy,real", help="comma list of accuracy, real, throughput"
    )
    parser.add_argument("--skus", type=int, default=1000, help="SKUs for the accuracy backtest")
    parser.add_argument("--throughput-skus", type=int, default=10_000)
    parser.add_argument(
        "--no-write", action="store_true", help="print only, leave docs/benchmarks.md alone"
    )
    args = parser.parse_args()
    parts = set(args.parts.split(","))
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        if parts & {"accuracy", "real"}:
            text = ""
            if "accuracy" in parts:
                text, _ = accuracy(args.skus, folder)
            if "real" in parts:
                text = (text or "## Demand forecasting\n") + "\n" + real_series()
            print(text)
            if not args.no_write:
                write_section("## Demand forecasting", text)
        if "throughput" in parts:
            text = throughput(args.throughput_skus, folder)
            print(text)
            if not args.no_write:
                write_section("## Forecast and stock-out scan throughput", text)
    if not args.no_write:
        print(f"wrote {DOCS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
