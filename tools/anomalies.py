"""Anomaly detection over sales, inventory and POs, and the alerts it raises."""

from __future__ import annotations

from typing import Literal

from tools.arguments import Limit, Location, Sku, lowered
from tools.registry import Request, ToolContext, ToolResult, tool

AlertKind = Literal["demand_spike", "demand_drop", "data_error", "supplier_delay", "shrinkage"]
Severity = Literal["low", "medium", "high", "critical"]


class ListAlertsRequest(Request):
    severity: lowered(Severity | None) = None
    kind: lowered(AlertKind | None) = None
    sku: Sku | None = None
    location: Location = None
    limit: Limit = 10


class ExplainAlertRequest(Request):
    alert_id: str


class ScanRequest(Request):
    lookback_days: int = 28


@tool("list_alerts", "open anomaly alerts, most severe first", ListAlertsRequest)
def list_alerts(ctx: ToolContext, req: ListAlertsRequest) -> ToolResult:
    raise NotImplementedError


@tool("explain_alert", "evidence and likely causes for one alert", ExplainAlertRequest)
def explain_alert(ctx: ToolContext, req: ExplainAlertRequest) -> ToolResult:
    raise NotImplementedError


@tool("scan_anomalies", "scan all data and rewrite the alerts table", ScanRequest, agent=False, writes=True)
def scan_anomalies(ctx: ToolContext, req: ScanRequest) -> ToolResult:
    raise NotImplementedError
