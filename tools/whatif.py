"""What-if: the supply engine's projection re-run under changed assumptions, against the baseline.

Edits: a PO or all of a supplier's open POs slip N days or are cancelled; demand for a SKU,
category or location changes by X% (over the horizon, or its first ``window_days``); a location
loses a share of its stock.
The scenario changes the engine's inputs (PO promises go through the same arrival model as the
stored ones), never its maths, so a slip of N days is exactly the projection of the data with
that PO's promised date moved by N days.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Annotated

import numpy as np
import pandas as pd
from pydantic import BaseModel, Field

from tools.arguments import Category, HorizonDays, Location, Names, PoNumber, Sku, Supplier
from tools.changes import names_an_edit
from tools.horizons import MAX_HORIZON_DAYS
from tools.registry import Evidence, Request, ToolContext, ToolError, ToolResult, tool
from tools.store import Store
from tools.supply import OPEN_STATUSES, Outlook, Projection, arrivals, load_outlook, project

RAW_LINE_COLUMNS = [
    "series",
    "sku",
    "location_id",
    "po_number",
    "qty",
    "promised_date",
    "supplier_id",
]
PROBABILITY_STEP = 0.05  # smaller changes of P(stock-out) are noise, not news
SHORT_STEP = 0.5  # units


class WhatIfRequest(Request):
    """One scenario: any of the edits below, together; scope arguments pick the series."""

    po_number: PoNumber | None = None
    supplier: Supplier = None
    slip_days: Annotated[
        int | None,
        Field(
            ge=-MAX_HORIZON_DAYS,
            le=MAX_HORIZON_DAYS,
            description="days the PO (or the supplier's open POs) arrive later",
        ),
        Names("delay"),
    ] = None
    cancel: Annotated[
        bool,
        Field(description="the PO (or the supplier's open POs) never arrive"),
        Names("cancellation"),
    ] = False
    demand_change_pct: Annotated[
        float | None,
        Field(ge=-100, le=1000, description="demand change in percent: 100 doubles, -50 halves"),
        Names("change"),
    ] = None
    window_days: int | None = Field(
        None,
        ge=1,
        le=MAX_HORIZON_DAYS,
        description="days from today the demand change lasts (default: all)",
    )
    stock_loss_pct: Annotated[
        float | None,
        Field(gt=0, le=100, description="share of on-hand stock the location loses, percent"),
        Names("share"),
    ] = None
    sku: Sku | None = None
    category: Category = None
    location: Location = None
    horizon_days: HorizonDays = 28


@dataclass(frozen=True)
class Scenario:
    """Resolved edits (ids, not user text)."""

    po_number: str | None = None
    supplier_id: str | None = None
    slip_days: int = 0
    cancel: bool = False
    demand_factor: float = 1.0
    window_days: int | None = None  # the demand change lasts this many days from today
    stock_factor: float = 1.0
    sku: str | None = None
    category: str | None = None
    location_id: str | None = None

    def describe(self) -> str:
        parts = []
        target = self.po_number or (f"{self.supplier_id}'s open POs" if self.supplier_id else "")
        if self.cancel:
            parts.append(f"{target} cancelled")
        elif self.slip_days:
            parts.append(f"{target} {self.slip_days:+d} days")
        scope = " ".join(x for x in (self.sku, self.category, self.location_id) if x) or "all"
        if self.demand_factor != 1.0:
            days = f" for {self.window_days} days" if self.window_days else ""
            parts.append(f"demand {100 * (self.demand_factor - 1):+.0f}% ({scope}){days}")
        if self.stock_factor != 1.0:
            parts.append(f"{self.location_id} loses {100 * (1 - self.stock_factor):.0f}% of stock")
        return "; ".join(parts)


class SeriesChange(BaseModel):
    sku: str
    location_id: str
    change: (
        str  # new stock-out, earlier, later, avoided, risk up, risk down, more short, less short
    )
    stockout_before: date | None
    stockout_after: date | None
    probability_before: float
    probability_after: float
    units_short_before: float
    units_short_after: float
    days_out_before: int  # days the expected stock ends at zero
    days_out_after: int
    extra_short_peak: float  # most extra units short at any point of the horizon (sooner losses)
    peak_date: date | None  # the day it peaks


class WhatIfResult(ToolResult):
    scenario: str
    start: date
    end: date
    series: int  # series the scenario touches (all projected twice)
    new_stockouts: int
    units_short_before: float
    units_short_after: float
    changes: list[SeriesChange]

    def summary(self) -> str:
        head = f"If {self.scenario} ({self.start} to {self.end}, {self.series} series): "
        if not self.changes:
            return head + "nothing changes against the baseline projection."
        outs = [c for c in self.changes if c.change == "new stock-out"]
        top = ", ".join(f"{c.sku} at {c.location_id} on {c.stockout_after}" for c in outs[:3])
        other = len(self.changes) - len(outs)
        sooner = max(self.changes, key=lambda c: c.extra_short_peak)
        early = (
            f" (up to {sooner.extra_short_peak:,.0f} more units short by {sooner.peak_date} "
            f"for {sooner.sku} at {sooner.location_id})"
            if sooner.extra_short_peak >= SHORT_STEP and sooner.peak_date
            else ""
        )
        return (
            head
            + f"{len(outs)} new stock-out{'' if len(outs) == 1 else 's'}"
            + (f" ({top}{' and more' if len(outs) > 3 else ''})" if outs else "")
            + f", {other} other series change; units short over the horizon "
            f"{self.units_short_before:,.0f} -> {self.units_short_after:,.0f}{early}."
        )

    def render(self) -> str:
        lines = [self.summary()]
        for c in self.changes[:15]:
            lines.append(
                f"{c.sku} {c.location_id} {c.change}: out {c.stockout_before or '-'} -> "
                f"{c.stockout_after or '-'}, P {c.probability_before:.0%} -> {c.probability_after:.0%}, "
                f"short {c.units_short_before:.0f} -> {c.units_short_after:.0f}, "
                f"days out {c.days_out_before} -> {c.days_out_after}"
            )
        if len(self.changes) > 15:
            lines.append(f"(+{len(self.changes) - 15} more in the table)")
        return "\n".join(lines)

    def table(self) -> pd.DataFrame:
        return pd.DataFrame([c.model_dump() for c in self.changes])


def resolve(store: Store, req: WhatIfRequest) -> Scenario:
    po_number = store.purchase_order(req.po_number)["po_number"] if req.po_number else None
    supplier_id = store.supplier(req.supplier)["supplier_id"] if req.supplier else None
    if (req.slip_days or req.cancel) and not (po_number or supplier_id):
        raise ToolError("po_number, supplier: a slip or a cancellation needs a PO or a supplier")
    if req.window_days and not req.demand_change_pct:
        raise ToolError(
            "demand_change_pct: window_days says how long a demand change lasts; give the change"
        )
    if (po_number or supplier_id) and not (req.slip_days or req.cancel):
        raise ToolError("slip_days, cancel: say how the PO changes (slip_days=7 or cancel=true)")
    if req.stock_loss_pct and not req.location:
        raise ToolError("location: a stock loss needs the location that loses it")
    if not (req.slip_days or req.cancel or req.demand_change_pct or req.stock_loss_pct):
        raise ToolError(
            "slip_days, cancel, demand_change_pct, stock_loss_pct: give at least one change"
        )
    if po_number and store.purchase_order(po_number)["status"] not in OPEN_STATUSES:
        raise ToolError(f"po_number: {po_number} is not open, so it cannot slip or be cancelled")
    return Scenario(
        po_number=po_number,
        supplier_id=None if po_number else supplier_id,
        slip_days=req.slip_days or 0,
        cancel=req.cancel,
        demand_factor=1 + (req.demand_change_pct or 0) / 100,
        window_days=req.window_days,
        stock_factor=1 - (req.stock_loss_pct or 0) / 100,
        sku=store.product(req.sku)["sku"] if req.sku else None,
        category=store.resolve_category(req.category) if req.category else None,
        location_id=store.location(req.location)["location_id"] if req.location else None,
    )


def affected_keys(store: Store, s: Scenario) -> pd.DataFrame:
    """The series a scenario can change: the PO's or supplier's open lines, the demand scope,
    the location that loses stock."""
    parts = []
    if s.po_number or s.supplier_id:
        lines = store.po_lines(
            po_numbers=[s.po_number] if s.po_number else None,
            supplier_id=s.supplier_id,
            statuses=list(OPEN_STATUSES),
        )
        if lines.empty:  # only a supplier can get here: a PO number was checked to be open
            raise ToolError(f"supplier: {s.supplier_id} has no open POs to slip or cancel")
        parts.append(lines[["sku", "location_id"]])
    if s.demand_factor != 1.0 or s.stock_factor != 1.0:
        parts.append(_scope_keys(store, s))
    keys = pd.concat(parts).drop_duplicates().sort_values(["sku", "location_id"])
    if keys.empty:
        raise ToolError("po_number, supplier, sku, category, location: no stocked series match")
    return keys.reset_index(drop=True)


def _scope_keys(store: Store, s: Scenario) -> pd.DataFrame:
    skus = [s.sku] if s.sku else None
    if s.category:
        in_category = store.products(category=s.category)["sku"].tolist()
        skus = [k for k in skus if k in in_category] if skus else in_category
    return store.series_keys(location_id=s.location_id, skus=skus)


def apply(o: Outlook, s: Scenario, category_skus: frozenset[str] = frozenset()) -> Outlook:
    """The outlook with the scenario's edits: same engine inputs, changed assumptions."""
    inbound, cdf = o.inbound, o.arrival_cdf
    if s.po_number or s.supplier_id:
        raw = o.inbound[RAW_LINE_COLUMNS].copy()
        hit = (
            (raw["po_number"] == s.po_number)
            if s.po_number
            else (raw["supplier_id"] == s.supplier_id)
        )
        if s.cancel:
            raw = raw[~hit]
        else:
            raw.loc[hit, "promised_date"] = [
                d + timedelta(days=s.slip_days) for d in raw.loc[hit, "promised_date"]
            ]
        inbound, cdf = arrivals(raw, o.lateness, o.today, o.horizon)
    demand, variance, on_hand = o.demand, o.variance, o.on_hand
    scoped = _scope_mask(o, s, category_skus)
    if s.demand_factor != 1.0:
        inside = np.arange(o.horizon) < (s.window_days or o.horizon)
        factor = np.where(scoped[:, None] & inside[None, :], s.demand_factor, 1.0)
        demand, variance = demand * factor, variance * factor**2
    if s.stock_factor != 1.0:
        on_hand = np.where(scoped, np.floor(on_hand * s.stock_factor), on_hand)
    return replace(
        o, inbound=inbound, arrival_cdf=cdf, demand=demand, variance=variance, on_hand=on_hand
    )


