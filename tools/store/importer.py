"""Import CSV or Parquet files into the data store: all of it or nothing.

Each file feeds one table, named by the file (``products.csv``, ``sales_2026-11.parquet``) or
by ``table=``. Every file is validated before anything is written: required and unknown
columns, value types, negative quantities, allowed values, duplicate keys (within the files
and against the database) and references to SKUs, suppliers, locations, POs and orders that
exist neither in the database nor in the other files of the same import. Every problem is
collected as an ``ImportProblem`` whose ``row`` is the 1-based data row number in the file
(the header line is not counted), and all of them are raised together in one
``ImportValidationError``. A valid import is written in one transaction, parents first.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from tools.store.db import Store

MAX_LISTED = 25  # problems spelled out in the exception text; all of them stay in .problems


@dataclass(frozen=True)
class TableRule:
    """What the importer enforces for one table beyond the column types in schema.sql."""

    key: tuple[str, ...]
    references: dict[str, str] = field(
        default_factory=dict
    )  # column -> parent table (same column name)
    unique: tuple[str, ...] = ()  # further single-column unique constraints
    minimum: dict[str, float] = field(default_factory=dict)  # column >= value
    positive: tuple[str, ...] = ()  # column > 0
    maximum: dict[str, float] = field(default_factory=dict)  # column <= value
    choices: dict[str, tuple[str, ...]] = field(default_factory=dict)
    ordered: tuple[tuple[str, str], ...] = ()  # (earlier, later) date pairs


# Parents before children: the order tables are validated against and written in.
RULES: dict[str, TableRule] = {
    "suppliers": TableRule(
        key=("supplier_id",),
        unique=("name",),
        minimum={"lead_time_sd_days": 0, "moq": 1, "on_time_rate": 0},
        positive=("lead_time_mean_days",),
        maximum={"on_time_rate": 1},
    ),
    "locations": TableRule(
        key=("location_id",),
        unique=("name",),
        minimum={"lat": -90, "lon": -180},
        maximum={"lat": 90, "lon": 180},
        choices={"kind": ("warehouse", "dc", "store")},
    ),
    "products": TableRule(
        key=("sku",),
        references={"supplier_id": "suppliers"},
        minimum={"unit_cost": 0, "price": 0, "case_pack": 1},
        positive=("shelf_life_days",),
    ),
    "promotions": TableRule(
        key=("promo_id",),
        references={"sku": "products", "location_id": "locations"},
        positive=("discount_pct",),
        maximum={"discount_pct": 99.999},
        ordered=(("start_date", "end_date"),),
    ),
    "purchase_orders": TableRule(
        key=("po_number",),
        references={"supplier_id": "suppliers", "location_id": "locations"},
        choices={"status": ("open", "partial", "received", "cancelled")},
        ordered=(("order_date", "promised_date"),),
    ),
    "po_lines": TableRule(
        key=("po_number", "line_no"),
        references={"po_number": "purchase_orders", "sku": "products"},
        positive=("qty_ordered",),
        minimum={"qty_received": 0, "unit_cost": 0},
    ),
    "customer_orders": TableRule(
        key=("order_id",),
        references={"location_id": "locations"},
        minimum={
            "lat": -90,
            "lon": -180,
            "weight_kg": 0,
            "volume_m3": 0,
            "tw_start_min": 0,
            "tw_end_min": 0,
        },
        maximum={"lat": 90, "lon": 180, "tw_start_min": 1440, "tw_end_min": 1440},
    ),
    "customer_order_lines": TableRule(
        key=("order_id", "sku"),
        references={"order_id": "customer_orders", "sku": "products"},
        positive=("qty",),
    ),
    "sales": TableRule(
        key=("date", "sku", "location_id"),
        references={"sku": "products", "location_id": "locations"},
        minimum={"units": 0},
    ),
    "inventory": TableRule(
        key=("date", "sku", "location_id"),
        references={"sku": "products", "location_id": "locations"},
        minimum={"on_hand": 0, "allocated": 0},
    ),
}
TABLES = tuple(RULES)
FORMATS = (".csv", ".parquet")


@dataclass(frozen=True)
class ImportProblem:
    """One thing wrong with one file; ``row`` is the 1-based data row (header not counted)."""

    file: str
    row: int | None  # None: the problem concerns the whole file or a column
    column: str | None
    message: str

    def __str__(self) -> str:
        where = [self.file] + ([f"row {self.row}"] if self.row is not None else [])
        where += [f"column {self.column}"] if self.column else []
        return f"{', '.join(where)}: {self.message}"


class ImportValidationError(ValueError):
    """The import was refused; nothing was written. ``problems`` lists every problem found."""

    def __init__(self, problems: Sequence[ImportProblem]):
        self.problems = list(problems)
        lines = [str(p) for p in self.problems[:MAX_LISTED]]
        if len(self.problems) > MAX_LISTED:
            lines.append(f"... and {len(self.problems) - MAX_LISTED} more")
        super().__init__(
            f"import refused, nothing was written ({len(self.problems)} problems):\n"
            + "\n".join(lines)
        )


@dataclass(frozen=True)
class ImportReport:
    """What a successful import wrote."""

    rows: dict[str, int]  # table -> rows inserted
    files: list[str]
    seconds: float

    def __str__(self) -> str:
        parts = ", ".join(f"{table} {n:,}" for table, n in self.rows.items())
        return f"imported {sum(self.rows.values()):,} rows from {len(self.files)} file(s): {parts}"


@dataclass
class _Batch:
    """One file, read and converted to the table's column types."""

    file: str
    table: str
    frame: pd.DataFrame  # typed columns present in the file (invalid cells are NA)
    rows: np.ndarray  # 1-based data row number of each frame row


