"""PyVRP (HGS) vs OR-Tools (guided local search) on the same instances and time limit.

1. Generated delivery days like the simulator's (customers within ~40 km of a Berlin depot,
   weights 5-120 kg, 1,000 kg vans, half the orders with 2-4 h windows, 40 km/h, 5 min
   service, depot 06:00-20:00) at 50, 100 and 200 stops: total km, vehicles, unserved, time.
2. Standard CVRPLIB instances (sets A, E, X), read from ../shared/data/cvrplib/ beside the
   repository (or $STOCKPILOT_CVRPLIB); they are not copied into this repository, and this
   part is skipped when the folder is absent. Costs use the CVRPLIB convention (nint Euclidean distances); the gap is
   to the optimal / best-known value listed in that folder's README.md. A and E use the
   fleet size in the instance name (their optima use exactly k routes); X leaves the fleet
   free, as its definition does (we allow 1.3 x the minimum + 1).

    .venv/bin/python benchmarks/bench_routing.py [--time-limit 2] [--sizes 50 100 200]
        [--sets A E X] [--max-customers 200] [--write-docs]
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import re
import time
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
from docs_section import write_section  # benchmarks/ is on sys.path when run as a script

from tools.routing import (
    SOLVERS,
    check_solution,
    delivery_instance,
    read_cvrplib,
    read_cvrplib_solution,
)

ROOT = Path(__file__).resolve().parents[1]
CVRPLIB = Path(os.environ.get("STOCKPILOT_CVRPLIB") or ROOT.parent / "shared" / "data" / "cvrplib")
SECTION = "## Vehicle routing (benchmarks/bench_routing.py)"
READING = """Reading: at the same short limit PyVRP's hybrid genetic search is the better default; it
finds most small A/E optima within 2 s and stays within a few percent on X. OR-Tools' guided
local search is used where a side constraint needs its dimensions; with the fleet fixed at the
instance's k (A, E) its cheapest-arc start can fail to find a feasible plan (the 'feasible'
column). The machine was shared, so both solvers saw only part of a core: compare them, not
absolute times."""
DEPOT = {"lat": 52.52, "lon": 13.405}


def generated_orders(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    radius = 40_000 * np.sqrt(rng.random(n))  # uniform over a 40 km disc
    angle = rng.uniform(0, 2 * np.pi, n)
    lat = DEPOT["lat"] + radius * np.cos(angle) / 111_320
    lon = DEPOT["lon"] + radius * np.sin(angle) / (111_320 * math.cos(math.radians(DEPOT["lat"])))
    timed = rng.random(n) < 0.5
    start = rng.choice(np.arange(480, 901, 30), n).astype(float)
    end = start + rng.choice([120, 180, 240], n)
    return pd.DataFrame(
        {
            "order_id": [f"G-{i + 1:04d}" for i in range(n)],
            "lat": lat,
            "lon": lon,
            "weight_kg": rng.uniform(5, 120, n).round(1),
            "tw_start_min": np.where(timed, start, np.nan),
            "tw_end_min": np.where(timed, end, np.nan),
        }
    )


def run_generated(sizes: list[int], limit: float, seed: int) -> pd.DataFrame:
    rows = []
    for n in sizes:
        orders = generated_orders(n, seed + n)
        vehicles = math.ceil(1.5 * orders.weight_kg.sum() / 1000) + 2
        for name, solve in SOLVERS.items():
            instance = delivery_instance(DEPOT, orders, 1000.0, vehicles, name=f"gen-{n}")
            solution = solve(instance, limit, 42)
            problems = check_solution(instance, solution)
            rows.append(
                {
                    "instance": f"generated {n} stops",
                    "solver": name,
                    "km": round(solution.cost(instance) / 1000, 1),
                    "vehicles": len(solution.routes),
                    "unserved": len(solution.unserved),
                    "feasible": not problems,
                    "seconds": round(solution.seconds, 2),
                }
            )
            print(rows[-1])
    return pd.DataFrame(rows)


def best_known() -> dict[str, int]:
    """Optimal / BKS values from the table in the CVRPLIB folder's README."""
    values = {}
    for line in (CVRPLIB / "README.md").read_text().splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) > 6 and re.fullmatch(r"[AEX]-n\d+-k\d+", cells[0]) and cells[5].isdigit():
            values[cells[0]] = int(cells[5])
    return values


