"""The data-access layer on generated data, and the `stockpilot data` generate/info commands."""

from __future__ import annotations

import importlib.util
import shutil
from datetime import date, timedelta

import duckdb
import pandas as pd
import pytest
from typer.testing import CliRunner

from assistant.data_cli import app
from tools.store import Store, UnknownEntityError
from tools.store.info import store_info

TRUTH_TABLES = {
    "true_demand",
    "future_inventory",
    "future_receipts",
    "demand_patterns",
    "anomaly_labels",
    "basket_groups",
}


def test_today_is_the_day_after_the_last_recorded_history(store):
    assert store.today() == date(2026, 11, 30)
    positions = store.stock_positions()
    assert (positions.date == pd.Timestamp("2026-11-29")).all()
    assert len(positions) == len(store.series_keys())


def test_locations_resolve_from_id_name_or_city(store):
    for text in ("HAM", "ham", "Hamburg DC", "hamburg", " Hamburg "):
        assert store.location(text)["location_id"] == "HAM"
    assert store.location("the Munich warehouse")["location_id"] == "MUC"
    assert store.location("Hamberg")["location_id"] == "HAM"  # a typo (tools.resolver)
    with pytest.raises(UnknownEntityError) as caught:
        store.location("Hmbg")
    assert caught.value.argument == "location" and caught.value.suggestions[0] == "Hamburg DC (HAM)"


def test_suppliers_and_products_resolve_with_suggestions(store):
    first = store.suppliers().iloc[0]
    stem = first["name"].split()[0]
    assert store.supplier(first.supplier_id)["name"] == first["name"]
    assert store.supplier(stem.lower())["supplier_id"] == first.supplier_id
    assert store.product(" sku-00007 ")["sku"] == "SKU-00007"
    assert store.product("SKU-0007")["sku"] == "SKU-00007"  # same letters and number
    with pytest.raises(UnknownEntityError) as caught:
        store.product("SKU-0700")
    assert caught.value.suggestions  # close real SKUs, e.g. SKU-00070
    assert set(caught.value.suggestions) <= set(store.products().sku)
    assert store.resolve_category("pantry") == "Pantry"


def test_sales_come_with_end_of_day_stock(store):
    sku, location = store.series_keys().iloc[0]
    sales = store.sales(skus=[sku], location_id=location, start=date(2026, 11, 1))
    stock = store.inventory(skus=[sku], location_id=location, start=date(2026, 11, 1))
    assert len(sales) == 29 and sales.date.max().date() == date(2026, 11, 29)
    assert sales.on_hand.tolist() == stock.on_hand.tolist()
    assert (sales.units >= 0).all()


def test_purchase_orders_filter_by_status_supplier_and_location(store):
    open_lines = store.po_lines(statuses=["open"])
    assert len(open_lines) > 0 and set(open_lines.status) == {"open"}
    assert (open_lines.qty_received == 0).all() and open_lines.received_date.isna().all()
    po = open_lines.po_number.iloc[0]
    header = store.purchase_order(po.replace("PO-", "po "))
    assert header["po_number"] == po and header["status"] == "open"
    by_supplier = store.po_lines(
        supplier_id=header["supplier_id"], location_id=header["location_id"]
    )
    assert po in set(by_supplier.po_number)
    assert set(by_supplier.supplier_id) == {header["supplier_id"]}


def test_customer_orders_serve_baskets_and_routes(store):
    today = store.today()
    lines = store.order_lines(start=today - timedelta(days=90), end=today - timedelta(days=1))
    assert lines.order_id.nunique() >= 300
    assert lines.groupby("order_id").size().max() >= 3
    stops = store.deliveries(today, "BER")
    assert 25 <= len(stops) <= 60 and (stops.delivery_date == str(today)).all()


def test_a_read_only_store_cannot_write_and_cannot_see_the_truth(store):
    with pytest.raises(duckdb.Error):
        store.con.execute("DELETE FROM sales")
    assert not set(store.counts()) & TRUTH_TABLES
    assert store.counts()["sales"] == store.counts()["inventory"] > 20_000


