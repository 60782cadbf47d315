"""The forecasting tools: ``forecast_demand`` (one SKU, now) and ``run_forecasts`` (the batch)."""

from __future__ import annotations

import os
import sys
import time
from collections import Counter
from datetime import date, datetime, timedelta

import numpy as np
import pandas as pd
from pydantic import BaseModel
from tqdm import tqdm

from tools.arguments import HorizonDays, Location, Sku
from tools.forecasting.frame import HISTORY_DAYS, load_history, series_id, split_series_id, uncensor
from tools.forecasting.models import BACKTEST_H, BACKTEST_WINDOWS
from tools.forecasting.panel import (
    FORECAST_VALUES,
    Z,
    cumulative_quantile,
    forecast_panel,
    sigma_from_bounds,
)
from tools.registry import Evidence, Request, ToolContext, ToolError, ToolResult, tool
from tools.store import Store

CHUNK_SERIES = 1000  # series per batch step: bounds memory and drives the progress bar


# -- tools ---------------------------------------------------------------------------------
class ForecastRequest(Request):
    sku: Sku
    location: Location = None
    horizon_days: HorizonDays = 14


class RunForecastsRequest(Request):
    horizon_days: HorizonDays = 28
    location: Location = None


class ForecastDay(BaseModel):
    date: date
    mean: float
    lo_80: float
    hi_80: float
    lo_95: float
    hi_95: float


class ForecastResult(ToolResult):
    sku: str
    name: str
    location: str  # a location id, or "all" (the sum over the locations listed)
    locations: list[str]
    horizon_days: int
    start: date
    end: date
    model: str
    demand_class: str
    total: float
    total_lo_80: float
    total_hi_80: float
    total_lo_95: float
    total_hi_95: float
    avg_daily: float
    recent_avg_daily: float  # recorded sales over the last 28 days
    imputed_stockout_days: int
    days: list[ForecastDay]

    def render(self) -> str:
        where = (
            self.location
            if self.location != "all"
            else "all locations (" + ",".join(self.locations) + ")"
        )
        text = (
            f"Forecast {self.sku} ({self.name}) at {where}, {self.start} to {self.end} ({self.horizon_days} d): "
            f"total {_num(self.total)} units (80% {_num(self.total_lo_80)}-{_num(self.total_hi_80)}, "
            f"95% {_num(self.total_lo_95)}-{_num(self.total_hi_95)}); {_num(self.avg_daily)}/day vs "
            f"{_num(self.recent_avg_daily)}/day sold over the last 28 d. Model {self.model}, demand {self.demand_class}."
        )
        if self.horizon_days <= 7:
            text += f" Daily from {self.start}: " + ", ".join(_num(d.mean) for d in self.days) + "."
        else:
            text += " Weekly totals: " + "; ".join(self._week_runs()) + "."
        if self.imputed_stockout_days:
            text += f" {self.imputed_stockout_days} stock-out days in history treated as lost sales, not zero demand."
        return text

    def summary(self) -> str:
        where = self.location if self.location != "all" else "all sites"
        text = (
            f"Forecast for {self.sku} ({self.name}) at {where}, {self.start} to {self.end}: about "
            f"{_num(self.total)} units (80% range {_num(self.total_lo_80)}-{_num(self.total_hi_80)}), "
            f"{_num(self.avg_daily)} a day against {_num(self.recent_avg_daily)} a day sold over "
            f"the last 28 days."
        )
        if self.horizon_days > 7:
            text += " By week: " + "; ".join(self._week_runs()) + "."
        return text

    def _week_runs(self) -> list[str]:
        """Weekly totals by start date, equal neighbours merged: a flat forecast is one phrase."""
        weeks = [
            (
                self.days[i].date,
                _num(sum(d.mean for d in self.days[i : i + 7])),
                len(self.days[i : i + 7]),
            )
            for i in range(0, len(self.days), 7)
        ]
        runs: list[list] = []
        for start, total, length in weeks:
            if runs and runs[-1][2] == total and length == 7:
                runs[-1][1] = start
            else:
                runs.append([start, start, total, length])
        return [
            (f"week of {a}: {t}" if a == b else f"weeks of {a} to {b}: {t} each")
            + (f" ({n} d)" if n < 7 else "")
            for a, b, t, n in runs
        ]

    def table(self) -> pd.DataFrame:
        return pd.DataFrame([d.model_dump() for d in self.days])


