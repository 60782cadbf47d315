"""The morning briefing: stock-outs in the next 7 days, new and critical alerts, late POs and
the top actions, composed from the tools themselves (no model), dated with the data's as-of date.

Each section is the output of the tool a planner would call for it (``stockout_risk``,
``list_alerts``, ``supplier_orders``, the buy list), so the briefing never says something the
individual tools would not.
"""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd
from pydantic import BaseModel

from tools.alert_causes import AlertRow
from tools.anomalies import ListAlertsRequest, list_alerts
from tools.buylist import buy_list
from tools.inventory import RiskItem, StockoutRiskRequest, stockout_risk
from tools.registry import Evidence, Request, ToolContext, ToolResult, tool
from tools.suppliers import PurchaseOrder, SupplierOrdersRequest, supplier_orders

STOCKOUT_DAYS = 7
NEW_ALERT_DAYS = 3  # an alert whose event started this recently is new
MAX_ITEMS = 100
TOP_ACTIONS = 5


class BriefingRequest(Request):
    """No arguments: the briefing covers the whole workspace."""


class Action(BaseModel):
    text: str  # what to do, in plain words
    tool: str  # the tool that gives the details
    arguments: dict


class BriefingResult(ToolResult):
    today: date  # the planning date
    as_of: date  # the last day of recorded data
    stockouts: list[RiskItem]  # expected to run out within STOCKOUT_DAYS
    alerts: list[AlertRow]  # critical, or started within NEW_ALERT_DAYS
    late_pos: list[PurchaseOrder]
    buy_lines: int
    buy_value: float
    buy_suppliers: int
    actions: list[Action]

    def summary(self) -> str:
        critical = sum(a.severity == "critical" for a in self.alerts)
        parts = [
            f"Briefing for {self.today} (data as of {self.as_of}): "
            f"{len(self.stockouts)} stock-outs expected in the next {STOCKOUT_DAYS} days, "
            f"{len(self.alerts)} new or critical alerts ({critical} critical), "
            f"{len(self.late_pos)} late POs."
        ]
        if self.actions:
            parts.append(
                "Top actions: " + "; ".join(f"{i}) {a.text}" for i, a in enumerate(self.actions, 1))
            )
        else:
            parts.append("Nothing needs action this morning.")
        return " ".join(parts)

    def render(self) -> str:
        lines = [self.summary()]
        lines += [
            f"Stock-out: {s.sku} {s.location_id} {s.stockout_date} ({s.probability:.0%}): {s.action}"
            for s in self.stockouts[:10]
        ]
        lines += [
            f"Alert {a.alert_id} {a.severity} {a.kind}: {a.summary}" for a in self.alerts[:10]
        ]
        lines += [
            f"Late PO {o.po_number} {o.supplier_name or o.supplier_id} {o.location_id}: {o.days_late} d late"
            for o in self.late_pos[:10]
        ]
        return "\n".join(lines)

    def table(self) -> pd.DataFrame:
        """One row per item, with the section it belongs to (the first screen's list)."""
        rows = [
            {
                "section": "stock-out",
                "item": f"{s.sku} {s.location_id}",
                "date": s.stockout_date,
                "detail": f"{s.probability:.0%} chance; {s.action}",
            }
            for s in self.stockouts
        ]
        rows += [
            {
                "section": f"alert ({a.severity})",
                "item": a.alert_id,
                "date": a.start_date,
                "detail": a.summary,
            }
            for a in self.alerts
        ]
        rows += [
            {
                "section": "late PO",
                "item": o.po_number,
                "date": o.promised_date,
                "detail": f"{o.supplier_name or o.supplier_id} to {o.location_id}, {o.days_late} d late",
            }
            for o in self.late_pos
        ]
        rows += [
            {"section": "action", "item": str(i), "date": self.today, "detail": a.text}
            for i, a in enumerate(self.actions, 1)
        ]
        return pd.DataFrame(rows, columns=["section", "item", "date", "detail"])


def briefing_sections(ctx: ToolContext) -> BriefingResult:
    store = ctx.store
    today = store.today()
    risk = stockout_risk(ctx, StockoutRiskRequest(horizon_days=STOCKOUT_DAYS, limit=MAX_ITEMS))
    stockouts = [it for it in risk.items if it.stockout_date is not None]
    critical = list_alerts(ctx, ListAlertsRequest(severity="critical", limit=MAX_ITEMS)).alerts
    recent = today - timedelta(days=NEW_ALERT_DAYS)
    every = list_alerts(ctx, ListAlertsRequest(limit=MAX_ITEMS)).alerts
    seen = {a.alert_id for a in critical}
    alerts = critical + [a for a in every if a.start_date >= recent and a.alert_id not in seen]
    late = supplier_orders(ctx, SupplierOrdersRequest(status="late")).orders
    buys = buy_list(store)
    return BriefingResult(
        today=today,
        as_of=today - timedelta(days=1),
        stockouts=stockouts,
        alerts=alerts,
        late_pos=late,
        buy_lines=len(buys.lines),
        buy_value=buys.total_value,
        buy_suppliers=len({o.supplier_id for o in buys.orders}),
        actions=_actions(stockouts, alerts, late, buys),
        evidence=Evidence(
            sources=[
                "inventory",
                "forecasts",
                "purchase_orders",
                "po_lines",
                "alerts",
                "suppliers",
            ],
            method="stockout_risk (7 days), list_alerts (critical, or started in the last "
            f"{NEW_ALERT_DAYS} days), supplier_orders (late), reorder_plan without a SKU (buy list)",
            period=f"{today}..{today + timedelta(days=STOCKOUT_DAYS - 1)}",
            notes=risk.evidence.notes,
        ),
    )


def _actions(stockouts, alerts, late, buys) -> list[Action]:
    """Most urgent first: fixes for the soonest stock-outs, follow-ups for late POs, critical
    alerts to explain, then the buy list."""
    out = []
    for s in sorted(stockouts, key=lambda s: (s.stockout_date, -s.probability))[:3]:
        if s.action != "no action":
            out.append(
                Action(
                    text=f"{s.sku} at {s.location_id} runs out {s.stockout_date}: {s.action}",
                    tool="stock_projection",
                    arguments={"sku": s.sku, "location": s.location_id},
                )
            )
    if late:
        suppliers = len({o.supplier_id for o in late})
        out.append(
            Action(
                text=f"chase {len(late)} late POs: draft one follow-up e-mail for each of {suppliers} suppliers",
                tool="draft_supplier_email",
                arguments={},
            )
        )
    for a in [a for a in alerts if a.severity == "critical"][:2]:
        out.append(
            Action(
                text=f"check critical alert {a.alert_id} ({a.kind.replace('_', ' ')})",
                tool="explain_alert",
                arguments={"alert_id": a.alert_id},
            )
        )
    if buys.lines:
        out.append(
            Action(
                text=f"review the buy list: {len(buys.lines)} lines, EUR {buys.total_value:,.0f} "
                f"across {len(buys.orders)} proposed POs",
                tool="reorder_plan",
                arguments={},
            )
        )
    return out[:TOP_ACTIONS]


@tool(
    "briefing",
    "morning briefing: stock-outs, alerts, late POs, actions",
    BriefingRequest,
)
def briefing(ctx: ToolContext, req: BriefingRequest) -> BriefingResult:
    return briefing_sections(ctx)
