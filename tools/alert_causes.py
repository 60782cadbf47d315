"""Likely causes of an alert, ranked from its stored evidence and related open alerts and POs."""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd
from pydantic import BaseModel

from tools.alert_types import AlertKind, Severity
from tools.anomaly_detect import _num
from tools.store import Store


class AlertRow(BaseModel):
    alert_id: str
    kind: AlertKind
    severity: Severity
    status: str
    sku: str | None
    location_id: str | None
    supplier_id: str | None
    po_number: str | None
    start_date: date
    end_date: date
    observed: float | None
    expected_low: float | None
    expected_high: float | None
    summary: str


class Cause(BaseModel):
    cause: str  # promotion, data_error, stockout_censoring, supplier_delay, shrinkage, ...
    detail: str
    weight: float  # 0-1: how strongly the evidence points at it


def rank_causes(store: Store, alert: AlertRow, evidence: dict) -> list[Cause]:
    causes = _CAUSES[alert.kind](store, alert, evidence)
    return sorted(causes, key=lambda c: -c.weight)


def _related_errors(store: Store, alert: AlertRow) -> list[dict]:
    if not alert.sku:
        return []
    others = store.alerts(status="open", kind="data_error", sku=alert.sku)
    others = others[
        (others.location_id == alert.location_id)
        & (others.alert_id != alert.alert_id)
        & (pd.to_datetime(others.start_date) <= pd.Timestamp(alert.end_date))
        & (pd.to_datetime(others.end_date) >= pd.Timestamp(alert.start_date - timedelta(days=1)))
    ]
    return others.to_dict("records")


def _late_inbound(store: Store, alert: AlertRow) -> list[dict]:
    """Open POs for the alert's SKU and location whose promised date has passed."""
    if not alert.sku:
        return []
    lines = store.po_lines(
        statuses=["open", "partial"], skus=[alert.sku], location_id=alert.location_id
    )
    late = lines[
        pd.to_datetime(lines.promised_date) < pd.Timestamp(alert.end_date + timedelta(days=1))
    ]
    return late.to_dict("records")


def _promo_cause(evidence: dict, alert: AlertRow) -> list[Cause]:
    out = []
    for promo in evidence.get("promotions", []):
        overlaps = (
            promo["start_date"] <= alert.end_date.isoformat()
            and promo["end_date"] >= alert.start_date.isoformat()
        )
        when = f"{promo['start_date']}..{promo['end_date']}"
        if overlaps:
            out.append(
                Cause(
                    cause="promotion",
                    weight=0.8 if alert.kind == "demand_spike" else 0.3,
                    detail=f"promotion {promo['promo_id']} ({promo['discount_pct']:.0f}% off, {when}) overlaps",
                )
            )
        elif alert.kind == "demand_drop":
            out.append(
                Cause(
                    cause="promotion_ended",
                    weight=0.5,
                    detail=f"promotion {promo['promo_id']} ({when}) ended just before: sales return to normal",
                )
            )
    return out


def _spike_causes(store: Store, alert: AlertRow, ev: dict) -> list[Cause]:
    causes = _promo_cause(ev, alert)
    for err in _related_errors(store, alert):
        causes.append(
            Cause(
                cause="data_error",
                weight=0.9,
                detail=f"data error {err['alert_id']} on the same SKU and dates",
            )
        )
    lift = ev.get("promotion_lift", 1.0) or 1.0
    if lift > 1 and causes and causes[0].cause == "promotion":
        causes[0].detail += f"; sales still exceed the usual {lift:.1f}x promotion lift"
        causes[0].weight = 0.5
    if ev.get("stockout_after"):
        causes.append(
            Cause(
                cause="stockout",
                weight=0.4,
                detail="stock ran out after the spike: demand was even higher",
            )
        )
    causes.append(
        Cause(
            cause="genuine_demand",
            weight=0.45 if len(causes) == 0 else 0.3,
            detail=f"genuine demand ({_num(ev.get('peak_units'))} vs median {_num(ev.get('median'))}): "
            "check for a bulk order or an event",
        )
    )
    return causes


