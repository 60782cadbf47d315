"""Import CSV or Parquet files into the data store: all of it or nothing.

Each file feeds one table, named by the file (``products.csv``, ``sales_2026-11.parquet``) or
by ``table=``. Files are read as real exports come (tools.store.import_read): comma, semicolon,
tab or pipe separated, decimal commas, headers in any case or spacing and unambiguous synonyms
('SKU', 'Location ID', 'qty'). Every file is validated before anything is written: required and
unknown columns, ragged rows, every value against its column's type and range (an integer
column holds at most 2,147,483,647), control characters and over-long text, one plain e-mail
address per e-mail field, allowed values, duplicate keys (within the files and against the
database) and references that exist neither in the database nor in the other files. Codes
(SKU, supplier, location, PO, order, promotion, customer) are upper-cased and trimmed before any
key is compared, so 'sku-00001' is SKU-00001. A date column takes dates: a timestamp with a time
of day or a time zone is refused (midnight without a zone is read as that date).

Every problem is an ``ImportProblem`` whose ``row`` is the 1-based data row number in the file
(the header line is not counted); all of them are raised together in one
``ImportValidationError``, and ``validate_files`` (``--check``) returns exactly the problems a
real import would raise. A valid import is written in one transaction, parents first. With
``update=True`` rows whose key is already in the database update it (only the columns the file
has) in that same transaction; without it they are refused as duplicates.
"""

from __future__ import annotations

import contextlib
import re
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from tools.store.db import Store
from tools.store.import_read import (
    UnreadableFileError,
    comma_to_point,
    match_headers,
    read_file,
    uses_decimal_comma,
)
from tools.store.import_values import (
    QUANTITY_COLUMNS,
    convert,
    kind_of,
)

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
    updated: dict[str, int] = field(default_factory=dict)  # table -> existing rows updated
    notes: list[str] = field(default_factory=list)  # how files were read ('semicolon-separated')

    def __str__(self) -> str:
        parts = ", ".join(f"{table} {n:,}" for table, n in self.rows.items())
        text = f"imported {sum(self.rows.values()):,} rows from {len(self.files)} file(s): {parts}"
        if any(self.updated.values()):
            changed = ", ".join(f"{t} {n:,}" for t, n in self.updated.items() if n)
            text += f"; updated {sum(self.updated.values()):,} existing rows: {changed}"
        return text + "".join(f"\n  {note}" for note in self.notes)


# -- the import -----------------------------------------------------------------------------


@dataclass
class _Batch:
    """One file, read and converted to the table's column types."""

    file: str
    table: str
    frame: pd.DataFrame  # typed columns present in the file (invalid cells are NA)
    rows: np.ndarray  # 1-based data row number of each frame row
    missing_required: list[str] = field(default_factory=list)  # update mode: new rows need them
    existing: np.ndarray | None = None  # update mode: rows whose key is in the database
    notes: list[str] = field(default_factory=list)


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
    store: Store, paths: Iterable[str | Path], table: str | None = None, update: bool = False
) -> list[ImportProblem]:
    """Every problem that would stop importing ``paths``; an empty list means the import is
    valid. The same checks as ``import_files`` with the same ``update``, so ``--check`` agrees."""
    return _prepare(store, paths, table, update)[1]


def import_files(
    store: Store, paths: Iterable[str | Path], table: str | None = None, update: bool = False
) -> ImportReport:
    """Validate, then write all files in one transaction; raises ImportValidationError if
    invalid. ``update``: rows whose key exists update it instead of being refused."""
    started = time.perf_counter()
    batches, problems = _prepare(store, paths, table, update)
    if problems:
        raise ImportValidationError(problems)
    inserted, updated = _write(store, batches)
    return ImportReport(
        rows=inserted,
        files=[b.file for b in batches],
        seconds=round(time.perf_counter() - started, 2),
        updated=updated if update else {},
        notes=[note for b in batches for note in b.notes],
    )


# -- reading and checking ---------------------------------------------------------------------


