"""Bought-together and substitute recommendations on hand-built baskets (and the planted
structure of the simulated sample store)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from tools.registry import ToolContext, call_tool
from tools.store import Store

TODAY = date(2026, 11, 30)
PRODUCTS = [  # sku, name, price, on hand
    ("SKU-001", "Classic Frying Pan, Black", 30.0, 0),
    ("SKU-002", "Pro Silicone Spatula, Red", 8.0, 50),
    ("SKU-003", "Nordic Frying Pan, Copper", 31.0, 12),
    ("SKU-004", "Heritage Frying Pan, Sage", 29.0, 0),
    ("SKU-005", "Chef Saucepan, Black", 32.0, 40),
    ("SKU-006", "Premium Chef's Knife, Graphite", 45.0, 5),
]
# (basket count, skus in the basket)
BASKETS = [
    (10, ["SKU-001", "SKU-002"]),
    (8, ["SKU-003", "SKU-002"]),
    (3, ["SKU-004", "SKU-002"]),
    (12, ["SKU-005"]),
    (2, ["SKU-001", "SKU-005"]),
    (6, ["SKU-006"]),
    (1, ["SKU-001", "SKU-006"]),
    (2, ["SKU-003", "SKU-005", "SKU-006"]),
]


def build_store() -> Store:
    store = Store(":memory:")
    con = store.con
    con.execute("INSERT INTO meta VALUES ('today', ?)", [TODAY.isoformat()])
    con.execute(
        "INSERT INTO suppliers VALUES ('SUP-001', 'Acme', 'Jo', 'jo@acme.test', 'DE', 7, 1, 1, 0.9)"
    )
    con.execute("INSERT INTO locations VALUES ('BER', 'Berlin DC', 'Berlin', 'dc', 52.52, 13.40)")
    for sku, name, price, on_hand in PRODUCTS:
        con.execute(
            "INSERT INTO products VALUES (?, ?, 'Kitchen', 1, ?, 1, NULL, 'SUP-001', NULL)",
            [sku, name, price],
        )
        con.execute(
            "INSERT INTO inventory VALUES (?, ?, 'BER', ?, 0)",
            [TODAY - timedelta(days=1), sku, on_hand],
        )
    n = 0
    for count, skus in BASKETS:
        for _ in range(count):
            n += 1
            day = TODAY - timedelta(days=1 + n % 60)
            con.execute(
                "INSERT INTO customer_orders VALUES (?, ?, ?, 'BER', ?, 52.5, 13.4, 1, 0.01, NULL, NULL)",
                [f"O-{n:04d}", day, day + timedelta(days=1), f"C-{n}"],
            )
            for sku in skus:
                con.execute(
                    "INSERT INTO customer_order_lines VALUES (?, ?, 1)", [f"O-{n:04d}", sku]
                )
    return store


@pytest.fixture(scope="module")
def ctx():
    store = build_store()
    yield ToolContext(store)
    store.close()


def run(ctx, **arguments):
    result = call_tool(ctx, "recommend_products", arguments)
    assert result.ok, result.error
    return result.result


def test_bought_together_finds_the_pair_with_support_confidence_and_lift(ctx):
    result = run(ctx, sku="sku-001")
    assert result.baskets == 44 and result.baskets_with_sku == 13
    top = result.items[0]
    assert top.sku == "SKU-002" and top.together == 10
    assert top.support == pytest.approx(10 / 44, abs=1e-4)
    assert top.confidence == pytest.approx(10 / 13, abs=1e-3)
    assert top.lift == pytest.approx((10 / 13) / (21 / 44), abs=1e-3)
    assert "SKU-001" not in [r.sku for r in result.items]
    # SKU-006 shares only one basket with SKU-001: below the minimum support of 3
    assert "SKU-006" not in [r.sku for r in result.items]
    text = result.render()
    assert "SKU-002" in text and "confidence 77%" in text and "out of stock" in text


def test_substitutes_for_an_out_of_stock_sku_put_available_ones_first(ctx):
    result = run(ctx, sku="SKU-001", mode="substitutes")
    skus = [r.sku for r in result.items]
    # frying pans share SKU-001's co-purchase neighbour (the spatula) and its product type
    assert skus[0] == "SKU-003" and result.items[0].on_hand == 12
    assert skus == ["SKU-003", "SKU-004"]  # in stock first; saucepan and knife score too low
    assert "SKU-002" not in skus  # a complement, and far cheaper
    assert result.items[0].neighbour_similarity > 0.9 and result.items[0].together == 0
    assert "Substitutes for SKU-001" in result.render() and "out of stock" in result.render()


@pytest.mark.parametrize(
    ("arguments", "argument"),
    [
        ({"sku": "SKU-999"}, "sku"),
        ({"sku": "SKU-001", "mode": "similar"}, "mode"),
        ({"sku": "SKU-001", "limit": 0}, "limit"),
        ({}, "sku"),
    ],
)
def test_invalid_arguments_name_the_argument(ctx, arguments, argument):
    result = call_tool(ctx, "recommend_products", arguments)
    assert not result.ok and argument in result.error


def test_planted_pairs_and_substitutes_are_found_in_the_sample_data(store, sample_db):
    import duckdb

    with duckdb.connect(str(sample_db.truth_path), read_only=True) as truth:
        groups = truth.execute("SELECT * FROM basket_groups ORDER BY group_id, sku").df()
    ctx = ToolContext(store)
    for _, group in groups[groups.kind == "complement"].groupby("group_id"):
        first, partners = group.sku.iloc[0], set(group.sku.iloc[1:])
        top = run(ctx, sku=first, limit=len(partners))
        assert {r.sku for r in top.items} == partners and top.items[0].lift > 2
    for _, group in groups[groups.kind == "substitute"].groupby("group_id"):
        first, others = group.sku.iloc[0], set(group.sku.iloc[1:])
        found = run(ctx, sku=first, mode="substitutes", limit=3)
        assert others & {r.sku for r in found.items}, (first, others, found.render())
        assert all(r.together == 0 for r in found.items if r.sku in others)  # never in one basket