def table_for(path: str | Path) -> str | None:
    """'products.csv' -> 'products'; 'sales_2026-11.parquet' -> 'sales'; longest name wins."""
    stem = Path(path).name.lower()
    for suffix in FORMATS:
        stem = stem.removesuffix(suffix)
    for table in sorted(TABLES, key=len, reverse=True):
        if stem == table or re.match(re.escape(table) + r"[-_. ]", stem):
            return table
    return None


def validate_files(
    store: Store, paths: Iterable[str | Path], table: str | None = None
) -> list[ImportProblem]:
    """Every problem that would stop importing ``paths``; an empty list means the import is valid."""
    return _prepare(store, paths, table)[1]


def import_files(
    store: Store, paths: Iterable[str | Path], table: str | None = None
) -> ImportReport:
    """Validate, then write all files in one transaction; raises ImportValidationError if invalid."""
    started = time.perf_counter()
    batches, problems = _prepare(store, paths, table)
    if problems:
        raise ImportValidationError(problems)
    written = _write(store, batches)
    return ImportReport(
        rows=written,
        files=[b.file for b in batches],
        seconds=round(time.perf_counter() - started, 2),
    )


# -- reading and typing ---------------------------------------------------------------------


def _prepare(
    store: Store, paths: Iterable[str | Path], table: str | None
) -> tuple[list[_Batch], list[ImportProblem]]:
    paths = [Path(p) for p in paths]
    problems: list[ImportProblem] = []
    if not paths:
        return [], [
            ImportProblem(
                "(no files)", None, None, "nothing to import: give at least one CSV or Parquet file"
            )
        ]
    if table is not None and table not in RULES:
        return [], [ImportProblem(str(p), None, None, _unknown_table(table)) for p in paths]
    batches = []
    for path in paths:
        batch = _read(store, path, table, problems)
        if batch is not None:
            batches.append(batch)
    batches.sort(key=lambda b: TABLES.index(b.table))  # parents first
    _check_keys(store, batches, problems)
    _check_references(store, batches, problems)
    return batches, _in_reading_order(problems, paths, batches)


def _in_reading_order(
    problems: list[ImportProblem], paths: list[Path], batches: list[_Batch]
) -> list[ImportProblem]:
    """Sort problems as a user reads the files: file by file, row by row, left to right."""
    file_rank = {str(p): i for i, p in enumerate(paths)}
    columns = {b.file: list(b.frame.columns) for b in batches}

    def position(problem: ImportProblem) -> tuple[int, int, int]:
        names = columns.get(problem.file, [])
        first = (problem.column or "").split(",")[0].strip()
        return (
            file_rank.get(problem.file, len(paths)),
            problem.row or 0,
            names.index(first) if first in names else -1,
        )

    return sorted(problems, key=position)


