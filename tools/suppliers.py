"""Supplier scorecards, open/late/at-risk purchase orders, and e-mail drafts built from PO facts.

Every figure comes from the purchase orders, PO lines and stock in the store. Scorecards
measure POs *due* in a trailing window (promised date in the last 365 days), so open POs that
are already overdue count against a supplier instead of silently disappearing. E-mail drafts
follow the supplier-communication SOP's three-level ladder and are never sent.
"""

from __future__ import annotations

import math
from datetime import date, timedelta
from typing import Annotated, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, BeforeValidator

from tools.arguments import PoNumber, Supplier
from tools.registry import Evidence, Request, ToolContext, ToolError, ToolResult, tool
from tools.store import Store

WINDOW_DAYS = 365
COVER_LOOKBACK_DAYS = 28
OUTLOOK_HORIZON_DAYS = 28
OPEN_STATUSES = ("open", "partial")
RENDER_MAX_POS = 10
MAX_COVER_DAYS = 999  # the inventory engine's "no stock-out in sight"; shown as no figure


# -- PO facts ----------------------------------------------------------------------------------
LINE_COLUMNS = [
    "po_number",
    "line_no",
    "sku",
    "supplier_id",
    "location_id",
    "order_date",
    "promised_date",
    "status",
    "receipt_date",
    "qty_ordered",
    "qty_received",
    "in_full",
]


def line_facts(store: Store) -> pd.DataFrame:
    """One row per PO line with its receipt date (line date, else the header's once anything
    arrived: importers differ in where they book it) and whether it arrived in full."""
    lines = store.po_lines()
    if lines.empty:  # typed, so date arithmetic on an empty frame still works
        dates = ("order_date", "promised_date", "receipt_date")
        return pd.DataFrame(
            {c: pd.Series(dtype="datetime64[ns]" if c in dates else object) for c in LINE_COLUMNS}
        )
    header = lines.po_received_date.where(lines.qty_received > 0)
    lines["receipt_date"] = pd.to_datetime(
        lines.received_date.where(lines.received_date.notna(), header)
    )
    lines["in_full"] = (lines.qty_received >= lines.qty_ordered) & lines.receipt_date.notna()
    for column in ("order_date", "promised_date"):
        lines[column] = pd.to_datetime(lines[column])
    return lines[LINE_COLUMNS]


def po_headers(lines: pd.DataFrame) -> pd.DataFrame:
    """One row per PO: header fields, units ordered / received, last receipt date."""
    return (
        lines.groupby("po_number", sort=True)
        .agg(
            supplier_id=("supplier_id", "first"),
            location_id=("location_id", "first"),
            order_date=("order_date", "first"),
            promised_date=("promised_date", "first"),
            status=("status", "first"),
            receipt_date=("receipt_date", "max"),
            qty_ordered=("qty_ordered", "sum"),
            qty_received=("qty_received", "sum"),
        )
        .reset_index()
    )


def due_in_window(frame: pd.DataFrame, today: date, days: int = WINDOW_DAYS) -> pd.DataFrame:
    """Rows (PO lines or POs) whose promised date lies in the trailing window; cancelled excluded."""
    start, end = pd.Timestamp(today - timedelta(days=days)), pd.Timestamp(today - timedelta(days=1))
    return frame[frame.promised_date.between(start, end) & (frame.status != "cancelled")]


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


def typical_delay_days(lines: pd.DataFrame, today: date) -> dict[str, int]:
    """Per supplier: mean signed delay of line receipts due in the window, rounded, never
    negative (early deliveries offset late ones; an early-on-average supplier is expected on time)."""
    due = due_in_window(lines, today)
    received = due[due.receipt_date.notna()]
    delay = (received.receipt_date - received.promised_date).dt.days
    means = delay.groupby(received.supplier_id).mean()
    return {s: max(0, int(round(v))) for s, v in means.items()}