def test_store_info_summarises_the_store(store):
    info = store_info(store)
    assert (info.today, info.first_date, info.last_date) == (
        date(2026, 11, 30),
        date(2025, 10, 26),
        date(2026, 11, 29),
    )
    assert (info.skus, info.locations, info.suppliers) == (60, 3, 8)
    late = store.scalar(
        "SELECT count(*) FROM purchase_orders WHERE status IN ('open', 'partial') "
        "AND promised_date < DATE '2026-11-30'"
    )
    assert info.late_pos == late > 0 and info.open_pos > late
    assert info.open_alerts == 0
    assert "purchasing: " in "\n".join(info.lines())


def test_cli_generate_then_info(tmp_path, monkeypatch):
    monkeypatch.setenv("STOCKPILOT_DATA_DIR", str(tmp_path))
    runner = CliRunner()
    result = runner.invoke(
        app,
        [
            "generate",
            "--skus",
            "12",
            "--days",
            "130",
            "--seed",
            "3",
            "--today",
            "2026-06-01",
            "--locations",
            "2",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "done: 12 SKUs x 130 days" in result.output
    assert "] demand: " in result.output  # progress lines carry elapsed seconds
    assert (tmp_path / "stockpilot.duckdb").exists() and (tmp_path / "truth.duckdb").exists()
    info = runner.invoke(app, ["info"])
    assert info.exit_code == 0, info.output
    assert "today:      2026-06-01" in info.output
    assert "history:    2026-01-22 .. 2026-05-31" in info.output
    assert "12 SKUs, 2 locations, 8 suppliers" in info.output
    opened = Store(tmp_path / "stockpilot.duckdb", read_only=True)
    assert opened.meta("seed") == "3"
    assert opened.locations().location_id.tolist() == ["BER", "HAM"]
    opened.close()


def test_cli_bad_input_exits_2_without_a_traceback(tmp_path, monkeypatch):
    monkeypatch.setenv("STOCKPILOT_DATA_DIR", str(tmp_path))
    runner = CliRunner()
    for args, message in (
        (["generate", "--today", "30.11.2026"], "--today: cannot read '30.11.2026' as a date"),
        (["generate", "--skus", "2"], "skus: need at least 10, got 2"),
        (["generate", "--locations", "40"], "locations: between 1 and 12, got 40"),
        (["info"], "no database yet"),
    ):
        result = runner.invoke(app, args)
        assert result.exit_code == 2, args
        assert message in result.output
        assert "Traceback" not in result.output
    assert list(tmp_path.iterdir()) == []


def test_a_loosely_typed_sku_resolves_to_the_one_product_it_names(store):
    assert store.product("sku 42")["sku"] == "SKU-00042"
    assert store.product("SKU00042")["sku"] == "SKU-00042"
    assert store.product(" sku-00042 ")["sku"] == "SKU-00042"
    with pytest.raises(UnknownEntityError, match="sku: unknown sku 'SKU-99999'"):
        store.product("SKU-99999")


def test_the_forecast_backend_setting_reaches_the_batch_forecast(sample_db, tmp_path, monkeypatch):
    # settings -> assistant.context -> ToolContext -> run_forecasts: 'spark' without pyspark
    # installed fails in the tool, naming the setting, so the value got all the way down
    if importlib.util.find_spec("pyspark") is not None:
        pytest.skip("pyspark is installed here")
    from assistant.cli import app as stockpilot

    copy = tmp_path / "stockpilot.duckdb"
    shutil.copyfile(sample_db.db_path, copy)
    monkeypatch.chdir(tmp_path)  # no stockpilot.toml here: settings come from the environment
    monkeypatch.setenv("STOCKPILOT_DB_PATH", str(copy))
    monkeypatch.setenv("STOCKPILOT_FORECAST_BACKEND", "spark")
    result = CliRunner().invoke(stockpilot, ["forecast", "run", "--horizon-days", "7"])
    assert result.exit_code == 2
    assert "forecast_backend: 'spark' needs pyspark" in result.output