class RunForecastsResult(ToolResult):
    series: int
    rows: int
    horizon_days: int
    start: date
    end: date
    seconds: float
    series_per_second: float
    backend: str
    n_jobs: int
    class_counts: dict[str, int]
    model_mix: dict[str, dict[str, int]]  # demand class -> model -> series

    def render(self) -> str:
        mix = "; ".join(
            f"{cls} {self.class_counts[cls]}: " + ", ".join(f"{m} {n}" for m, n in models.items())
            for cls, models in self.model_mix.items()
        )
        return (
            f"Forecast {self.series} series x {self.horizon_days} d ({self.start} to {self.end}), "
            f"{self.rows} rows stored in {self.seconds:.1f} s ({self.series_per_second:.0f} series/s, "
            f"{self.backend}). Models by class: {mix}."
        )

    def table(self) -> pd.DataFrame:
        return pd.DataFrame(
            [
                {"demand_class": c, "model": m, "series": n}
                for c, models in self.model_mix.items()
                for m, n in models.items()
            ]
        )


def _num(value: float) -> str:
    """Round for reading: whole units above 10, one decimal below."""
    return f"{value:.0f}" if abs(value) >= 10 else f"{value:.1f}".rstrip("0").rstrip(".") or "0"


def resolve_series(store: Store, sku: str, location: str | None) -> tuple[dict, list[str]]:
    """The product and the location ids that stock it (one when ``location`` is given)."""
    product = store.product(sku)
    location_id = store.location(location)["location_id"] if location else None
    keys = store.series_keys(location_id=location_id, skus=[product["sku"]])
    if keys.empty:
        where = f" at {location_id}" if location_id else ""
        raise ToolError(f"sku: {product['sku']} has no stock records{where}")
    return product, keys["location_id"].tolist()