# -- stock impact ------------------------------------------------------------------------------
class StockImpact(BaseModel):
    sku: str
    location_id: str
    on_hand: float
    days_of_cover: float | None  # None: no recent sales
    stockout_date: date | None  # None: no stock-out projected within the horizon
    source: str  # 'inventory outlook' or 'trailing sales'

    def days_to_stockout(self, today: date) -> int | None:
        return None if self.stockout_date is None else (self.stockout_date - today).days


def stock_impacts(
    store: Store, pairs: list[tuple[str, str]], today: date
) -> dict[tuple[str, str], StockImpact]:
    """Projected cover per (sku, location): the inventory tool's outlook when it is available,
    else days of cover from trailing sales (so this module does not depend on its timing)."""
    pairs = sorted(set(pairs))
    if not pairs:
        return {}
    try:
        frame = inventory_outlooks(store, pairs)
    except NotImplementedError:
        return trailing_cover(store, pairs, today)
    return {(row.sku, row.location_id): _from_outlook(row) for row in frame.itertuples()}


def inventory_outlooks(store: Store, pairs: list[tuple[str, str]]) -> pd.DataFrame:
    """sku, location_id, on_hand, days_of_cover, stockout_date from tools.inventory: its batched
    engine when present (one forecast for all series), else ``stock_outlook`` per series.
    Raises NotImplementedError when the inventory module cannot project yet."""
    try:
        import tools.inventory as inventory
    except ImportError as error:
        raise NotImplementedError("tools.inventory is not importable") from error
    keys = pd.DataFrame(pairs, columns=["sku", "location_id"])
    load, project = getattr(inventory, "load_outlook", None), getattr(inventory, "project", None)
    if load is not None and project is not None:
        summary = project(load(store, keys, OUTLOOK_HORIZON_DAYS)).summary
        return summary[["sku", "location_id", "on_hand", "days_of_cover", "stockout_date"]]
    outlook = getattr(inventory, "stock_outlook", None)
    if outlook is None:
        raise NotImplementedError("tools.inventory has no stock_outlook")
    rows = []
    for sku, loc in pairs:
        o = outlook(store, sku, loc, horizon_days=OUTLOOK_HORIZON_DAYS)
        rows.append(
            {
                "sku": sku,
                "location_id": loc,
                "on_hand": o.on_hand,
                "days_of_cover": o.days_of_cover,
                "stockout_date": o.stockout_date,
            }
        )
    return pd.DataFrame(rows)


def _from_outlook(row) -> StockImpact:
    cover = row.days_of_cover
    known = cover is not None and math.isfinite(cover) and cover < MAX_COVER_DAYS
    stockout = (
        None if row.stockout_date is None or pd.isna(row.stockout_date) else row.stockout_date
    )
    return StockImpact(
        sku=row.sku,
        location_id=row.location_id,
        on_hand=float(row.on_hand),
        days_of_cover=round(float(cover), 1) if known else None,
        stockout_date=pd.Timestamp(stockout).date() if stockout is not None else None,
        source="inventory outlook",
    )


