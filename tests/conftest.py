"""Shared fixtures: one small simulated dataset per test session, and stores opened on it.

``sample_db`` is generated once per session (60 SKUs x 400 days, 3 locations, seed 7). Tests
that write (alerts, forecasts) should use ``writable_store``, which works on a private copy.
"""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path
from typing import NamedTuple

import pytest

from tools.registry import REGISTRY, load_tools
from tools.store import Store
from tools.store.simulate import SimulationSummary, generate

SAMPLE_TODAY = date(2026, 11, 30)
SAMPLE = {"skus": 60, "days": 400, "locations": 3, "seed": 7, "today": SAMPLE_TODAY}


class SampleData(NamedTuple):
    db_path: Path  # the visible store: open it with Store
    truth_path: Path  # simulator ground truth: open it with duckdb, read-only
    today: date
    summary: SimulationSummary


@pytest.fixture(scope="session")
def sample_db(tmp_path_factory: pytest.TempPathFactory) -> SampleData:
    folder = tmp_path_factory.mktemp("sample")
    summary = generate(folder / "stockpilot.duckdb", folder / "truth.duckdb", **SAMPLE)
    return SampleData(summary.db_path, summary.truth_path, SAMPLE_TODAY, summary)


@pytest.fixture(scope="module")
def test_tools():
    """The test-only tools of tests/fake_assistant.py in the app's registry for one module (the
    agent looks tools up there by name), and out of it again afterwards."""
    from fake_assistant import TEST_TOOLS

    load_tools()
    with pytest.MonkeyPatch.context() as patch:
        for name, spec in TEST_TOOLS.items():
            patch.setitem(REGISTRY, name, spec)
        yield TEST_TOOLS


@pytest.fixture
def store(sample_db: SampleData):
    """A read-only Store on the sample data."""
    opened = Store(sample_db.db_path, read_only=True)
    yield opened
    opened.close()


@pytest.fixture
def writable_store(sample_db: SampleData, tmp_path: Path):
    """A read-write Store on a private copy of the sample data."""
    copy = tmp_path / "stockpilot.duckdb"
    shutil.copyfile(sample_db.db_path, copy)
    opened = Store(copy)
    yield opened
    opened.close()
