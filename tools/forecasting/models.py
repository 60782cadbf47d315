"""Candidate models per demand class, the execution backend, and backtest-based selection."""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
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

from tools.forecasting.frame import SEASON
from tools.registry import ToolError

SLOW_FIT_DAYS = 182  # ETS/Theta: 26 weekly cycles is plenty and halves their cost
BACKTEST_H, BACKTEST_WINDOWS, BACKTEST_STEP = 14, 3, 7  # three overlapping 2-week origins
MIN_BACKTEST_DAYS = BACKTEST_H + (BACKTEST_WINDOWS - 1) * BACKTEST_STEP + 4 * SEASON
BASELINE = "SeasonalNaive"
BACKENDS = ("local", "dask", "spark", "ray")


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


def model_family(demand_class: str) -> str:
    return "continuous" if demand_class in ("smooth", "erratic") else "intermittent"


def model_for(alias: str, season: int):
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


def tail_periods(df: pd.DataFrame, periods: int) -> pd.DataFrame:
    return df.groupby("unique_id").tail(periods)


# -- backtest and selection ---------------------------------------------------------------
def backtest(df: pd.DataFrame, demand_class: str, engine: Engine = Engine()) -> pd.DataFrame:
    """Rolling-origin backtest of the class's candidates: one row per series, origin, day."""
    data = df[["unique_id", "ds", "y"]]
    kwargs = dict(h=BACKTEST_H, n_windows=BACKTEST_WINDOWS, step_size=BACKTEST_STEP)
    cv = engine.run(_fast_models(demand_class, engine.season), "cross_validation", data, **kwargs)
    slow = _slow_models(demand_class, engine.season)
    if slow:
        recent = tail_periods(data, SLOW_FIT_DAYS)
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
