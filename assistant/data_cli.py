"""`stockpilot data ...`: generate sample data, import files, and summarise the data store.

A thin layer over tools.store.simulate, tools.store.importer and tools.store.info: the settings
are read here, at the top, and the library functions get paths. Bad input ends with a one-line
error and exit code 2.
"""

from __future__ import annotations

import time
from datetime import date
from pathlib import Path

import typer
from pydantic import ValidationError

from assistant.settings import Settings, load_settings
from tools.store.db import Store
from tools.store.info import store_info

app = typer.Typer(no_args_is_help=True, add_completion=False)

SHOWN_PROBLEMS = 50


def _fail(message: str) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(2)


def _settings() -> Settings:
    try:
        return load_settings()
    except (ValidationError, ValueError, OSError) as error:
        _fail(f"cannot read the settings (stockpilot.toml / STOCKPILOT_*): {error}")


def _open(path: Path, read_only: bool) -> Store:
    import duckdb

    try:
        return Store(path, read_only=read_only)
    except (duckdb.Error, OSError) as error:  # e.g. locked by a running app, or unwritable
        _fail(f"{path}: cannot open the database: {str(error).splitlines()[0]}")


@app.command()
def generate(
    skus: int = typer.Option(300, help="number of products"),
    days: int = typer.Option(730, help="days of history before --today"),
    seed: int = typer.Option(7, help="random seed: the same seed gives the same data"),
    today: str = typer.Option(None, help="planning date YYYY-MM-DD (default 2026-11-30)"),
    locations: int = typer.Option(3, help="warehouses: BER, HAM, MUC, FRA, CGN, ..."),
    future_days: int = typer.Option(28, help="days of hidden future kept in the truth file"),
) -> None:
    """Simulate a store's history into the database, and its ground truth into a separate file."""
    from tools.store.simulate import DEFAULT_TODAY
    from tools.store.simulate import generate as simulate

    settings = _settings()
    try:
        planning_date = date.fromisoformat(today) if today else DEFAULT_TODAY
    except ValueError:
        _fail(f"--today: cannot read '{today}' as a date; use YYYY-MM-DD")
    started = time.perf_counter()

    def progress(message: str) -> None:
        typer.echo(f"[{time.perf_counter() - started:6.1f}s] {message}")

    try:
        summary = simulate(
            settings.database,
            settings.truth_database,
            skus=skus,
            days=days,
            seed=seed,
            today=planning_date,
            locations=locations,
            future_days=future_days,
            progress=progress,
        )
    except ValueError as error:
        _fail(str(error))
    except OSError as error:
        _fail(f"cannot write the database: {error}")
    typer.echo(
        f"[{summary.seconds:6.1f}s] done: {summary.skus} SKUs x {summary.days} days, "
        f"{summary.series} series, {summary.total_rows:,} rows, "
        f"{summary.stockout_rate:.1%} of series-days out of stock"
    )
    typer.echo(f"  database: {summary.db_path}")
    typer.echo(f"  truth:    {summary.truth_path}  (ground truth for tests and benchmarks only)")
    for table, n in summary.rows.items():
        typer.echo(f"  {table:22s} {n:>12,}")


@app.command("import")
def import_command(
    paths: list[Path] = typer.Argument(
        ..., help="CSV or Parquet files, one table each (products.csv, sales.parquet, ...)"
    ),
    table: str = typer.Option(
        None, "--table", help="table for all files, when their names do not say it"
    ),
    check: bool = typer.Option(False, "--check", help="validate only, write nothing"),
    update: bool = typer.Option(
        False, "--update", help="update rows whose keys exist (same all-or-nothing transaction)"
    ),
) -> None:
    """Import files all-or-nothing; problems are listed by file, data row (header not counted) and column."""
    from tools.store.importer import ImportValidationError, import_files, validate_files

    settings = _settings()
    store = _open(settings.database, read_only=False)
    try:
        if check:
            problems = validate_files(store, paths, table=table, update=update)
            if problems:
                raise ImportValidationError(problems)
            typer.echo(f"ok: {len(paths)} file(s) would import cleanly")
            return
        report = import_files(store, paths, table=table, update=update)
    except ImportValidationError as error:
        typer.echo(
            f"error: import refused, nothing was written ({len(error.problems)} problems)", err=True
        )
        for problem in error.problems[:SHOWN_PROBLEMS]:
            typer.echo(f"  {problem}", err=True)
        if len(error.problems) > SHOWN_PROBLEMS:
            typer.echo(f"  ... and {len(error.problems) - SHOWN_PROBLEMS} more", err=True)
        raise typer.Exit(2) from None
    finally:
        store.close()
    typer.echo(f"{report} ({report.seconds:.1f}s)")


@app.command()
def info() -> None:
    """Row counts, date range, today, entities, open and late POs, open alerts."""
    settings = _settings()
    path = settings.database
    if not path.exists():
        _fail(
            f"{path}: no database yet; run `stockpilot data generate` or `stockpilot data import` first"
        )
    store = _open(path, read_only=True)
    try:
        for line in store_info(store).lines():
            typer.echo(line)
    finally:
        store.close()
    from assistant.model.loader import adapter_drift

    if settings.adapter_path:  # the model must see the prompt and tools it was trained with
        for line in adapter_drift(settings.adapter_path):
            typer.echo(f"WARNING adapter: {line}")
