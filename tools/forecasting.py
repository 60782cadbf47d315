"""Demand forecasting with statsforecast: model per demand class, prediction intervals,
stock-out-censored history, batch precompute and on-demand forecasts.

Every stage reads and writes one long frame (``unique_id`` = "SKU@LOC", ``ds``, ``y``):
history -> uncensor -> classify -> backtest per class -> forecast with the winning model ->
intervals from the winner's backtest errors. ``forecast_panel`` is that pipeline; the two tools
and the inventory module are thin callers.
"""

from __future__ import annotations

import os
import sys
import time
import warnings
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import numpy as np
import pandas as pd
from pydantic import BaseModel
from scipy import stats
from statsforecast import StatsForecast
from statsforecast.models import (
    ADIDA,
    IMAPA,
    TSB,
    AutoETS,
    CrostonOptimized,
    OptimizedTheta,
    SeasonalNaive,
    SeasonalWindowAverage,
)
from tqdm import tqdm

from tools.arguments import HorizonDays, Location, Sku
from tools.registry import Evidence, Request, ToolContext, ToolError, ToolResult, tool
from tools.store import Store

SEASON = 7  # weekly pattern of daily retail demand
HISTORY_DAYS = 364  # a year of history: classification and the cheap models
SLOW_FIT_DAYS = 182  # ETS/Theta: 26 weekly cycles is plenty and halves their cost
ADI_CUTOFF, CV2_CUTOFF = 1.32, 0.49  # Syntetos-Boylan
BACKTEST_H, BACKTEST_WINDOWS, BACKTEST_STEP = 14, 3, 7  # three overlapping 2-week origins
MIN_BACKTEST_DAYS = BACKTEST_H + (BACKTEST_WINDOWS - 1) * BACKTEST_STEP + 4 * SEASON
IMPUTE_WINDOW = 56  # days of uncensored history behind an imputed stock-out day
Z = {80: stats.norm.ppf(0.90), 95: stats.norm.ppf(0.975)}
BASELINE = "SeasonalNaive"
FORECAST_COLUMNS = [
    "unique_id",
    "ds",
    "model",
    "demand_class",
    "mean",
    "lo_80",
    "hi_80",
    "lo_95",
    "hi_95",
]
BACKENDS = ("local", "dask", "spark", "ray")
CHUNK_SERIES = 1000  # series per batch step: bounds memory and drives the progress bar


# -- the long frame ------------------------------------------------------------------------
def series_id(sku: str, location_id: str) -> str:
    return f"{sku}@{location_id}"


def split_series_id(ids: pd.Series) -> tuple[pd.Series, pd.Series]:
    parts = ids.str.split("@", n=1, expand=True)
    return parts[0], parts[1]


def load_history(
    store: Store,
    skus: list[str] | None = None,
    location_id: str | None = None,
    days: int = HISTORY_DAYS,
    end: date | None = None,
) -> pd.DataFrame:
    """Recorded daily sales as a long frame with a ``censored`` flag (end-of-day stock was 0).

    ``days`` days before ``end`` (default: today), so a backtest can cut history at any origin.
    """
    end = end or store.today()
    raw = store.demand_history(
        skus=skus,
        location_id=location_id,
        start=end - timedelta(days=days),
        end=end - timedelta(days=1),
    )
    frame = pd.DataFrame(
        {
            "unique_id": raw["sku"] + "@" + raw["location_id"],
            "ds": pd.to_datetime(raw["date"]),
            "y": raw["units"].astype(float),
            "censored": raw["on_hand"] <= 0,
        }
    )
    return frame.sort_values(["unique_id", "ds"], ignore_index=True)


def trim_prelaunch(frame: pd.DataFrame) -> pd.DataFrame:
    """Drop each series' days before its first sale: pre-launch zeros are not demand."""
    started = (frame["y"] > 0).groupby(frame["unique_id"]).cummax()
    return frame[started].reset_index(drop=True)


