"""Reading one import file into text cells, as real exports come: the CSV delimiter and the
decimal comma detected, headers matched whatever their case and spacing (and by an unambiguous
synonym), ragged rows reported as ragged, Parquet timestamps kept whole so the importer can
refuse a time of day instead of dropping it.

The importer (tools.store.importer) types and checks the cells; this module only reads them.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import numpy as np
import pandas as pd

DELIMITERS = (",", ";", "\t", "|")
DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}
READ_FIELD_LIMIT = 64 * 1024 * 1024  # read a 20 MB cell so that it can be refused by name

# Accepted header spellings beyond the column name itself, after normalise_header. A synonym
# only applies in a table that has its column, and only when no other header in the file
# means the same column: 'qty' is units in sales and qty in customer_order_lines.
SYNONYMS: dict[str, tuple[str, ...]] = {
    "sku": (
        "sku_code",
        "sku_id",
        "item",
        "item_id",
        "item_no",
        "article",
        "article_no",
        "product_id",
    ),
    "location_id": (
        "location",
        "location_code",
        "warehouse",
        "warehouse_id",
        "site",
        "site_id",
        "dc",
    ),
    "supplier_id": ("supplier", "supplier_code", "vendor", "vendor_id", "vendor_code"),
    "po_number": ("po", "po_no", "po_id", "purchase_order", "order_number"),
    "order_id": ("order", "order_no", "customer_order", "customer_order_id"),
    "promo_id": ("promo", "promotion", "promotion_id"),
    "customer_id": ("customer", "customer_no"),
    "name": ("product_name", "supplier_name", "location_name", "description", "title"),
    "category": ("product_category", "category_name"),
    "contact_email": ("email", "e_mail", "contact_e_mail", "mail"),
    "contact_name": ("contact",),
    "unit_cost": ("cost", "cost_price", "purchase_price"),
    "price": ("retail_price", "selling_price", "sale_price", "sales_price", "list_price"),
    "units": ("qty", "quantity", "units_sold", "sold", "sales_units"),
    "qty": ("quantity", "units"),
    "qty_ordered": ("ordered", "ordered_qty", "quantity_ordered"),
    "qty_received": ("received", "received_qty", "quantity_received"),
    "on_hand": ("stock", "on_hand_qty", "onhand", "qty_on_hand", "stock_on_hand"),
    "allocated": ("reserved", "allocated_qty"),
    "case_pack": ("pack_size", "case_size"),
    "shelf_life_days": ("shelf_life",),
    "lead_time_mean_days": ("lead_time", "lead_time_days"),
    "lead_time_sd_days": ("lead_time_sd",),
    "on_time_rate": ("on_time", "otif"),
    "moq": ("min_order_qty", "minimum_order_quantity"),
    "promised_date": ("promise_date", "due_date"),
    "order_date": ("ordered_on", "po_date"),
    "discount_pct": ("discount", "discount_percent"),
    "lat": ("latitude",),
    "lon": ("lng", "long", "longitude"),
    "line_no": ("line", "line_number"),
}


def normalise_header(name: object) -> str:
    """'Location ID', ' location-id ', 'LOCATION_ID' -> 'location_id'."""
    text = str(name).replace("\ufeff", "").strip().lower()
    return re.sub(r"[\s\-./]+", "_", text).strip("_")


def match_headers(headers: list[str], columns: list[str]) -> tuple[dict[int, str], list[str]]:
    """({header position: column}, problems) for a table's ``columns``. Exact names (after
    normalising) win; a synonym is used when it names one column of this table and no other
    header already claims that column."""
    exact = {normalise_header(c): c for c in columns}
    aliases: dict[str, list[str]] = {}
    for column in columns:
        for alias in SYNONYMS.get(column, ()):
            aliases.setdefault(alias, []).append(column)
    mapping: dict[int, str] = {}
    for i, header in enumerate(headers):
        if (key := normalise_header(header)) in exact:
            mapping[i] = exact[key]
    problems: list[str] = []
    taken = set(mapping.values())
    for i, header in enumerate(headers):
        if i in mapping:
            continue
        targets = [c for c in aliases.get(normalise_header(header), []) if c not in taken]
        if len(targets) == 1:
            mapping[i] = targets[0]
            taken.add(targets[0])
    seen: dict[str, int] = {}
    for i, column in sorted(mapping.items()):
        if column in seen:
            problems.append(
                f"headers '{headers[seen[column]]}' and '{headers[i]}' both mean column {column}"
            )
        seen.setdefault(column, i)
    return mapping, problems


@dataclass
class RawFile:
    """Header and text cells of one file; ``rows`` are 1-based data row numbers."""

    headers: list[str]
    cells: list[list[str | None]]  # one list per kept row, aligned with headers
    rows: list[int]
    ragged: list[tuple[int, int]] = field(default_factory=list)  # (row, fields in it)
    delimiter: str = ","
    notes: list[str] = field(default_factory=list)


class UnreadableFileError(ValueError):
    """The file cannot be read as a table at all; the message says why."""


def read_file(path: Path) -> RawFile:
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return read_csv(path.read_bytes())
    if suffix == ".parquet":
        return read_parquet(path)
    raise UnreadableFileError(f"unsupported file type '{suffix}'; use .csv or .parquet")


def read_csv(raw: bytes) -> RawFile:
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise UnreadableFileError(
            f"not UTF-8 text (byte {error.start}); save the export as CSV UTF-8"
        ) from None
    first = next((line for line in text.splitlines() if line.strip()), "")
    if not first:
        raise UnreadableFileError("the file is empty: a header line is needed")
    delimiter = max(
        DELIMITERS, key=lambda d: (len(next(csv.reader([first], delimiter=d))), d == ",")
    )
    csv.field_size_limit(READ_FIELD_LIMIT)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    try:
        records = list(reader)
    except csv.Error as error:
        raise UnreadableFileError(
            f"cannot read data row {max(reader.line_num - 1, 1)}: {error}"
        ) from None
    while records and not any(cell.strip() for cell in records[0]):
        records.pop(0)
    headers, body = [h.strip() for h in records[0]], records[1:]
    result = RawFile(headers, [], [], delimiter=delimiter)
    if delimiter != ",":
        result.notes.append(f"read as {DELIMITER_NAMES[delimiter]}-separated")
    for number, record in enumerate(body, start=1):
        if not "".join(record).strip():
            continue  # a blank line (Excel adds ';;;' rows): no data, keeps the numbering
        if len(record) != len(headers):
            result.ragged.append((number, len(record)))
            continue
        result.cells.append([cell.strip() or None for cell in record])
        result.rows.append(number)
    return result


def read_parquet(path: Path) -> RawFile:
    try:
        frame = pd.read_parquet(path)
    except (ValueError, OSError) as error:
        raise UnreadableFileError(str(error).strip().splitlines()[0]) from None
    columns = [_as_text(frame[c]) for c in frame.columns]
    cells = [list(row) for row in zip(*columns, strict=True)] if columns else []
    return RawFile([str(c).strip() for c in frame.columns], cells, list(range(1, len(frame) + 1)))


def _as_text(values: pd.Series) -> list[str | None]:
    """Cells as stripped text, None when empty. Dates stay dates; a timestamp keeps its time of
    day and zone (the importer refuses them for date columns rather than drop them)."""
    if pd.api.types.is_datetime64_any_dtype(values):
        values = values.astype(object).where(values.notna(), None)
    return [_cell(v) for v in values.tolist()]


def _cell(value) -> str | None:
    if value is None or value is pd.NaT or (isinstance(value, float) and np.isnan(value)):
        return None
    if isinstance(value, pd.Timestamp):
        value = value.to_pydatetime()
    if isinstance(value, datetime):
        midnight = (value.hour, value.minute, value.second, value.microsecond) == (0, 0, 0, 0)
        return value.date().isoformat() if midnight and value.tzinfo is None else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    text = str(value).strip()
    return text or None


_DECIMAL_COMMA = re.compile(r"[+-]?(?:\d{1,3}(?:\.\d{3})+|\d+),\d+")
_THOUSANDS = re.compile(r"[+-]?\d{1,3}(?:\.\d{3})+(?:,\d+)?")


def uses_decimal_comma(raw: RawFile, numeric: list[int]) -> bool:
    """A file not separated by commas whose numbers are written '12,50' (European exports)."""
    if raw.delimiter == ",":
        return False
    return any(
        row[i] is not None and _DECIMAL_COMMA.fullmatch(row[i])
        for row in raw.cells
        for i in numeric
    )


def comma_to_point(text: str) -> str:
    """'1.234,50' -> '1234.50'; '12,5' -> '12.5' (only for a file that uses decimal commas)."""
    if _THOUSANDS.fullmatch(text):
        text = text.replace(".", "")
    return text.replace(",", ".") if _DECIMAL_COMMA.fullmatch(text) or "," in text else text