def _scope_mask(o: Outlook, s: Scenario, category_skus: frozenset[str]) -> np.ndarray:
    mask = np.ones(len(o.keys), bool)
    if s.sku:
        mask &= (o.keys["sku"] == s.sku).to_numpy()
    if s.location_id:
        mask &= (o.keys["location_id"] == s.location_id).to_numpy()
    if s.category:
        mask &= o.keys["sku"].isin(category_skus).to_numpy()
    return mask


def cumulative_short(o: Outlook, p: Projection) -> np.ndarray:
    """(n, H) expected units short so far by the end of each day (lost sales)."""
    before = np.concatenate([o.on_hand[:, None], p.stock[:, :-1]], axis=1)
    short = np.clip(o.demand - (before + p.receipts) + p.stock, 0, None)
    return np.cumsum(short, axis=1)


def compare(
    base: pd.DataFrame, after: pd.DataFrame, extra: np.ndarray, dates: pd.DatetimeIndex
) -> list[SeriesChange]:
    """Series whose stock-out date, P(stock-out), units short or days out changed, worst first.
    ``extra``: (n, H) cumulative units short, scenario minus baseline."""
    changes = []
    rows = zip(base.to_dict("records"), after.to_dict("records"), extra, strict=True)
    for b, a, gap in rows:
        peak = int(np.argmax(np.abs(gap))) if len(gap) else 0
        worst = float(gap[peak]) if len(gap) else 0.0
        kind = _change(b, a, worst)
        if kind is None:
            continue
        changes.append(
            SeriesChange(
                sku=b["sku"],
                location_id=b["location_id"],
                change=kind,
                stockout_before=b["stockout_date"],
                stockout_after=a["stockout_date"],
                probability_before=round(float(b["probability"]), 3),
                probability_after=round(float(a["probability"]), 3),
                units_short_before=round(float(b["units_short"]), 1),
                units_short_after=round(float(a["units_short"]), 1),
                days_out_before=int(b["stockout_days"]),
                days_out_after=int(a["stockout_days"]),
                extra_short_peak=round(worst, 1),
                peak_date=dates[peak].date() if abs(worst) >= SHORT_STEP else None,
            )
        )
    order = [
        "new stock-out",
        "earlier",
        "more short",
        "more days out",
        "short sooner",
        "risk up",
        "later",
        "avoided",
        "less short",
        "fewer days out",
        "short later",
        "risk down",
    ]
    return sorted(
        changes,
        key=lambda c: (order.index(c.change), c.stockout_after or date.max, c.sku, c.location_id),
    )