def _prepare(
    store: Store, paths: Iterable[str | Path], table: str | None, update: bool = False
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
        batch = _read(store, path, table, update, problems)
        if batch is not None:
            batches.append(batch)
    batches.sort(key=lambda b: TABLES.index(b.table))  # parents first
    _check_keys(store, batches, update, problems)
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
    store: Store, path: Path, table: str | None, update: bool, problems: list[ImportProblem]
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
    if path.suffix.lower() not in FORMATS:
        problems.append(
            ImportProblem(
                name, None, None, f"unsupported file type '{path.suffix}'; use .csv or .parquet"
            )
        )
        return None
    try:
        raw = read_file(path)
    except (UnreadableFileError, OSError) as error:
        problems.append(ImportProblem(name, None, None, f"cannot read the file: {error}"))
        return None

    columns = _columns(store, target)
    mapping, clashes = match_headers(raw.headers, list(columns))
    problems += [ImportProblem(name, None, None, clash) for clash in clashes]
    for i, header in enumerate(raw.headers):
        if i not in mapping:
            problems.append(
                ImportProblem(
                    name,
                    None,
                    header,
                    f"unknown column for table {target}; expected: {', '.join(columns)}",
                )
            )
    found = set(mapping.values())
    missing_required = []
    for col, (_, required) in columns.items():
        if required and col not in found:
            if update and col not in RULES[target].key:
                missing_required.append(col)  # fine when every row updates an existing key
            else:
                problems.append(
                    ImportProblem(name, None, col, f"missing required column for table {target}")
                )
    for row, fields in raw.ragged:
        problems.append(
            ImportProblem(
                name,
                row,
                None,
                f"ragged row: {fields} fields where the header has {len(raw.headers)} "
                "(a missing or extra separator, or an unquoted separator in a value)",
            )
        )
    rows = np.asarray(raw.rows, dtype=int)
    positions = {col: i for i, col in sorted(mapping.items(), reverse=True)}  # first header wins
    numeric = [i for col, i in positions.items() if kind_of(columns[col][0]) in {"whole", "number"}]
    decimal_comma = uses_decimal_comma(raw, numeric)
    notes = list(raw.notes) + (["decimal commas read as decimal points"] if decimal_comma else [])
    typed = {}
    for col in [c for c in columns if c in positions]:
        text = pd.Series([r[positions[col]] for r in raw.cells], dtype=object)
        if decimal_comma and positions[col] in numeric:
            text = text.map(lambda v: comma_to_point(v) if isinstance(v, str) else v)
        sql_type, required = columns[col]
        typed[col] = convert(
            text,
            sql_type,
            col,
            rows,
            required,
            lambda r, message, col=col: problems.append(ImportProblem(name, r, col, message)),
        )
    frame = pd.DataFrame(typed)
    _check_values(frame, RULES[target], name, rows, problems)
    if notes:
        notes = [f"{name}: {', '.join(notes)}"]
    return _Batch(name, target, frame, rows, missing_required, notes=notes)


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
            label = "quantity" if column in QUANTITY_COLUMNS else column.replace("_", " ")
            noun = f"negative {label}" if low == 0 else "too small"
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
        frame[c].dt.strftime("%Y-%m-%d")
        if pd.api.types.is_datetime64_any_dtype(frame[c])
        else frame[c].astype(str)
        for c in columns
    ]
    text = parts[0] if len(parts) == 1 else "(" + parts[0].str.cat(parts[1:], sep=", ") + ")"
    missing = frame[list(columns)].isna().any(axis=1)
    return text.where(~missing)


def _check_keys(
    store: Store, batches: list[_Batch], update: bool, problems: list[ImportProblem]
) -> None:
    """Duplicates within the import (across all files of a table) and against the database;
    in update mode a key already in the database marks its row as an update instead."""
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
            primary = tuple(columns) == tuple(rule.key)
            for b in usable:
                hits = _existing(store, table, columns, b, None if primary else rule.key)
                if primary and update:
                    b.existing = np.isin(b.rows, [r for r, _ in hits])
                    continue
                hint = " (import with update to change it)" if primary else ""
                for r, key in hits:
                    problems.append(
                        ImportProblem(
                            b.file, r, label, f"key {key} is already in the database{hint}"
                        )
                    )
    for b in batches:
        if b.missing_required:
            new = b.rows if b.existing is None else b.rows[~b.existing]
            for r in new:
                problems.append(
                    ImportProblem(
                        b.file,
                        int(r),
                        ", ".join(b.missing_required),
                        f"a new {b.table} row needs column(s) the file does not have: "
                        + ", ".join(b.missing_required),
                    )
                )


