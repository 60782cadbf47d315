"""The Data tab's jobs: all-or-nothing imports, batch jobs through the write lock, regeneration."""

from __future__ import annotations

import shutil
from pathlib import Path
from types import SimpleNamespace

import pytest

from assistant.settings import load_settings
from tools.registry import ToolContext
from tools.store import Store
from ui.data_jobs import import_uploads, overview, regenerate_sample, run_batch
from ui.workspace import Workspace

HEADER = "sku,name,category,unit_cost,price,case_pack,shelf_life_days,supplier_id,launch_date\n"


@pytest.fixture
def workspace(sample_db, tmp_path):
    shutil.copyfile(sample_db.db_path, tmp_path / "stockpilot.duckdb")
    settings = load_settings(data_dir=tmp_path, model_source="rules")
    ctx = ToolContext(store=Store(settings.database, read_only=True))
    ws = Workspace(settings, SimpleNamespace(ctx=ctx))
    yield ws
    ws.ctx.store.close()


def products(ws: Workspace) -> int:
    with ws.reading() as ctx:
        return int(ctx.store.scalar("SELECT count(*) FROM products"))


def test_an_invalid_file_is_refused_with_row_and_column_and_nothing_is_written(workspace, tmp_path):
    before = products(workspace)
    good, bad = tmp_path / "products.csv", tmp_path / "promotions.csv"
    good.write_text(HEADER + "SKU-90001,Kettle,Kitchen,4.0,9.5,1,,SUP-001,2026-01-01\n")
    bad.write_text(
        "promo_id,sku,location_id,start_date,end_date,discount_pct\n"
        "PR-9001,SKU-99999,,2026-12-01,2026-12-07,10\n"
    )
    status, problems = import_uploads(workspace, [good, bad])
    assert status.startswith("**Nothing imported**: 1 problem(s) in 1 file(s)")
    assert problems.loc[0, ["file", "row", "column"]].tolist() == ["promotions.csv", 1, "sku"]
    assert products(workspace) == before


def test_a_valid_file_is_imported_and_seen_by_the_assistants_store(workspace, tmp_path):
    before = products(workspace)
    good = tmp_path / "products.csv"
    good.write_text(HEADER + "SKU-90001,Kettle,Kitchen,4.0,9.5,1,,SUP-001,2026-01-01\n")
    status, problems = import_uploads(workspace, [good])
    assert status.startswith("**Imported:** imported 1 rows") and problems.empty
    assert "re-run them" in status  # forecasts and alerts are now stale
    assert products(workspace) == before + 1


def test_a_semicolon_export_with_capitalised_headers_then_an_update(workspace, tmp_path):
    before = products(workspace)
    export = tmp_path / "products.csv"
    export.write_text(
        "SKU;Name;Category;Unit Cost;Price;Case Pack;Shelf Life Days;Supplier ID;Launch Date\n"
        "SKU-90001;Kettle;Kitchen;4,50;9,95;1;;SUP-001;2026-01-01\n"
    )
    status, problems = import_uploads(workspace, [export])
    assert problems.empty, problems.to_dict("records")
    assert status.startswith("**Imported:** imported 1 rows") and "semicolon" in status
    export.write_text(
        "SKU;Name;Category;Unit Cost;Price;Case Pack;Shelf Life Days;Supplier ID;Launch Date\n"
        "SKU-90001;Kettle XL;Kitchen;4,50;12,50;1;;SUP-001;2026-01-01\n"
    )
    status, problems = import_uploads(workspace, [export])
    assert status.startswith("**Nothing imported**")  # the key exists: not without update
    status, problems = import_uploads(workspace, [export], update=True)
    assert problems.empty and "updated 1 existing rows" in status
    with workspace.reading() as ctx:
        row = ctx.store.query("SELECT name, price FROM products WHERE sku = 'SKU-90001'")
    assert row.iloc[0].tolist() == ["Kettle XL", 12.5]
    assert products(workspace) == before + 1


def test_expected_columns_and_template_come_from_the_importer():
    from ui.data_jobs import columns_frame, template_file

    frame = columns_frame("products")
    sku = frame[frame["Column"] == "sku"].iloc[0]
    assert sku["Required"] == "yes" and sku["Key"] == "yes"
    assert Path(template_file("products")).read_text().startswith("sku,")


def test_a_refused_first_import_leaves_no_database_behind(tmp_path):
    workspace = Workspace(load_settings(data_dir=tmp_path / "fresh", model_source="rules"))
    bad = tmp_path / "products.csv"
    bad.write_text(HEADER + "SKU-90001,,Kitchen,4.0,-1,1,,SUP-001,2026-01-01\n")
    status, problems = import_uploads(workspace, [bad])
    assert status.startswith("**Nothing imported**")
    assert set(problems["column"]) >= {"name", "price"}
    assert not workspace.settings.database.exists()


def test_alert_scan_runs_on_a_writable_store_and_reads_see_its_alerts(workspace):
    with workspace.writing() as ctx:
        ctx.store.con.execute("DELETE FROM alerts")
    text = run_batch(workspace, "scan_anomalies")
    assert text.startswith("`scan_anomalies` done")
    with workspace.reading() as ctx:
        assert len(ctx.store.alerts()) > 0
    assert "alerts **" in overview(workspace)


def test_regenerating_replaces_the_data_under_a_live_assistant(workspace):
    messages = []
    text = regenerate_sample(workspace, skus=12, days=120, seed=3, say=messages.append)
    assert text.startswith("Generated 12 SKUs x 120 days")
    assert messages  # progress was reported
    assert products(workspace) == 12
