"""The long frame every forecasting stage reads and writes, and the stages before any model.

One row per series and day: ``unique_id`` = "SKU@LOC", ``ds``, ``y`` (recorded sales) and
``censored`` (the day ended with zero stock). History -> trim pre-launch days -> uncensor ->
classify by Syntetos-Boylan.
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd

from tools.store import Store

SEASON = 7  # weekly pattern of daily retail demand
HISTORY_DAYS = 364  # a year of history: classification and the cheap models
ADI_CUTOFF, CV2_CUTOFF = 1.32, 0.49  # Syntetos-Boylan
IMPUTE_WINDOW = 56  # days of uncensored history behind an imputed stock-out day


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
