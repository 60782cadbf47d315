"""The alert tools: scan the data (``scan_anomalies``), list open alerts, explain one.

Detection rules live in ``tools.anomaly_detect`` (see its docstring), the daily panel in
``tools.anomaly_panel``, cause ranking in ``tools.alert_causes``; kinds and severities are
defined once in ``tools.alert_types``.
"""

from __future__ import annotations

import json
import time
from datetime import date, timedelta

import numpy as np
import pandas as pd
from pydantic import Field

from tools.alert_causes import AlertRow, Cause, rank_causes
from tools.alert_types import KINDS, SEVERITIES, AlertKind, Severity
from tools.anomaly_detect import _num, scan
from tools.arguments import AlertId, Limit, Location, Sku, lowered
from tools.registry import Evidence, Request, ToolContext, ToolError, ToolResult, tool

__all__ = ["KINDS", "SEVERITIES", "AlertKind", "Severity", "scan"]


# -- request / result models -----------------------------------------------------------------
class ListAlertsRequest(Request):
    severity: lowered(Severity | None) = None
    kind: lowered(AlertKind | None) = None
    sku: Sku | None = None
    location: Location = None
    limit: Limit = 10


class ExplainAlertRequest(Request):
    alert_id: AlertId


class ScanRequest(Request):
    lookback_days: int = Field(28, ge=7, le=365)


class AlertList(ToolResult):
    total: int  # open alerts matching all filters (the list may be cut to the limit)
    counts: dict[str, int]  # per severity, matching the other filters
    alerts: list[AlertRow]

    def summary(self) -> str:
        if not self.alerts:
            return "No open alerts match."
        counts = ", ".join(f"{n} {s}" for s, n in self.counts.items() if n)
        top = "; ".join(f"{a.alert_id} {a.severity}: {a.summary}" for a in self.alerts[:3])
        action = f" Start with {self.alerts[0].alert_id}: ask to explain it." if self.alerts else ""
        return f"{self.total} open alerts match ({counts}). Most severe: {top}.{action}"

    def render(self) -> str:
        if not self.alerts:
            return "No open alerts match."
        counts = ", ".join(f"{n} {s}" for s, n in self.counts.items() if n)
        lines = [
            f"{self.total} matching open alerts (by severity: {counts}); showing {len(self.alerts)}:"
        ]
        lines += [f"{a.alert_id} {a.severity} {a.kind}: {a.summary}" for a in self.alerts]
        return "\n".join(lines)

    def table(self) -> pd.DataFrame:
        return pd.DataFrame([a.model_dump() for a in self.alerts])


# what alerts.observed measures per kind, and what the expected band is called
OBSERVED_UNITS = {
    "demand_spike": ("units sold", "expected"),
    "demand_drop": ("units sold", "expected"),
    "data_error": ("booked", "consistent with stock"),
    "shrinkage": ("on hand", "expected from sales and receipts"),
    "supplier_delay": ("days late", "supplier's usual delay"),
}


class AlertExplanation(ToolResult):
    alert: AlertRow
    causes: list[Cause]
    sop_query: str  # what to search the SOPs for: the handling procedure of this alert kind
    facts: dict

    def summary(self) -> str:
        a = self.alert
        cause = self.causes[0].detail if self.causes else "no likely cause found"
        return (
            f"{a.alert_id} ({a.severity} {a.kind.replace('_', ' ')}): {a.summary}. "
            f"Most likely cause: {cause}. Handle it per the SOP on {a.kind.replace('_', ' ')} alerts."
        )

    def render(self) -> str:
        a = self.alert
        where = " ".join(x for x in (a.sku, a.location_id, a.po_number) if x)
        period = a.start_date.isoformat() + (
            "" if a.end_date == a.start_date else f"..{a.end_date.isoformat()}"
        )
        lines = [f"{a.alert_id} {a.severity} {a.kind} {where} {period}: {a.summary}"]
        if a.observed is not None:
            unit, usual = OBSERVED_UNITS[a.kind]
            band = _num(a.expected_low)
            if a.expected_high != a.expected_low:
                band += f"-{_num(a.expected_high)}"
            lines.append(f"Observed {_num(a.observed)} {unit}; {usual} {band}.")
        lines.append(
            "Likely causes: " + "; ".join(f"{i}) {c.detail}" for i, c in enumerate(self.causes, 1))
        )
        lines.append(f"SOP: {self.sop_query}")
        return "\n".join(lines)

    def follow_up(self) -> tuple[str, dict]:
        return "search_sops", {"query": self.sop_query}


