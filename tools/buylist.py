"""The buy list: what to order this week for a location, supplier and/or category, grouped
per supplier and location as proposed POs. Nothing is ever placed.

A series is on the list when its inventory position (on hand + open POs - forecast demand)
reaches its reorder point before the next review, i.e. when its projected stock would fall
below safety stock within lead time + review period if no order went out now. Its quantity
brings the position back above the reorder point for the whole review period (and up to the
order-up-to level), rounded up to whole cases and the supplier's MOQ.
"""

from __future__ import annotations

import math
from datetime import date, timedelta

import numpy as np
import pandas as pd
from pydantic import BaseModel

from tools.horizons import MAX_HORIZON_DAYS
from tools.registry import Evidence, ToolError, ToolResult
from tools.store import Store
from tools.supply import REVIEW_PERIOD_DAYS, load_outlook, reorder_rows, supplier_lead_times

MAX_WINDOW_DAYS = MAX_HORIZON_DAYS


class BuyLine(BaseModel):
    sku: str
    name: str
    location_id: str
    supplier_id: str
    supplier: str
    on_hand: int
    on_order: int
    reorder_point: float
    order_up_to: float
    qty: int
    case_pack: int
    moq: int
    order_by: date  # the day the position reaches the reorder point (today: already there)
    expected_arrival: date  # if ordered on the order-by date
    unit_cost: float
    value: float


class ProposedPO(BaseModel):
    """One proposed purchase order: a supplier's lines for one location (not placed)."""

    supplier_id: str
    supplier: str
    location_id: str
    order_by: date
    lines: int
    units: int
    value: float


class BuyListResult(ToolResult):
    today: date
    location: str | None
    supplier: str | None
    category: str | None
    service_level: float
    review_days: int
    scanned: int
    lines: list[BuyLine]
    orders: list[ProposedPO]
    total_value: float
    placed: bool = False  # a proposal only: POs are raised by the buyer

    def _scope(self) -> str:
        parts = [x for x in (self.supplier, self.category, self.location) if x]
        return " ".join(parts) if parts else "all series"

    def summary(self) -> str:
        if not self.lines:
            return (
                f"Buy list {self.today} ({self._scope()}): nothing to order this week; "
                f"all {self.scanned} series stay above their reorder point."
            )
        top = ", ".join(
            f"{o.supplier} for {o.location_id} ({o.lines} line{'' if o.lines == 1 else 's'}, "
            f"EUR {o.value:,.0f}, by {o.order_by})"
            for o in self.orders[:3]
        )
        more = f" and {len(self.orders) - 3} more" if len(self.orders) > 3 else ""
        return (
            f"Buy list {self.today} ({self._scope()}): {len(self.lines)} of {self.scanned} series "
            f"need an order, {len(self.orders)} proposed POs worth EUR {self.total_value:,.0f}: "
            f"{top}{more}. Nothing has been ordered: review and raise the POs."
        )

    def render(self) -> str:
        head = self.summary()
        rows = [
            f"{ln.supplier_id} {ln.location_id} {ln.sku}: order {ln.qty} by {ln.order_by} "
            f"(on hand {ln.on_hand}, on order {ln.on_order}, ROP {ln.reorder_point:.0f}), EUR {ln.value:,.0f}"
            for ln in self.lines[:15]
        ]
        if len(self.lines) > 15:
            rows.append(f"(+{len(self.lines) - 15} more lines in the table)")
        return "\n".join([head, *rows])

    def table(self) -> pd.DataFrame:
        return pd.DataFrame([ln.model_dump() for ln in self.lines])