def uncensor(frame: pd.DataFrame, season: int = SEASON) -> pd.DataFrame:
    """Replace recorded sales on stock-out days by an estimate of the demand that went unserved.

    A day that ends with zero stock only shows what could be sold, so learning from it teaches
    the model that demand is lower than it is. Its value becomes max(recorded, level x weekday
    factor), where the level is the mean of the last ``IMPUTE_WINDOW`` uncensored days and the
    weekday factor is shrunk towards 1 so that sparse series are not over-fitted.
    """
    df = frame.sort_values(["unique_id", "ds"], ignore_index=True)
    if "censored" not in df or not df["censored"].any():
        return df.assign(imputed=False)
    clean = df["y"].where(~df["censored"])
    by_id = clean.groupby(df["unique_id"])
    level = by_id.rolling(IMPUTE_WINDOW, min_periods=1).mean().reset_index(level=0, drop=True)
    level = level.groupby(df["unique_id"]).shift(1).groupby(df["unique_id"]).ffill()
    # the position in the season: the weekday for daily data
    phase = df["ds"].dt.dayofweek if season == 7 else df.groupby("unique_id").cumcount() % season
    keys = [df["unique_id"], phase]
    dow_sum = clean.groupby(keys).transform("sum")
    dow_n = clean.notna().groupby(keys).transform("sum")
    overall = by_id.transform("mean")
    shrink = 4.0  # pseudo-observations at factor 1
    factor = ((dow_sum + shrink * overall) / (dow_n + shrink) / overall).where(overall > 0, 1.0)
    estimate = (level * factor.clip(0.25, 4.0)).fillna(0.0)
    y = np.where(df["censored"], np.maximum(df["y"], estimate), df["y"])
    return df.assign(y=y, imputed=df["censored"] & (y > df["y"]))


def classify_demand(frame: pd.DataFrame) -> pd.DataFrame:
    """ADI and CV^2 per series and the Syntetos-Boylan class (plus 'inactive' for no demand)."""
    g = frame.groupby("unique_id")["y"]
    n_days = g.size()
    sizes = frame.loc[frame["y"] > 0].groupby("unique_id")["y"]
    n_nonzero = sizes.size().reindex(n_days.index, fill_value=0)
    mean_size = sizes.mean().reindex(n_days.index)
    cv2 = (sizes.std(ddof=0).reindex(n_days.index) / mean_size) ** 2
    adi = n_days / n_nonzero.replace(0, np.nan)
    lumpy_side = cv2.fillna(0) >= CV2_CUTOFF
    sparse = adi.fillna(np.inf) >= ADI_CUTOFF
    cls = np.select(
        [n_nonzero == 0, sparse & lumpy_side, sparse, lumpy_side],
        ["inactive", "lumpy", "intermittent", "erratic"],
        "smooth",
    )
    return pd.DataFrame({"n_days": n_days, "adi": adi, "cv2": cv2, "demand_class": cls})


# -- candidate models -------------------------------------------------------------------------
def _fast_models(demand_class: str, season: int = SEASON) -> list:
    """Cheap models, refit at every backtest origin on the full year."""
    naive = SeasonalNaive(season, alias=BASELINE)
    if demand_class in ("smooth", "erratic"):
        return [naive, SeasonalWindowAverage(season, 4, alias="SeasonMean4")]
    # no short-window averages here: on sparse series they chase the last few orders
    return [
        naive,
        CrostonOptimized(alias="Croston"),
        TSB(0.1, 0.1, alias="TSB"),
        ADIDA(alias="ADIDA"),
        IMAPA(alias="IMAPA"),
    ]


def _slow_models(demand_class: str, season: int = SEASON) -> list:
    """State-space models, fitted once on half a year and rolled forward (refit=False)."""
    if demand_class in ("smooth", "erratic"):
        # "ANA": AutoETS's "ZZZ" costs ~0.5 s a series; the multiplicative variants fail on zeros
        return [
            AutoETS(season_length=season, model="ANA", alias="ETS"),
            OptimizedTheta(season_length=season, alias="Theta"),
        ]
    return []


def _family(demand_class: str) -> str:
    return "continuous" if demand_class in ("smooth", "erratic") else "intermittent"


