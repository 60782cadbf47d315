"""The importer: every kind of bad input is reported with file, data row and column, nothing is
written unless the whole import is valid, and a valid import lands in one go."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from assistant.data_cli import app
from tools.store import Store
from tools.store.importer import (
    TABLES,
    ImportProblem,
    ImportValidationError,
    import_files,
    table_for,
    validate_files,
)


def write(path: Path, text: str) -> Path:
    path.write_text(text.strip() + "\n")
    return path


@pytest.fixture
def base(store, tmp_path) -> Store:
    """A new database holding the sample's suppliers, locations and products, imported as CSV."""
    paths = []
    for table in ("products", "locations", "suppliers"):  # deliberately not in dependency order
        path = tmp_path / f"{table}.csv"
        store.query(f"SELECT * FROM {table}").to_csv(path, index=False)
        paths.append(path)
    fresh = Store(tmp_path / "new.duckdb")
    import_files(fresh, paths)
    yield fresh
    fresh.close()


def refused(store: Store, paths: list[Path]) -> list[ImportProblem]:
    """Import expecting a refusal; checks that nothing was written and returns the problems."""
    before = store.counts()
    with pytest.raises(ImportValidationError) as caught:
        import_files(store, paths)
    assert store.counts() == before
    assert validate_files(store, paths) == caught.value.problems
    return caught.value.problems


def test_a_valid_import_lands_in_every_table(store, tmp_path):
    skus = ["SKU-00001", "SKU-00002"]
    sources = {
        "suppliers.csv": store.query("SELECT * FROM suppliers"),
        "locations.csv": store.query("SELECT * FROM locations"),
        "products.csv": store.query("SELECT * FROM products"),
        "purchase_orders.csv": store.query(
            "SELECT * FROM purchase_orders WHERE po_number < 'PO-1100'"
        ),
        "po_lines.parquet": store.query("SELECT * FROM po_lines WHERE po_number < 'PO-1100'"),
        "sales_2026.parquet": store.sales(skus=skus)[["date", "sku", "location_id", "units"]],
        "inventory.csv": store.inventory(skus=skus),
        "promotions.csv": store.query("SELECT * FROM promotions"),
        "customer_orders.csv": store.query("SELECT * FROM customer_orders"),
        "customer_order_lines.csv": store.query("SELECT * FROM customer_order_lines"),
    }
    paths = []
    for name, frame in sources.items():
        path = tmp_path / name
        frame.to_parquet(path) if name.endswith(".parquet") else frame.to_csv(path, index=False)
        paths.append(path)
    fresh = Store(tmp_path / "new.duckdb")
    report = import_files(fresh, paths)
    expected = {
        "suppliers": 8,
        "locations": 3,
        "products": 60,
        "promotions": len(sources["promotions.csv"]),
        "purchase_orders": 100,
        "po_lines": len(sources["po_lines.parquet"]),
        "customer_orders": len(sources["customer_orders.csv"]),
        "customer_order_lines": len(sources["customer_order_lines.csv"]),
        "sales": len(sources["sales_2026.parquet"]),
        "inventory": len(sources["inventory.csv"]),
    }
    assert report.rows == expected
    assert {t: n for t, n in fresh.counts().items() if t in expected} == expected
    pd.testing.assert_frame_equal(fresh.sales(skus=skus), store.sales(skus=skus), check_dtype=False)
    pd.testing.assert_frame_equal(
        fresh.po_lines(),
        store.po_lines(po_numbers=list(sources["purchase_orders.csv"].po_number)),
        check_dtype=False,
    )
    assert (
        fresh.product("SKU-00009")["shelf_life_days"]
        == store.product("SKU-00009")["shelf_life_days"]
    )
    fresh.close()


def test_missing_required_and_unknown_columns(base, tmp_path):
    path = write(tmp_path / "sales.csv", "date,sku,depot,amount\n2026-11-01,SKU-00001,BER,3")
    problems = refused(base, [path])
    assert (
        ImportProblem(str(path), None, "location_id", "missing required column for table sales")
        in problems
    )
    assert (
        ImportProblem(str(path), None, "units", "missing required column for table sales")
        in problems
    )
    unknown = [p for p in problems if p.column in {"depot", "amount"}]
    assert len(unknown) == 2 and all(
        p.message.startswith("unknown column for table sales") for p in unknown
    )


