"""Demand forecasting with statsforecast: model per demand class, prediction intervals,
stock-out-censored history, batch precompute and on-demand forecasts.

Every stage reads and writes one long frame (``unique_id`` = "SKU@LOC", ``ds``, ``y``):
history -> uncensor -> classify -> backtest per class -> forecast with the winning model ->
intervals from the winner's backtest errors. One module per job: frame (the long frame and the
stages before any model), models (candidates, backends, backtest and selection), panel
(``forecast_panel``, the pipeline, and interval helpers) and tool (the two tools). The
inventory modules are thin callers of ``forecast_panel`` and the helpers below.
"""

from tools.forecasting.frame import (
    HISTORY_DAYS,
    SEASON,
    classify_demand,
    load_history,
    series_id,
    split_series_id,
    trim_prelaunch,
    uncensor,
)
from tools.forecasting.models import BACKENDS, Engine, backtest, select_models
from tools.forecasting.panel import (
    FORECAST_COLUMNS,
    FORECAST_VALUES,
    Z,
    cumulative_quantile,
    forecast_panel,
    sigma_from_bounds,
)
from tools.forecasting.tool import (
    ForecastDay,
    ForecastRequest,
    ForecastResult,
    RunForecastsRequest,
    RunForecastsResult,
    forecast_demand,
    forecast_series,
    resolve_series,
    run_forecasts,
)

__all__ = [
    "BACKENDS",
    "FORECAST_COLUMNS",
    "FORECAST_VALUES",
    "HISTORY_DAYS",
    "SEASON",
    "Z",
    "Engine",
    "ForecastDay",
    "ForecastRequest",
    "ForecastResult",
    "RunForecastsRequest",
    "RunForecastsResult",
    "backtest",
    "classify_demand",
    "cumulative_quantile",
    "forecast_demand",
    "forecast_panel",
    "forecast_series",
    "load_history",
    "resolve_series",
    "run_forecasts",
    "select_models",
    "series_id",
    "sigma_from_bounds",
    "split_series_id",
    "trim_prelaunch",
    "uncensor",
]
