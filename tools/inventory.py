"""Stock-out risk, day-by-day stock projection and reorder plans: the inventory tools.

All numbers come from the supply engine (``tools.supply``: ``load_outlook`` -> ``project``), so
the risk list, the projection, the reorder plan and the buy list always agree.
"""

from __future__ import annotations

import math
from datetime import date, timedelta

import numpy as np
import pandas as pd
from pydantic import BaseModel, Field

from tools.arguments import Category, HorizonDays, Limit, Location, Sku, Supplier
from tools.buylist import BuyListResult, buy_list
from tools.forecasting import cumulative_quantile, resolve_series
from tools.horizons import MAX_HORIZON_DAYS
from tools.registry import Evidence, Request, ToolContext, ToolError, ToolResult, tool
from tools.store import Store
from tools.store.db import UnknownEntityError
from tools.supply import (
    ACTION_PROBABILITY,
    MAX_DAYS_OF_COVER,
    NEED_QUANTILE,
    REVIEW_PERIOD_DAYS,
    Outlook,
    Projection,
    day_table,
    load_outlook,
    project,
    project_stock,
    reorder_policy,
    reorder_rows,
    stock_outlook,
    supplier_lead_times,
)

__all__ = ["load_outlook", "project", "project_stock", "reorder_policy", "stock_outlook"]


# -- tool requests and results --------------------------------------------------------------
class StockoutRiskRequest(Request):
    horizon_days: HorizonDays = 7
    location: Location = None
    category: Category = None
    limit: Limit = 10


class StockProjectionRequest(Request):
    sku: Sku
    location: Location = None
    horizon_days: HorizonDays = 28


class ReorderRequest(Request):
    """One SKU's reorder plan, or (no SKU) the buy list for a location, supplier or category."""

    sku: Sku | None = None
    location: Location = None
    supplier: Supplier = None
    category: Category = None
    service_level: float = Field(0.95, ge=0.5, le=0.999, description="target cycle service level")


class InboundPO(BaseModel):
    po_number: str
    qty: int
    promised_date: date
    expected_date: date


class RiskItem(BaseModel):
    sku: str
    name: str
    location_id: str
    probability: float
    stockout_date: date | None
    days_of_cover: float
    on_hand: int
    inbound: list[InboundPO]
    action: str


class StockoutRiskResult(ToolResult):
    horizon_days: int
    start: date
    end: date
    location: str | None
    category: str | None
    scanned: int
    at_risk: int  # series with probability >= 50%
    items: list[RiskItem]

    def summary(self) -> str:
        scope = " ".join(x for x in (self.category, self.location) if x) or "all locations"
        acting = [it for it in self.items if it.action != "no action"]
        if not acting:
            return (
                f"No stock-out risk needing action {self.start} to {self.end} ({scope}): "
                f"{self.scanned} series checked."
            )
        top = "; ".join(
            f"{it.sku} at {it.location_id} {it.probability:.0%}"
            + (f" (out {it.stockout_date})" if it.stockout_date else "")
            + f": {it.action}"
            for it in acting[:3]
        )
        return (
            f"{self.at_risk} of {self.scanned} series are at 50%+ risk of a stock-out {self.start} to "
            f"{self.end} ({scope}); {len(acting)} listed need action. Top: {top}."
        )

    def render(self) -> str:
        scope = " ".join(x for x in (self.category, self.location) if x) or "all"
        head = (
            f"Stock-out risk {self.start} to {self.end} ({scope}): {self.scanned} series, "
            f"{self.at_risk} at >=50%."
        )
        acting = [it for it in self.items if it.action != "no action"]
        lines = [
            f"{it.sku} {it.location_id} {it.probability:.0%}"
            + (f" out {it.stockout_date}" if it.stockout_date else "")
            + f": {it.action}"
            for it in acting
        ]
        calm = [
            f"{it.sku} {it.location_id} {it.probability:.0%}"
            for it in self.items
            if it not in acting
        ]
        if calm:
            lines.append("No action needed: " + ", ".join(calm))
        return "\n".join([head, *lines]) if self.items else head + " None at risk."

    def table(self) -> pd.DataFrame:
        rows = [
            it.model_dump()
            | {
                "inbound": "; ".join(
                    f"{p.po_number} {p.qty} exp {p.expected_date}" for p in it.inbound
                )
            }
            for it in self.items
        ]
        return pd.DataFrame(rows)