def _existing(
    store: Store,
    table: str,
    columns: Sequence[str],
    batch: _Batch,
    other_key: Sequence[str] | None = None,
) -> list[tuple[int, str]]:
    """(row, key) of the batch rows whose ``columns`` are already in the table; with
    ``other_key`` (a unique column such as a name), only where that database row has a
    different key (in update mode a row keeps its own name)."""
    wanted = list(dict.fromkeys([*columns, *(other_key or ())]))
    if not all(c in batch.frame for c in wanted):
        wanted = list(columns)
        other_key = None
    frame = batch.frame[wanted].copy()
    frame["_row"] = batch.rows
    frame = frame.dropna()
    if frame.empty:
        return []
    # A cursor of its own: registering a frame fails while another result is still open.
    cur = store.con.cursor()
    try:
        cur.register("_import_keys", frame)
        on = " AND ".join(f't."{c}" = k."{c}"' for c in columns)
        if other_key:
            on += " AND NOT (" + " AND ".join(f't."{c}" = k."{c}"' for c in other_key) + ")"
        hits = cur.execute(
            f'SELECT k._row FROM _import_keys k WHERE EXISTS (SELECT 1 FROM "{table}" t WHERE {on}) ORDER BY 1'
        ).fetchall()
    finally:
        cur.close()
    if not hits:
        return []
    index = {int(r): i for i, r in enumerate(batch.rows)}
    text = _key_text(batch.frame.iloc[[index[int(r)] for (r,) in hits]], columns)
    return [(int(r), key) for (r,), key in zip(hits, text, strict=True)]


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


def _write(store: Store, batches: list[_Batch]) -> tuple[dict[str, int], dict[str, int]]:
    """(inserted, updated) rows per table, written in one transaction."""
    cur = store.con
    inserted: dict[str, int] = {}
    updated: dict[str, int] = {}
    current = batches[0].file if batches else "(import)"
    cur.execute("BEGIN TRANSACTION")
    try:
        for batch in batches:
            current = batch.file
            columns = _columns(store, batch.table)
            names = list(batch.frame.columns)
            old = batch.existing if batch.existing is not None else np.zeros(len(batch.frame), bool)
            new_rows, old_rows = batch.frame[~old], batch.frame[old]
            select = ", ".join(f'CAST("{c}" AS {columns[c][0]}) AS "{c}"' for c in names)
            if len(new_rows):
                cur.register("_import_rows", new_rows)
                try:
                    cur.execute(
                        f'INSERT INTO "{batch.table}" ({", ".join(f"{chr(34)}{c}{chr(34)}" for c in names)}) '
                        f"SELECT {select} FROM _import_rows"
                    )
                finally:
                    cur.unregister("_import_rows")
            key = RULES[batch.table].key
            changed = [c for c in names if c not in key]
            if len(old_rows) and changed:
                on = " AND ".join(f't."{c}" = CAST(k."{c}" AS {columns[c][0]})' for c in key)
                cur.register("_import_rows", old_rows)
                try:
                    # One column at a time, only where it differs: DuckDB rewrites an UPDATE of
                    # a row that other tables reference as delete + insert, which those
                    # references refuse, so unchanged columns (a supplier_id) are left untouched.
                    for c in changed:
                        value = f'CAST(k."{c}" AS {columns[c][0]})'
                        cur.execute(
                            f'UPDATE "{batch.table}" AS t SET "{c}" = {value} FROM _import_rows k '
                            f'WHERE {on} AND t."{c}" IS DISTINCT FROM {value}'
                        )
                finally:
                    with contextlib.suppress(duckdb.Error):  # keep the first error, not this one
                        cur.unregister("_import_rows")
            inserted[batch.table] = inserted.get(batch.table, 0) + len(new_rows)
            updated[batch.table] = updated.get(batch.table, 0) + len(old_rows)
        cur.execute("COMMIT")
    except Exception as error:  # noqa: BLE001 - any failure: roll back, refuse cleanly
        with contextlib.suppress(duckdb.Error):  # already gone: nothing was committed
            cur.execute("ROLLBACK")
        # A constraint the checks above do not cover: still one clean, all-or-nothing refusal.
        message = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        refusal = ImportProblem(current, None, None, f"the database refused the import: {message}")
        raise ImportValidationError([refusal]) from None
    return inserted, updated
