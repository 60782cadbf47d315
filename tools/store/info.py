"""What the data store holds, in one summary (``stockpilot data info`` and the UI print it)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from tools.store.db import Store


@dataclass(frozen=True)
class StoreInfo:
    """A summary of what the data store holds."""

    path: str
    today: date | None
    first_date: date | None
    last_date: date | None
    counts: dict[str, int]
    skus: int
    locations: int
    suppliers: int
    open_pos: int
    late_pos: int  # open or partial, promised before today
    open_alerts: int

    def lines(self) -> list[str]:
        span = f"{self.first_date} .. {self.last_date}" if self.first_date else "no history"
        out = [
            f"database:   {self.path}",
            f"today:      {self.today or 'unknown'}",
            f"history:    {span}",
            f"entities:   {self.skus:,} SKUs, {self.locations} locations, {self.suppliers} suppliers",
            f"purchasing: {self.open_pos:,} open POs, {self.late_pos:,} of them late",
            f"alerts:     {self.open_alerts:,} open",
            "rows:",
        ]
        return out + [f"  {table:22s} {n:>12,}" for table, n in self.counts.items()]


def store_info(store: Store) -> StoreInfo:
    counts = store.counts()
    first, last = store.con.execute("SELECT min(date), max(date) FROM inventory").fetchall()[0]
    try:
        today = store.today()
    except ValueError:
        today = None
    open_pos, late_pos = store.con.execute(
        "SELECT count(*), count(*) FILTER (WHERE promised_date < ?) FROM purchase_orders "
        "WHERE status IN ('open', 'partial')",
        [today or date.max],
    ).fetchall()[0]
    open_alerts = store.con.execute("SELECT count(*) FROM alerts WHERE status = 'open'").fetchall()[
        0
    ][0]
    return StoreInfo(
        path=store.path,
        today=today,
        first_date=first,
        last_date=last,
        counts=counts,
        skus=counts.get("products", 0),
        locations=counts.get("locations", 0),
        suppliers=counts.get("suppliers", 0),
        open_pos=int(open_pos),
        late_pos=int(late_pos),
        open_alerts=int(open_alerts),
    )