class LocationProjection(BaseModel):
    location_id: str
    on_hand: int
    inbound: list[InboundPO]
    stockout_date: date | None
    days_of_cover: float
    stockout_probability: float
    safety_stock: float
    reorder_point: float
    end_stock: float


class StockProjectionResult(ToolResult):
    sku: str
    name: str
    horizon_days: int
    start: date
    end: date
    locations: list[LocationProjection]
    days: list[
        dict
    ]  # location_id, date, demand, demand_hi_95, inbound, projected_on_hand, stockout_probability

    def summary(self) -> str:
        parts = []
        for loc in self.locations:
            out = (
                f"runs out {loc.stockout_date} ({loc.stockout_probability:.0%} chance by {self.end})"
                if loc.stockout_date
                else f"no stock-out expected by {self.end} ({loc.stockout_probability:.0%} risk)"
            )
            parts.append(f"{loc.location_id}: on hand {loc.on_hand}, {out}")
        return f"{self.sku} {self.name}: " + "; ".join(parts) + "."

    def render(self) -> str:
        parts = [f"{self.sku} ({self.name}) stock {self.start} to {self.end}:"]
        for loc in self.locations:
            inbound = (
                "; ".join(
                    f"{p.po_number} +{p.qty} exp {p.expected_date}"
                    + (
                        f" (promised {p.promised_date})"
                        if p.expected_date != p.promised_date
                        else ""
                    )
                    for p in loc.inbound
                )
                or "no open POs"
            )
            weekly = ", ".join(
                f"{d['date']} {d['projected_on_hand']:.0f}"
                for d in self.days
                if d["location_id"] == loc.location_id
            )
            weekly = ", ".join(weekly.split(", ")[6::7]) if len(self.locations) == 1 else ""
            out = f"stock-out {loc.stockout_date}" if loc.stockout_date else "no stock-out expected"
            parts.append(
                f"{loc.location_id}: on hand {loc.on_hand}, {inbound}; {out}, cover {_days(loc.days_of_cover)}, "
                f"P(stock-out) {loc.stockout_probability:.0%}; safety stock {loc.safety_stock:.0f}, "
                f"reorder point {loc.reorder_point:.0f}"
                + (f". Projected: {weekly}" if weekly else "")
                + "."
            )
        return " ".join(parts)

    def table(self) -> pd.DataFrame:
        return pd.DataFrame(self.days)


class ReorderPlan(BaseModel):
    location_id: str
    supplier_id: str
    supplier: str
    avg_daily_demand: float
    demand_sd: float
    lead_time_days: float
    lead_time_sd: float
    lead_time_source: str
    review_days: int
    safety_stock: float
    reorder_point: float
    order_up_to: float
    on_hand: int
    on_order: int
    position: int
    order_now: bool
    order_qty: int
    case_pack: int
    moq: int
    expected_arrival: date | None  # when an order placed today would arrive
    next_order_date: date | None  # when the position is expected to reach the reorder point