def test_wrong_types_name_the_row_and_column(base, tmp_path):
    path = write(
        tmp_path / "sales.csv",
        """
date,sku,location_id,units
2026-11-01,SKU-00001,BER,3
2026-11-02,SKU-00001,BER,three
2026-13-01,SKU-00001,BER,2
11/04/2026,SKU-00001,BER,1.5
""",
    )
    problems = refused(base, [path])
    assert problems == [
        ImportProblem(str(path), 2, "units", "not a whole number: 'three'"),
        ImportProblem(str(path), 3, "date", "not a date as YYYY-MM-DD: '2026-13-01'"),
        ImportProblem(str(path), 4, "date", "not a date as YYYY-MM-DD: '11/04/2026'"),
        ImportProblem(str(path), 4, "units", "not a whole number: '1.5'"),
    ]
    assert str(problems[0]) == f"{path}, row 2, column units: not a whole number: 'three'"


def test_negative_quantities_and_missing_values(base, tmp_path):
    path = write(
        tmp_path / "inventory.csv",
        """
date,sku,location_id,on_hand,allocated
2026-11-01,SKU-00001,BER,-4,0
2026-11-01,SKU-00002,BER,10,-1
2026-11-01,,BER,5,0
""",
    )
    problems = refused(base, [path])
    assert problems == [
        ImportProblem(str(path), 1, "on_hand", "negative quantity -4 (must be >= 0)"),
        ImportProblem(str(path), 2, "allocated", "negative quantity -1 (must be >= 0)"),
        ImportProblem(str(path), 3, "sku", "missing value (required)"),
    ]


def test_duplicate_keys_within_and_across_files(base, tmp_path):
    first = write(
        tmp_path / "sales_a.csv",
        """
date,sku,location_id,units
2026-11-01,SKU-00001,BER,3
2026-11-02,SKU-00001,BER,4
2026-11-01,SKU-00001,BER,5
""",
    )
    second = write(
        tmp_path / "sales_b.csv", "date,sku,location_id,units\n2026-11-02,SKU-00001,BER,9"
    )
    problems = refused(base, [first, second])
    assert problems == [
        ImportProblem(
            str(first),
            3,
            "date, sku, location_id",
            "duplicate key (2026-11-01, SKU-00001, BER): also on row 1",
        ),
        ImportProblem(
            str(second),
            1,
            "date, sku, location_id",
            f"duplicate key (2026-11-02, SKU-00001, BER): also on row 2 of {first}",
        ),
    ]


def test_duplicate_keys_against_the_database(base, tmp_path):
    path = write(
        tmp_path / "suppliers.csv",
        """
supplier_id,name,contact_email,lead_time_mean_days,lead_time_sd_days
SUP-001,Brand New Supplies GmbH,a@b.de,5,1
SUP-900,Another One GmbH,c@d.de,6,1
""",
    )
    existing_name = base.supplier("SUP-002")["name"]
    write(path, path.read_text() + f"SUP-901,{existing_name},e@f.de,7,1\n")
    problems = refused(base, [path])
    assert problems == [
        ImportProblem(
            str(path),
            1,
            "supplier_id",
            "key SUP-001 is already in the database (import with update to change it)",
        ),
        ImportProblem(str(path), 3, "name", f"key {existing_name} is already in the database"),
    ]


def test_unknown_references_are_named(base, tmp_path):
    sales = write(
        tmp_path / "sales.csv",
        """
date,sku,location_id,units
2026-11-01,SKU-99999,BER,3
2026-11-01,SKU-00001,XYZ,3
""",
    )
    products = write(
        tmp_path / "products.csv",
        """
sku,name,category,unit_cost,price,supplier_id
SKU-70000,Test Kettle,Kitchen,10,20,SUP-404
""",
    )
    lines = write(
        tmp_path / "po_lines.csv", "po_number,line_no,sku,qty_ordered\nPO-0001,1,SKU-00001,12"
    )
    problems = refused(base, [sales, products, lines])
    not_there = "not in the database or this import"
    assert problems == [
        ImportProblem(str(sales), 1, "sku", f"unknown SKU 'SKU-99999': {not_there}"),
        ImportProblem(str(sales), 2, "location_id", f"unknown location 'XYZ': {not_there}"),
        ImportProblem(str(products), 1, "supplier_id", f"unknown supplier 'SUP-404': {not_there}"),
        ImportProblem(str(lines), 1, "po_number", f"unknown purchase order 'PO-0001': {not_there}"),
    ]