def trailing_cover(
    store: Store, pairs: list[tuple[str, str]], today: date
) -> dict[tuple[str, str], StockImpact]:
    """Days of cover = on hand / mean daily recorded sales over the last 28 days."""
    if not pairs:
        return {}
    skus = sorted({s for s, _ in pairs})
    start = today - timedelta(days=COVER_LOOKBACK_DAYS)
    sales = store.sales(skus=skus, start=start, end=today - timedelta(days=1))
    rate = sales.groupby(["sku", "location_id"]).units.sum() / COVER_LOOKBACK_DAYS
    stock = store.stock_positions(skus=skus).set_index(["sku", "location_id"]).on_hand
    out = {}
    for sku, loc in pairs:
        on_hand = max(0.0, float(stock.get((sku, loc), 0.0)))
        daily = float(rate.get((sku, loc), 0.0))
        cover = None if daily <= 0 else round(on_hand / daily, 1)
        stockout = None
        if cover is not None and cover < OUTLOOK_HORIZON_DAYS:
            stockout = today + timedelta(days=int(math.floor(cover)))
        out[(sku, loc)] = StockImpact(
            sku=sku,
            location_id=loc,
            on_hand=on_hand,
            days_of_cover=cover,
            stockout_date=stockout,
            source="trailing sales",
        )
    return out


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
    expected_arrival: date | None  # None: overdue beyond the supplier's usual delay
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

    def render(self) -> str:
        who = self.supplier_id or "all suppliers"
        head = f"{len(self.orders)} {self.status.replace('_', '-')} POs for {who} as of {self.today.isoformat()}:"
        if not self.orders:
            return (
                f"No {self.status.replace('_', '-')} POs for {who} as of {self.today.isoformat()}."
            )
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
    """POs (optionally one supplier's, only open ones, or the given numbers) with state,
    expected arrival and the stock impact of their open lines."""
    facts = line_facts(store)
    all_po = po_headers(facts)
    delays = typical_delay_days(facts, today)
    po = all_po if supplier_id is None else all_po[all_po.supplier_id == supplier_id]
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
    pairs = [(r.sku, r.location_id) for r in lines.itertuples() if r.status in OPEN_STATUSES]
    impacts = stock_impacts(store, pairs, today)
    return [
        _purchase_order(
            row,
            by_po[row.po_number],
            names,
            sup_names,
            impacts,
            delays.get(row.supplier_id, 0),
            today,
        )
        for row in po.itertuples()
    ]


def _purchase_order(row, po_lines, names, sup_names, impacts, delay, today) -> PurchaseOrder:
    promised = row.promised_date.date()
    received = None if pd.isna(row.receipt_date) else row.receipt_date.date()
    is_open = row.status in OPEN_STATUSES
    lines = []
    for ln in po_lines.itertuples():
        impact = impacts.get((ln.sku, ln.location_id)) if is_open else None
        lines.append(
            POLine(
                sku=ln.sku,
                name=str(names.get(ln.sku, ln.sku)),
                qty_ordered=int(ln.qty_ordered),
                qty_outstanding=max(0, int(ln.qty_ordered - ln.qty_received)),
                on_hand=impact.on_hand if impact else None,
                days_of_cover=impact.days_of_cover if impact else None,
                stockout_date=impact.stockout_date if impact else None,
            )
        )
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
        expected_arrival=_expected_arrival(promised, delay, today) if is_open else received,
        risk="",
        lines=lines,
    )
    if is_open:
        order.state, order.risk = _open_state(order, delay, today)
    return order


def _expected_arrival(promised: date, delay: int, today: date) -> date | None:
    """Promised date plus the supplier's usual delay; None once even that has passed (an
    overdue PO has no date we could honestly state)."""
    expected = promised + timedelta(days=delay)
    return expected if expected >= today else None


def _open_state(order: PurchaseOrder, delay: int, today: date) -> tuple[str, str]:
    if order.promised_date < today:
        return "late", f"{order.days_late} days past the promised date"
    reasons = []
    if order.expected_arrival and order.expected_arrival > order.promised_date:
        reasons.append(f"supplier delivers {delay} d late on average")
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
                "late = open past promised date; expected arrival = promised + the supplier's mean delay "
                "over the trailing 365 days (none once that has passed); at risk = not late but expected late or a "
                "projected stock-out before arrival"
            ),
            period=today.isoformat(),
        ),
    )


# -- draft_supplier_email ---------------------------------------------------------------------------
LEVELS = {
    1: ("Reminder", []),
    2: ("Escalation", ["Purchasing Manager"]),
    3: ("Executive escalation", ["Head of Procurement"]),
}
SIGNATURE = "[Your name], Stockpilot purchasing team"


class DraftEmailRequest(Request):
    supplier: Supplier = None
    po_number: PoNumber | None = None