class ReorderPlanResult(ToolResult):
    sku: str
    name: str
    service_level: float
    z: float
    plans: list[ReorderPlan]

    def summary(self) -> str:
        now = [p for p in self.plans if p.order_now]
        if not now:
            later = [
                f"{p.location_id} ~{p.next_order_date}" for p in self.plans if p.next_order_date
            ]
            return f"{self.sku} {self.name}: no order needed now" + (
                f"; next reorder {', '.join(later)}." if later else "."
            )
        orders = "; ".join(
            f"{p.location_id}: order {p.order_qty} from {p.supplier} (arrives ~{p.expected_arrival})"
            for p in now
        )
        return f"{self.sku} {self.name}: {orders}. Nothing has been ordered."

    def render(self) -> str:
        parts = [
            f"Reorder {self.sku} ({self.name}) at {self.service_level:.1%} service (z {self.z:.2f}):"
        ]
        for p in self.plans:
            decision = (
                f"order {p.order_qty} now (case {p.case_pack}, MOQ {p.moq}), arrives ~{p.expected_arrival}"
                if p.order_now
                else "no order now"
                + (f"; reorder ~{p.next_order_date}" if p.next_order_date else "")
            )
            parts.append(
                f"{p.location_id}: demand {p.avg_daily_demand:.1f}/day (sd {p.demand_sd:.1f}), lead time "
                f"{p.lead_time_days:.1f}±{p.lead_time_sd:.1f} d ({p.supplier}); safety stock {p.safety_stock:.0f}, "
                f"reorder point {p.reorder_point:.0f}, order-up-to {p.order_up_to:.0f}; position {p.position} "
                f"(on hand {p.on_hand} + on order {p.on_order}): {decision}."
            )
        return " ".join(parts)

    def table(self) -> pd.DataFrame:
        return pd.DataFrame([p.model_dump() for p in self.plans])


def _days(value: float) -> str:
    return f">{MAX_DAYS_OF_COVER:.0f} d" if value >= MAX_DAYS_OF_COVER else f"{value:.1f} d"


# -- tools ---------------------------------------------------------------------------------
@tool(
    "stockout_risk", "SKUs most likely to stock out within the horizon, ranked", StockoutRiskRequest
)
def stockout_risk(ctx: ToolContext, req: StockoutRiskRequest) -> StockoutRiskResult:
    """Every series in scope projected at once; the most likely to run out first, with a fix."""
    store = ctx.store
    location_id, category, scope_notes = _scope(store, req.location, req.category)
    skus = store.products(category=category)["sku"].tolist() if category else None
    keys = store.series_keys(location_id=location_id, skus=skus)
    if keys.empty:
        raise ToolError(
            "location: no stocked SKUs match"
            + (f" at {location_id}" if location_id else "")
            + (f" in category {category}" if category else "")
        )
    o = load_outlook(store, keys, req.horizon_days)
    p = project(o)
    ranked = _rank(p.summary)
    top = ranked.head(req.limit)
    items = _risk_items(store, o, top, req.horizon_days)
    return StockoutRiskResult(
        horizon_days=req.horizon_days,
        start=o.today,
        end=o.dates[-1].date(),
        location=location_id,
        category=category,
        scanned=len(keys),
        at_risk=int((ranked["probability"] >= 0.5).sum()),
        items=items,
        evidence=Evidence(
            sources=[
                "inventory",
                "forecasts",
                "purchase_orders",
                "po_lines",
                "products",
                "suppliers",
            ],
            method=(
                "projected stock = on hand + open PO receipts (promise + supplier mean lateness) - forecast; "
                "P(stock-out) from gamma cumulative demand, mixed over PO arrival timing"
            ),
            period=f"{o.today} to {o.dates[-1].date()}",
            notes=scope_notes
            + o.notes
            + ["series with under 0.5 units of forecast demand are not ranked"],
        ),
    )


def _known(resolve, text: str) -> bool:
    try:
        resolve(text)
    except UnknownEntityError:
        return False
    return True


def _scope(
    store: Store, location: str | None, category: str | None
) -> tuple[str | None, str | None, list[str]]:
    """(location id, category, notes). "Garden at Lyon" and "Lyon garden" are easy to mix up: a
    location that is no location but a category (or the reverse) is read as what it is."""
    as_category = bool(location and not category) and (
        not _known(store.location, location) and _known(store.resolve_category, location)
    )
    as_location = bool(category and not location) and (
        not _known(store.resolve_category, category) and _known(store.location, category)
    )
    if as_category or as_location:
        location, category = category, location
    location_id = store.location(location)["location_id"] if location else None
    category = store.resolve_category(category) if category else None
    notes = []
    if as_category:
        notes.append(f"'{category}' is a category, not a location: read as the category")
    if as_location:
        notes.append(f"'{location_id}' is a location, not a category: read as the location")
    return location_id, category, notes


