"""What people do with an alert: acknowledge, assign to a name, snooze until a date, close with a
note (and reopen). Each action is one row of ``alert_actions`` with who and when; an alert's
current state is the fold of its actions.

The alert scan replaces the alerts table and renumbers the ids, so actions are matched to alerts
by ``alert_key`` (what the alert is about and when it started), not by id: a re-scan that finds
the same anomaly again finds its history too. Writes need a writable store (the UI's write lock,
never the read-only agent path); reads work on a read-only store, before the table exists too.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import pandas as pd

from tools.store import Store

ACTIONS = ("acknowledge", "assign", "snooze", "close", "reopen")
KEY_FIELDS = ("kind", "sku", "location_id", "supplier_id", "po_number", "start_date")
HISTORY_COLUMNS = ["acted_at", "actor", "action", "assignee", "until", "note", "alert_id"]


class AlertActionError(ValueError):
    """An action that cannot be recorded as given; the message names the field."""


@dataclass(frozen=True)
class AlertState:
    """Where an alert stands after its actions."""

    status: str = "open"  # open, acknowledged, closed
    assignee: str | None = None
    snoozed_until: date | None = None
    last_note: str | None = None

    def snoozed(self, today: date) -> bool:
        return self.snoozed_until is not None and self.snoozed_until > today

    def label(self, today: date) -> str:
        bits = [self.status]
        if self.snoozed(today):
            bits.append(f"snoozed until {self.snoozed_until.isoformat()}")
        if self.assignee:
            bits.append(f"assigned to {self.assignee}")
        return ", ".join(bits)


def _text(value) -> str:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return ""
    if isinstance(value, datetime | pd.Timestamp):
        return value.strftime("%Y-%m-%d")
    return str(value)


def alert_key(alert: dict) -> str:
    """The alert's identity across scans: kind, SKU, location, supplier, PO and start date."""
    return "|".join(_text(alert.get(field)) for field in KEY_FIELDS)


def _has_table(store: Store) -> bool:
    return bool(
        store.query(
            "SELECT 1 FROM information_schema.tables WHERE table_name = 'alert_actions'"
        ).shape[0]
    )


def record(
    store: Store,
    alert_id: str,
    action: str,
    actor: str,
    *,
    assignee: str | None = None,
    until: date | str | None = None,
    note: str | None = None,
    at: datetime | None = None,
) -> dict:
    """Store one action on the alert ``alert_id`` (as it is numbered now); returns the row.

    Raises AlertActionError naming the field for an unknown action, a missing name, an assign
    without an assignee, a snooze without a future-able date or a close without a note, and
    UnknownEntityError for an alert that does not exist. Nothing is written on error.
    """
    if action not in ACTIONS:
        raise AlertActionError(f"action: expected one of {', '.join(ACTIONS)}, got {action!r}")
    actor = (actor or "").strip()
    if not actor:
        raise AlertActionError("actor: say who you are (your name) before acting on an alert")
    assignee = (assignee or "").strip() or None
    note = (note or "").strip() or None
    if action == "assign" and not assignee:
        raise AlertActionError("assignee: name the person to assign the alert to")
    if action == "close" and not note:
        raise AlertActionError("note: say why the alert is closed")
    if isinstance(until, str):
        try:
            until = date.fromisoformat(until.strip()) if until.strip() else None
        except ValueError:
            raise AlertActionError(f"until: expected a date YYYY-MM-DD, got {until!r}") from None
    if action == "snooze" and until is None:
        raise AlertActionError("until: give the date to snooze the alert until (YYYY-MM-DD)")
    alert = store.alert(alert_id)  # UnknownEntityError for an id that does not exist
    row = {
        "alert_key": alert_key(alert),
        "alert_id": alert["alert_id"],
        "action": action,
        "actor": actor,
        "acted_at": at or datetime.now().replace(microsecond=0),
        "assignee": assignee if action == "assign" else None,
        "until": until if action == "snooze" else None,
        "note": note,
    }
    store.con.execute(
        "INSERT INTO alert_actions (alert_key, alert_id, action, actor, acted_at, assignee, until, note)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        list(row.values()),
    )
    return row


def _actions(store: Store, keys: list[str] | None = None) -> pd.DataFrame:
    if not _has_table(store):
        return pd.DataFrame(columns=["alert_key", *HISTORY_COLUMNS])
    sql = "SELECT * FROM alert_actions"
    params: list = []
    if keys is not None:
        if not keys:
            return pd.DataFrame(columns=["alert_key", *HISTORY_COLUMNS])
        sql += f" WHERE alert_key IN ({', '.join('?' * len(keys))})"
        params = list(keys)
    return store.query(sql + " ORDER BY acted_at, rowid", params)


def fold(actions: pd.DataFrame) -> AlertState:
    """The state one alert's actions (oldest first) leave it in."""
    state = AlertState()
    for row in actions.itertuples():
        note = row.note if isinstance(row.note, str) else state.last_note
        if row.action == "acknowledge":
            state = AlertState("acknowledged", state.assignee, state.snoozed_until, note)
        elif row.action == "assign":
            status = "acknowledged" if state.status == "open" else state.status
            state = AlertState(status, row.assignee, state.snoozed_until, note)
        elif row.action == "snooze":
            until = pd.Timestamp(row.until).date()
            state = AlertState(state.status, state.assignee, until, note)
        elif row.action == "close":
            state = AlertState("closed", state.assignee, None, note)
        elif row.action == "reopen":
            state = AlertState("open", state.assignee, None, note)
    return state


def states(store: Store, alerts: pd.DataFrame) -> dict[str, AlertState]:
    """alert_id -> state for each row of an alerts frame (alerts without actions are open)."""
    keys = {str(r["alert_id"]): alert_key(r) for r in alerts.to_dict("records")}
    actions = _actions(store, sorted(set(keys.values())))
    by_key = {key: fold(group) for key, group in actions.groupby("alert_key", sort=False)}
    return {aid: by_key.get(key, AlertState()) for aid, key in keys.items()}


def history(store: Store, alert_id: str) -> pd.DataFrame:
    """Every action on this alert (under any id it had in earlier scans), oldest first."""
    actions = _actions(store, [alert_key(store.alert(alert_id))])
    return actions.reindex(columns=HISTORY_COLUMNS)


def state(store: Store, alert_id: str) -> AlertState:
    return fold(_actions(store, [alert_key(store.alert(alert_id))]))
