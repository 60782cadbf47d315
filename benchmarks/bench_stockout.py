"""Stock-out prediction benchmark: does our projection flag the series that really stock out?

Generates two datasets with the simulator (one seed to tune the decision threshold, another to
score on), runs the batch forecast and the inventory projection, and scores "stocks out within
the next 7 days" against the simulator's hidden future (truth future_inventory: a day that ends
with zero stock). The baseline is the planner's spreadsheet: days of cover = (on hand + on
order) / trailing 28-day average sales, flagged when under 7 days. Prints a table and writes the
section "## Stock-out prediction" of docs/benchmarks.md.

    .venv/bin/python benchmarks/bench_stockout.py [--skus 2000] [--days 730] [--no-write]
"""

from __future__ import annotations

import argparse
import platform
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from docs_section import DOC as DOCS  # noqa: E402
from docs_section import write_section  # noqa: E402

from tools.forecasting import RunForecastsRequest, run_forecasts  # noqa: E402
from tools.inventory import load_outlook, project  # noqa: E402
from tools.registry import ToolContext  # noqa: E402
from tools.store import Store  # noqa: E402
from tools.store.simulate import generate  # noqa: E402

MACHINE = "2 vCPU, 24 GiB, no GPU"
WINDOW = 7  # "stocks out within the next 7 days"
TUNE_SEED, SCORE_SEED = 101, 202
PROBABILITY_GRID = np.round(np.arange(0.05, 0.96, 0.05), 2)
COVER_GRID = np.arange(1, 22)


@dataclass
class Run:
    seed: int
    series: int
    positives: int
    frame: pd.DataFrame  # sku, location_id, probability, cover, out
    forecast_s: float
    scan_s: float


def simulate(folder: Path, seed: int, skus: int, days: int) -> tuple[Path, Path]:
    summary = generate(
        folder / f"s{seed}.duckdb", folder / f"t{seed}.duckdb", skus=skus, days=days, seed=seed
    )
    print(
        f"seed {seed}: {summary.series} series, stock-out rate {summary.stockout_rate:.1%}, {summary.seconds:.0f} s"
    )
    return summary.db_path, summary.truth_path


def truth_labels(truth_path: Path, today: date) -> pd.DataFrame:
    """Series whose end-of-day stock is zero on some day of the next WINDOW days."""
    with duckdb.connect(str(truth_path), read_only=True) as con:
        return con.execute(
            "SELECT sku, location_id, bool_or(on_hand = 0) AS out FROM future_inventory "
            "WHERE date >= ? AND date < ? GROUP BY ALL",
            [today, today + timedelta(days=WINDOW)],
        ).df()


