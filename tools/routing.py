"""Delivery route planning for a day's customer orders with a VRP solver (PyVRP / OR-Tools)."""

from __future__ import annotations

from pydantic import Field

from tools.arguments import DateText, Location
from tools.registry import Request, ToolContext, ToolResult, tool


class PlanRoutesRequest(Request):
    location: Location = None
    date: DateText = None
    vehicles: int | None = Field(None, ge=1, le=100)
    capacity_kg: float | None = Field(None, gt=0)


@tool("plan_routes", "delivery routes for a day's orders from a warehouse", PlanRoutesRequest)
def plan_routes(ctx: ToolContext, req: PlanRoutesRequest) -> ToolResult:
    raise NotImplementedError