def _unknown_table(name: str) -> str:
    return f"unknown table '{name}'; importable tables: {', '.join(TABLES)}"


def _read(
    store: Store, path: Path, table: str | None, problems: list[ImportProblem]
) -> _Batch | None:
    name = str(path)
    target = table or table_for(path)
    if target is None:
        problems.append(
            ImportProblem(
                name,
                None,
                None,
                "cannot tell the table from the file name; name it like "
                "'products.csv' or pass --table (" + ", ".join(TABLES) + ")",
            )
        )
        return None
    if not path.is_file():
        problems.append(ImportProblem(name, None, None, "file not found"))
        return None
    suffix = path.suffix.lower()
    try:
        if suffix == ".csv":
            raw = pd.read_csv(
                path, dtype=str, keep_default_na=False, skip_blank_lines=False, encoding="utf-8-sig"
            )
        elif suffix == ".parquet":
            raw = pd.read_parquet(path)
        else:
            problems.append(
                ImportProblem(
                    name, None, None, f"unsupported file type '{suffix}'; use .csv or .parquet"
                )
            )
            return None
    except (ValueError, OSError, UnicodeDecodeError, pd.errors.ParserError) as error:
        problems.append(
            ImportProblem(
                name, None, None, f"cannot read the file: {str(error).strip().splitlines()[0]}"
            )
        )
        return None

    raw.columns = [str(c).strip() for c in raw.columns]
    columns = _columns(store, target)
    for col in raw.columns:
        if col not in columns:
            problems.append(
                ImportProblem(
                    name,
                    None,
                    col,
                    f"unknown column for table {target}; expected: {', '.join(columns)}",
                )
            )
    for col, (_, required) in columns.items():
        if required and col not in raw.columns:
            problems.append(
                ImportProblem(name, None, col, f"missing required column for table {target}")
            )
    rows = np.arange(1, len(raw) + 1)
    typed = {}
    for col in [c for c in raw.columns if c in columns]:
        sql_type, required = columns[col]
        typed[col] = _convert(raw[col], sql_type, name, col, rows, required, problems)
    frame = pd.DataFrame(typed, index=raw.index)
    _check_values(frame, RULES[target], name, rows, problems)
    return _Batch(name, target, frame, rows)


def _columns(store: Store, table: str) -> dict[str, tuple[str, bool]]:
    """Column -> (SQL type, required) from the live schema: schema.sql stays the one source."""
    info = store.query(
        "SELECT column_name, data_type, is_nullable, column_default FROM information_schema.columns "
        "WHERE table_schema = 'main' AND table_name = ? ORDER BY ordinal_position",
        [table],
    )
    return {
        r.column_name: (r.data_type, r.is_nullable == "NO" and r.column_default is None)
        for r in info.itertuples()
    }


def _as_text(values: pd.Series) -> pd.Series:
    """Cells as stripped text, None when empty; Parquet dates become ISO dates."""
    if pd.api.types.is_datetime64_any_dtype(values):
        text = values.dt.strftime("%Y-%m-%d")
    else:
        text = values.map(lambda v: v.isoformat() if isinstance(v, date) else v)
    text = text.map(
        lambda v: None if v is None or (isinstance(v, float) and np.isnan(v)) else str(v).strip()
    )
    return text.map(lambda v: None if v == "" else v)


