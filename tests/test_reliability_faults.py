"""Fault tests: a SIGKILL while an import or an index run is writing, repeated, leaves both
stores openable and consistent, each run either complete or untouched (the import as one
transaction; the index file by file, a half-written file re-indexed by the next run)."""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from datetime import date, timedelta
from pathlib import Path

import pytest

from tools.store import Store
from tools.store.importer import import_files

ROOT = Path(__file__).resolve().parents[1]
START = date(2030, 1, 1)
ROWS = 60_000  # sales rows per import: long enough for the kill to land inside the write


def run_until_marker(script: str, marker: str, delay: float, *args: str) -> tuple[int, str]:
    """Run ``script``, SIGKILL it ``delay`` seconds after it prints ``marker``; (exit code, output)."""
    child = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(script), *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    seen = []
    for line in child.stdout:
        seen.append(line)
        if marker in line:
            time.sleep(delay)
            child.send_signal(signal.SIGKILL)
            break
    code = child.wait(120)
    return code, "".join(seen)


IMPORT = """
    import sys
    import tools.store.importer as importer
    from tools.store import Store

    write = importer._write

    def announced(store, batches):
        print("writing", flush=True)
        return write(store, batches)

    importer._write = announced
    store = Store(sys.argv[1])
    importer.import_files(store, [sys.argv[2]])
    store.close()
    print("complete", flush=True)
"""


@pytest.fixture
def base_db(store, tmp_path) -> Path:
    paths = []
    for table in ("suppliers", "locations", "products"):
        path = tmp_path / f"{table}.csv"
        store.query(f"SELECT * FROM {table}").to_csv(path, index=False)
        paths.append(path)
    target = tmp_path / "stockpilot.duckdb"
    fresh = Store(target)
    import_files(fresh, paths)
    fresh.close()
    return target


def sales_file(folder: Path, run: int, skus: list[str]) -> Path:
    path = folder / f"sales_{run}.csv"
    days = ROWS // len(skus)
    with path.open("w") as out:
        out.write("date,sku,location_id,units\n")
        for d in range(days):
            day = (START + timedelta(days=run * 2000 + d)).isoformat()
            out.writelines(f"{day},{sku},BER,{(d * 7) % 13}\n" for sku in skus)
    return path


def test_sigkill_during_imports_leaves_each_import_complete_or_untouched(base_db, tmp_path):
    random.seed(16)
    store = Store(base_db, read_only=True)
    skus = list(store.query("SELECT sku FROM products ORDER BY sku").sku[:50])
    store.close()
    expected, outcomes = 0, []
    for run in range(4):
        path = sales_file(tmp_path, run, skus)
        rows = sum(1 for _ in path.open()) - 1
        code, output = run_until_marker(IMPORT, "writing", random.uniform(0.0, 0.4), str(base_db), str(path))  # fmt: skip
        reopened = Store(base_db)  # openable read-write: the WAL replays or is discarded
        count = reopened.scalar("SELECT count(*) FROM sales")
        first = START + timedelta(days=run * 2000)
        days = reopened.scalar(
            "SELECT count(DISTINCT date) FROM sales WHERE date BETWEEN ? AND ?",
            [first, first + timedelta(days=1999)],
        )
        reopened.close()
        assert "writing" in output, output
        assert count in {expected, expected + rows}, (run, count, expected)
        assert days in {0, rows // len(skus)}
        outcomes.append("complete" if count == expected + rows else "untouched")
        expected = count
    # the kill landed in the write each time; the outcome is whichever side of COMMIT it hit
    print("import runs after SIGKILL:", outcomes)


INDEX = """
    import sys
    from knowledge.retrieve import open_retriever

    retriever = open_retriever(path=sys.argv[1])
    print("indexing", flush=True)
    print(retriever.index(sys.argv[2]).summary(), flush=True)
"""


@pytest.mark.slow  # four processes load the embedding model (~80 s on a shared 2-core machine)
def test_sigkill_during_indexing_leaves_the_index_openable_and_each_file_whole(tmp_path):
    from knowledge.index import _stored_files
    from knowledge.retrieve import open_retriever

    random.seed(16)
    corpus = tmp_path / "sops"
    corpus.mkdir()
    for source in sorted((ROOT / "knowledge" / "sops").glob("*.md"))[:8]:
        shutil.copy(source, corpus / source.name)
    chroma = tmp_path / "chroma"
    for run in range(3):
        for path in sorted(corpus.glob("*.md"))[run::3]:  # changed files: work for this run
            path.write_text(path.read_text() + f"\n\nRevision {run}.\n")
        run_until_marker(INDEX, "indexing", random.uniform(0.5, 4.0), str(chroma), str(corpus))

    retriever = open_retriever(path=chroma)  # openable after three kills
    stored = _stored_files(retriever.collection)
    for path, entry in stored.items():  # whole or marked for re-indexing, never silently partial
        if entry["fingerprint"] is not None:
            assert len(entry["ids"]) == entry["parts"], path
    report = retriever.index(corpus)
    assert not report.failed
    clean = open_retriever(path=tmp_path / "clean").index(corpus)
    assert report.chunks_total == clean.chunks_total
    assert all(e["fingerprint"] is not None for e in _stored_files(retriever.collection).values())