def fleet(name: str, instance) -> int:
    k = int(re.search(r"-k(\d+)", name).group(1))
    if name.startswith("X"):
        return math.ceil(1.3 * math.ceil(instance.demands.sum() / instance.capacity)) + 1
    return k


def run_cvrplib(sets: list[str], max_customers: int, limit: float) -> pd.DataFrame:
    bks = best_known()
    rows = []
    for path in sorted(
        CVRPLIB.glob("*.vrp"),
        key=lambda p: (p.name[0], int(re.search(r"-n(\d+)", p.name).group(1))),
    ):
        name = path.stem
        if name[0] not in sets:
            continue
        instance = read_cvrplib(path)
        if instance.num_clients > max_customers:
            continue
        target = bks.get(name)
        sol_path = path.with_suffix(".sol")
        if target is None and sol_path.exists():
            target = read_cvrplib_solution(sol_path)[1]
        instance.num_vehicles = fleet(name, instance)
        for solver, solve in SOLVERS.items():
            solution = solve(instance, limit, 42)
            ok = not check_solution(instance, solution) and not solution.unserved
            cost = solution.cost(instance) if ok else None
            rows.append(
                {
                    "instance": name,
                    "set": name[0],
                    "customers": instance.num_clients,
                    "solver": solver,
                    "cost": cost,
                    "bks": target,
                    "gap_pct": None if cost is None else 100 * (cost - target) / target,
                    "seconds": round(solution.seconds, 2),
                }
            )
            print(rows[-1])
    return pd.DataFrame(rows)


def summary(cvrplib: pd.DataFrame) -> pd.DataFrame:
    group = cvrplib.groupby(["set", "solver"])
    out = group.agg(
        instances=("instance", "count"),
        feasible=("cost", lambda c: int(c.notna().sum())),
        mean_gap_pct=("gap_pct", "mean"),
        max_gap_pct=("gap_pct", "max"),
        optimal_found=("gap_pct", lambda g: int((g <= 1e-9).sum())),
    )
    return out.reset_index()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--time-limit", type=float, default=2.0)
    parser.add_argument("--sizes", type=int, nargs="+", default=[50, 100, 200])
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--sets", nargs="+", default=["A", "E", "X"])
    parser.add_argument("--max-customers", type=int, default=200)
    parser.add_argument("--write-docs", action="store_true")
    args = parser.parse_args()
    started = time.perf_counter()
    generated = run_generated(args.sizes, args.time_limit, args.seed)
    print(generated.to_string(index=False))
    cvrplib = pd.DataFrame()
    if CVRPLIB.exists():
        cvrplib = run_cvrplib(args.sets, args.max_customers, args.time_limit)
        table = summary(cvrplib)
        print(table.to_string(index=False, float_format=lambda v: f"{v:.2f}"))
    else:
        print(f"{CVRPLIB} not found: CVRPLIB part skipped")
    print(f"total {time.perf_counter() - started:.0f} s")
    if args.write_docs:
        parts = [
            f"{SECTION}\n\nRun {date.today().isoformat()} on 2 vCPU, 24 GiB, no GPU (shared, loaded machine), "
            f"Python {platform.python_version()}, pyvrp 0.14.1, ortools 9.15; time limit {args.time_limit:g} s per "
            "solver and instance, one run each (PyVRP seed 42).\n",
            "Generated delivery days (CVRPTW, 1,000 kg vans, half the orders with windows; objective = total km):\n",
            generated.to_markdown(index=False),
        ]
        if len(cvrplib):
            parts += [
                f"\nCVRPLIB sets {', '.join(args.sets)} up to {args.max_customers} customers, read from "
                f"`{CVRPLIB}` (not copied here); gap to the optimal/BKS value of its README, nint distances:\n",
                summary(cvrplib).to_markdown(index=False, floatfmt=".2f"),
            ]
        write_section(SECTION, "\n".join(parts) + "\n\n" + READING + "\n")


if __name__ == "__main__":
    main()