def _change(b: dict, a: dict, extra_peak: float) -> str | None:
    before, after = b["stockout_date"], a["stockout_date"]
    if before is None and after is not None:
        return "new stock-out"
    if before is not None and after is None:
        return "avoided"
    if before is not None and after != before:
        return "earlier" if after < before else "later"
    short = a["units_short"] - b["units_short"]
    if abs(short) >= SHORT_STEP:
        return "more short" if short > 0 else "less short"
    if a["stockout_days"] != b["stockout_days"]:
        return "more days out" if a["stockout_days"] > b["stockout_days"] else "fewer days out"
    if abs(extra_peak) >= SHORT_STEP:  # the same total, but lost sooner (or later)
        return "short sooner" if extra_peak > 0 else "short later"
    risk = a["probability"] - b["probability"]
    if abs(risk) >= PROBABILITY_STEP:
        return "risk up" if risk > 0 else "risk down"
    return None


def run_scenario(
    store: Store, s: Scenario, horizon: int, keys: pd.DataFrame | None = None
) -> tuple[pd.DataFrame, pd.DataFrame, list[SeriesChange], Outlook]:
    """(baseline summary, scenario summary, changes, outlook) over the affected series (or ``keys``)."""
    keys = affected_keys(store, s) if keys is None else keys
    o = load_outlook(store, keys, horizon)
    in_category = (
        frozenset(store.products(category=s.category)["sku"]) if s.category else frozenset()
    )
    edited = apply(o, s, in_category)
    base, after = project(o), project(edited)
    extra = cumulative_short(edited, after) - cumulative_short(o, base)
    return base.summary, after.summary, compare(base.summary, after.summary, extra, o.dates), o


@tool(
    "what_if",
    "stock re-projected if POs slip, demand changes or stock is lost",
    WhatIfRequest,
    grounds=names_an_edit,
)
def what_if(ctx: ToolContext, req: WhatIfRequest) -> WhatIfResult:
    store = ctx.store
    s = resolve(store, req)
    base, after, changes, o = run_scenario(store, s, req.horizon_days)
    return WhatIfResult(
        scenario=s.describe(),
        start=o.today,
        end=o.dates[-1].date(),
        series=len(o.keys),
        new_stockouts=sum(c.change == "new stock-out" for c in changes),
        units_short_before=round(float(base["units_short"].sum()), 1),
        units_short_after=round(float(after["units_short"].sum()), 1),
        changes=changes,
        evidence=Evidence(
            sources=["inventory", "forecasts", "purchase_orders", "po_lines", "suppliers"],
            method=(
                "the supply engine's projection run twice, on the data and with the edits: PO "
                "promises moved (same arrival model) or removed, demand mean x factor (variance x "
                "factor^2), on hand x (1 - loss)"
            ),
            period=f"{o.today} to {o.dates[-1].date()}",
            notes=o.notes,
        ),
    )