def _model_for(alias: str, season: int):
    for model in (
        _fast_models("smooth", season)
        + _fast_models("lumpy", season)
        + _slow_models("smooth", season)
    ):
        if model.alias == alias:
            return model
    raise KeyError(alias)


# -- execution backends -----------------------------------------------------------------------
def _distribute(df: pd.DataFrame, backend: str, dask_address: str | None):
    """Hand the frame to statsforecast's Fugue path: a distributed frame selects the engine."""
    if backend == "local":
        return df
    if backend == "dask":
        import dask.dataframe as dd
        from distributed import Client, default_client

        if dask_address:
            try:
                client = default_client()
                if client.scheduler.address != dask_address:
                    Client(dask_address)
            except ValueError:
                Client(dask_address)
        partitions = max(1, min(16, df["unique_id"].nunique() // 50))
        return dd.from_pandas(df, npartitions=partitions, sort=False)
    if backend == "spark":
        try:
            from pyspark.sql import SparkSession
        except ImportError:
            raise ToolError(
                "forecast_backend: 'spark' needs pyspark, which is not installed"
            ) from None
        return SparkSession.builder.getOrCreate().createDataFrame(df)
    if backend == "ray":
        try:
            import ray.data
        except ImportError:
            raise ToolError("forecast_backend: 'ray' needs ray, which is not installed") from None
        return ray.data.from_pandas(df)
    raise ToolError(
        f"forecast_backend: unknown backend '{backend}'; use one of {', '.join(BACKENDS)}"
    )


def _collect(result) -> pd.DataFrame:
    """A pandas frame with the local dtypes, whatever engine produced ``result``."""
    if isinstance(result, pd.DataFrame):
        return result
    if hasattr(result, "compute"):  # dask
        frame = result.compute()
    elif hasattr(result, "toPandas"):  # spark
        frame = result.toPandas()
    else:  # ray
        frame = result.to_pandas()
    for column in ("ds", "cutoff"):  # engines hand back arrow timestamps
        if column in frame:
            frame[column] = pd.to_datetime(frame[column]).astype("datetime64[ns]")
    frame["unique_id"] = frame["unique_id"].astype(str)
    return frame.sort_values([c for c in ("unique_id", "cutoff", "ds") if c in frame]).reset_index(
        drop=True
    )


@dataclass(frozen=True)
class Engine:
    """How statsforecast runs: the data's cadence and the execution backend."""

    season: int = SEASON
    freq: str = "D"
    backend: str = "local"
    dask_address: str | None = None
    n_jobs: int = 1

    def run(self, models: list, method: str, df: pd.DataFrame, **kwargs) -> pd.DataFrame:
        """``StatsForecast(models).<method>(df)`` on the backend, returned as a pandas frame."""
        # a model that fails on a series falls back to the baseline (which can also roll forward)
        sf = StatsForecast(
            models=models,
            freq=self.freq,
            n_jobs=self.n_jobs,
            fallback_model=SeasonalNaive(self.season),
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            data = _distribute(df, self.backend, self.dask_address)
            return _collect(getattr(sf, method)(df=data, **kwargs))


def _tail(df: pd.DataFrame, periods: int) -> pd.DataFrame:
    return df.groupby("unique_id").tail(periods)


# -- backtest and selection ---------------------------------------------------------------
def backtest(df: pd.DataFrame, demand_class: str, engine: Engine = Engine()) -> pd.DataFrame:
    """Rolling-origin backtest of the class's candidates: one row per series, origin, day."""
    data = df[["unique_id", "ds", "y"]]
    kwargs = dict(h=BACKTEST_H, n_windows=BACKTEST_WINDOWS, step_size=BACKTEST_STEP)
    cv = engine.run(_fast_models(demand_class, engine.season), "cross_validation", data, **kwargs)
    slow = _slow_models(demand_class, engine.season)
    if slow:
        recent = _tail(data, SLOW_FIT_DAYS)
        cv_slow = engine.run(slow, "cross_validation", recent, refit=False, **kwargs)
        cv = cv.merge(cv_slow.drop(columns="y"), on=["unique_id", "ds", "cutoff"])
    return cv.reset_index(drop=True)


def select_models(cv: pd.DataFrame) -> pd.DataFrame:
    """Per series: the model with the lowest backtest RMSE, its MSE, bias and the baseline's RMSE.

    RMSE rather than MAE because the mean forecast feeds safety stock, and MAE rewards a
    forecast of zero on intermittent series.
    """
    models = [c for c in cv.columns if c not in ("unique_id", "ds", "cutoff", "y")]
    errors = cv[models].sub(cv["y"], axis=0).clip(-1e9, 1e9)
    mse = errors.pow(2).groupby(cv["unique_id"]).mean()
    best = mse.idxmin(axis=1)
    bias = errors.groupby(cv["unique_id"]).mean()
    return pd.DataFrame(
        {
            "model": best,
            "mse": mse.min(axis=1),
            "bias": bias.to_numpy()[np.arange(len(best)), bias.columns.get_indexer(best)],
            "baseline_rmse": np.sqrt(mse[BASELINE]),
        }
    )


# -- forecast ------------------------------------------------------------------------------
def forecast_panel(
    frame: pd.DataFrame,
    horizon: int,
    backend: str = "local",
    dask_address: str | None = None,
    n_jobs: int = 1,
    season: int = SEASON,
    freq: str = "D",
) -> pd.DataFrame:
    """Forecast every series of a long frame ``horizon`` periods past its last date.

    ``frame`` has ``unique_id``, ``ds``, ``y`` and optionally ``censored`` (stock-out days).
    Returns ``FORECAST_COLUMNS``: the winning model per series, its class, mean and 80/95%
    bounds. ``backend`` other than "local" runs statsforecast's Fugue engine on a distributed
    frame (Dask: the client at ``dask_address``, or the current default client). ``season`` and
    ``freq`` default to daily data with a weekly pattern.
    """
    if backend not in BACKENDS:
        raise ToolError(
            f"forecast_backend: unknown backend '{backend}'; use one of {', '.join(BACKENDS)}"
        )
    if not 1 <= horizon <= 366:
        raise ToolError(f"horizon_days: {horizon} is outside 1-366")
    engine = Engine(season, freq, backend, dask_address, n_jobs)
    last = frame.groupby("unique_id")["ds"].max()
    df = uncensor(trim_prelaunch(frame.assign(y=frame["y"].clip(lower=0))), season)
    classes = classify_demand(df).reindex(last.index)
    # no sale in the whole window: nothing to learn from, forecast zero (and say so)
    classes["demand_class"] = classes["demand_class"].fillna("inactive")
    parts = [_forecast_inactive(classes, last, horizon, freq)]
    active = classes["demand_class"] != "inactive"
    short = classes.index[(classes["n_days"] < MIN_BACKTEST_DAYS) & active]
    parts.append(_forecast_short(df[df["unique_id"].isin(short)], classes, horizon, engine))
    fitted = classes[active].drop(index=short)
    for family, members in fitted.groupby(fitted["demand_class"].map(_family)):
        sub = df[df["unique_id"].isin(members.index)]
        representative = "smooth" if family == "continuous" else "lumpy"
        parts.append(_forecast_family(sub, representative, classes, horizon, engine))
    parts = [p[FORECAST_COLUMNS] for p in parts if len(p)]
    out = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=FORECAST_COLUMNS)
    return out.sort_values(["unique_id", "ds"], ignore_index=True)


def _forecast_family(df, demand_class, classes, horizon, engine: Engine) -> pd.DataFrame:
    pick = select_models(backtest(df, demand_class, engine))
    parts = []
    for alias, chosen in pick.groupby("model"):
        sub = df[df["unique_id"].isin(chosen.index)][["unique_id", "ds", "y"]]
        if alias in ("ETS", "Theta"):
            sub = _tail(sub, SLOW_FIT_DAYS)
        fc = engine.run([_model_for(alias, engine.season)], "forecast", sub, h=horizon)
        fc = fc.rename(columns={alias: "mean"}).assign(model=alias)
        parts.append(fc[["unique_id", "ds", "model", "mean"]])
    fc = pd.concat(parts, ignore_index=True)
    return _with_intervals(fc, pick["mse"], classes)


def _forecast_short(df, classes, horizon, engine: Engine) -> pd.DataFrame:
    """Too little history to backtest (new launches): mean of the last season, spread of the last four."""
    if df.empty:
        return df
    by_id = df.groupby("unique_id")
    recent = by_id.tail(4 * engine.season).groupby("unique_id")["y"]
    level = by_id.tail(engine.season).groupby("unique_id")["y"].mean()
    fc = _future(by_id["ds"].max(), horizon, engine.freq).assign(model="RecentMean")
    fc["mean"] = fc["unique_id"].map(level)
    return _with_intervals(fc, recent.var(ddof=1).fillna(0.0), classes)


def _forecast_inactive(classes, last: pd.Series, horizon: int, freq: str) -> pd.DataFrame:
    ids = classes.index[classes["demand_class"] == "inactive"]
    fc = _future(last[ids], horizon, freq).assign(model="Zero", demand_class="inactive", mean=0.0)
    return fc.assign(lo_80=0.0, hi_80=0.0, lo_95=0.0, hi_95=0.0)


def _future(last: pd.Series, horizon: int, freq: str = "D") -> pd.DataFrame:
    offset = pd.tseries.frequencies.to_offset(freq)
    starts = pd.DatetimeIndex(last.to_numpy())
    steps = [starts + k * offset for k in range(1, horizon + 1)]  # (horizon, n)
    ds = np.stack([s.to_numpy() for s in steps], axis=1).ravel() if len(last) else []
    return pd.DataFrame({"unique_id": np.repeat(last.index.to_numpy(), horizon), "ds": ds})


def _with_intervals(fc: pd.DataFrame, mse: pd.Series, classes: pd.DataFrame) -> pd.DataFrame:
    """Normal bounds around the mean from the winner's out-of-sample error, clipped at zero.

    The variance is floored at the mean (a Poisson count is never tighter), so a series whose
    backtest happened to be calm still gets honest bounds. Upper bounds are never clipped, so
    sigma = (hi_80 - mean) / z_80 can be read back from the stored table.
    """
    fc = fc.assign(mean=fc["mean"].clip(lower=0).fillna(0.0))
    level = fc.groupby("unique_id")["mean"].transform("mean")
    sigma = np.sqrt(np.maximum(fc["unique_id"].map(mse).fillna(0.0), level))
    for lv, z in Z.items():
        fc[f"lo_{lv}"] = (fc["mean"] - z * sigma).clip(lower=0)
        fc[f"hi_{lv}"] = fc["mean"] + z * sigma
    return fc.assign(demand_class=fc["unique_id"].map(classes["demand_class"]))


def sigma_from_bounds(mean, hi_80):
    """The daily forecast standard deviation implied by a stored upper 80% bound."""
    return np.maximum(np.asarray(hi_80, dtype=float) - np.asarray(mean, dtype=float), 0.0) / Z[80]


def cumulative_quantile(mean, var, q):
    """Quantile of a sum of daily demands with the given mean and variance (gamma, moment-matched).

    A gamma keeps the skew of low-volume totals and never goes below zero, unlike a normal.
    """
    mean, var = np.asarray(mean, dtype=float), np.maximum(np.asarray(var, dtype=float), 1e-9)
    with np.errstate(divide="ignore", invalid="ignore"):
        value = stats.gamma.ppf(q, a=mean**2 / var, scale=var / np.maximum(mean, 1e-12))
    return np.where(mean > 0, value, 0.0)


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
    backend = backend or getattr(ctx, "forecast_backend", None) or "local"
    dask_address = getattr(ctx, "dask_address", None)
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
    return table[
        [
            "sku",
            "location_id",
            "date",
            "model",
            "demand_class",
            "mean",
            "lo_80",
            "hi_80",
            "lo_95",
            "hi_95",
            "run_at",
        ]
    ]


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