def _rank(summary: pd.DataFrame) -> pd.DataFrame:
    """Most likely first, then soonest; dormant series (no forecast demand) are not ranked."""
    active = summary[summary["demand_total"] >= 0.5]
    order = active.assign(_day=active["stockout_day"].where(active["stockout_day"] >= 0, 10_000))
    return order.sort_values(
        ["probability", "_day", "days_of_cover"], ascending=[False, True, True]
    )


def _risk_items(store: Store, o: Outlook, top: pd.DataFrame, horizon: int) -> list[RiskItem]:
    products = store.products(skus=top["sku"].unique().tolist()).set_index("sku")
    actions = _actions(store, o, top, products, horizon)
    items = []
    for (i, row), action in zip(top.iterrows(), actions, strict=True):
        inbound = o.inbound[o.inbound["series"] == i]
        items.append(
            RiskItem(
                sku=row["sku"],
                name=products.loc[row["sku"], "name"],
                location_id=row["location_id"],
                probability=round(float(row["probability"]), 2),
                stockout_date=row["stockout_date"],
                days_of_cover=round(float(row["days_of_cover"]), 1),
                on_hand=int(row["on_hand"]),
                inbound=[_inbound_po(r) for r in inbound.itertuples()],
                action=action,
            )
        )
    return items


def _inbound_po(row) -> InboundPO:
    return InboundPO(
        po_number=row.po_number,
        qty=int(row.qty),
        promised_date=pd.Timestamp(row.promised_date).date(),
        expected_date=row.expected_date,
    )


def _actions(
    store: Store, o: Outlook, top: pd.DataFrame, products: pd.DataFrame, horizon: int
) -> list[str]:
    """The fastest credible fix: expedite a PO that lands after the stock-out, else transfer
    surplus from another location, else order now (the reorder-plan quantity)."""
    surplus = _surplus_elsewhere(store, o, top, horizon)
    plans = reorder_rows(store, o, top, products)
    actions = []
    for (i, row), plan in zip(top.iterrows(), plans, strict=True):
        need = int(row["need"])
        inbound = o.inbound[o.inbound["series"] == i].sort_values("day")
        late = (
            inbound[inbound["day"] > row["stockout_day"]]
            if row["stockout_day"] >= 0
            else inbound.iloc[0:0]
        )
        pack = int(products.loc[row["sku"], "case_pack"])
        donors = surplus.get(row["sku"], {})
        donors = {loc: qty for loc, qty in donors.items() if loc != row["location_id"]}
        if row["probability"] < ACTION_PROBABILITY:
            actions.append("no action")
        elif len(late) and late["qty"].sum() >= need:
            po = late.iloc[0]
            actions.append(f"expedite {po['po_number']} (due {po['expected_date']})")
        elif donors and max(donors.values()) >= need > 0:
            loc = max(donors, key=donors.get)
            qty = min(donors[loc], math.ceil(need / pack) * pack)
            actions.append(f"transfer {qty} from {loc}")
        elif (qty := max(int(plan["order_qty"]), math.ceil(need / pack) * pack)) > 0:
            actions.append(f"order {qty} now (arrives ~{plan['arrival']})")
        elif len(inbound):  # covered on paper, but only if the open PO arrives as expected
            po = inbound.iloc[0]
            actions.append(f"confirm {po['po_number']} arrives by {po['expected_date']}")
        else:
            actions.append("no action")
    return actions


def _surplus_elsewhere(
    store: Store, o: Outlook, top: pd.DataFrame, horizon: int
) -> dict[str, dict[str, int]]:
    """Per SKU and location: units above the 95% quantile of its own demand over the horizon.

    Series already in the scanned outlook are reused; only other locations are loaded.
    """
    keys = store.series_keys(skus=top["sku"].unique().tolist())
    if keys.empty:
        return {}
    scanned = o.keys.reset_index().merge(keys, on=["sku", "location_id"])
    parts = [(scanned[["sku", "location_id"]], o.on_hand, o.demand, o.variance, scanned["index"])]
    others = keys.merge(o.keys, on=["sku", "location_id"], how="left", indicator=True)
    others = others[others["_merge"] == "left_only"][["sku", "location_id"]]
    if len(others):
        extra = load_outlook(store, others, horizon)
        parts.append(
            (extra.keys, extra.on_hand, extra.demand, extra.variance, np.arange(len(others)))
        )
    out: dict[str, dict[str, int]] = {}
    for part_keys, on_hand, demand, variance, rows in parts:
        rows = np.asarray(rows, dtype=int)
        keep = cumulative_quantile(
            demand[rows].sum(axis=1), variance[rows].sum(axis=1), NEED_QUANTILE
        )
        spare = np.floor(on_hand[rows] - keep)
        for (sku, loc), qty in zip(part_keys.itertuples(index=False), spare, strict=True):
            if qty > 0:
                out.setdefault(sku, {})[loc] = int(qty)
    return out