class ScanResult(ToolResult):
    lookback_days: int
    window_start: date
    window_end: date
    series: int
    counts: dict[str, int]  # alerts per kind
    severities: dict[str, int]
    seconds: float

    def summary(self) -> str:
        found = sum(self.counts.values())
        critical = self.severities.get("critical", 0)
        return (
            f"Scanned {self.series} series {self.window_start}..{self.window_end}: {found} alerts, "
            f"{critical} critical. List them with the alerts view, most severe first."
        )

    def render(self) -> str:
        kinds = ", ".join(f"{n} {k}" for k, n in self.counts.items())
        sev = ", ".join(f"{n} {s}" for s, n in self.severities.items() if n)
        return (
            f"Scanned {self.series} series {self.window_start.isoformat()}..{self.window_end.isoformat()}: "
            f"{sum(self.counts.values())} alerts ({kinds}; {sev}) in {self.seconds:.1f} s."
        )


@tool(
    "scan_anomalies",
    "scan all data and rewrite the alerts table",
    ScanRequest,
    agent=False,
    writes=True,
)
def scan_anomalies(ctx: ToolContext, req: ScanRequest) -> ScanResult:
    started = time.perf_counter()
    store, today = ctx.store, ctx.store.today()
    frame = scan(store, req.lookback_days, today)
    try:
        store.replace_table("alerts", frame)
    except Exception as error:  # read-only connection: a user-fixable setup problem
        if "read-only" in str(error).lower() or "read only" in str(error).lower():
            raise ToolError(
                "scan_anomalies: the store is open read-only; open it writable to save alerts"
            ) from None
        raise
    start = today - timedelta(days=req.lookback_days)
    return ScanResult(
        lookback_days=req.lookback_days,
        window_start=start,
        window_end=today - timedelta(days=1),
        series=int(
            store.scalar("SELECT count(*) FROM (SELECT DISTINCT sku, location_id FROM inventory)")
        ),
        counts={k: int((frame.kind == k).sum()) for k in KINDS},
        severities={s: int((frame.severity == s).sum()) for s in SEVERITIES},
        seconds=round(time.perf_counter() - started, 2),
        evidence=Evidence(
            sources=["sales", "inventory", "po_lines", "purchase_orders", "promotions", "products"],
            method="vectorised rolling median/MAD, stock-balance and PO-date rules (see tools.anomalies)",
            period=f"{start.isoformat()}..{(today - timedelta(days=1)).isoformat()}",
        ),
    )


# -- reading alerts ------------------------------------------------------------------------------------
def _row(record: dict) -> AlertRow:
    def clean(v):
        return None if v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NaT else v

    return AlertRow(**{k: clean(record.get(k)) for k in AlertRow.model_fields})


@tool("list_alerts", "open anomaly alerts, most severe first", ListAlertsRequest)
def list_alerts(ctx: ToolContext, req: ListAlertsRequest) -> AlertList:
    store = ctx.store
    sku = store.product(req.sku)["sku"] if req.sku else None
    frame = store.alerts(status="open", kind=req.kind, sku=sku)
    if req.location:
        frame = frame[frame.location_id == store.location(req.location)["location_id"]]
    frame, handled = _unhandled(store, frame)
    counts = {s: int((frame.severity == s).sum()) for s in SEVERITIES}
    if req.severity:
        frame = frame[frame.severity == req.severity]
    return AlertList(
        total=len(frame),
        counts=counts,
        alerts=[_row(r) for r in frame.head(req.limit).to_dict("records")],
        evidence=Evidence(
            sources=["alerts"],
            method="written by the last anomaly scan",
            notes=([] if len(frame) <= req.limit else [f"{len(frame) - req.limit} more not shown"])
            + ([f"{handled} closed or snoozed by staff not shown"] if handled else []),
        ),
    )


def _unhandled(store, frame):
    """(alerts staff have not closed or snoozed, how many they have): the alerts workflow's
    actions (tools.alert_actions) outlive a re-scan, so a closed alert stays out of the list."""
    from tools.alert_actions import states

    if frame.empty:
        return frame, 0
    today = store.today()
    done = {
        aid for aid, s in states(store, frame).items() if s.status == "closed" or s.snoozed(today)
    }
    return frame[~frame.alert_id.isin(done)], len(done)


@tool("explain_alert", "evidence and likely causes for one alert", ExplainAlertRequest)
def explain_alert(ctx: ToolContext, req: ExplainAlertRequest) -> AlertExplanation:
    store = ctx.store
    record = store.alert(req.alert_id)
    evidence = (
        json.loads(record["evidence"])
        if isinstance(record["evidence"], str)
        else dict(record["evidence"])
    )
    alert = _row(record)
    causes = rank_causes(store, alert, evidence)
    return AlertExplanation(
        alert=alert,
        causes=causes,
        sop_query=f"handling {alert.kind} alerts",
        facts=evidence,
        evidence=Evidence(
            sources=["alerts", "alerts.evidence", "purchase_orders", "promotions"],
            method="causes ranked from the alert's stored evidence and related open alerts/POs",
            period=f"{alert.start_date.isoformat()}..{alert.end_date.isoformat()}",
        ),
    )
