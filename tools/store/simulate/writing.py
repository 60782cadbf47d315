"""Long tables from (days, series) arrays, and both files written under temporary names."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

from tools.store.db import Store
from tools.store.simulate.catalogue import Catalog
from tools.store.simulate.demand import Series

TRUTH_SCHEMA = Path(__file__).parents[1] / "truth.sql"


@dataclass(frozen=True)
class SeriesKeys:
    """Key columns (date, sku, location_id) of a long table, shared by tables of the same span."""

    mask: np.ndarray  # over the (series, day) grid flattened series-major: row exists
    columns: dict[str, pa.Array]


def series_keys(catalog: Catalog, series: Series, start: date, t0: int, t1: int) -> SeriesKeys:
    """Keys for days t0..t1-1, ordered by sku, location, date; rows only from a SKU's launch on.

    Arrow dictionary columns keep 10 M rows of SKU and location codes cheap.
    """
    n = len(series.sku)
    span = t1 - t0
    mask = (np.arange(t0, t1)[None, :] >= series.launch[:, None]).ravel()
    sid = np.repeat(np.arange(n, dtype=np.int32), span)[mask]
    epoch = (start - date(1970, 1, 1)).days + t0
    dates = np.tile(np.arange(span, dtype=np.int32) + epoch, n)[mask]
    skus = pa.array(catalog.products.sku)
    locations = pa.array(catalog.locations.location_id)
    return SeriesKeys(
        mask,
        {
            "date": pa.array(dates, type=pa.date32()),
            "sku": pa.DictionaryArray.from_arrays(series.sku.astype(np.int32)[sid], skus),
            "location_id": pa.DictionaryArray.from_arrays(
                series.loc.astype(np.int32)[sid], locations
            ),
        },
    )


def series_frame(keys: SeriesKeys, columns: dict[str, np.ndarray]) -> pa.Table:
    """A long table from (days, series) arrays laid over ``keys``."""
    data = dict(keys.columns)
    for name, values in columns.items():
        data[name] = pa.array(np.ascontiguousarray(values.T).ravel()[keys.mask])
    return pa.table(data)


VISIBLE_ORDER = (
    "meta",
    "suppliers",
    "locations",
    "products",
    "promotions",
    "purchase_orders",
    "po_lines",
    "customer_orders",
    "customer_order_lines",
    "sales",
    "inventory",
)


def _insert(con: duckdb.DuckDBPyConnection, table: str, frame: pd.DataFrame | pa.Table) -> int:
    columns = ", ".join(
        f'"{c}"' for c in (frame.column_names if isinstance(frame, pa.Table) else frame.columns)
    )
    con.register("_frame", frame)
    try:
        con.execute(f'INSERT INTO "{table}" ({columns}) SELECT {columns} FROM _frame')
    finally:
        con.unregister("_frame")
    return len(frame)


def temp_path(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    remove(tmp)
    return tmp


def remove(path: Path) -> None:
    for p in (path, Path(f"{path}.wal")):
        p.unlink(missing_ok=True)


def publish(tmp: Path, path: Path) -> None:
    Path(f"{path}.wal").unlink(missing_ok=True)  # a stale WAL would be replayed onto the new file
    os.replace(tmp, path)


def write_visible(path: Path, tables: dict[str, pd.DataFrame | pa.Table]) -> dict[str, int]:
    store = Store(path)
    try:
        con = store.con
        con.execute("SET enable_progress_bar = false")
        return {name: _insert(con, name, tables[name]) for name in VISIBLE_ORDER}
    finally:
        store.close()


def write_truth(path: Path, tables: dict[str, pd.DataFrame | pa.Table]) -> dict[str, int]:
    """The truth file is opened with duckdb directly: ``Store`` must never be able to reach it."""
    con = duckdb.connect(str(path))
    try:
        con.execute("SET enable_progress_bar = false")
        con.execute(TRUTH_SCHEMA.read_text())
        return {name: _insert(con, name, frame) for name, frame in tables.items()}
    finally:
        con.close()