def test_references_to_other_files_of_the_same_import_are_accepted(base, tmp_path):
    sales = write(tmp_path / "sales.csv", "date,sku,location_id,units\n2026-11-01,SKU-70000,FRA,2")
    products = write(
        tmp_path / "products.csv",
        """
sku,name,category,unit_cost,price,supplier_id,launch_date
SKU-70000,Test Kettle,Kitchen,10,20,SUP-900,2026-10-01
""",
    )
    suppliers = write(
        tmp_path / "suppliers.csv",
        """
supplier_id,name,contact_email,lead_time_mean_days,lead_time_sd_days,moq
SUP-900,Test Supplies GmbH,test@example.de,5,1.5,6
""",
    )
    locations = write(
        tmp_path / "locations.csv",
        "location_id,name,city,kind,lat,lon\nFRA,Frankfurt DC,Frankfurt,dc,50.11,8.68",
    )
    assert validate_files(base, [sales, products, suppliers, locations]) == []
    report = import_files(base, [sales, products, suppliers, locations])
    assert report.rows == {"suppliers": 1, "locations": 1, "products": 1, "sales": 1}
    assert base.product("SKU-70000")["supplier_id"] == "SUP-900"
    assert base.supplier("Test Supplies")["moq"] == 6
    assert base.location("frankfurt")["location_id"] == "FRA"
    assert base.sales(skus=["SKU-70000"]).units.tolist() == [2]


def test_every_problem_is_reported_at_once_and_valid_files_are_not_written(base, tmp_path):
    good = write(
        tmp_path / "locations.csv",
        "location_id,name,city,lat,lon\nFRA,Frankfurt DC,Frankfurt,50.11,8.68",
    )
    bad = write(
        tmp_path / "purchase_orders.csv",
        """
po_number,supplier_id,location_id,order_date,promised_date,status
PO-9000,SUP-001,FRA,2026-11-01,2026-11-10,shipped
PO-9001,SUP-001,BER,2026-11-05,2026-11-01,open
PO-9002,SUP-777,BER,2026-11-05,soon,open
""",
    )
    problems = refused(base, [good, bad])
    assert [(p.row, p.column) for p in problems] == [
        (1, "status"),
        (2, "promised_date"),
        (3, "supplier_id"),
        (3, "promised_date"),
    ]
    assert problems[0].message == "'shipped' is not one of: open, partial, received, cancelled"
    assert problems[1].message == "2026-11-01 is before order_date"
    assert problems[3].message == "not a date as YYYY-MM-DD: 'soon'"
    assert base.counts()["locations"] == 3


def test_file_names_choose_the_table_unless_told(base, tmp_path):
    assert table_for("products.csv") == "products"
    assert table_for("data/sales_2026-11.parquet") == "sales"
    assert table_for("customer_order_lines.csv") == "customer_order_lines"
    assert table_for("customer_orders-week48.csv") == "customer_orders"
    assert table_for("po_lines.csv") == "po_lines"
    assert table_for("export.csv") is None
    unnamed = write(
        tmp_path / "export.csv", "date,sku,location_id,units\n2026-11-01,SKU-00001,BER,3"
    )
    assert validate_files(base, [unnamed]) == [
        ImportProblem(
            str(unnamed),
            None,
            None,
            "cannot tell the table from the file name; name it like 'products.csv' or pass --table "
            "(suppliers, locations, products, promotions, purchase_orders, po_lines, customer_orders, "
            "customer_order_lines, sales, inventory)",
        )
    ]
    assert import_files(base, [unnamed], table="sales").rows == {"sales": 1}
    problems = validate_files(base, [unnamed], table="alerts")
    assert problems[0].message.startswith("unknown table 'alerts'; importable tables: suppliers")


def test_unreadable_and_missing_files(base, tmp_path):
    text = write(tmp_path / "products.txt", "hello")
    missing = tmp_path / "sales.csv"
    broken = tmp_path / "inventory.parquet"
    broken.write_bytes(b"not parquet at all")
    problems = validate_files(base, [text, missing, broken])
    assert [(Path(p.file).name, p.message.split(":")[0]) for p in problems] == [
        ("products.txt", "unsupported file type '.txt'; use .csv or .parquet"),
        ("sales.csv", "file not found"),
        ("inventory.parquet", "cannot read the file"),
    ]