@tool(
    "stock_projection",
    "day-by-day projected stock for one SKU with inbound POs",
    StockProjectionRequest,
)
def stock_projection(ctx: ToolContext, req: StockProjectionRequest) -> StockProjectionResult:
    """Day by day per location; without ``location``, every location that stocks the SKU
    (stock in one warehouse does not serve another's demand, so they are never summed)."""
    store = ctx.store
    product, location_ids = resolve_series(store, req.sku, req.location)
    keys = pd.DataFrame({"sku": product["sku"], "location_id": location_ids})
    # reorder maths needs lead time + review days of demand, which can exceed the asked horizon
    horizon = max(req.horizon_days, _policy_window(store, product))
    o = load_outlook(store, keys, horizon)
    p = project(o)
    products = store.products(skus=[product["sku"]]).set_index("sku")
    plans = reorder_rows(store, o, p.summary, products)
    o_h, p_h = _truncate(o, p, req.horizon_days)
    locations, days = [], []
    for i, (row, plan) in enumerate(zip(p_h.summary.to_dict("records"), plans, strict=True)):
        inbound = o_h.inbound[o_h.inbound["series"] == i]
        locations.append(
            LocationProjection(
                location_id=row["location_id"],
                on_hand=int(row["on_hand"]),
                inbound=[_inbound_po(r) for r in inbound.itertuples()],
                stockout_date=row["stockout_date"],
                days_of_cover=round(float(row["days_of_cover"]), 1),
                stockout_probability=round(float(row["probability"]), 2),
                safety_stock=round(float(plan["safety_stock"]), 1),
                reorder_point=round(float(plan["reorder_point"]), 1),
                end_stock=round(float(p_h.stock[i, -1]), 1),
            )
        )
        days += day_table(o_h, p_h, i).assign(location_id=row["location_id"]).to_dict("records")
    return StockProjectionResult(
        sku=product["sku"],
        name=product["name"],
        horizon_days=req.horizon_days,
        start=o.today,
        end=o_h.dates[-1].date(),
        locations=locations,
        days=days,
        evidence=Evidence(
            sources=["inventory", "forecasts", "purchase_orders", "po_lines", "suppliers"],
            method="on hand + expected PO receipts - forecast demand, lost sales; gamma cumulative demand risk",
            period=f"{o.today} to {o_h.dates[-1].date()}",
            notes=o.notes
            + [f"PO expected = promised + supplier's mean lateness ({_lateness_note(o_h)})"],
        ),
    )


def _lateness_note(o: Outlook) -> str:
    if o.inbound.empty:
        return "no open POs"
    return ", ".join(f"{r.po_number} {r.lateness_days:+d} d" for r in o.inbound.itertuples())


def _policy_window(store: Store, product: dict) -> int:
    lead = supplier_lead_times(store).loc[product["supplier_id"]]
    return int(min(np.ceil(lead["mean"] + REVIEW_PERIOD_DAYS), MAX_HORIZON_DAYS))


def _truncate(o: Outlook, p: Projection, horizon: int) -> tuple[Outlook, Projection]:
    """The same projection cut to the asked horizon (the stock-out fields recomputed on it)."""
    if horizon == o.horizon:
        return o, p
    cut = Outlook(
        o.keys,
        o.today,
        horizon,
        o.on_hand,
        o.demand[:, :horizon],
        o.variance[:, :horizon],
        o.inbound,
        o.arrival_cdf[:, :horizon],
        o.notes,
    )
    return cut, project(cut)


