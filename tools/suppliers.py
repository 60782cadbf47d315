"""Supplier scorecards and open / late / at-risk purchase orders.

Every figure comes from the purchase orders and PO lines in the store and from the supply
engine (``tools.supply``: expected arrivals, projected stock). Scorecards measure PO lines *due*
in a trailing window (promised date in the last 365 days), so open POs that are already overdue
count against a supplier instead of silently disappearing. E-mail drafts built from these POs
live in ``tools.supplier_email``.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated, Literal

import pandas as pd
from pydantic import BaseModel, BeforeValidator

from tools.arguments import Supplier
from tools.registry import Evidence, Request, ToolContext, ToolResult, tool
from tools.store import Store
from tools.supply import (
    MAX_DAYS_OF_COVER,
    OPEN_STATUSES,
    WINDOW_DAYS,
    due_in_window,
    line_facts,
    load_outlook,
    po_headers,
    project,
)

OUTLOOK_HORIZON_DAYS = 28
RENDER_MAX_POS = 10


# -- scorecard metrics ------------------------------------------------------------
def supplier_metrics(due: pd.DataFrame) -> dict:
    """OTIF, on-time, fill rate and lead time over one supplier's due PO lines (SOP-24 scores
    lines: a line is OTIF when received complete on or before the promised date)."""
    n = len(due)
    received = due[due.receipt_date.notna()]
    on_time = received.receipt_date <= received.promised_date
    otif = on_time & received.in_full
    lead = (received.receipt_date - received.order_date).dt.days
    ordered = float(due.qty_ordered.sum())
    return {
        "lines_due": n,
        "lines_otif": int(otif.sum()),
        "otif_rate": _ratio(otif.sum(), n),
        "on_time_rate": _ratio(on_time.sum(), n),
        "fill_rate": _ratio(due.qty_received.sum(), ordered),
        "lead_time_mean_days": _round(lead.mean()) if len(lead) else None,
        "lead_time_sd_days": _round(lead.std(ddof=1)) if len(lead) > 1 else None,
        "mean_delay_days": _round((received.receipt_date - received.promised_date).dt.days.mean()),
    }


def _ratio(num, den) -> float | None:
    return round(float(num) / float(den), 3) if den else None


def _round(value, digits: int = 1) -> float | None:
    return None if value is None or pd.isna(value) else round(float(value), digits)


# -- supplier_scorecard ---------------------------------------------------------------------------
class ScorecardRequest(Request):
    supplier: Supplier = None


class SupplierScore(BaseModel):
    rank: int
    supplier_id: str
    name: str
    lines_due: int
    lines_otif: int
    otif_rate: float | None
    on_time_rate: float | None
    fill_rate: float | None
    lead_time_mean_days: float | None
    lead_time_sd_days: float | None
    mean_delay_days: float | None
    open_pos: int
    late_pos: int


class Scorecard(ToolResult):
    window_start: date
    window_end: date
    suppliers: list[SupplierScore]

    def summary(self) -> str:
        rated = [s for s in self.suppliers if s.otif_rate is not None]
        if not rated:
            return f"No PO lines were due {self.window_start}..{self.window_end}: no supplier can be scored."
        best, worst = rated[0], rated[-1]
        late = sum(s.late_pos for s in self.suppliers)
        if len(rated) == 1:
            return (
                f"{best.name} ({best.supplier_id}): OTIF {_pct(best.otif_rate)} over {best.lines_due} PO lines "
                f"due {self.window_start}..{self.window_end}, {best.late_pos} POs late now."
            )
        return (
            f"{len(self.suppliers)} suppliers scored on PO lines due {self.window_start}..{self.window_end}: "
            f"best {best.name} (OTIF {_pct(best.otif_rate)}), worst {worst.name} (OTIF {_pct(worst.otif_rate)}); "
            f"{late} POs are late now."
        )

    def render(self) -> str:
        head = f"Supplier scorecard, POs due {self.window_start.isoformat()}..{self.window_end.isoformat()}:"
        return "\n".join(
            [head, *(_score_line(s) for s in self.suppliers[:RENDER_MAX_POS])]
            + _more(len(self.suppliers), "suppliers")
        )

    def table(self) -> pd.DataFrame:
        return pd.DataFrame([s.model_dump() for s in self.suppliers])


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:.0f}%"


def _score_line(s: SupplierScore) -> str:
    lead = "n/a" if s.lead_time_mean_days is None else f"{s.lead_time_mean_days:g}"
    if s.lead_time_sd_days is not None:
        lead += f"±{s.lead_time_sd_days:g}"
    return (
        f"{s.rank}. {s.supplier_id} {s.name}: OTIF {_pct(s.otif_rate)} ({s.lines_otif}/{s.lines_due} PO lines), "
        f"on-time {_pct(s.on_time_rate)}, fill {_pct(s.fill_rate)}, lead {lead} d, "
        f"open {s.open_pos}, late {s.late_pos}"
    )


def _more(total: int, noun: str) -> list[str]:
    return (
        [f"(+{total - RENDER_MAX_POS} more {noun} in the table)"] if total > RENDER_MAX_POS else []
    )


def _rank_key(row: dict):
    # Best first; suppliers with nothing due go last rather than first.
    missing = row["otif_rate"] is None
    return (missing, -(row["otif_rate"] or 0), -(row["fill_rate"] or 0), row["supplier_id"])


@tool(
    "supplier_scorecard", "on-time-in-full, lead time and fill rate per supplier", ScorecardRequest
)
def supplier_scorecard(ctx: ToolContext, req: ScorecardRequest) -> Scorecard:
    store, today = ctx.store, ctx.store.today()
    suppliers = store.suppliers()
    if req.supplier:
        chosen = store.supplier(req.supplier)
        suppliers = suppliers[suppliers.supplier_id == chosen["supplier_id"]]
    lines = line_facts(store)
    due = due_in_window(lines, today)
    po = po_headers(lines)
    open_po = po[po.status.isin(OPEN_STATUSES)]
    rows = []
    for sup in suppliers.itertuples():
        mine = open_po[open_po.supplier_id == sup.supplier_id]
        rows.append(
            {
                "supplier_id": sup.supplier_id,
                "name": sup.name,
                **supplier_metrics(due[due.supplier_id == sup.supplier_id]),
                "open_pos": len(mine),
                "late_pos": int((mine.promised_date < pd.Timestamp(today)).sum()),
            }
        )
    rows.sort(key=_rank_key)
    start = today - timedelta(days=WINDOW_DAYS)
    return Scorecard(
        window_start=start,
        window_end=today - timedelta(days=1),
        suppliers=[SupplierScore(rank=i, **r) for i, r in enumerate(rows, start=1)],
        evidence=Evidence(
            sources=["purchase_orders", "po_lines", "suppliers"],
            method=(
                "PO lines due (promised date) in the trailing 365 days, cancelled excluded; on time = "
                "received by the promised date (overdue open lines count as late); in full = all units "
                "received; fill rate = units received / units ordered; lead time = receipt - order date"
            ),
            period=f"{start.isoformat()}..{(today - timedelta(days=1)).isoformat()}",
        ),
    )


# -- supplier_orders ------------------------------------------------------------------------------
def _status(value):
    """'At risk' -> 'at_risk'. Unlike ``lowered`` this keeps 'all' (which there means no value)."""
    if value is None:
        return "late"
    text = str(value).strip().lower().replace(" ", "_").replace("-", "_")
    return {"": "late", "any": "all", "every": "all"}.get(text, text)


OrderStatus = Annotated[Literal["late", "open", "at_risk", "all"], BeforeValidator(_status)]


class SupplierOrdersRequest(Request):
    supplier: Supplier = None
    status: OrderStatus = "late"


class POLine(BaseModel):
    sku: str
    name: str
    qty_ordered: int
    qty_outstanding: int
    on_hand: float | None = None
    days_of_cover: float | None = None
    stockout_date: date | None = None


class PurchaseOrder(BaseModel):
    po_number: str
    supplier_id: str
    supplier_name: str
    location_id: str
    status: str  # stored status: open, partial, received, cancelled
    state: str  # late, at_risk, on_track, received, cancelled
    order_date: date
    promised_date: date
    received_date: date | None
    days_late: int  # today - promised for open POs, receipt - promised for received ones (>= 0)
    expected_arrival: date | None  # the supply engine's expected arrival (received: receipt date)
    risk: str  # why a PO is at risk or late, '' when on track
    lines: list[POLine]

    def earliest_stockout(self) -> date | None:
        dates = [line.stockout_date for line in self.lines if line.stockout_date is not None]
        return min(dates) if dates else None


class SupplierOrders(ToolResult):
    status: str
    supplier_id: str | None
    today: date
    orders: list[PurchaseOrder]

    @property
    def label(self) -> str:
        """'late POs', 'at-risk POs'; with every status, just 'POs' ('15 all POs' read badly)."""
        return "POs" if self.status == "all" else f"{self.status.replace('_', '-')} POs"

    def summary(self) -> str:
        who = self.supplier_id or "all suppliers"
        if not self.orders:
            return f"No {self.label} for {who} as of {self.today}."
        top = "; ".join(
            f"{o.po_number} ({o.supplier_name or o.supplier_id}, "
            + (f"{o.days_late} d late" if o.state == "late" else o.state.replace("_", " "))
            + ")"
            for o in self.orders[:3]
        )
        action = (
            " Next: draft one follow-up e-mail per supplier (nothing is sent)."
            if any(o.state in ("late", "at_risk") for o in self.orders)
            else ""
        )
        return f"{len(self.orders)} {self.label} for {who} as of {self.today}: {top}.{action}"

    def render(self) -> str:
        who = self.supplier_id or "all suppliers"
        head = f"{len(self.orders)} {self.label} for {who} as of {self.today.isoformat()}:"
        if not self.orders:
            return f"No {self.label} for {who} as of {self.today.isoformat()}."
        return "\n".join(
            [head, *(_po_line(o) for o in self.orders[:RENDER_MAX_POS])]
            + _more(len(self.orders), "POs")
        )

    def table(self) -> pd.DataFrame:
        rows = [
            {
                "po_number": o.po_number,
                "supplier_id": o.supplier_id,
                "location_id": o.location_id,
                "state": o.state,
                "order_date": o.order_date,
                "promised_date": o.promised_date,
                "days_late": o.days_late,
                "expected_arrival": o.expected_arrival,
                **line.model_dump(),
            }
            for o in self.orders
            for line in o.lines
        ]
        return pd.DataFrame(rows)


def _po_line(o: PurchaseOrder) -> str:
    lines = "; ".join(_line_text(line) for line in o.lines)
    arrival = (
        f", expected {o.expected_arrival.isoformat()}"
        if o.expected_arrival
        else ", no expected date"
    )
    late = f", {o.days_late} d late" if o.state == "late" else ""
    return (
        f"{o.po_number} {o.supplier_id} {o.location_id} {o.state}: ordered {o.order_date.isoformat()}, "
        f"promised {o.promised_date.isoformat()}{late}{arrival}. {lines}"
    )


def _line_text(line: POLine) -> str:
    text = f"{line.sku} {line.qty_outstanding}/{line.qty_ordered} outstanding"
    if line.days_of_cover is not None:
        text += f", cover {line.days_of_cover:g} d"
    if line.stockout_date is not None:
        text += f", stock-out {line.stockout_date.isoformat()}"
    return text


def purchase_orders(
    store: Store,
    today: date,
    supplier_id: str | None = None,
    po_numbers: list[str] | None = None,
    only_open: bool = False,
) -> list[PurchaseOrder]:
    """POs (optionally one supplier's, only open ones, or the given numbers) with state, and for
    open ones the supply engine's expected arrival and projected stock of their lines."""
    po = po_headers(line_facts(store))
    if supplier_id is not None:
        po = po[po.supplier_id == supplier_id]
    if po_numbers is not None:
        po = po[po.po_number.isin(po_numbers)]
    if only_open:
        po = po[po.status.isin(OPEN_STATUSES)]
    if po.empty:
        return []
    lines = store.po_lines(po_numbers=list(po.po_number))
    by_po = dict(tuple(lines.groupby("po_number")))
    names = store.products(skus=sorted(lines.sku.unique())).set_index("sku").name
    sup_names = store.suppliers().set_index("supplier_id").name
    open_lines = lines[lines.status.isin(OPEN_STATUSES)]
    keys = open_lines[["sku", "location_id"]].drop_duplicates().reset_index(drop=True)
    outlook = _Outlook(store, keys)
    return [
        _purchase_order(row, by_po[row.po_number], names, sup_names, outlook, today)
        for row in po.itertuples()
    ]


class _Outlook:
    """The engine's projection of the open lines' series: stock per series, arrival per PO."""

    def __init__(self, store: Store, keys: pd.DataFrame):
        self.stock: dict[tuple[str, str], dict] = {}
        self.arrival: dict[str, tuple[date, int]] = {}
        if keys.empty:
            return
        o = load_outlook(store, keys, OUTLOOK_HORIZON_DAYS)
        for row in project(o).summary.to_dict("records"):
            self.stock[(row["sku"], row["location_id"])] = row
        for po_number, group in o.inbound.groupby("po_number"):
            self.arrival[po_number] = (
                max(group["expected_date"]),
                int(group["lateness_days"].max()),
            )


def _purchase_order(row, po_lines, names, sup_names, outlook: _Outlook, today) -> PurchaseOrder:
    promised = row.promised_date.date()
    received = None if pd.isna(row.receipt_date) else row.receipt_date.date()
    is_open = row.status in OPEN_STATUSES
    lines = []
    for ln in po_lines.itertuples():
        impact = outlook.stock.get((ln.sku, ln.location_id)) if is_open else None
        cover = None if impact is None else float(impact["days_of_cover"])
        lines.append(
            POLine(
                sku=ln.sku,
                name=str(names.get(ln.sku, ln.sku)),
                qty_ordered=int(ln.qty_ordered),
                qty_outstanding=max(0, int(ln.qty_ordered - ln.qty_received)),
                on_hand=float(impact["on_hand"]) if impact else None,
                days_of_cover=round(cover, 1)
                if cover is not None and cover < MAX_DAYS_OF_COVER
                else None,
                stockout_date=impact["stockout_date"] if impact else None,
            )
        )
    expected, lateness = outlook.arrival.get(row.po_number, (None, 0))
    order = PurchaseOrder(
        po_number=row.po_number,
        supplier_id=row.supplier_id,
        supplier_name=str(sup_names.get(row.supplier_id, "")),
        location_id=row.location_id,
        status=row.status,
        state=row.status if not is_open else "on_track",
        order_date=row.order_date.date(),
        promised_date=promised,
        received_date=received,
        days_late=max(0, ((today if is_open else received or promised) - promised).days),
        expected_arrival=expected if is_open else received,
        risk="",
        lines=lines,
    )
    if is_open:
        order.state, order.risk = _open_state(order, lateness, today)
    return order


def _open_state(order: PurchaseOrder, lateness: int, today: date) -> tuple[str, str]:
    if order.promised_date < today:
        return "late", f"{order.days_late} days past the promised date"
    reasons = []
    if order.expected_arrival and order.expected_arrival > order.promised_date:
        reasons.append(f"supplier delivers {lateness} d late on average")
    stockout = order.earliest_stockout()
    if stockout is not None and order.expected_arrival and stockout < order.expected_arrival:
        reasons.append(f"stock-out {stockout.isoformat()} before expected arrival")
    return ("at_risk", "; ".join(reasons)) if reasons else ("on_track", "")


def _select(orders: list[PurchaseOrder], status: str, today: date) -> list[PurchaseOrder]:
    if status == "open":
        chosen = [o for o in orders if o.status in OPEN_STATUSES]
    elif status in ("late", "at_risk"):
        chosen = [o for o in orders if o.state == status]
    else:  # all: open POs plus everything received or cancelled in the last 30 days
        recent = today - timedelta(days=30)
        chosen = [
            o
            for o in orders
            if o.status in OPEN_STATUSES or (o.received_date or o.order_date) >= recent
        ]
    return sorted(chosen, key=lambda o: (-o.days_late, o.promised_date, o.po_number))


@tool("supplier_orders", "open, late or at-risk purchase orders", SupplierOrdersRequest)
def supplier_orders(ctx: ToolContext, req: SupplierOrdersRequest) -> SupplierOrders:
    store, today = ctx.store, ctx.store.today()
    supplier_id = store.supplier(req.supplier)["supplier_id"] if req.supplier else None
    orders = purchase_orders(store, today, supplier_id, only_open=req.status != "all")
    orders = _select(orders, req.status, today)
    return SupplierOrders(
        status=req.status,
        supplier_id=supplier_id,
        today=today,
        orders=orders,
        evidence=Evidence(
            sources=["purchase_orders", "po_lines", "inventory", "sales"],
            method=(
                "late = open past promised date; expected arrival and stock from the supply engine "
                "(promise + the supplier's mean lateness over receipts due in the trailing 365 days, "
                "judged only against receipts at least as late for an overdue PO); at risk = not late "
                "but expected late or a projected stock-out before arrival"
            ),
            period=today.isoformat(),
        ),
    )
