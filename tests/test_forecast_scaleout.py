"""The batch forecast of a small panel through statsforecast's Ray backend (a local Ray, one CPU)
gives the local backend's forecasts to 1e-6: the same winning model per series, the same mean
and bounds. Ray is a dev extra; the test is skipped where it is not installed."""

from __future__ import annotations

import numpy as np
import pytest

from tools.forecasting.frame import load_history
from tools.forecasting.panel import forecast_panel
from tools.store import Store

SKUS = 6  # their stocked locations: 8 series in the sample, of several demand classes


@pytest.fixture(scope="module")
def local_ray():
    ray = pytest.importorskip("ray")
    pytest.importorskip("ray.data")
    pytest.importorskip("fugue_ray")
    ray.init(
        num_cpus=1,
        include_dashboard=False,
        log_to_driver=False,
        configure_logging=False,
        ignore_reinit_error=True,
    )
    # A handful of series: a few blocks, not Ray Data's cluster defaults of 200 (minutes here).
    context = ray.data.DataContext.get_current()
    context.min_parallelism = context.read_op_min_num_blocks = 2
    context.default_hash_shuffle_parallelism = 2
    context.enable_progress_bars = context.print_on_execution_start = False
    yield ray
    ray.shutdown()


def test_ray_backend_matches_local(sample_db, local_ray):
    store = Store(sample_db.db_path, read_only=True)
    try:
        skus = sorted(store.query("SELECT sku FROM products ORDER BY sku")["sku"])[:SKUS]
        frame = load_history(store, skus=skus, days=180)
    finally:
        store.close()
    local = forecast_panel(frame, 14)
    remote = forecast_panel(frame, 14, backend="ray")
    assert frame["unique_id"].nunique() == len(local) // 14 >= 8
    merged = local.merge(remote, on=["unique_id", "ds"], suffixes=("", "_ray"), validate="1:1")
    assert len(merged) == len(local) == len(remote)
    assert (merged["model"] == merged["model_ray"]).all()
    numeric = [
        c for c in local.columns if c not in {"unique_id", "ds"} and local[c].dtype.kind == "f"
    ]
    assert "mean" in numeric
    for column in numeric:
        assert np.allclose(merged[column], merged[f"{column}_ray"], atol=1e-6, equal_nan=True), (
            column
        )
