"""Typed, parameterised access to the DuckDB data store.

Every read the domain tools make goes through ``Store``: values from users are always bound
as parameters, never formatted into SQL. The simulator's ground-truth file is not reachable
from here, so no tool can peek at the hidden future.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Sequence
from datetime import date
from pathlib import Path

import duckdb
import pandas as pd

SCHEMA = Path(__file__).with_name("schema.sql")


class UnknownEntityError(ValueError):
    """A SKU, location, supplier, PO or alert that is not in the data; names the argument."""

    def __init__(self, argument: str, value: object, suggestions: Sequence[str] = ()):
        self.argument, self.value, self.suggestions = argument, value, list(suggestions)
        hint = f" Did you mean: {', '.join(self.suggestions)}?" if self.suggestions else ""
        super().__init__(f"{argument}: unknown {argument} '{value}'.{hint}")


class AmbiguousEntityError(UnknownEntityError):
    """A mention that fits several entities: the message asks which one, listing them."""

    def __init__(self, argument: str, value: object, candidates: Sequence[str]):
        self.argument, self.value, self.suggestions = argument, value, list(candidates)
        listed = ", ".join(self.suggestions[:-1]) + f" or {self.suggestions[-1]}"
        ValueError.__init__(
            self, f"{argument}: '{value}' could be {listed}. Which one do you mean?"
        )


def normalise_code(text: str, prefix: str) -> str:
    """'po 4512', 'PO4512', '4512' -> 'PO-4512'; 'a17' -> 'A-17'."""
    digits = re.sub(r"^\s*" + re.escape(prefix) + r"[\s#:_-]*", "", str(text).strip(), flags=re.I)
    return f"{prefix}-{digits.strip().upper()}"


Condition = tuple[str, object]  # a SQL clause with one ``?``, and the value bound to it


def _where(conditions: Sequence[Condition]) -> tuple[str, list]:
    """' WHERE a AND b' from the conditions whose value is given (not None or ''), with their
    values to bind; values are never formatted into SQL. An empty list is given: it matches
    nothing, as an empty selection of SKUs should."""
    kept = [(clause, value) for clause, value in conditions if value is not None and value != ""]
    if not kept:
        return "", []
    return " WHERE " + " AND ".join(clause for clause, _ in kept), [value for _, value in kept]


def _among(column: str, values: Sequence[str] | None) -> Condition:
    """``column`` is one of ``values`` (no filter when None)."""
    return f"{column} IN (SELECT unnest(?::VARCHAR[]))", None if values is None else list(values)


class Store:
    """A connection to one Stockpilot database file (or ``:memory:``)."""

    def __init__(self, path: str | Path = ":memory:", read_only: bool = False):
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._con = duckdb.connect(self.path, read_only=read_only)
        self._local = threading.local()
        if not read_only:
            self._con.execute(SCHEMA.read_text())

    # -- plumbing ---------------------------------------------------------------------
    @property
    def con(self) -> duckdb.DuckDBPyConnection:
        """A cursor per thread: DuckDB connections must not be shared across threads."""
        cur = getattr(self._local, "cursor", None)
        if cur is None:
            cur = self._local.cursor = self._con.cursor()
        return cur

    def query(self, sql: str, params: Sequence | dict | None = None) -> pd.DataFrame:
        return self.con.execute(sql, params or []).df()

    def select(self, sql: str, conditions: Sequence[Condition], order: str) -> pd.DataFrame:
        """``sql`` filtered by the given ``conditions`` and sorted by ``order``."""
        where, params = _where(conditions)
        return self.query(f"{sql}{where} ORDER BY {order}", params)

    def scalar(self, sql: str, params: Sequence | dict | None = None):
        row = self.con.execute(sql, params or []).fetchone()
        return None if row is None else row[0]

    def close(self) -> None:
        self._con.close()

    # -- meta -------------------------------------------------------------------------
    def meta(self, key: str, default: str | None = None) -> str | None:
        value = self.scalar("SELECT value FROM meta WHERE key = ?", [key])
        return default if value is None else value

    def today(self) -> date:
        """The planning date: the day after the last recorded history."""
        value = self.meta("today")
        if value is not None:
            return date.fromisoformat(value)
        last = self.scalar("SELECT max(date) FROM inventory")
        if last is None:
            raise ValueError(
                "the database holds no inventory history: run `stockpilot data generate` or import data"
            )
        return last + pd.Timedelta(days=1)

    def counts(self) -> dict[str, int]:
        tables = [
            r[0]
            for r in self.con.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main' ORDER BY 1"
            ).fetchall()
        ]
        return {t: int(self.scalar(f'SELECT count(*) FROM "{t}"')) for t in tables}

    # -- entities (resolve what users type into keys) -----------------------------------
    @property
    def resolver(self):
        """The workspace's entity resolver (tools.resolver), built on first use."""
        if getattr(self, "_resolver", None) is None:
            from tools.resolver import Resolver  # the resolver reads through this store

            self._resolver = Resolver(self)
        return self._resolver

    def product(self, sku: str) -> dict:
        """A product from its code, a loose code ('sku 42', 'SKU00042') or its name."""
        code = self.resolver.sku(sku)
        return self.query("SELECT * FROM products WHERE sku = ?", [code]).iloc[0].to_dict()

    def products(
        self, category: str | None = None, skus: Sequence[str] | None = None
    ) -> pd.DataFrame:
        sql, params = "SELECT * FROM products WHERE 1=1", []
        if category:
            sql += " AND lower(category) = lower(?)"
            params.append(category.strip())
        if skus is not None:
            sql += " AND sku IN (SELECT unnest(?::VARCHAR[]))"
            params.append(list(skus))
        return self.query(sql + " ORDER BY sku", params)

    def categories(self) -> list[str]:
        return [
            r[0]
            for r in self.con.execute(
                "SELECT DISTINCT category FROM products ORDER BY 1"
            ).fetchall()
        ]

    def resolve_category(self, category: str) -> str:
        """A category from its name, part of it, a plural, a typo or an everyday word."""
        return self.resolver.category(category)

    def location(self, location: str) -> dict:
        """Accepts an id ('BER'), a name ('Berlin DC'), a city ('berlin'), typos included."""
        key = self.resolver.location(location)
        return self.query("SELECT * FROM locations WHERE location_id = ?", [key]).iloc[0].to_dict()

    def locations(self) -> pd.DataFrame:
        return self.query("SELECT * FROM locations ORDER BY location_id")

    def supplier(self, supplier: str) -> dict:
        """Accepts an id ('SUP-003'), the name or a distinctive (typo'd) part of it."""
        key = self.resolver.supplier(supplier)
        return self.query("SELECT * FROM suppliers WHERE supplier_id = ?", [key]).iloc[0].to_dict()

    def suppliers(self) -> pd.DataFrame:
        return self.query("SELECT * FROM suppliers ORDER BY supplier_id")

    # -- time series ------------------------------------------------------------------
    def series(
        self,
        sql: str,
        skus: Sequence[str] | None = None,
        location_id: str | None = None,
        start: date | None = None,
        end: date | None = None,
        alias: str = "",
    ) -> pd.DataFrame:
        """The one time-series query: rows of ``sql`` for some SKUs, one location and an
        inclusive date range, in series order (sku, location, date). ``alias`` is the table
        alias whose columns filter, like 's.'."""
        a = alias
        conditions = [
            _among(f"{a}sku", skus),
            (f"{a}location_id = ?", location_id),
            (f"{a}date >= ?", start),
            (f"{a}date <= ?", end),
        ]
        return self.select(sql, conditions, f"{a}sku, {a}location_id, {a}date")

    def series_keys(
        self, location_id: str | None = None, skus: Sequence[str] | None = None
    ) -> pd.DataFrame:
        """The (sku, location_id) pairs that have stock records."""
        conditions = [("location_id = ?", location_id), _among("sku", skus)]
        sql = "SELECT DISTINCT sku, location_id FROM inventory"
        return self.select(sql, conditions, "sku, location_id")

    def sales(
        self,
        skus: Sequence[str] | None = None,
        location_id: str | None = None,
        start: date | None = None,
        end: date | None = None,
    ) -> pd.DataFrame:
        """Daily recorded sales joined with end-of-day stock: date, sku, location_id, units, on_hand."""
        sql = (
            "SELECT s.date, s.sku, s.location_id, s.units, i.on_hand FROM sales s "
            "LEFT JOIN inventory i USING (date, sku, location_id)"
        )
        return self.series(sql, skus, location_id, start, end, alias="s.")

    def demand_history(
        self,
        skus: Sequence[str] | None = None,
        location_id: str | None = None,
        start: date | None = None,
        end: date | None = None,
    ) -> pd.DataFrame:
        """One row per stocked day: date, sku, location_id, units (0 when no sale was booked), on_hand.

        Driven by inventory rather than sales so that days without a sale are present as zeros.
        """
        sql = (
            "SELECT i.date, i.sku, i.location_id, coalesce(s.units, 0) AS units, i.on_hand "
            "FROM inventory i LEFT JOIN sales s USING (date, sku, location_id)"
        )
        return self.series(sql, skus, location_id, start, end, alias="i.")

    def inventory(
        self,
        skus: Sequence[str] | None = None,
        location_id: str | None = None,
        start: date | None = None,
        end: date | None = None,
    ) -> pd.DataFrame:
        return self.series("SELECT * FROM inventory", skus, location_id, start, end)

    def stock_positions(
        self, location_id: str | None = None, skus: Sequence[str] | None = None
    ) -> pd.DataFrame:
        """Latest on-hand and allocated per SKU and location."""
        sql = (
            "SELECT sku, location_id, date, on_hand, allocated FROM inventory "
            "QUALIFY row_number() OVER (PARTITION BY sku, location_id ORDER BY date DESC) = 1"
        )
        df = self.query(sql)
        if location_id:
            df = df[df.location_id == location_id]
        if skus is not None:
            df = df[df.sku.isin(list(skus))]
        return df.sort_values(["sku", "location_id"]).reset_index(drop=True)

    # -- purchasing -------------------------------------------------------------------
    def purchase_order(self, po_number: str) -> dict:
        po = normalise_code(po_number, "PO")
        df = self.query("SELECT * FROM purchase_orders WHERE po_number = ?", [po])
        if df.empty:  # 'purchase order 4512', '#4512'
            po = self.resolver.po(po_number)
            df = self.query("SELECT * FROM purchase_orders WHERE po_number = ?", [po])
        return df.iloc[0].to_dict()

    def po_lines(
        self,
        po_numbers: Sequence[str] | None = None,
        statuses: Sequence[str] | None = None,
        supplier_id: str | None = None,
        skus: Sequence[str] | None = None,
        location_id: str | None = None,
    ) -> pd.DataFrame:
        """PO lines joined with their header (supplier, location, dates, status)."""
        sql = (
            "SELECT l.*, p.supplier_id, p.location_id, p.order_date, p.promised_date, p.status, "
            "p.received_date AS po_received_date FROM po_lines l JOIN purchase_orders p USING (po_number)"
        )
        conditions = [
            _among("p.po_number", po_numbers),
            _among("p.status", statuses),
            _among("l.sku", skus),
            ("p.supplier_id = ?", supplier_id),
            ("p.location_id = ?", location_id),
        ]
        return self.select(sql, conditions, "p.po_number, l.line_no")

    def promotions(
        self, skus: Sequence[str] | None = None, start: date | None = None, end: date | None = None
    ) -> pd.DataFrame:
        """Promotions of some SKUs that overlap the inclusive range start..end."""
        conditions = [_among("sku", skus), ("end_date >= ?", start), ("start_date <= ?", end)]
        return self.select("SELECT * FROM promotions", conditions, "start_date, sku")

    # -- customer orders ------------------------------------------------------------------
    def deliveries(self, delivery_date: date, location_id: str) -> pd.DataFrame:
        return self.query(
            "SELECT * FROM customer_orders WHERE delivery_date = ? AND location_id = ? ORDER BY order_id",
            [delivery_date, location_id],
        )

    def order_lines(self, start: date | None = None, end: date | None = None) -> pd.DataFrame:
        sql = "SELECT l.order_id, o.order_date, o.location_id, l.sku, l.qty FROM customer_order_lines l JOIN customer_orders o USING (order_id)"
        conditions = [("o.order_date >= ?", start), ("o.order_date <= ?", end)]
        return self.select(sql, conditions, "l.order_id, l.sku")

    # -- alerts and forecasts (the two tables tools write) -----------------------------
    def alert(self, alert_id: str) -> dict:
        aid = normalise_code(alert_id, "A")
        df = self.query("SELECT * FROM alerts WHERE alert_id = ?", [aid])
        if df.empty:  # 'alert 9', 'A09'
            aid = self.resolver.alert(alert_id)
            df = self.query("SELECT * FROM alerts WHERE alert_id = ?", [aid])
        return df.iloc[0].to_dict()

    def alerts(
        self,
        status: str | None = "open",
        kind: str | None = None,
        severity: str | None = None,
        sku: str | None = None,
    ) -> pd.DataFrame:
        conditions = [
            ("status = ?", status),
            ("kind = ?", kind),
            ("severity = ?", severity),
            ("sku = ?", sku),
        ]
        order = "CASE severity WHEN 'critical' THEN 0 WHEN 'high' THEN 1 WHEN 'medium' THEN 2 ELSE 3 END"
        return self.select("SELECT * FROM alerts", conditions, f"{order}, end_date DESC, alert_id")

    def replace_table(self, table: str, frame: pd.DataFrame) -> None:
        """Atomically replace a tool-written table (alerts, forecasts) with ``frame``."""
        if table not in {"alerts", "forecasts"}:
            raise ValueError(f"table: tools may only write alerts or forecasts, not '{table}'")
        cur = self.con
        cur.execute("BEGIN TRANSACTION")
        try:
            cur.execute(f"DELETE FROM {table}")
            if len(frame):
                cur.register("_frame", frame)
                cols = ", ".join(f'"{c}"' for c in frame.columns)
                cur.execute(f"INSERT INTO {table} ({cols}) SELECT {cols} FROM _frame")
                cur.unregister("_frame")
            cur.execute("COMMIT")
        except Exception:
            cur.execute("ROLLBACK")
            raise

    def forecasts(
        self,
        skus: Sequence[str] | None = None,
        location_id: str | None = None,
        start: date | None = None,
        end: date | None = None,
    ) -> pd.DataFrame:
        return self.series("SELECT * FROM forecasts", skus, location_id, start, end)