def test_cli_import_lists_problems_and_exits_2(base, tmp_path, monkeypatch):
    monkeypatch.setenv("STOCKPILOT_DB_PATH", base.path)
    base.close()
    bad = write(tmp_path / "sales.csv", "date,sku,location_id,units\n2026-11-01,SKU-00001,BER,-2")
    result = CliRunner().invoke(app, ["import", str(bad)])
    assert result.exit_code == 2
    assert "import refused, nothing was written (1 problems)" in result.output
    assert f"{bad}, row 1, column units: negative quantity -2 (must be >= 0)" in result.output
    assert "Traceback" not in result.output
    good = write(tmp_path / "sales.csv", "date,sku,location_id,units\n2026-11-01,SKU-00001,BER,2")
    checked = CliRunner().invoke(app, ["import", "--check", str(good)])
    assert checked.exit_code == 0 and "would import cleanly" in checked.output
    result = CliRunner().invoke(app, ["import", str(good)])
    assert result.exit_code == 0, result.output
    assert "imported 1 rows from 1 file(s): sales 1" in result.output


# -- issue 16: every value against its column's range; issue 17: real exports -------------


def test_values_out_of_their_column_range_name_the_row_and_column(base, tmp_path):
    path = write(
        tmp_path / "sales.csv",
        """
date,sku,location_id,units
2026-11-01,SKU-00001,BER,3000000000
2026-11-02,SKU-00001,BER,1e20
2026-11-03,SKU-00001,BER,inf
9999-11-04,SKU-00001,BER,1
""",
    )
    problems = refused(base, [path])
    assert problems == [
        ImportProblem(str(path), 1, "units", "out of range: 3000000000 (at most 2,147,483,647)"),
        ImportProblem(str(path), 2, "units", "out of range: 1e20 (at most 2,147,483,647)"),
        ImportProblem(str(path), 3, "units", "not a whole number: 'inf'"),
        ImportProblem(str(path), 4, "date", "date out of range: '9999-11-04' (years 1900-2200)"),
    ]


def test_codes_are_upper_cased_and_trimmed_before_keys_are_compared(base, tmp_path):
    path = write(
        tmp_path / "products.csv",
        "sku,name,category,unit_cost,price,supplier_id\n sku-00001 ,Copy,Toys,1,2,sup-001",
    )
    problems = refused(base, [path])
    assert [(p.row, p.column, p.message) for p in problems] == [
        (
            1,
            "sku",
            "key SKU-00001 is already in the database (import with update to change it)",
        )
    ]


def test_control_characters_over_long_text_and_unsafe_emails_are_refused(base, tmp_path):
    long_name = "x" * 20_000
    path = tmp_path / "suppliers.csv"
    path.write_text(
        "supplier_id,name,contact_email,lead_time_mean_days,lead_time_sd_days\n"
        "SUP-901,Nul\x00Name,a@b.de,5,1\n"
        f"SUP-902,{long_name},c@d.de,5,1\n"
        'SUP-903,Eve Ltd,"eve@evil.example\nBcc: attacker@evil.example",5,1\n'
        "SUP-904,Two Ltd,a@b.de;c@d.de,5,1\n"
    )
    problems = refused(base, [path])
    assert [(p.row, p.column, p.message) for p in problems] == [
        (1, "name", "holds a control character (NUL at position 4); remove it"),
        (2, "name", "too long: 20,000 characters (the limit is 500)"),
        (
            3,
            "contact_email",
            "e-mail address holds a line break (it could add mail headers); give one address",
        ),
        (
            4,
            "contact_email",
            "e-mail address holds more than one address, a name or a space; give one address",
        ),
    ]