def spreadsheet_cover(store: Store) -> pd.DataFrame:
    """(on hand + open PO quantity) / trailing 28-day average recorded sales, in days."""
    today = store.today()
    sales = store.demand_history(start=today - timedelta(days=28), end=today - timedelta(days=1))
    avg = sales.groupby(["sku", "location_id"])["units"].sum().div(28).rename("avg")
    lines = store.po_lines(statuses=["open", "partial"])
    on_order = (
        (lines["qty_ordered"] - lines["qty_received"])
        .groupby([lines["sku"], lines["location_id"]])
        .sum()
    )
    pos = store.stock_positions().set_index(["sku", "location_id"])["on_hand"]
    frame = pd.concat([pos, on_order.rename("on_order"), avg], axis=1).fillna(
        {"on_order": 0, "avg": 0}
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        cover = (frame["on_hand"] + frame["on_order"]) / frame["avg"]
    # no recent sales: the spreadsheet shows #DIV/0!, which nobody reads as a risk
    return cover.replace([np.inf, -np.inf], np.nan).fillna(np.inf).rename("cover").reset_index()


def run_seed(folder: Path, seed: int, skus: int, days: int) -> Run:
    db, truth = simulate(folder, seed, skus, days)
    store = Store(db)
    started = time.perf_counter()
    run_forecasts(ToolContext(store), RunForecastsRequest(horizon_days=28))
    forecast_s = time.perf_counter() - started
    started = time.perf_counter()
    summary = project(load_outlook(store, store.series_keys(), WINDOW)).summary
    scan_s = time.perf_counter() - started
    frame = (
        summary[["sku", "location_id", "probability"]]
        .merge(spreadsheet_cover(store), on=["sku", "location_id"])
        .merge(truth_labels(truth, store.today()), on=["sku", "location_id"])
    )
    store.close()
    return Run(seed, len(frame), int(frame["out"].sum()), frame, forecast_s, scan_s)


def prf(flag: pd.Series, out: pd.Series) -> tuple[float, float, float]:
    tp = int((flag & out).sum())
    precision = tp / max(int(flag.sum()), 1)
    recall = tp / max(int(out.sum()), 1)
    f1 = 2 * precision * recall / max(precision + recall, 1e-12)
    return precision, recall, f1


def best_threshold(scores: pd.Series, out: pd.Series, grid, flag_below: bool = False) -> float:
    def f1(t):
        return prf(scores < t if flag_below else scores >= t, out)[2]

    return float(max(grid, key=f1))


def evaluate(tune: Run, score: Run) -> list[dict]:
    p_star = best_threshold(tune.frame["probability"], tune.frame["out"], PROBABILITY_GRID)
    c_star = best_threshold(tune.frame["cover"], tune.frame["out"], COVER_GRID, flag_below=True)
    f, out = score.frame, score.frame["out"]
    rows = [
        ("Spreadsheet: cover < 7 d", f["cover"] < 7),
        (f"Spreadsheet, tuned: cover < {c_star:.0f} d", f["cover"] < c_star),
        ("Stockpilot: P(stock-out) >= 0.5", f["probability"] >= 0.5),
        (f"Stockpilot, tuned: P(stock-out) >= {p_star:.2f}", f["probability"] >= p_star),
    ]
    results = []
    for name, flag in rows:
        p, r, f1 = prf(flag, out)
        results.append(
            {"method": name, "flagged": int(flag.sum()), "precision": p, "recall": r, "f1": f1}
        )
    return results


def calibration(run: Run) -> list[tuple[str, int, float, float]]:
    bins = [0, 0.05, 0.2, 0.4, 0.6, 0.8, 1.0001]
    cut = pd.cut(run.frame["probability"], bins, right=False)
    table = run.frame.groupby(cut, observed=True).agg(
        n=("out", "size"), p=("probability", "mean"), rate=("out", "mean")
    )
    return [
        (f"{i.left:.2f}-{min(i.right, 1):.2f}", int(r.n), r.p, r.rate) for i, r in table.iterrows()
    ]


def render(tune: Run, score: Run, results: list[dict], skus: int, days: int) -> str:
    brier = float(((score.frame["probability"] - score.frame["out"]) ** 2).mean())
    lines = [
        "## Stock-out prediction",
        "",
        f"`benchmarks/bench_stockout.py`, {date.today()}, machine: {MACHINE} (Python {platform.python_version()}).",
        f"Simulated data: {skus} SKUs x {days} days, 3 locations. Task: will the series end a day with zero "
        f"stock within the next {WINDOW} days (truth: the simulator's hidden future_inventory)? Thresholds "
        f"tuned on seed {tune.seed} ({tune.series} series, {tune.positives} stock-outs), scored on seed "
        f"{score.seed} ({score.series} series, {score.positives} stock-outs, base rate "
        f"{score.positives / score.series:.1%}).",
        "",
        "| method | flagged | precision | recall | F1 |",
        "|---|---|---|---|---|",
    ]
    for r in results:
        lines.append(
            f"| {r['method']} | {r['flagged']} | {r['precision']:.3f} | {r['recall']:.3f} | {r['f1']:.3f} |"
        )
    lines += [
        "",
        f"Brier score of P(stock-out) on the scoring seed: {brier:.4f}. Calibration (predicted vs observed):",
        "",
        "| P(stock-out) | series | mean predicted | observed rate |",
        "|---|---|---|---|",
    ]
    lines += [f"| {b} | {n} | {p:.3f} | {rate:.3f} |" for b, n, p, rate in calibration(score)]
    lines += [
        "",
        f"Batch forecast of the scoring seed took {score.forecast_s:.0f} s ({score.series / score.forecast_s:.0f} "
        f"series/s); the projection of all {score.series} series took {score.scan_s:.2f} s.",
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skus", type=int, default=2000)
    parser.add_argument("--days", type=int, default=730)
    parser.add_argument(
        "--no-write", action="store_true", help="print only, leave docs/benchmarks.md alone"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tune = run_seed(Path(tmp), TUNE_SEED, args.skus, args.days)
        score = run_seed(Path(tmp), SCORE_SEED, args.skus, args.days)
    text = render(tune, score, evaluate(tune, score), args.skus, args.days)
    print(text)
    if not args.no_write:
        write_section("## Stock-out prediction", text)
        print(f"wrote {DOCS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
