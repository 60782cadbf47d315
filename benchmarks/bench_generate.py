"""Data generation benchmark: how long the simulator takes to write a store and its truth file.

Generates 1k x 730 and 10k x 730 (SKUs x days) into a temporary folder, prints a table with
rows, seconds per phase and file sizes, and writes the section "## Data generation" of
docs/benchmarks.md.

    .venv/bin/python benchmarks/bench_generate.py [--sizes 1000 10000] [--days 730] [--no-write]
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from docs_section import DOC as DOCS  # noqa: E402
from docs_section import write_section  # noqa: E402

from tools.store.simulate import generate  # noqa: E402

HEADING = "## Data generation"
MACHINE = "2 vCPU, 24 GiB, no GPU"
PHASES = ("catalog", "demand", "stock", "customer orders", "tables", "writing")


@dataclass
class Run:
    skus: int
    days: int
    series: int
    rows: int
    seconds: float  # wall clock
    cpu_seconds: float  # all threads of this process: what the run costs on a busy machine
    phases: dict[str, float]  # phase -> seconds
    db_mib: float
    truth_mib: float
    peak_rss_gib: float
    stockout_rate: float


def run(folder: Path, skus: int, days: int) -> Run:
    marks: list[tuple[str, float]] = []
    started, cpu_started = time.perf_counter(), time.process_time()

    def progress(message: str) -> None:
        phase = next((p for p in PHASES if message.startswith(p)), message)
        marks.append((phase, time.perf_counter()))

    summary = generate(
        folder / f"db{skus}.duckdb",
        folder / f"truth{skus}.duckdb",
        skus=skus,
        days=days,
        progress=progress,
    )
    ended = time.perf_counter()
    stamps = [t for _, t in marks] + [ended]
    phases = {name: stamps[i + 1] - t for i, (name, t) in enumerate(marks)}
    result = Run(
        skus=skus,
        days=days,
        series=summary.series,
        rows=summary.total_rows,
        seconds=ended - started,
        cpu_seconds=time.process_time() - cpu_started,
        phases=phases,
        db_mib=summary.db_path.stat().st_size / 2**20,
        truth_mib=summary.truth_path.stat().st_size / 2**20,
        peak_rss_gib=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20,
        stockout_rate=summary.stockout_rate,
    )
    summary.db_path.unlink()
    summary.truth_path.unlink()
    return result


def table(runs: list[Run]) -> str:
    head = (
        "| SKUs | days | series | rows | seconds | CPU s | "
        + " | ".join(PHASES)
        + " | DB MiB | truth MiB | peak RSS GiB |"
    )
    lines = [head, "|" + "---:|" * (9 + len(PHASES))]
    for r in runs:
        phases = " | ".join(f"{r.phases.get(p, 0):.1f}" for p in PHASES)
        lines.append(
            f"| {r.skus:,} | {r.days} | {r.series:,} | {r.rows:,} | {r.seconds:.1f} | {r.cpu_seconds:.1f} | {phases} | "
            f"{r.db_mib:.0f} | {r.truth_mib:.0f} | {r.peak_rss_gib:.1f} |"
        )
    return "\n".join(lines)


def section(runs: list[Run], load: tuple[float, float, float]) -> str:
    today = subprocess.run(
        ["date", "+%Y-%m-%d"], capture_output=True, text=True, check=True
    ).stdout.strip()
    return "\n".join(
        [
            HEADING,
            "",
            f"`benchmarks/bench_generate.py`, {today}, {MACHINE}, Python {platform.python_version()}. "
            f"Load average before the run: {load[0]:.1f} (other jobs share the 2 cores).",
            "",
            "`generate()` end to end: catalog, demand for history + 28 hidden days, the day-by-day "
            "stock and PO simulation, baskets and deliveries, and writing both DuckDB files (Arrow "
            "inserts). Rows = visible + truth tables. Phases are wall seconds; CPU s counts every "
            "thread of the process, the steadier figure on a shared machine. Peak RSS is the "
            "process maximum so far (runs go smallest first).",
            "",
            table(runs),
            "",
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000], help="SKU counts")
    parser.add_argument("--days", type=int, default=730)
    parser.add_argument(
        "--no-write", action="store_true", help="print only, leave docs/benchmarks.md alone"
    )
    args = parser.parse_args()
    load = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp:
        runs = []
        for skus in sorted(args.sizes):
            runs.append(run(Path(tmp), skus, args.days))
            print(
                f"{skus:>6} SKUs: {runs[-1].seconds:.1f} s wall, {runs[-1].cpu_seconds:.1f} s CPU",
                flush=True,
            )
    print(table(runs))
    if not args.no_write:
        write_section(HEADING, section(runs, load))
        print(f"wrote '{HEADING}' in {DOCS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
