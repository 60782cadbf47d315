"""Inventory projection, stock-out risk, safety stock, reorder points and order quantities."""

from __future__ import annotations

from pydantic import Field

from tools.arguments import HorizonDays, Limit, Location, Sku
from tools.registry import Request, ToolContext, ToolResult, tool


class StockoutRiskRequest(Request):
    horizon_days: HorizonDays = 7
    location: Location = None
    category: str | None = None
    limit: Limit = 10


class StockProjectionRequest(Request):
    sku: Sku
    location: Location = None
    horizon_days: HorizonDays = 28


class ReorderRequest(Request):
    sku: Sku
    location: Location = None
    service_level: float = Field(0.95, ge=0.5, le=0.999, description="target cycle service level")


@tool("stockout_risk", "SKUs most likely to stock out within the horizon, ranked", StockoutRiskRequest)
def stockout_risk(ctx: ToolContext, req: StockoutRiskRequest) -> ToolResult:
    raise NotImplementedError


@tool("stock_projection", "day-by-day projected stock for one SKU with inbound POs", StockProjectionRequest)
def stock_projection(ctx: ToolContext, req: StockProjectionRequest) -> ToolResult:
    raise NotImplementedError


@tool("reorder_plan", "safety stock, reorder point and order quantity for one SKU", ReorderRequest)
def reorder_plan(ctx: ToolContext, req: ReorderRequest) -> ToolResult:
    raise NotImplementedError