def _same_scope(store: Store, product: dict, req: ReorderRequest) -> None:
    """A SKU given with a supplier or category that is not its own is a mistake to name, not
    a filter to ignore."""
    if req.supplier and store.supplier(req.supplier)["supplier_id"] != product["supplier_id"]:
        raise ToolError(
            f"supplier: {product['sku']} is bought from {product['supplier_id']}, not '{req.supplier}'"
        )
    if req.category and store.resolve_category(req.category) != product["category"]:
        raise ToolError(
            f"category: {product['sku']} is in {product['category']}, not '{req.category}'"
        )


@tool(
    "reorder_plan",
    "reorder plan for a SKU; without one, the buy list",
    ReorderRequest,
)
def reorder_plan(ctx: ToolContext, req: ReorderRequest) -> ReorderPlanResult | BuyListResult:
    """One plan per location (POs are raised per location); all locations when none is given.
    Without a SKU: the buy list of everything in scope that needs ordering this week."""
    store = ctx.store
    if req.sku is None:
        location_id, category, _ = _scope(store, req.location, req.category)
        supplier_id = store.supplier(req.supplier)["supplier_id"] if req.supplier else None
        return buy_list(store, location_id, supplier_id, category, req.service_level)
    product, location_ids = resolve_series(store, req.sku, req.location)
    _same_scope(store, product, req)
    keys = pd.DataFrame({"sku": product["sku"], "location_id": location_ids})
    horizon = _policy_window(store, product)
    o = load_outlook(store, keys, max(horizon, 1))
    products = store.products(skus=[product["sku"]]).set_index("sku")
    rows = reorder_rows(store, o, o.keys, products, req.service_level)
    cum = np.cumsum(o.demand, axis=1)
    plans = []
    for i, r in enumerate(rows):
        reach = np.nonzero(r["position"] - cum[i] <= r["reorder_point"])[0]
        plans.append(
            ReorderPlan(
                location_id=location_ids[i],
                supplier_id=r["supplier_id"],
                supplier=r["supplier"],
                avg_daily_demand=round(float(r["d"]), 2),
                demand_sd=round(float(r["sigma_d"]), 2),
                lead_time_days=round(float(r["lead"]), 1),
                lead_time_sd=round(float(r["lead_sd"]), 1),
                lead_time_source=f"{r['lead_source']} ({r['lead_samples']})"
                if r["lead_samples"]
                else r["lead_source"],
                review_days=REVIEW_PERIOD_DAYS,
                safety_stock=round(float(r["safety_stock"]), 1),
                reorder_point=round(float(r["reorder_point"]), 1),
                order_up_to=round(float(r["order_up_to"]), 1),
                on_hand=int(o.on_hand[i]),
                on_order=int(r["on_order"]),
                position=int(r["position"]),
                order_now=bool(r["order_now"]),
                order_qty=int(r["order_qty"]),
                case_pack=int(product["case_pack"]),
                moq=r["moq"],
                expected_arrival=r["arrival"] if r["order_now"] else None,
                next_order_date=(o.today + timedelta(days=int(reach[0]) + 1))
                if not r["order_now"] and len(reach)
                else None,
            )
        )
    return ReorderPlanResult(
        sku=product["sku"],
        name=product["name"],
        service_level=req.service_level,
        z=round(rows[0]["z"], 3),
        plans=plans,
        evidence=Evidence(
            sources=[
                "forecasts",
                "inventory",
                "purchase_orders",
                "po_lines",
                "suppliers",
                "products",
            ],
            method=(
                "SS = z*sqrt(L*sd_d^2 + d^2*sd_L^2); ROP = d*L + SS; order-up-to = d*(L+R) + SS, "
                f"R = {REVIEW_PERIOD_DAYS} d; qty rounded up to case pack, at least MOQ"
            ),
            period=f"{o.today} to {o.dates[-1].date()}",
            notes=o.notes
            + [
                "d and sd_d: forecast mean and error over lead time + review period",
                "position = on hand + open PO quantity",
            ],
        ),
    )