def test_a_time_of_day_or_a_zone_in_a_date_is_refused_and_midnight_is_read_as_the_date(
    base, tmp_path
):
    path = write(
        tmp_path / "sales.csv",
        """
date,sku,location_id,units
2026-11-01T14:30:00,SKU-00001,BER,3
2026-11-02T00:00:00+01:00,SKU-00001,BER,3
2026-11-03 00:00:00,SKU-00001,BER,3
""",
    )
    problems = refused(base, [path])
    assert [(p.row, p.column, p.message) for p in problems] == [
        (
            1,
            "date",
            "'2026-11-01T14:30:00' has a time of day (14:30); a date column takes YYYY-MM-DD",
        ),  # fmt: skip
        (
            2,
            "date",
            "'2026-11-02T00:00:00+01:00' has a time zone (+01:00); give the local date as YYYY-MM-DD",
        ),  # fmt: skip
    ]
    parquet = tmp_path / "sales_ts.parquet"
    pd.DataFrame(
        {
            "date": pd.to_datetime(["2026-11-04 00:00", "2026-11-05 09:15"]),
            "sku": ["SKU-00001"] * 2,
            "location_id": ["BER"] * 2,
            "units": [1, 2],
        }
    ).to_parquet(parquet)
    problems = refused(base, [parquet])
    assert [(p.row, p.message) for p in problems] == [
        (2, "'2026-11-05T09:15:00' has a time of day (09:15); a date column takes YYYY-MM-DD")
    ]


def test_a_ragged_row_is_reported_as_ragged(base, tmp_path):
    path = write(
        tmp_path / "sales.csv",
        """
date,sku,location_id,units
2026-11-01,SKU-00001,BER
2026-11-02,SKU-00001,BER,3,4
2026-11-03,SKU-00001,BER,3
""",
    )
    problems = refused(base, [path])
    assert [(p.row, p.column, p.message.split(" (")[0]) for p in problems] == [
        (1, None, "ragged row: 3 fields where the header has 4"),
        (2, None, "ragged row: 5 fields where the header has 4"),
    ]


def test_negative_prices_are_called_negative_prices(base, tmp_path):
    path = write(
        tmp_path / "products.csv",
        "sku,name,category,unit_cost,price,supplier_id\nSKU-09001,New,Toys,1,-2,SUP-001",
    )
    assert [p.message for p in refused(base, [path])] == ["negative price -2.0 (must be >= 0)"]


def test_a_semicolon_export_with_capitalised_headers_and_decimal_commas_imports(base, tmp_path):
    path = tmp_path / "products.csv"
    path.write_text(
        "SKU;Product Name;Category;Cost;Retail Price;Supplier\n"
        "sku-09001;Neu Tasse;Kitchen;1,25;2.499,50;SUP-001\n"
    )
    report = import_files(base, [path])
    assert report.rows == {"products": 1}
    assert report.notes == [f"{path}: read as semicolon-separated, decimal commas read as decimal points"]  # fmt: skip
    product = base.product("SKU-09001")
    assert (product["unit_cost"], product["price"], product["supplier_id"]) == (
        1.25,
        2499.5,
        "SUP-001",
    )


def test_update_mode_updates_existing_keys_in_the_same_transaction(base, tmp_path):
    before = base.product("SKU-00001")
    path = write(
        tmp_path / "products.csv",
        """
sku,price
SKU-00001,7.5
SKU-00002,8.5
""",
    )
    with pytest.raises(ImportValidationError):  # without update, existing keys are duplicates
        import_files(base, [path])
    report = import_files(base, [path], update=True)
    assert (report.rows, report.updated) == ({"products": 0}, {"products": 2})
    after = base.product("SKU-00001")
    assert after["price"] == 7.5 and after["name"] == before["name"]
    # A new key in an update needs every required column; nothing is written then.
    write(path, path.read_text() + "SKU-09009,1.0\n")
    problems = validate_files(base, [path], update=True)
    assert [(p.row, p.message.split(":")[0]) for p in problems] == [
        (3, "a new products row needs column(s) the file does not have")
    ]
    with pytest.raises(ImportValidationError):
        import_files(base, [path], update=True)
    assert base.product("SKU-00002")["price"] == 8.5


def test_expected_columns_and_templates_list_each_table():
    from tools.store.import_columns import expected_columns, template_csv

    columns = expected_columns()
    assert set(columns) == set(TABLES)
    sales = {c.name: c for c in columns["sales"]}
    assert sales["units"].rule == ">= 0; at most 2,147,483,647" and "qty" in sales["units"].headers
    assert template_csv("sales") == "date,sku,location_id,units\n"