class SupplierEmail(ToolResult):
    level: int
    level_name: str
    reason: str
    supplier_id: str
    po_numbers: list[str]
    to: list[str]
    cc: list[str]
    subject: str
    body: str
    sent: bool = False  # drafts are never sent

    def render(self) -> str:
        return (
            f"DRAFT - not sent. Level {self.level} {self.level_name}: {self.reason}.\n"
            f"To: {', '.join(self.to)}\nCc: {', '.join(self.cc) or '-'}\nSubject: {self.subject}\n\n{self.body}"
        )

    def table(self) -> pd.DataFrame:
        return pd.DataFrame([{"po_number": p, "level": self.level} for p in self.po_numbers])

    def deliverable(self) -> str:
        """The editable draft itself, shown verbatim beside the assistant's answer."""
        return f"To: {', '.join(self.to)}\nCc: {', '.join(self.cc) or '-'}\nSubject: {self.subject}\n\n{self.body}"


def escalation_level(order: PurchaseOrder, today: date) -> tuple[int, str]:
    """The SOP ladder for one PO: (level, why), from days late and the projected stock-out."""
    stockout = order.earliest_stockout()
    days_out = None if stockout is None else (stockout - today).days
    late = order.days_late if order.state == "late" else 0
    out_text = (
        "" if stockout is None else f"stock-out projected {stockout.isoformat()} ({days_out} days)"
    )
    if late > 7:
        return 3, f"{order.po_number} is {late} days late"
    if days_out is not None and days_out <= 3:
        return 3, f"{order.po_number}: {out_text}"
    if late >= 4:
        return 2, f"{order.po_number} is {late} days late"
    if days_out is not None and days_out <= 7:
        return 2, f"{order.po_number}: {out_text}"
    if late >= 1:
        return 1, f"{order.po_number} is {late} days late"
    if order.state == "at_risk":
        return 1, f"{order.po_number} is at risk ({order.risk})"
    return 1, f"{order.po_number} is not late yet (promised {order.promised_date.isoformat()})"


def business_days_after(day: date, n: int) -> date:
    return pd.Timestamp(np.busday_offset(np.datetime64(day), n, roll="forward")).date()


def _facts(order: PurchaseOrder) -> str:
    late = f", {order.days_late} days late" if order.state == "late" else ""
    if order.state == "at_risk":
        late = f", at risk: {order.risk}"
    head = (
        f"- {order.po_number} (ordered {order.order_date.isoformat()}, promised "
        f"{order.promised_date.isoformat()}{late}):"
    )
    items = [
        f"  {ln.sku} {ln.name}: {ln.qty_ordered} ordered, {ln.qty_outstanding} outstanding"
        for ln in order.lines
        if ln.qty_outstanding > 0
    ]
    return "\n".join([head, *items])


def _impact(orders: list[PurchaseOrder]) -> list[str]:
    out: dict[tuple[str, str], str] = {}
    for order in orders:
        for ln in order.lines:
            if ln.qty_outstanding <= 0 or ln.days_of_cover is None:
                continue
            text = f"- {ln.sku} at {order.location_id}: {ln.days_of_cover:g} days of cover"
            if ln.stockout_date is not None:
                text += f", projected stock-out {ln.stockout_date.isoformat()}"
            out[(ln.sku, order.location_id)] = text
    return list(out.values())