def _drop_causes(store: Store, alert: AlertRow, ev: dict) -> list[Cause]:
    causes = _promo_cause(ev, alert)
    out_days = int(ev.get("stockout_days", 0))
    if out_days:
        causes.append(
            Cause(
                cause="stockout_censoring",
                weight=min(0.9, 0.3 + 0.1 * out_days),
                detail=f"{out_days} of {ev.get('days')} days ended out of stock: lost sales, not lost demand",
            )
        )
    for line in _late_inbound(store, alert):
        causes.append(
            Cause(
                cause="supplier_delay",
                weight=0.5,
                detail=f"inbound {line['po_number']} promised {str(line['promised_date'])[:10]} is late",
            )
        )
    for err in _related_errors(store, alert):
        causes.append(
            Cause(
                cause="data_error",
                weight=0.6,
                detail=f"data error {err['alert_id']} in the same period",
            )
        )
    causes.append(
        Cause(
            cause="genuine_drop",
            weight=0.4 if not causes else 0.2,
            detail=f"genuine drop ({ev.get('drop_share', 0):.0%} below the prior level): check listing, "
            "price and competitors",
        )
    )
    return causes


def _error_causes(store: Store, alert: AlertRow, ev: dict) -> list[Cause]:
    if ev.get("table") == "inventory":
        return [
            Cause(
                cause="data_error",
                weight=0.9,
                detail=f"stock booked as {_num(ev.get('on_hand'))}, expected about {_num(ev.get('expected_on_hand'))}: "
                "sign slip in the stock booking",
            )
        ]
    ratio = ev.get("ratio")
    pattern = f"booked {_num(ev.get('sales_booked'))} while stock fell by {_num(ev.get('stock_movement'))}"
    if ratio and 8 <= ratio <= 12:
        pattern += f" ({ratio:g}x: an extra zero)"
    return [
        Cause(cause="data_error", weight=0.9, detail=f"entry error: {pattern}"),
        Cause(cause="duplicate_import", weight=0.2, detail="an order line imported twice"),
    ]


def _delay_causes(store: Store, alert: AlertRow, ev: dict) -> list[Cause]:
    usual = ev.get("supplier_usual_delay_days", 0)
    causes = [
        Cause(
            cause="supplier_delay",
            weight=0.9,
            detail=f"{alert.po_number} {ev.get('days_late')} days past its promised {ev.get('promised_date')}; "
            f"the supplier's usual delay is {usual} d",
        )
    ]
    outs = [x for x in ev.get("stock_impact", []) if x.get("stockout_date")]
    if outs:
        first = min(outs, key=lambda x: x["stockout_date"])
        causes.append(
            Cause(
                cause="stock_impact",
                weight=0.7,
                detail=f"{first['sku']} projected to stock out {first['stockout_date']} without it",
            )
        )
    return causes


def _shrink_causes(store: Store, alert: AlertRow, ev: dict) -> list[Cause]:
    causes = [
        Cause(
            cause="shrinkage",
            weight=0.6,
            detail=f"{_num(ev.get('units_lost'))} units (EUR {ev.get('value_at_cost', 0):,.0f} at cost) "
            "vanished: theft, damage or mis-pick; request a recount",
        )
    ]
    if ev.get("receipts"):
        causes.append(
            Cause(
                cause="receiving_error",
                weight=0.5,
                detail=f"{_num(ev['receipts'])} units were received the same day: check the receipt count",
            )
        )
    for err in _related_errors(store, alert):
        causes.append(
            Cause(
                cause="data_error",
                weight=0.7,
                detail=f"data error {err['alert_id']} nearby: late booking",
            )
        )
    return causes


_CAUSES = {
    "demand_spike": _spike_causes,
    "demand_drop": _drop_causes,
    "data_error": _error_causes,
    "supplier_delay": _delay_causes,
    "shrinkage": _shrink_causes,
}