def _convert(
    values: pd.Series,
    sql_type: str,
    file: str,
    column: str,
    rows: np.ndarray,
    required: bool,
    problems: list[ImportProblem],
) -> pd.Series:
    text = _as_text(values)
    present = text.notna().to_numpy()
    if required:
        for r in rows[~present]:
            problems.append(ImportProblem(file, int(r), column, "missing value (required)"))
    kind = sql_type.upper()
    if kind in {
        "INTEGER",
        "BIGINT",
        "SMALLINT",
        "TINYINT",
        "HUGEINT",
        "DOUBLE",
        "FLOAT",
        "REAL",
    } or kind.startswith("DECIMAL"):
        numbers = pd.to_numeric(text, errors="coerce").astype(float)
        finite = np.isfinite(numbers.to_numpy())
        whole = kind not in {"DOUBLE", "FLOAT", "REAL"} and not kind.startswith("DECIMAL")
        if whole:
            bad = present & (~finite | (np.round(numbers.to_numpy()) != numbers.to_numpy()))
            expected, result = "a whole number", numbers.where(~bad).round().astype("Int64")
        else:
            bad = present & ~finite
            expected, result = "a number", numbers.where(~bad).astype("Float64")
    elif kind == "DATE":
        parsed = pd.to_datetime(
            text.where(text.str.fullmatch(r"\d{4}-\d{1,2}-\d{1,2}", na=False)),
            format="%Y-%m-%d",
            errors="coerce",
        )
        bad = present & parsed.isna().to_numpy()
        expected, result = "a date as YYYY-MM-DD", parsed
    elif kind.startswith("TIMESTAMP"):
        parsed = pd.to_datetime(text, errors="coerce", format="ISO8601")
        bad = present & parsed.isna().to_numpy()
        expected, result = "an ISO timestamp", parsed
    else:
        return text
    for r, v in zip(rows[bad], text[bad], strict=True):
        problems.append(ImportProblem(file, int(r), column, f"not {expected}: '{v}'"))
    return result


# -- checks ---------------------------------------------------------------------------------


def _check_values(
    frame: pd.DataFrame, rule: TableRule, file: str, rows: np.ndarray, problems: list[ImportProblem]
) -> None:
    def report(mask, column: str, message) -> None:
        mask = np.asarray(mask, dtype=bool)
        for r, v in zip(rows[mask], frame[column][mask], strict=True):
            problems.append(ImportProblem(file, int(r), column, message(v)))

    for column, low in rule.minimum.items():
        if column in frame:
            noun = "negative quantity" if low == 0 else "too small"
            report(
                (frame[column] < low).fillna(False),
                column,
                lambda v, low=low, noun=noun: f"{noun} {v} (must be >= {low:g})",
            )
    for column in rule.positive:
        if column in frame:
            report(
                (frame[column] <= 0).fillna(False),
                column,
                lambda v: f"must be greater than 0, got {v}",
            )
    for column, high in rule.maximum.items():
        if column in frame:
            report(
                (frame[column] > high).fillna(False),
                column,
                lambda v, high=high: f"too large {v} (must be <= {high:g})",
            )
    for column, allowed in rule.choices.items():
        if column in frame:
            report(
                frame[column].notna() & ~frame[column].isin(allowed),
                column,
                lambda v, allowed=allowed: f"'{v}' is not one of: {', '.join(allowed)}",
            )
    for earlier, later in rule.ordered:
        if earlier in frame and later in frame:
            report(
                (frame[later] < frame[earlier]).fillna(False),
                later,
                lambda v, earlier=earlier: f"{v:%Y-%m-%d} is before {earlier}",
            )


def _key_text(frame: pd.DataFrame, columns: Sequence[str]) -> pd.Series:
    """A key as one readable string, e.g. '(2026-11-02, SKU-00042, BER)'; NA if a part is missing."""
    parts = [
        frame[c].map(lambda v: v.strftime("%Y-%m-%d") if isinstance(v, pd.Timestamp) else str(v))
        for c in columns
    ]
    text = parts[0] if len(parts) == 1 else "(" + parts[0].str.cat(parts[1:], sep=", ") + ")"
    missing = frame[list(columns)].isna().any(axis=1)
    return text.where(~missing)


