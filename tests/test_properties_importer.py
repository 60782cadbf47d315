"""Property tests over the importer: a file of valid rows with one bad row of a generated kind
is refused with that row and the right column named, ``--check`` (validate_files) reports
exactly what the import raises, and the database file is byte-identical afterwards."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tools.store import Store
from tools.store.importer import ImportValidationError, import_files, validate_files

SALES_COLUMNS = ["date", "sku", "location_id", "units"]
KEY = "date, sku, location_id"


@pytest.fixture(scope="module")
def base_db(sample_db, tmp_path_factory) -> Path:
    """A database file holding the sample's suppliers, locations and products, no history."""
    folder = tmp_path_factory.mktemp("importer-properties")
    source = Store(sample_db.db_path, read_only=True)
    paths = []
    for table in ("suppliers", "locations", "products"):
        path = folder / f"{table}.csv"
        source.query(f"SELECT * FROM {table}").to_csv(path, index=False)
        paths.append(path)
    source.close()
    target = folder / "base.duckdb"
    store = Store(target)
    import_files(store, paths)
    store.close()
    return target


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


texts = st.text(st.characters(codec="utf-8", exclude_characters="\r\n\",;\t|"), min_size=1, max_size=12)  # fmt: skip

# kind -> strategy of (cells, column): the bad row's cells (date, sku, location, units) and the
# column the refusal must name (None: the whole row).
BAD = {
    "integer overflow": st.integers(2**31, 10**30).map(lambda n: (None, None, None, str(n))),
    "integer underflow": st.integers(-(10**30), -(2**31) - 1).map(
        lambda n: (None, None, None, str(n))
    ),  # fmt: skip
    "exponent": st.integers(10, 300).map(lambda e: (None, None, None, f"1e{e}")),
    "fraction": st.floats(0.01, 1000)
    .filter(lambda x: x != int(x))
    .map(lambda x: (None, None, None, repr(x))),  # fmt: skip
    "not a number": texts.filter(
        lambda t: not t.strip().lstrip("+-").replace(".", "").replace("e", "").isdigit()
    ).map(lambda t: (None, None, None, "x" + t.strip())),  # fmt: skip
    "infinite": st.sampled_from(["inf", "-inf", "nan", "Infinity"]).map(
        lambda t: (None, None, None, t)
    ),  # fmt: skip
    "negative": st.integers(-(2**31), -1).map(lambda n: (None, None, None, str(n))),
    "bad date": st.tuples(st.integers(1900, 2200), st.integers(13, 99), st.integers(1, 28)).map(
        lambda t: (f"{t[0]}-{t[1]}-{t[2]:02d}", None, None, None)
    ),  # fmt: skip
    "far date": st.integers(2201, 9999).map(lambda y: (f"{y}-01-01", None, None, None)),
    "time of day": st.tuples(st.integers(1, 23), st.integers(0, 59)).map(
        lambda t: (f"2027-03-01T{t[0]:02d}:{t[1]:02d}", None, None, None)
    ),  # fmt: skip
    "time zone": st.sampled_from(["Z", "+01:00", "-05:00", "+0530"]).map(
        lambda z: (f"2027-03-01T00:00:00{z}", None, None, None)
    ),  # fmt: skip
    "unknown sku": st.integers(90000, 99999).map(lambda n: (None, f"SKU-{n}", None, None)),
    "control character": st.sampled_from(["\x00", "\x1b", "\x07", "\x7f"]).map(
        lambda c: (None, f"SKU{c}00001", None, None)
    ),  # fmt: skip
    "over-long": st.integers(65, 5000).map(lambda n: (None, "S" * n, None, None)),
    "missing": st.sampled_from(["date", "sku", "location_id", "units"]).map(
        lambda c: tuple("" if c == col else None for col in SALES_COLUMNS)
    ),  # fmt: skip
    "ragged": st.sampled_from([-1, 1]),
    "duplicate": st.just("duplicate"),
}
COLUMN = {
    "bad date": "date",
    "far date": "date",
    "time of day": "date",
    "time zone": "date",
    "unknown sku": "sku",
    "control character": "sku",
    "over-long": "sku",
    "ragged": None,
    "duplicate": KEY,
}


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    kind=st.sampled_from(sorted(BAD)),
    data=st.data(),
    rows=st.integers(2, 12),
    delimiter=st.sampled_from([",", ";"]),
)
def test_a_bad_row_of_any_kind_is_refused_by_row_and_column_and_nothing_changes(
    base_db, tmp_path_factory, kind, data, rows, delimiter
):
    folder = tmp_path_factory.mktemp("case")
    db = folder / "stockpilot.duckdb"
    shutil.copyfile(base_db, db)
    before = digest(db)
    good = [[f"2027-01-{d + 1:02d}", "SKU-00001", "BER", str(d)] for d in range(rows)]
    at = data.draw(st.integers(1, rows), label="bad row")  # 1-based position of the bad row
    drawn = data.draw(BAD[kind], label="bad value")
    bad = [f"2027-02-{at:02d}", "SKU-00002", "BER", "5"]
    if kind == "ragged":
        bad = bad[:-1] if drawn == -1 else [*bad, "7"]
    elif kind == "duplicate":
        at = max(at, 2)
        bad = [good[0][0], " sku-00001 ", "ber", "9"]  # row 1's key, once codes are normalised
    else:
        bad = [b if cell is None else cell for b, cell in zip(bad, drawn, strict=True)]
    lines = [*good[: at - 1], bad, *good[at - 1 :]]
    path = folder / "sales.csv"
    text = delimiter.join(SALES_COLUMNS) + "\n"
    text += "\n".join(delimiter.join(f'"{c}"' if delimiter in c else c for c in line) for line in lines)  # fmt: skip
    path.write_text(text + "\n", encoding="utf-8")

    store = Store(db)
    try:
        checked = validate_files(store, [path])
        with pytest.raises(ImportValidationError) as caught:
            import_files(store, [path])
        assert store.scalar("SELECT count(*) FROM sales") == 0
    finally:
        store.close()

    problems = caught.value.problems
    assert checked == problems  # --check agrees exactly with a real import
    column = COLUMN.get(kind, "units")
    if kind == "missing":
        column = SALES_COLUMNS[[i for i, c in enumerate(drawn) if c == ""][0]]
    assert (at, column) in [(p.row, p.column) for p in problems], (kind, problems)
    assert {p.row for p in problems} == {at}, problems  # no other row is blamed
    assert digest(db) == before
