"""Alert actions (acknowledge, assign, snooze, close) are stored with who and when, fold into the
alert's state, and survive a re-scan that renumbers the alerts."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from tools import alert_actions
from tools.registry import ToolContext, call_tool
from tools.store import Store, UnknownEntityError


@pytest.fixture
def scanned(writable_store: Store) -> Store:
    run = call_tool(ToolContext(store=writable_store), "scan_anomalies", {})
    assert run.ok, run.error
    return writable_store


def first_alert(store: Store) -> dict:
    return store.alerts(status="open").iloc[0].to_dict()


def test_actions_fold_into_a_state_with_who_and_when(scanned):
    alert = first_alert(scanned)
    aid = alert["alert_id"]
    at = datetime(2026, 11, 30, 8, 15)
    alert_actions.record(scanned, aid, "acknowledge", "Ana", at=at)
    alert_actions.record(scanned, aid, "assign", "Ana", assignee="Ben", at=at)
    alert_actions.record(scanned, aid, "snooze", "Ben", until="2026-12-04", at=at)
    state = alert_actions.state(scanned, aid)
    assert (state.status, state.assignee, state.snoozed_until) == (
        "acknowledged",
        "Ben",
        date(2026, 12, 4),
    )
    assert state.snoozed(date(2026, 12, 1)) and not state.snoozed(date(2026, 12, 4))
    alert_actions.record(scanned, aid, "close", "Ben", note="promo, not a spike", at=at)
    history = alert_actions.history(scanned, aid)
    assert list(history["action"]) == ["acknowledge", "assign", "snooze", "close"]
    assert list(history["actor"]) == ["Ana", "Ana", "Ben", "Ben"]
    assert history["note"].iloc[-1] == "promo, not a spike"
    assert alert_actions.state(scanned, aid).status == "closed"


def test_history_survives_a_rescan_that_renumbers_alerts(scanned):
    alert = first_alert(scanned)
    alert_actions.record(scanned, alert["alert_id"], "close", "Ana", note="checked")
    # a scan replaces the alerts table; move the alert to another id as a new scan may
    frame = scanned.alerts(status=None)
    frame["alert_id"] = [f"A-{900 + i}" for i in range(len(frame))]
    scanned.replace_table("alerts", frame)
    again = scanned.alerts(status=None)
    same = again[
        (again["kind"] == alert["kind"])
        & (again["start_date"] == alert["start_date"])
        & (again["sku"].fillna("") == (alert["sku"] or ""))
        & (again["location_id"].fillna("") == (alert["location_id"] or ""))
    ]
    new_id = same.iloc[0]["alert_id"]
    assert new_id != alert["alert_id"]
    assert alert_actions.state(scanned, new_id).status == "closed"
    assert alert_actions.states(scanned, again)[new_id].status == "closed"
    assert alert_actions.history(scanned, new_id)["alert_id"].tolist() == [alert["alert_id"]]


@pytest.mark.parametrize(
    ("action", "kwargs", "field"),
    [
        ("close", {}, "note"),
        ("assign", {}, "assignee"),
        ("snooze", {}, "until"),
        ("snooze", {"until": "next friday"}, "until"),
        ("delete", {}, "action"),
    ],
)
def test_incomplete_actions_name_the_field_and_write_nothing(scanned, action, kwargs, field):
    aid = first_alert(scanned)["alert_id"]
    with pytest.raises(alert_actions.AlertActionError, match=f"^{field}:"):
        alert_actions.record(scanned, aid, action, "Ana", **kwargs)
    with pytest.raises(alert_actions.AlertActionError, match="^actor:"):
        alert_actions.record(scanned, aid, "acknowledge", "  ")
    assert alert_actions.history(scanned, aid).empty


def test_unknown_alert_is_refused(scanned):
    with pytest.raises(UnknownEntityError):
        alert_actions.record(scanned, "A-99999", "acknowledge", "Ana")


def test_reads_work_before_the_table_exists(sample_db):
    store = Store(sample_db.db_path, read_only=True)
    try:
        assert alert_actions.states(store, store.alerts(status=None)) == {}
    finally:
        store.close()
