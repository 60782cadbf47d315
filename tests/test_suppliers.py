"""Supplier scorecards, late / at-risk POs and e-mail drafts on a small hand-built store."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

import tools.suppliers
from tools.registry import ToolContext, call_tool
from tools.store import Store

TODAY = date(2026, 11, 30)

# po, supplier, order_date, promised, status, received, [(sku, ordered, received)]
POS = [
    (
        "PO-0900",
        "SUP-001",
        "2025-09-01",
        "2025-10-01",
        "received",
        "2025-10-09",
        [("SKU-001", 10, 10)],
    ),  # outside window
    ("PO-0999", "SUP-001", "2026-07-20", "2026-08-01", "cancelled", None, [("SKU-001", 10, 0)]),
    (
        "PO-1001",
        "SUP-001",
        "2026-09-01",
        "2026-09-15",
        "received",
        "2026-09-14",
        [("SKU-001", 100, 100)],
    ),
    (
        "PO-1002",
        "SUP-001",
        "2026-10-01",
        "2026-10-15",
        "received",
        "2026-10-18",
        [("SKU-001", 50, 50), ("SKU-002", 30, 30)],
    ),
    (
        "PO-1003",
        "SUP-001",
        "2026-10-20",
        "2026-11-01",
        "received",
        "2026-11-01",
        [("SKU-002", 100, 80)],
    ),
    ("PO-1004", "SUP-001", "2026-11-10", "2026-11-28", "open", None, [("SKU-001", 40, 0)]),
    ("PO-1005", "SUP-001", "2026-11-12", "2026-11-25", "open", None, [("SKU-002", 60, 0)]),
    (
        "PO-1006",
        "SUP-001",
        "2026-11-01",
        "2026-11-20",
        "partial",
        "2026-11-22",
        [("SKU-002", 50, 20)],
    ),
    ("PO-1007", "SUP-001", "2026-11-25", "2026-12-10", "open", None, [("SKU-001", 70, 0)]),
    (
        "PO-2001",
        "SUP-002",
        "2026-10-01",
        "2026-10-10",
        "received",
        "2026-10-10",
        [("SKU-003", 20, 20)],
    ),
    ("PO-2002", "SUP-002", "2026-11-20", "2026-11-29", "open", None, [("SKU-003", 25, 0)]),
    ("PO-2003", "SUP-002", "2026-11-20", "2026-12-02", "open", None, [("SKU-004", 25, 0)]),
]
STOCK = {
    "SKU-001": (500, 10),
    "SKU-002": (300, 10),
    "SKU-003": (20, 10),
    "SKU-004": (35, 10),
}  # on hand, daily sales


def build_store() -> Store:
    store = Store(":memory:")
    con = store.con
    con.execute("INSERT INTO meta VALUES ('today', ?)", [TODAY.isoformat()])
    con.execute(
        "INSERT INTO suppliers VALUES ('SUP-001', 'Acme Parts', 'Jane Roe', 'jane@acme.test', 'DE', 14, 2, 1, 0.9),"
        " ('SUP-002', 'Beta Foods', 'Bo Li', 'bo@beta.test', 'NL', 9, 1, 1, 0.95)"
    )
    con.execute("INSERT INTO locations VALUES ('BER', 'Berlin DC', 'Berlin', 'dc', 52.52, 13.40)")
    for sku, name, sup in [
        ("SKU-001", "Widget", "SUP-001"),
        ("SKU-002", "Gadget", "SUP-001"),
        ("SKU-003", "Oat milk", "SUP-002"),
        ("SKU-004", "Rye bread", "SUP-002"),
    ]:
        con.execute(
            "INSERT INTO products VALUES (?, ?, 'Misc', 2, 4, 1, NULL, ?, NULL)", [sku, name, sup]
        )
    for sku, (on_hand, daily) in STOCK.items():
        for back in range(1, 29):
            day = TODAY - timedelta(days=back)
            con.execute("INSERT INTO sales VALUES (?, ?, 'BER', ?)", [day, sku, daily])
            con.execute(
                "INSERT INTO inventory VALUES (?, ?, 'BER', ?, 0)",
                [day, sku, on_hand + daily * (back - 1)],
            )
    for po, sup, ordered, promised, status, received, lines in POS:
        con.execute(
            "INSERT INTO purchase_orders VALUES (?, ?, 'BER', ?, ?, ?, ?)",
            [po, sup, ordered, promised, status, received],
        )
        for i, (sku, qty, got) in enumerate(lines, start=1):
            con.execute(
                "INSERT INTO po_lines VALUES (?, ?, ?, ?, ?, ?, 2.0)",
                [po, i, sku, qty, got, received if got else None],
            )
    return store


@pytest.fixture(scope="module")
def ctx():
    store = build_store()
    yield ToolContext(store)
    store.close()


def run(ctx, name, **arguments):
    result = call_tool(ctx, name, arguments)
    assert result.ok, result.error
    return result.result


def test_scorecard_matches_hand_computation(ctx):
    card = run(ctx, "supplier_scorecard", supplier="acme")
    acme = card.suppliers[0]
    # PO lines due in window: 1001, 1002 x2, 1003, 1004, 1005, 1006 (0900 too old, 0999 cancelled,
    # 1007 not due yet)
    assert acme.lines_due == 7
    assert acme.on_time_rate == pytest.approx(2 / 7, abs=1e-3)  # 1001, 1003
    assert acme.lines_otif == 1 and acme.otif_rate == pytest.approx(1 / 7, abs=1e-3)  # 1003 short
    assert acme.fill_rate == pytest.approx(
        (100 + 80 + 80 + 20) / (100 + 80 + 100 + 40 + 60 + 50), abs=1e-3
    )
    # line lead times 13, 17, 17, 12 and 21 (the partial receipt of 1006)
    assert acme.lead_time_mean_days == 16.0
    assert acme.lead_time_sd_days == pytest.approx(3.6, abs=0.05)
    assert acme.mean_delay_days == 1.4  # -1, +3, +3, 0, +2
    assert acme.open_pos == 4 and acme.late_pos == 3
    assert card.window_start == date(2025, 11, 30) and "365" in card.evidence.method
    assert "OTIF 14% (1/7 PO lines)" in card.render()


def test_scorecard_ranks_all_suppliers_best_first(ctx):
    card = run(ctx, "supplier_scorecard")
    assert [s.supplier_id for s in card.suppliers] == ["SUP-002", "SUP-001"]
    beta = card.suppliers[0]
    assert beta.lines_due == 2 and beta.otif_rate == 0.5 and beta.late_pos == 1


def test_late_orders_have_the_right_days_late(ctx):
    result = run(ctx, "supplier_orders", status="late")
    late = {o.po_number: o.days_late for o in result.orders}
    assert late == {"PO-1006": 10, "PO-1005": 5, "PO-1004": 2, "PO-2002": 1}
    assert [o.po_number for o in result.orders][0] == "PO-1006"  # most late first
    po = next(o for o in result.orders if o.po_number == "PO-1006")
    # the supply engine's cover: 300 on hand + 90 inbound (PO-1005, PO-1006) at 10 a day
    assert po.lines[0].qty_outstanding == 30 and po.lines[0].days_of_cover == 39.0
    assert "PO-1006 SUP-001 BER late" in result.render() and "10 d late" in result.render()


def test_at_risk_means_expected_late_or_stockout_before_arrival(ctx):
    result = run(ctx, "supplier_orders", status="at-risk")
    by_po = {o.po_number: o for o in result.orders}
    # Acme's line receipts were -1, +3, +3, 0, +2 days against promise: mean +1.4 -> +1 day
    assert by_po["PO-1007"].expected_arrival == date(2026, 12, 11)
    assert "delivers 1 d late on average" in by_po["PO-1007"].risk
    # Beta is on time; SKU-004 (35 units, 10/day) lasts until 2026-12-03, after PO-2003 arrives 12-02
    assert set(by_po) == {"PO-1007"}


def test_draft_email_levels_follow_the_sop_ladder(ctx):
    cases = {
        "PO-1004": (1, "Reminder", 2),
        "po 1005": (2, "Escalation", 5),
        "1006": (3, "Executive escalation", 10),
    }
    for po, (level, name, days) in cases.items():
        email = run(ctx, "draft_supplier_email", po_number=po)
        assert (email.level, email.level_name) == (level, name), po
        assert f"{days} days late" in email.body and email.sent is False
        draft = email.deliverable()
        assert (
            draft.startswith("DRAFT - not sent\nTo: ")
            and "[Your name], Stockpilot purchasing team" in email.body
        )
        # the notice and each header line appear exactly once in what the user sees
        for line in ("DRAFT - not sent", "To: ", "Cc: ", "Subject: "):
            assert draft.count(line) == 1, (po, line)
    l1 = run(ctx, "draft_supplier_email", po_number="PO-1004")
    assert l1.to == ["jane@acme.test"] and l1.cc == []
    assert "PO-1004" in l1.body and "SKU-001 Widget: 40 ordered, 40 outstanding" in l1.body
    assert "promised 2026-11-28" in l1.body and "ordered 2026-11-10" in l1.body
    assert "within 2 business days (by 2026-12-02)" in l1.body
    l2 = run(ctx, "draft_supplier_email", po_number="PO-1005")
    assert (
        l2.cc == ["Purchasing Manager"]
        and "recovery plan" in l2.body
        and "39 days of cover" in l2.body  # 300 + 90 inbound at 10 a day
    )
    l3 = run(ctx, "draft_supplier_email", po_number="PO-1006")
    assert "Head of Procurement" in l3.cc and "jane@acme.test" in l3.cc
    assert "expedited shipment at your cost" in l3.body and "24 hours" in l3.body
    assert "50 ordered, 30 outstanding" in l3.body
    assert "Level 3 Executive escalation: PO-1006 is 10 days late" in l3.render()


def test_supplier_only_email_covers_all_its_late_pos(ctx):
    email = run(ctx, "draft_supplier_email", supplier="SUP-001")
    assert email.po_numbers == ["PO-1006", "PO-1005", "PO-1004"] and email.level == 3


def test_projected_stockout_escalates_a_one_day_late_po(ctx):
    email = run(ctx, "draft_supplier_email", po_number="PO-2002")  # SKU-003: 20 units, 10/day
    # 10 left after today, none after tomorrow: the projection runs out on 2026-12-01
    assert email.level == 3 and "stock-out projected 2026-12-01" in email.reason
    assert "2.0 days of cover" in email.body or "2 days of cover" in email.body


def test_late_orders_on_sample_data_carry_the_inventory_outlook(store):
    result = run(ToolContext(store), "supplier_orders", status="late")
    assert result.orders and all(o.days_late >= 1 for o in result.orders)
    assert all(o.promised_date < result.today for o in result.orders)


@pytest.mark.parametrize(
    ("name", "arguments", "argument"),
    [
        ("draft_supplier_email", {"po_number": "PO-9999"}, "po_number"),
        ("draft_supplier_email", {"po_number": "PO-1001"}, "po_number"),
        ("draft_supplier_email", {"supplier": "Gamma"}, "supplier"),
        ("draft_supplier_email", {"supplier": "beta", "po_number": "PO-1004"}, "supplier"),
        ("supplier_scorecard", {"supplier": "nobody"}, "supplier"),
        ("supplier_orders", {"status": "overdue"}, "status"),
    ],
)
def test_invalid_arguments_name_the_argument(ctx, name, arguments, argument):
    result = call_tool(ctx, name, arguments)
    assert not result.ok and result.error.startswith(argument) or f"{argument}:" in result.error, (
        result.error
    )


def test_email_dates_all_come_from_the_data(ctx):
    import re

    email = run(ctx, "draft_supplier_email", supplier="SUP-001")
    known = {"2026-11-10", "2026-11-28", "2026-11-12", "2026-11-25", "2026-11-01", "2026-11-20"}
    stated = set(re.findall(r"\d{4}-\d{2}-\d{2}", email.body))
    assert stated <= known, stated - known


def test_at_risk_po_gets_a_level_1_reminder_with_the_reason(ctx):
    email = run(ctx, "draft_supplier_email", po_number="PO-1007")
    assert (email.level, email.level_name) == (1, "Reminder")
    assert "at risk: supplier delivers 1 d late on average" in email.body
    # stock impact at every level: (500 + 110 inbound - 28 x 10) / 10 = 33 days past the 28-day horizon
    assert "SKU-001 at BER: 61 days of cover" in email.body


@pytest.mark.parametrize(
    ("status", "expected"),
    [("All", "all"), ("At risk", "at_risk"), ("OPEN", "open"), (None, "late")],
)
def test_order_status_is_normalised_and_all_is_kept(status, expected):
    assert tools.suppliers.SupplierOrdersRequest(status=status).status == expected


def test_status_all_lists_open_and_recently_received_pos(ctx):
    result = run(ctx, "supplier_orders", status="all", supplier="SUP-001")
    numbers = {o.po_number for o in result.orders}
    assert {"PO-1004", "PO-1005", "PO-1006", "PO-1007"} <= numbers and "PO-1001" not in numbers
    assert result.summary().startswith(f"{len(numbers)} POs for SUP-001 as of")
    assert result.render().startswith(f"{len(numbers)} POs for SUP-001 as of")
    late = run(ctx, "supplier_orders", status="late", supplier="SUP-001")
    assert late.summary().startswith(f"{len(late.orders)} late POs for SUP-001")


def test_followups_draft_one_email_per_supplier_with_late_pos(ctx):
    result = run(ctx, "draft_supplier_email")
    assert [(d.supplier_id, d.po_numbers) for d in result.drafts] == [
        ("SUP-001", ["PO-1006", "PO-1005", "PO-1004"]),
        ("SUP-002", ["PO-2002"]),
    ]
    single = run(ctx, "draft_supplier_email", supplier="SUP-001")
    assert result.drafts[0].body == single.body and result.drafts[0].level == single.level
    assert "Drafted 2 follow-up e-mails" in result.summary() and "not sent" in result.summary()
    assert result.deliverable().count("DRAFT - not sent") == 2


def test_a_po_not_late_yet_is_never_a_level_3(ctx):
    # PO-2003 is promised for 2026-12-02: not late, whatever the stock says
    email = run(ctx, "draft_supplier_email", po_number="PO-2003")
    assert email.level <= 2 and "account management" not in email.to[0]


@pytest.mark.parametrize(
    "address", ["a@x.test, b@x.test", "a@x.test\r\nBcc: evil@x.test", "nobody"]
)
def test_a_draft_with_an_unusable_address_is_refused(address):
    store = build_store()
    store.con.execute(
        "UPDATE suppliers SET contact_email = ? WHERE supplier_id = 'SUP-002'", [address]
    )
    ctx = ToolContext(store)
    single = call_tool(ctx, "draft_supplier_email", {"po_number": "PO-2002"})
    assert not single.ok and single.error.startswith("contact_email: supplier SUP-002")
    batch = run(ctx, "draft_supplier_email")
    assert [d.supplier_id for d in batch.drafts] == ["SUP-001"]
    assert batch.refused[0].startswith("SUP-002: contact_email")
