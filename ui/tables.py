"""Tool tables as people read them: human column labels with units, probabilities as
percentages, dates as dates, weekly rollups for questions asked in weeks; and the exports
(CSV, XLSX, tab-separated text for the clipboard), always with the header row and every row.
"""

from __future__ import annotations

import re
import tempfile
import time
import uuid
from pathlib import Path

import pandas as pd

# snake_case column -> what a planner calls it (with its unit). Dates say which date they are:
# a PO's promised date is the supplier's word, the expected arrival is our estimate.
LABELS = {
    "sku": "SKU",
    "name": "Product",
    "product": "Product",
    "category": "Category",
    "location_id": "Location",
    "location": "Location",
    "supplier_id": "Supplier",
    "supplier": "Supplier name",
    "supplier_name": "Supplier name",
    "po_number": "PO",
    "alert_id": "Alert",
    "date": "Date",
    "week": "Week starting",
    "mean": "Forecast (units)",
    "lo_80": "80% low (units)",
    "hi_80": "80% high (units)",
    "lo_95": "95% low (units)",
    "hi_95": "95% high (units)",
    "probability": "Stock-out probability (%)",
    "stockout_probability": "Stock-out probability (%)",
    "stockout_date": "Expected stock-out date",
    "action": "Recommended action",
    "inbound": "Inbound POs (qty, expected arrival)",
    "on_hand": "On hand (units)",
    "reserved": "Reserved (units)",
    "available": "Available (units)",
    "days_of_cover": "Days of cover",
    "projected_on_hand": "Projected on hand (units)",
    "demand": "Forecast demand (units)",
    "demand_hi_95": "Demand 95% high (units)",
    "state": "Status",
    "status": "Status",
    "order_date": "Ordered on",
    "promised_date": "Promised date (supplier)",
    "expected_date": "Expected arrival (estimate)",
    "expected_arrival": "Expected arrival (estimate)",
    "days_late": "Days late",
    "qty": "Quantity (units)",
    "qty_received": "Received (units)",
    "severity": "Severity",
    "kind": "Kind",
    "start_date": "From",
    "end_date": "To",
    "observed": "Observed",
    "expected_low": "Expected low",
    "expected_high": "Expected high",
    "summary": "Summary",
    "vehicle": "Van",
    "seq": "Stop",
    "order_id": "Order",
    "customer_id": "Customer",
    "arrival": "Arrival",
    "window": "Time window",
    "weight_kg": "Weight (kg)",
    "level": "Escalation level",
    "fill_rate": "Fill rate (%)",
    "on_time_rate": "On-time rate (%)",
    "unit_cost": "Unit cost",
    "price": "Price",
    "score": "Score",
    "safety_stock": "Safety stock (units)",
    "reorder_point": "Reorder point (units)",
    "order_qty": "Order quantity (units)",
    "lead_time_days": "Lead time (days)",
    "avg_daily_demand": "Average daily demand (units)",
    # past turns (History tab)
    "started": "Started (UTC)",
    "failed_tools": "Failed",
    "unsupported": "Unverified",
    "trace_id": "Trace",
}
PERCENT = re.compile(r"(^|_)(probability|rate|share|pct)$")
LEVELS = {"projected_on_hand", "on_hand", "stockout_probability", "probability", "days_of_cover"}
KEYS = {"sku", "location_id", "location", "supplier_id", "po_number", "name"}
EXPORT_KEEP_S = 24 * 3600
EXPORT_DIR = Path(tempfile.gettempdir()) / "stockpilot-ui"


def label(column: str) -> str:
    """The human label of a column: from LABELS, else 'snake_case' -> 'Snake case'."""
    if column in LABELS:
        return LABELS[column]
    words = str(column).replace("_", " ").strip()
    return words[:1].upper() + words[1:]


def _is_date_like(values: pd.Series) -> bool:
    return pd.api.types.is_datetime64_any_dtype(values) or (
        values.dtype == object
        and len(values.dropna())
        and all(hasattr(v, "isoformat") and not isinstance(v, str) for v in values.dropna())
    )


def present(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy for people: probabilities and rates in percent (rounded, still numbers so they
    sort), dates as YYYY-MM-DD, floats to one decimal, human labels."""
    out = frame.copy()
    for column in out.columns:
        values = out[column]
        if PERCENT.search(str(column)) and pd.api.types.is_numeric_dtype(values):
            if values.dropna().between(0, 1).all():
                out[column] = (values * 100).round(1)
        elif _is_date_like(values):
            out[column] = pd.to_datetime(values).dt.strftime("%Y-%m-%d")
        elif pd.api.types.is_float_dtype(values):
            out[column] = values.round(1)
    labels: list[str] = []
    for column in out.columns:  # two columns must never read the same
        text = label(column)
        labels.append(text if text not in labels else f"{text} ({column})")
    out.columns = labels
    return out


def asks_in_weeks(question: str) -> bool:
    return bool(re.search(r"\bweeks?\b|\bwk\b|\bweekly\b", question or "", re.I))


def weekly(frame: pd.DataFrame) -> pd.DataFrame | None:
    """Daily rows rolled up to weeks from the first date: flows (units sold, forecast, inbound,
    interval bounds) summed, levels (stock on hand, probabilities) as at the week's last day.
    None when the table is not a daily series longer than a week."""
    if "date" not in frame.columns or len(frame) <= 7:
        return None
    days = pd.to_datetime(frame["date"])
    if days.isna().any():
        return None
    keys = [c for c in frame.columns if c in KEYS]
    data = frame.assign(_day=days).sort_values([*keys, "_day"])
    start = data["_day"].min()
    data["week"] = (start + pd.to_timedelta((data["_day"] - start).dt.days // 7 * 7, "D")).dt.date
    numeric = [
        c for c in frame.columns if c not in keys and pd.api.types.is_numeric_dtype(frame[c])
    ]
    rules = {c: ("last" if c in LEVELS else "sum") for c in numeric}
    if not rules:
        return None
    rolled = data.groupby([*keys, "week"], as_index=False, sort=False).agg(rules)
    return rolled[[*keys, "week", *numeric]]


# -- exports --------------------------------------------------------------------------------
def export_path(name: str, suffix: str) -> Path:
    EXPORT_DIR.mkdir(parents=True, exist_ok=True)
    stale = time.time() - EXPORT_KEEP_S
    for old in EXPORT_DIR.glob("*.*"):  # downloads are one-off: keep the folder small
        if old.stat().st_mtime < stale:
            old.unlink(missing_ok=True)
    safe = re.sub(r"[^A-Za-z0-9_-]+", "_", name)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    return EXPORT_DIR / f"{safe}-{stamp}-{uuid.uuid4().hex[:6]}{suffix}"


def write_csv(name: str, table: pd.DataFrame) -> str:
    """The whole table, header row first, as a CSV file for a download button."""
    path = export_path(name, ".csv")
    table.to_csv(path, index=False)
    return str(path)


def write_xlsx(name: str, table: pd.DataFrame) -> str:
    """The whole table as an Excel sheet (openpyxl), header row first, numbers as numbers."""
    path = export_path(name, ".xlsx")
    with pd.ExcelWriter(path, engine="openpyxl") as writer:
        table.to_excel(writer, index=False, sheet_name=re.sub(r"[^A-Za-z0-9 _-]", "", name)[:31])
    return str(path)


def clipboard_text(table: pd.DataFrame) -> str:
    """Tab-separated, header row first: what a spreadsheet pastes as cells."""
    return table.to_csv(sep="\t", index=False, lineterminator="\n")