def _check_keys(store: Store, batches: list[_Batch], problems: list[ImportProblem]) -> None:
    """Duplicates within the import (across all files of a table) and against the database."""
    for table in dict.fromkeys(b.table for b in batches):
        rule = RULES[table]
        mine = [b for b in batches if b.table == table]
        for columns in [rule.key, *[(u,) for u in rule.unique]]:
            usable = [b for b in mine if all(c in b.frame for c in columns)]
            if not usable:
                continue
            keys = pd.concat(
                [
                    pd.DataFrame(
                        {"key": _key_text(b.frame, columns), "file": b.file, "row": b.rows}
                    )
                    for b in usable
                ],
                ignore_index=True,
            )
            keys = keys[keys.key.notna()]
            first = keys.drop_duplicates("key").set_index("key")
            label = ", ".join(columns)
            for item in keys[keys.duplicated("key")].itertuples():
                origin = first.loc[item.key]
                where = f"row {origin.row}" + (
                    "" if origin.file == item.file else f" of {origin.file}"
                )
                problems.append(
                    ImportProblem(
                        item.file,
                        int(item.row),
                        label,
                        f"duplicate key {item.key}: also on {where}",
                    )
                )
            for b in usable:
                for r, key in _existing(store, table, columns, b):
                    problems.append(
                        ImportProblem(b.file, r, label, f"key {key} is already in the database")
                    )


def _existing(
    store: Store, table: str, columns: Sequence[str], batch: _Batch
) -> list[tuple[int, str]]:
    frame = batch.frame[list(columns)].copy()
    frame["_row"] = batch.rows
    frame = frame.dropna()
    if frame.empty:
        return []
    # A cursor of its own: registering a frame fails while another result is still open.
    cur = store.con.cursor()
    try:
        cur.register("_import_keys", frame)
        on = " AND ".join(f't."{c}" = k."{c}"' for c in columns)
        hits = cur.execute(
            f'SELECT k._row FROM _import_keys k WHERE EXISTS (SELECT 1 FROM "{table}" t WHERE {on}) ORDER BY 1'
        ).fetchall()
    finally:
        cur.close()
    text = _key_text(batch.frame, columns)
    return [(int(r), text.iloc[int(r) - 1]) for (r,) in hits]


def _check_references(store: Store, batches: list[_Batch], problems: list[ImportProblem]) -> None:
    """Every referenced SKU, supplier, location, PO or order exists in the database or the import."""
    known: dict[str, set] = {}
    for batch in batches:
        for column, parent in RULES[batch.table].references.items():
            if column not in batch.frame:
                continue
            if parent not in known:
                key = RULES[parent].key[0]
                known[parent] = {
                    r[0]
                    for r in store.con.execute(
                        f'SELECT DISTINCT "{key}" FROM "{parent}"'
                    ).fetchall()
                }
                for other in batches:
                    if other.table == parent and key in other.frame:
                        known[parent].update(other.frame[key].dropna())
            values = batch.frame[column]
            missing = (values.notna() & ~values.isin(known[parent])).to_numpy()
            noun = {
                "sku": "SKU",
                "supplier_id": "supplier",
                "location_id": "location",
                "po_number": "purchase order",
                "order_id": "customer order",
            }.get(column, column)
            for r, v in zip(batch.rows[missing], values[missing], strict=True):
                problems.append(
                    ImportProblem(
                        batch.file,
                        int(r),
                        column,
                        f"unknown {noun} '{v}': not in the database or this import",
                    )
                )


# -- writing --------------------------------------------------------------------------------


def _write(store: Store, batches: list[_Batch]) -> dict[str, int]:
    cur = store.con
    written: dict[str, int] = {}
    current = batches[0].file if batches else "(import)"
    cur.execute("BEGIN TRANSACTION")
    try:
        for batch in batches:
            current = batch.file
            columns = _columns(store, batch.table)
            names = list(batch.frame.columns)
            select = ", ".join(f'CAST("{c}" AS {columns[c][0]}) AS "{c}"' for c in names)
            cur.register("_import_rows", batch.frame)
            try:
                cur.execute(
                    f'INSERT INTO "{batch.table}" ({", ".join(f"{chr(34)}{c}{chr(34)}" for c in names)}) '
                    f"SELECT {select} FROM _import_rows"
                )
            finally:
                cur.unregister("_import_rows")
            written[batch.table] = written.get(batch.table, 0) + len(batch.frame)
        cur.execute("COMMIT")
    except duckdb.Error as error:
        cur.execute("ROLLBACK")
        # A constraint the checks above do not cover: still one clean, all-or-nothing refusal.
        refusal = ImportProblem(current, None, None, f"the database refused the import: {error}")
        raise ImportValidationError([refusal]) from None
    return written
