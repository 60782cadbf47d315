"""The UI's store handling: readers share, a writer gets the file alone, the assistant's context
keeps working across writes, and a missing database is reported, not crashed on."""

from __future__ import annotations

import shutil
import threading
import time
from types import SimpleNamespace

import pandas as pd
import pytest

from assistant.settings import load_settings
from tools.registry import ToolContext
from tools.store import Store
from ui.app import build_app, parse_auth
from ui.data_jobs import problems_frame
from ui.workspace import NoDataError, ReadWriteLock, Workspace


def test_writer_waits_for_readers_and_blocks_new_ones():
    lock, order = ReadWriteLock(), []
    reading = threading.Event()

    def reader(name, hold):
        with lock.read():
            reading.set()
            order.append(f"{name} in")
            time.sleep(hold)
            order.append(f"{name} out")

    def writer():
        with lock.write():
            order.append("writer")

    first = threading.Thread(target=reader, args=("r1", 0.3))
    first.start()
    reading.wait()
    w = threading.Thread(target=writer)
    w.start()
    time.sleep(0.05)  # the writer is now waiting
    late = threading.Thread(target=reader, args=("r2", 0))
    late.start()
    for t in (first, w, late):
        t.join(5)
    assert order == ["r1 in", "r1 out", "writer", "r2 in", "r2 out"]


@pytest.fixture
def workspace(sample_db, tmp_path):
    db = tmp_path / "stockpilot.duckdb"
    shutil.copyfile(sample_db.db_path, db)
    settings = load_settings(data_dir=tmp_path, model_source="rules")
    ctx = ToolContext(store=Store(db, read_only=True))
    ws = Workspace(settings, SimpleNamespace(ctx=ctx))
    yield ws
    ws.ctx.store.close()


def test_a_write_swaps_the_assistants_store_for_one_that_sees_the_change(workspace):
    ctx = workspace.ctx
    before = ctx.store
    alert = pd.DataFrame(
        [
            {
                "alert_id": "A-1",
                "created_at": pd.Timestamp("2026-11-30"),
                "kind": "demand_spike",
                "severity": "high",
                "status": "open",
                "sku": "SKU-00001",
                "start_date": pd.Timestamp("2026-11-28").date(),
                "end_date": pd.Timestamp("2026-11-29").date(),
                "summary": "spike",
                "evidence": "{}",
            }
        ]
    )
    with workspace.writing() as writable:
        writable.store.replace_table("alerts", alert)
    assert workspace.ctx is ctx and ctx.store is not before  # same context object, new store
    with workspace.reading() as read:
        assert list(read.store.alerts()["alert_id"]) == ["A-1"]
    with pytest.raises(Exception, match="closed"):
        before.query("SELECT 1")


def test_the_simulator_can_rewrite_the_file_while_the_store_is_closed(workspace):
    with workspace.writing(open_store=False) as nothing:
        assert nothing is None
        Store(
            workspace.settings.database
        ).close()  # a second connection would fail if ours were open
    run = workspace.call("supplier_orders", {"status": "late"})
    assert run.ok and run.result.orders


def test_missing_database_is_a_readable_error(tmp_path):
    workspace = Workspace(load_settings(data_dir=tmp_path / "none", model_source="rules"))
    with pytest.raises(NoDataError, match="Data tab"):
        _ = workspace.assistant


def test_app_builds_all_tabs_without_touching_the_model(tmp_path):
    app = build_app(load_settings(data_dir=tmp_path, model_source="rules"))
    labels = [b.label for b in app.blocks.values() if type(b).__name__ == "Tab"]
    assert labels[:6] == ["Home", "Chat", "Charts", "Alerts", "Supplier desk", "Data"]
    assert app.workspace._assistant is None
    header = next(b for b in app.blocks.values() if getattr(b, "elem_id", None) == "header")
    assert header.value == "## Stockpilot"  # no model, adapter or paths for planners to read


def test_auth_is_user_colon_password():
    assert parse_auth("ops:s3:cret") == ("ops", "s3:cret")
    assert parse_auth(None) is None
    with pytest.raises(ValueError, match="ui_auth"):
        parse_auth("nopassword")


def test_import_problems_table_names_file_row_and_column():
    problem = SimpleNamespace(
        file="/tmp/gradio/abc/products.csv", row=3, column="price", message="must be >= 0"
    )
    frame = problems_frame([problem])
    assert frame.to_dict("records") == [
        {"file": "products.csv", "row": 3, "column": "price", "message": "must be >= 0"}
    ]


def test_stop_cancels_the_answer_at_its_next_token(tmp_path):
    from assistant import limits

    class Counting:
        ctx = None

        def stream(self, question, session_id):
            for i in range(100):
                if limits.stop_check()():  # what a model backend checks before each token
                    return
                yield "token", f"w{i} "

    workspace = Workspace(load_settings(data_dir=tmp_path, model_source="rules"), Counting())
    seen = []
    for kind, payload in workspace.stream("q", "s1", stop_key="browser-1"):
        seen.append((kind, payload))
        if len(seen) == 3:
            assert not workspace.cancel("s1")  # Stop goes by the browser's key, not the chat's
            assert workspace.cancel("browser-1")
    # the stream says it stopped, so the chat can write its own last line
    assert seen == [
        ("token", "w0 "),
        ("token", "w1 "),
        ("token", "w2 "),
        ("stopped", "stopped by the user"),
    ]
    assert not workspace.cancel("browser-1")  # nothing streams there any more