def forecast_series(
    store: Store,
    sku: str,
    location_ids: list[str],
    horizon: int,
    history: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """On-demand forecast of some locations of one SKU, dated from today (``FORECAST_COLUMNS`` + sku, location_id)."""
    history = load_history(store, skus=[sku]) if history is None else history
    history = history[history["unique_id"].isin([series_id(sku, loc) for loc in location_ids])]
    # a series whose last record is before today still forecasts from today onwards
    gap = (pd.Timestamp(store.today()) - history.groupby("unique_id")["ds"].max()).dt.days.max()
    gap = 1 if pd.isna(gap) else int(gap)
    fc = forecast_panel(history, horizon + gap - 1)
    fc = fc[fc["ds"] >= pd.Timestamp(store.today())].groupby("unique_id").head(horizon)
    fc["sku"], fc["location_id"] = split_series_id(fc["unique_id"])
    return fc.reset_index(drop=True)


@tool("forecast_demand", "daily demand forecast with 80/95% intervals for one SKU", ForecastRequest)
def forecast_demand(ctx: ToolContext, req: ForecastRequest) -> ForecastResult:
    """Forecast now from history; without ``location``, the sum over the locations that stock it."""
    store = ctx.store
    product, location_ids = resolve_series(store, req.sku, req.location)
    history = load_history(store, skus=[product["sku"]])
    fc = forecast_series(store, product["sku"], location_ids, req.horizon_days, history)
    if fc.empty:
        raise ToolError(f"sku: {product['sku']} has no sales history to forecast from")
    return _forecast_result(product, req, location_ids, fc, history, store.today())


def _forecast_result(product, req, location_ids, fc, history, today) -> ForecastResult:
    sigma = sigma_from_bounds(fc["mean"], fc["hi_80"])
    fc = fc.assign(var=sigma**2)
    # locations summed bottom-up; their errors are treated as independent
    daily = fc.groupby("ds").agg(mean=("mean", "sum"), var=("var", "sum"))
    sd = np.sqrt(daily["var"])
    days = [
        ForecastDay(
            date=ds.date(),
            mean=round(m, 2),
            lo_80=round(max(m - Z[80] * s, 0), 2),
            hi_80=round(m + Z[80] * s, 2),
            lo_95=round(max(m - Z[95] * s, 0), 2),
            hi_95=round(m + Z[95] * s, 2),
        )
        for ds, m, s in zip(daily.index, daily["mean"], sd, strict=True)
    ]
    total, var = daily["mean"].sum(), daily["var"].sum()
    q = {p: float(cumulative_quantile(total, var, p)) for p in (0.025, 0.10, 0.90, 0.975)}
    recent = history[history["ds"] >= pd.Timestamp(today) - pd.Timedelta(days=28)]
    recent = recent[
        recent["unique_id"].isin([series_id(product["sku"], loc) for loc in location_ids])
    ]
    models = fc.groupby("location_id")["model"].first()
    classes = fc.groupby("location_id")["demand_class"].first()
    single = len(location_ids) == 1
    return ForecastResult(
        sku=product["sku"],
        name=product["name"],
        location=location_ids[0] if single else "all",
        locations=location_ids,
        horizon_days=req.horizon_days,
        start=days[0].date,
        end=days[-1].date,
        model=models.iloc[0]
        if models.nunique() == 1
        else ", ".join(f"{m} ({loc})" for loc, m in models.items()),
        demand_class=classes.iloc[0]
        if classes.nunique() == 1
        else ", ".join(f"{c} ({loc})" for loc, c in classes.items()),
        total=round(total, 1),
        total_lo_80=round(q[0.10], 1),
        total_hi_80=round(q[0.90], 1),
        total_lo_95=round(q[0.025], 1),
        total_hi_95=round(q[0.975], 1),
        avg_daily=round(total / req.horizon_days, 2),
        recent_avg_daily=round(recent.groupby("ds")["y"].sum().sum() / 28, 2),
        imputed_stockout_days=int(
            uncensor(history[history["unique_id"].isin(fc["unique_id"])])["imputed"].sum()
        ),
        days=days,
        evidence=Evidence(
            sources=["sales", "inventory"],
            method=(
                "statsforecast: demand class by ADI/CV2 (Syntetos-Boylan), model chosen per series by "
                f"{BACKTEST_WINDOWS}-origin {BACKTEST_H}-day backtest RMSE; intervals from backtest errors"
            ),
            period=f"{history['ds'].min():%Y-%m-%d} to {history['ds'].max():%Y-%m-%d}"
            if len(history)
            else "",
            notes=[
                "stock-out days (end-of-day stock 0) imputed as lost sales",
                "locations summed, errors assumed independent" if not single else "one location",
            ],
        ),
    )


@tool(
    "run_forecasts",
    "batch forecast for every SKU and location, stored in the database",
    RunForecastsRequest,
    agent=False,
    writes=True,
)
def run_forecasts(
    ctx: ToolContext,
    req: RunForecastsRequest,
    backend: str | None = None,
    n_jobs: int | None = None,
    progress: bool = True,
) -> RunForecastsResult:
    """Forecast all series (or one location's) and replace them in the forecasts table."""
    store = ctx.store
    backend = backend or ctx.forecast_backend
    dask_address = ctx.dask_address
    location_id = store.location(req.location)["location_id"] if req.location else None
    keys = store.series_keys(location_id=location_id)
    if keys.empty:
        raise ToolError(
            "location: no stock records to forecast" + (f" at {location_id}" if location_id else "")
        )
    skus = keys["sku"].drop_duplicates().tolist()
    n_jobs = n_jobs or (1 if len(keys) < 200 else min(2, os.cpu_count() or 1))
    started, run_at, today = (
        time.perf_counter(),
        datetime.now().replace(microsecond=0),
        store.today(),
    )
    parts = []
    with tqdm(
        total=len(keys), unit="series", desc="forecast", file=sys.stderr, disable=not progress
    ) as bar:
        step = max(1, round(CHUNK_SERIES * len(skus) / len(keys)))  # ~CHUNK_SERIES series a step
        for i in range(0, len(skus), step):
            chunk = skus[i : i + step]
            history = load_history(store, skus=chunk, location_id=location_id)
            fc = forecast_panel(history, req.horizon_days, backend, dask_address, n_jobs)
            parts.append(fc[fc["ds"] >= pd.Timestamp(today)])
            bar.update(history["unique_id"].nunique())
    fc = pd.concat(parts, ignore_index=True)
    table = _forecast_table(fc, run_at)
    if location_id:
        kept = store.forecasts()
        table = pd.concat([kept[kept["location_id"] != location_id], table], ignore_index=True)
    store.replace_table("forecasts", table)
    seconds = time.perf_counter() - started
    return _run_result(fc, req.horizon_days, seconds, backend, n_jobs, today)


def _forecast_table(fc: pd.DataFrame, run_at: datetime) -> pd.DataFrame:
    sku, location_id = split_series_id(fc["unique_id"])
    table = fc.assign(sku=sku, location_id=location_id, date=fc["ds"].dt.date, run_at=run_at)
    return table[["sku", "location_id", "date", *FORECAST_VALUES, "run_at"]]


def _run_result(
    fc: pd.DataFrame, horizon: int, seconds: float, backend: str, n_jobs: int, today: date
) -> RunForecastsResult:
    per_series = fc.groupby("unique_id")[["demand_class", "model"]].first()
    mix: dict[str, dict[str, int]] = {}
    for cls in ("smooth", "erratic", "intermittent", "lumpy", "inactive"):
        models = per_series.loc[per_series["demand_class"] == cls, "model"]
        if len(models):
            mix[cls] = dict(Counter(models).most_common())
    n = len(per_series)
    return RunForecastsResult(
        series=n,
        rows=len(fc),
        horizon_days=horizon,
        start=today,
        end=today + timedelta(days=horizon - 1),
        seconds=round(seconds, 1),
        series_per_second=round(n / max(seconds, 1e-9), 1),
        backend=backend,
        n_jobs=n_jobs,
        class_counts={c: sum(m.values()) for c, m in mix.items()},
        model_mix=mix,
        evidence=Evidence(
            sources=["sales", "inventory", "forecasts (written)"],
            method="statsforecast per demand class, backtest-selected model per series",
            period=f"{today - timedelta(days=HISTORY_DAYS)} to {today - timedelta(days=1)}",
        ),
    )