def scope_keys(
    store: Store, location_id: str | None, supplier_id: str | None, category: str | None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(series keys, products) in scope; raises a ToolError naming the filter that matched nothing."""
    products = store.products(category=category)
    if supplier_id:
        products = products[products.supplier_id == supplier_id]
    keys = store.series_keys(location_id=location_id, skus=products["sku"].tolist())
    if keys.empty:
        which = ", ".join(
            f"{n} {v}"
            for n, v in (
                ("location", location_id),
                ("supplier", supplier_id),
                ("category", category),
            )
            if v
        )
        raise ToolError(f"location, supplier, category: no stocked SKUs match {which}")
    return keys, products.set_index("sku")


def buy_list(
    store: Store,
    location_id: str | None = None,
    supplier_id: str | None = None,
    category: str | None = None,
    service_level: float = 0.95,
) -> BuyListResult:
    keys, products = scope_keys(store, location_id, supplier_id, category)
    today = store.today()
    lead = supplier_lead_times(store, today)
    longest = lead.loc[products.loc[keys["sku"].unique(), "supplier_id"].unique(), "mean"].max()
    horizon = int(
        min(max(math.ceil(longest + REVIEW_PERIOD_DAYS), REVIEW_PERIOD_DAYS), MAX_WINDOW_DAYS)
    )
    o = load_outlook(store, keys, horizon)
    plans = reorder_rows(store, o, o.keys, products, service_level)
    cum = np.cumsum(o.demand, axis=1)
    lines = []
    for i, plan in enumerate(plans):
        line = _line(o, i, plan, cum[i], products.loc[o.keys["sku"].iat[i]], today)
        if line is not None:
            lines.append(line)
    lines.sort(key=lambda ln: (ln.supplier_id, ln.location_id, ln.order_by, ln.sku))
    orders = _proposed_pos(lines)
    return BuyListResult(
        today=today,
        location=location_id,
        supplier=supplier_id,
        category=category,
        service_level=service_level,
        review_days=REVIEW_PERIOD_DAYS,
        scanned=len(keys),
        lines=lines,
        orders=orders,
        total_value=round(sum(ln.value for ln in lines), 2),
        evidence=Evidence(
            sources=[
                "inventory",
                "forecasts",
                "purchase_orders",
                "po_lines",
                "suppliers",
                "products",
            ],
            method=(
                "on the list when on hand + open POs - forecast demand reaches the reorder point "
                f"(d*L + SS) within the {REVIEW_PERIOD_DAYS}-day review period; qty = max(order-up-to "
                "- position, what keeps the position above the reorder point all review period), "
                "rounded up to case pack and MOQ"
            ),
            period=f"{o.today} to {o.dates[-1].date()}",
            notes=o.notes + ["a proposal only: no PO is placed"],
        ),
    )


def _line(o, i: int, plan: dict, cum: np.ndarray, product, today: date) -> BuyLine | None:
    review = min(REVIEW_PERIOD_DAYS, o.horizon)
    position = float(plan["position"])
    rop = float(plan["reorder_point"])
    # position at the start of each review day (before that day's demand)
    start = position - np.concatenate([[0.0], cum[: review - 1]])
    reached = np.nonzero(start <= rop)[0]
    if not len(reached):
        return None
    pack, moq = int(product["case_pack"]), int(plan["moq"])
    need = max(float(plan["order_up_to"]) - position, rop - position + float(cum[review - 1]))
    cases = max(math.ceil((need + 1e-6) / pack), math.ceil(moq / pack - 1e-9))
    qty = cases * pack
    order_by = today + timedelta(days=int(reached[0]))
    cost = float(product["unit_cost"])
    return BuyLine(
        sku=o.keys["sku"].iat[i],
        name=str(product["name"]),
        location_id=o.keys["location_id"].iat[i],
        supplier_id=plan["supplier_id"],
        supplier=str(plan["supplier"]),
        on_hand=int(o.on_hand[i]),
        on_order=int(plan["on_order"]),
        reorder_point=round(rop, 1),
        order_up_to=round(float(plan["order_up_to"]), 1),
        qty=qty,
        case_pack=pack,
        moq=moq,
        order_by=order_by,
        expected_arrival=order_by + timedelta(days=round(float(plan["lead"]))),
        unit_cost=cost,
        value=round(qty * cost, 2),
    )


def _proposed_pos(lines: list[BuyLine]) -> list[ProposedPO]:
    groups: dict[tuple[str, str], list[BuyLine]] = {}
    for ln in lines:
        groups.setdefault((ln.supplier_id, ln.location_id), []).append(ln)
    orders = [
        ProposedPO(
            supplier_id=sup,
            supplier=group[0].supplier,
            location_id=loc,
            order_by=min(ln.order_by for ln in group),
            lines=len(group),
            units=sum(ln.qty for ln in group),
            value=round(sum(ln.value for ln in group), 2),
        )
        for (sup, loc), group in groups.items()
    ]
    return sorted(orders, key=lambda o: (o.order_by, -o.value))
