"""``forecast_panel``: the pipeline from a long history frame to forecasts with intervals.

History -> uncensor -> classify -> backtest per class -> forecast with the winning model ->
intervals from the winner's backtest errors. Also the helpers that read intervals back.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from tools.forecasting.frame import SEASON, classify_demand, trim_prelaunch, uncensor
from tools.forecasting.models import (
    BACKENDS,
    MIN_BACKTEST_DAYS,
    SLOW_FIT_DAYS,
    Engine,
    backtest,
    model_family,
    model_for,
    select_models,
    tail_periods,
)
from tools.registry import ToolError

Z = {80: stats.norm.ppf(0.90), 95: stats.norm.ppf(0.975)}
# What a forecast says about one series-day. The pipeline keys it by (unique_id, ds); the
# stored forecasts table by (sku, location_id, date), plus run_at (tool.py).
FORECAST_VALUES = ["model", "demand_class", "mean", "lo_80", "hi_80", "lo_95", "hi_95"]
FORECAST_COLUMNS = ["unique_id", "ds", *FORECAST_VALUES]


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
    for family, members in fitted.groupby(fitted["demand_class"].map(model_family)):
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
            sub = tail_periods(sub, SLOW_FIT_DAYS)
        fc = engine.run([model_for(alias, engine.season)], "forecast", sub, h=horizon)
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