def email_body(level: int, supplier: dict, orders: list[PurchaseOrder], today: date) -> str:
    facts = "\n".join(_facts(o) for o in orders)
    impact = _impact(orders)
    plural = "s" if len(orders) > 1 else ""
    if level == 1:
        greeting = f"Dear {supplier.get('contact_name') or supplier['name'] + ' team'},"
        ask = (
            f"Could you please confirm the ship date within 2 business days "
            f"(by {business_days_after(today, 2).isoformat()})?"
        )
        stock = (
            ["For your information, our current stock of these items:", *impact] if impact else []
        )
        parts = [
            greeting,
            f"This is a friendly reminder about the following purchase order{plural}:",
            facts,
            "\n".join(stock),
            ask,
            "Thank you for your help.",
        ]
    elif level == 2:
        greeting = f"Dear {supplier.get('contact_name') or supplier['name'] + ' team'},"
        stock = ["Our current stock of the affected items:", *impact] if impact else []
        parts = [
            greeting,
            f"The following purchase order{plural} need{'' if plural else 's'} your urgent attention:",
            facts,
            "\n".join(stock),
            "Please send us a recovery plan with confirmed ship dates within 1 business day "
            f"(by {business_days_after(today, 1).isoformat()}).",
            "Thank you for your help.",
        ]
    else:
        greeting = f"Dear {supplier['name']} account management,"
        stock = ["The impact on our stock:", *impact] if impact else []
        parts = [
            greeting,
            f"We need to escalate the following purchase order{plural}:",
            facts,
            "\n".join(stock),
            "Per our supply agreement, we request expedited shipment at your cost. "
            "Please respond within 24 hours with the shipment details.",
            "Thank you for your help.",
        ]
    closing = "Kind regards,\n" + SIGNATURE
    return "DRAFT - not sent\n\n" + "\n\n".join(p for p in [*parts, closing] if p)


def _orders_for_email(
    store: Store, req: DraftEmailRequest, today: date
) -> tuple[dict, list[PurchaseOrder]]:
    if req.po_number:
        po = store.purchase_order(req.po_number)
        supplier = store.supplier(po["supplier_id"])
        if req.supplier and store.supplier(req.supplier)["supplier_id"] != po["supplier_id"]:
            raise ToolError(
                f"supplier: {po['po_number']} belongs to {supplier['supplier_id']} {supplier['name']}, "
                f"not '{req.supplier}'"
            )
        orders = purchase_orders(store, today, po_numbers=[po["po_number"]])
        if not orders or orders[0].status not in OPEN_STATUSES:
            raise ToolError(
                f"po_number: {po['po_number']} is {po['status']}, nothing outstanding to chase"
            )
        return supplier, orders
    supplier = store.supplier(req.supplier)
    candidates = purchase_orders(store, today, supplier["supplier_id"], only_open=True)
    orders = [o for o in candidates if o.state == "late"] or [
        o for o in candidates if o.state == "at_risk"
    ]
    if not orders:
        raise ToolError(
            f"supplier: {supplier['supplier_id']} {supplier['name']} has no late or at-risk POs"
        )
    return supplier, sorted(orders, key=lambda o: (-o.days_late, o.po_number))


@tool(
    "draft_supplier_email",
    "e-mail draft to a supplier about a PO or its late POs",
    DraftEmailRequest,
)
def draft_supplier_email(ctx: ToolContext, req: DraftEmailRequest) -> SupplierEmail:
    if not req.supplier and not req.po_number:
        raise ToolError("supplier, po_number: give a supplier or a po_number (or both)")
    store, today = ctx.store, ctx.store.today()
    supplier, orders = _orders_for_email(store, req, today)
    level, reason = max((escalation_level(o, today) for o in orders), key=lambda x: x[0])
    name, cc = LEVELS[level]
    numbers = [o.po_number for o in orders]
    to = [supplier["contact_email"]]
    if level == 3:  # executive escalation goes to account management; the contact stays informed
        to, cc = (
            [f"[{supplier['name']} account management e-mail]"],
            [supplier["contact_email"], *cc],
        )
    subject = f"{name}: purchase order{'s' if len(numbers) > 1 else ''} {', '.join(numbers)}"
    return SupplierEmail(
        level=level,
        level_name=name,
        reason=reason,
        supplier_id=supplier["supplier_id"],
        po_numbers=numbers,
        to=to,
        cc=list(cc),
        subject=subject,
        body=email_body(level, supplier, orders, today),
        evidence=Evidence(
            sources=["purchase_orders", "po_lines", "suppliers", "products", "inventory", "sales"],
            method="supplier-communication SOP ladder: L1 1-3 days late or at risk; L2 4-7 days late or stock-out "
            "within 7 days; L3 >7 days late or stock-out within 3 days",
            period=today.isoformat(),
            notes=["draft only: never sent"],
        ),
    )
