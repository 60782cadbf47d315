"""Demand forecasting with statsforecast: model per demand class, prediction intervals,
stock-out-censored history, batch precompute and on-demand forecasts."""

from __future__ import annotations

from tools.arguments import HorizonDays, Location, Sku
from tools.registry import Request, ToolContext, ToolResult, tool


class ForecastRequest(Request):
    sku: Sku
    location: Location = None
    horizon_days: HorizonDays = 14


class RunForecastsRequest(Request):
    horizon_days: HorizonDays = 28
    location: Location = None


@tool("forecast_demand", "daily demand forecast with 80/95% intervals for one SKU", ForecastRequest)
def forecast_demand(ctx: ToolContext, req: ForecastRequest) -> ToolResult:
    raise NotImplementedError


@tool("run_forecasts", "batch forecast for every SKU and location, stored in the database",
      RunForecastsRequest, agent=False, writes=True)
def run_forecasts(ctx: ToolContext, req: RunForecastsRequest) -> ToolResult:
    raise NotImplementedError
