"""Sales and stock questions over recorded history: one typed metric query.

Metrics: units sold, revenue, estimated lost sales on stock-out days, stock on hand, stock value
(at cost) and stock-out days; filters SKU, category, location, supplier and a period in words
or dates (``tools.periods``); optional group-by (an entity or day / week / month) and top-N.
Every figure is one SQL aggregate over the sales, inventory and products tables; a period
without data says so and names the range the data covers.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated, Literal, get_args

import pandas as pd
from pydantic import BaseModel, BeforeValidator

from tools.arguments import Category, Limit, Location, Period, Sku, Supplier, lowered
from tools.periods import Period as Span
from tools.periods import resolve_period
from tools.registry import Evidence, Request, ToolContext, ToolResult, tool
from tools.store import Store

Metric = Literal[
    "units_sold", "revenue", "lost_sales", "stock_on_hand", "stock_value", "stockout_days"
]
GroupBy = Literal["sku", "category", "location", "supplier", "day", "week", "month"]
METRICS: tuple[str, ...] = get_args(Metric)
UNITS = {
    "units_sold": "units",
    "revenue": "EUR",
    "lost_sales": "units",
    "stock_on_hand": "units",
    "stock_value": "EUR",
    "stockout_days": "series-days",
}
LABELS = {
    "units_sold": "Units sold",
    "revenue": "Revenue",
    "lost_sales": "Estimated lost sales",
    "stock_on_hand": "Stock on hand",
    "stock_value": "Stock value at cost",
    "stockout_days": "Stock-out days",
}
SYNONYMS = {
    "sales": "units_sold",
    "units": "units_sold",
    "sold": "units_sold",
    "turnover": "revenue",
    "lost": "lost_sales",
    "lost_units": "lost_sales",
    "stock": "stock_on_hand",
    "on_hand": "stock_on_hand",
    "inventory": "stock_on_hand",
    "inventory_value": "stock_value",
    "stockouts": "stockout_days",
    "stock_outs": "stockout_days",
    "out_of_stock_days": "stockout_days",
}
GROUP_SYNONYMS = {"product": "sku", "skus": "sku", "warehouse": "location", "site": "location"}
LOST_SALES_BASE_DAYS = 28  # in-stock days before the period that set a series' normal rate
STOCK_METRICS = ("stock_on_hand", "stock_value")
PLURALS = {"category": "categories"}  # the group names in words, where "s" does not make one


def _synonym(table: dict):
    def pick(value):
        if isinstance(value, str):
            key = value.strip().lower().replace(" ", "_").replace("-", "_")
            return table.get(key, key)
        return value

    return BeforeValidator(pick)


class HistoryRequest(Request):
    """A metric over recorded history, filtered, optionally grouped; ``period`` in words or dates."""

    metric: Annotated[lowered(Metric), _synonym(SYNONYMS)] = "units_sold"
    sku: Sku | None = None
    category: Category = None
    location: Location = None
    supplier: Supplier = None
    period: Period = None
    group_by: Annotated[lowered(GroupBy | None), _synonym(GROUP_SYNONYMS)] = None
    limit: Limit = 10


class MetricRow(BaseModel):
    key: str  # the group: a SKU, category, location id, supplier id or ISO date of the bucket
    label: str  # its name (product, location or supplier name; = key for dates and categories)
    value: float
    share: float | None  # of the total (None for stock metrics grouped by time)


class HistoryResult(ToolResult):
    metric: str
    unit: str
    period: str  # what the user asked, in words
    start: date
    end: date
    covered_start: date | None  # the dates the data has, store-wide
    covered_end: date | None
    filters: dict[str, str]
    group_by: str | None
    total: float
    groups: int  # groups with data (rows may be cut to the limit)
    rows: list[MetricRow]
    no_data: bool

    def _what(self) -> str:
        scope = " ".join(self.filters.values())
        return f"{LABELS[self.metric]}" + (f" of {scope}" if scope else "")

    def summary(self) -> str:
        span = f"{self.period} ({self.start}..{self.end})"
        if self.no_data:
            covered = (
                f"the data covers {self.covered_start}..{self.covered_end}"
                if self.covered_start
                else "the store holds no history"
            )
            return f"No sales or stock data for {span}: {covered}."
        if self.metric in STOCK_METRICS:
            span = f"at the end of {span}" if self.start != self.end else f"on {self.end}"
        head = f"{self._what()}, {span}: {_fmt(self.total, self.unit)}"
        if not self.group_by or not self.rows:
            return head + "."
        by_time = self.group_by in ("day", "week", "month")
        items = "; ".join(f"{_name(r)} {_fmt(r.value, self.unit)}" for r in self.rows[:5])
        lead = (
            f"by {self.group_by}" if by_time else f"top {min(len(self.rows), 5)} by {self.group_by}"
        )
        more = (
            f" ({self.groups} {PLURALS.get(self.group_by, self.group_by + 's')} in all)"
            if self.groups > 5 and not by_time
            else ""
        )
        return f"{head}; {lead}: {items}{more}."

    def render(self) -> str:
        lines = [self.summary()]
        lines += [f"{_name(r)}: {_fmt(r.value, self.unit)}" for r in self.rows[5:]]
        return "\n".join(lines)

    def table(self) -> pd.DataFrame:
        return pd.DataFrame([r.model_dump() for r in self.rows])


def _name(row: MetricRow) -> str:
    return row.key if row.label == row.key else f"{row.key} ({row.label})"


def _fmt(value: float, unit: str) -> str:
    if unit == "EUR":
        return f"EUR {value:,.0f}"
    text = f"{value:,.0f}" if abs(value) >= 100 or float(value).is_integer() else f"{value:,.1f}"
    return f"{text} {unit}"


# -- the query ---------------------------------------------------------------------------------
def covered_range(store: Store) -> tuple[date | None, date | None]:
    first, last = store.con.execute("SELECT min(date), max(date) FROM inventory").fetchone()
    return first, last


def _filters(store: Store, req: HistoryRequest) -> tuple[str, list, dict[str, str]]:
    sql, params, shown = "", [], {}
    if req.sku:
        sku = store.product(req.sku)["sku"]
        sql += " AND i.sku = ?"
        params.append(sku)
        shown["sku"] = sku
    if req.category:
        category = store.resolve_category(req.category)
        sql += " AND p.category = ?"
        params.append(category)
        shown["category"] = category
    if req.supplier:
        supplier = store.supplier(req.supplier)
        sql += " AND p.supplier_id = ?"
        params.append(supplier["supplier_id"])
        shown["supplier"] = supplier["name"]
    if req.location:
        location = store.location(req.location)
        sql += " AND i.location_id = ?"
        params.append(location["location_id"])
        shown["location"] = location["location_id"]
    return sql, params, shown


GROUP_SQL = {
    None: "'all'",
    "sku": "i.sku",
    "category": "p.category",
    "location": "i.location_id",
    "supplier": "p.supplier_id",
    "day": "strftime(i.date, '%Y-%m-%d')",
    "week": "strftime(date_trunc('week', i.date), '%Y-%m-%d')",
    "month": "strftime(date_trunc('month', i.date), '%Y-%m')",
}
BUCKET_SQL = {  # the stock metrics read the last day of each bucket (or of the period)
    None: "'all'",
    "day": "i.date",
    "week": "date_trunc('week', i.date)",
    "month": "date_trunc('month', i.date)",
}


def metric_frame(
    store: Store, metric: str, period: Span, group_by: str | None, where: str, params: list
) -> pd.DataFrame:
    """key, value per group: the whole computation, in SQL."""
    group = GROUP_SQL[group_by]
    base = (
        "FROM inventory i JOIN products p USING (sku) "
        "LEFT JOIN sales s ON s.date = i.date AND s.sku = i.sku AND s.location_id = i.location_id "
        "WHERE i.date BETWEEN ? AND ?" + where
    )
    args = [period.start, period.end, *params]
    if metric in ("units_sold", "revenue", "stockout_days"):
        value = {
            "units_sold": "sum(coalesce(s.units, 0))",
            "revenue": "sum(coalesce(s.units, 0) * p.price)",
            "stockout_days": "count(*) FILTER (WHERE i.on_hand <= 0)",
        }[metric]
        sql = f"SELECT {group} AS key, {value} AS value {base} GROUP BY 1"
        return store.query(sql, args)
    if metric in STOCK_METRICS:
        bucket = BUCKET_SQL.get(group_by, "'all'")
        value = "i.on_hand" if metric == "stock_on_hand" else "i.on_hand * p.unit_cost"
        sql = (
            f"SELECT key, sum(v) AS value FROM (SELECT {group} AS key, {value} AS v {base} "
            f"QUALIFY row_number() OVER (PARTITION BY i.sku, i.location_id, {bucket} "
            "ORDER BY i.date DESC) = 1) GROUP BY 1"
        )
        return store.query(sql, args)
    # lost_sales: on a stock-out day a series loses its normal rate (its mean sales on in-stock
    # days from LOST_SALES_BASE_DAYS before the period to its end) minus what it still sold
    rate_start = period.start - timedelta(days=LOST_SALES_BASE_DAYS)
    sql = (
        "WITH rate AS (SELECT i.sku, i.location_id, avg(coalesce(s.units, 0)) AS rate "
        "FROM inventory i LEFT JOIN sales s USING (date, sku, location_id) "
        "WHERE i.date BETWEEN ? AND ? AND i.on_hand > 0 GROUP BY ALL) "
        f"SELECT {group} AS key, sum(greatest(coalesce(r.rate, 0) - coalesce(s.units, 0), 0)) AS value "
        f"{base.replace('WHERE', 'LEFT JOIN rate r ON r.sku = i.sku AND r.location_id = i.location_id WHERE', 1)} "
        "AND i.on_hand <= 0 GROUP BY 1"
    )
    return store.query(sql, [rate_start, period.end, *args])


def _labels(store: Store, group_by: str | None, keys: list[str]) -> dict[str, str]:
    if group_by == "sku":
        return dict(store.products(skus=keys)[["sku", "name"]].itertuples(index=False))
    if group_by == "location":
        return dict(store.locations()[["location_id", "name"]].itertuples(index=False))
    if group_by == "supplier":
        return dict(store.suppliers()[["supplier_id", "name"]].itertuples(index=False))
    return {}


def history_query(store: Store, req: HistoryRequest, today: date | None = None) -> HistoryResult:
    today = today or store.today()
    # a stock level with no period asked is today's latest figure, not a 28-day window
    default = "yesterday" if req.metric in STOCK_METRICS else None
    period = resolve_period(req.period or default, today)
    first, last = covered_range(store)
    where, params, shown = _filters(store, req)
    overlaps = first is not None and period.start <= last and period.end >= first
    frame = (
        metric_frame(store, req.metric, period, req.group_by, where, params)
        if overlaps
        else pd.DataFrame({"key": [], "value": []})
    )
    frame["value"] = frame["value"].fillna(0).astype(float)
    by_time = req.group_by in ("day", "week", "month")
    total = _total(store, req, period, where, params, frame, overlaps)
    ordered = (
        frame.sort_values("key")
        if by_time
        else frame.sort_values(["value", "key"], ascending=[False, True])
    )
    top = ordered.tail(req.limit) if by_time else ordered.head(req.limit)
    labels = _labels(store, req.group_by, top["key"].astype(str).tolist())
    share_ok = req.metric not in STOCK_METRICS or not by_time
    rows = (
        [
            MetricRow(
                key=str(r.key),
                label=str(labels.get(r.key, r.key)),
                value=round(float(r.value), 2),
                share=round(float(r.value) / total, 3) if share_ok and total else None,
            )
            for r in top.itertuples()
        ]
        if req.group_by
        else []
    )
    notes = []
    if overlaps and (period.start < first or period.end > last):
        notes.append(
            f"the data covers only {max(period.start, first)}..{min(period.end, last)} of this period"
        )
    return HistoryResult(
        metric=req.metric,
        unit=UNITS[req.metric],
        period=period.label,
        start=period.start,
        end=period.end,
        covered_start=first,
        covered_end=last,
        filters=shown,
        group_by=req.group_by,
        total=round(total, 2),
        groups=len(frame),
        rows=rows,
        no_data=not overlaps,
        evidence=Evidence(
            sources=["sales", "inventory", "products"],
            method=METHODS[req.metric],
            period=f"{period.start}..{period.end}",
            notes=notes,
        ),
    )


def _total(store, req, period, where, params, frame, overlaps) -> float:
    """The ungrouped figure: summed groups, except stock by time bucket (stock is a level, not a
    flow: the total is the stock at the period's end)."""
    if not overlaps:
        return 0.0
    if req.metric in STOCK_METRICS and req.group_by in ("day", "week", "month"):
        whole = metric_frame(store, req.metric, period, None, where, params)
        return float(whole["value"].fillna(0).sum())
    return float(frame["value"].sum())


METHODS = {
    "units_sold": "sum of recorded sales units",
    "revenue": "sum of recorded sales units x list price",
    "lost_sales": (
        "on each stock-out day (end-of-day on hand <= 0): the series' mean daily sales on in-stock "
        f"days from {LOST_SALES_BASE_DAYS} days before the period to its end, minus units still sold"
    ),
    "stock_on_hand": "end-of-day on hand on the last recorded day of the period, summed over series",
    "stock_value": "end-of-day on hand x unit cost on the last recorded day of the period",
    "stockout_days": "count of series-days ending with on hand <= 0",
}


@tool(
    "sales_history",
    "sales and stock figures over a past period",
    HistoryRequest,
)
def sales_history(ctx: ToolContext, req: HistoryRequest) -> HistoryResult:
    return history_query(ctx.store, req)
