"""The entity resolver: every kind of mention staff type, on a generated workspace and on a
small hand-made one with look-alike names (ambiguous and unknown mentions)."""

from __future__ import annotations

from datetime import date

import pytest

from tools.horizons import horizon_days
from tools.store import Store
from tools.store.db import AmbiguousEntityError, UnknownEntityError


@pytest.fixture
def lookalikes():
    """Two Berlin sites, two suppliers sharing a word, three hand creams."""
    store = Store(":memory:")
    store.con.execute(
        "INSERT INTO suppliers (supplier_id, name, contact_email, lead_time_mean_days, "
        "lead_time_sd_days) VALUES ('SUP-001', 'Vltava Kitchenware s.r.o.', 'a@x.eu', 5, 1), "
        "('SUP-002', 'Weser Cosmetics GmbH', 'b@x.eu', 5, 1), "
        "('SUP-003', 'Weser Garden Supply AG', 'c@x.eu', 5, 1)"
    )
    store.con.execute(
        "INSERT INTO locations VALUES ('BER', 'Berlin DC', 'Berlin', 'dc', 52.5, 13.4), "
        "('BES', 'Berlin South Store', 'Berlin', 'store', 52.4, 13.4), "
        "('HAM', 'Hamburg DC', 'Hamburg', 'dc', 53.5, 10.0), "
        "('MUC', 'Munich DC', 'Munich', 'dc', 48.1, 11.6)"
    )
    rows = [
        ("SKU-00001", "Shea Hand Cream, Citrus", "Beauty", "SUP-002"),
        ("SKU-00002", "Shea Hand Cream, Lavender", "Beauty", "SUP-002"),
        ("SKU-00003", "Aloe Hand Cream, Unscented", "Beauty", "SUP-002"),
        ("SKU-00088", "Den Dog Bed, Brown", "Pet Supplies", "SUP-001"),
        ("SKU-00120", "USB-C Charging Cable 2m", "Electronics Accessories", "SUP-001"),
        ("SKU-00121", "Ceramic Plant Pot, Small", "Garden", "SUP-003"),
    ]
    for sku, name, category, supplier in rows:
        store.con.execute(
            "INSERT INTO products (sku, name, category, unit_cost, price, supplier_id) "
            "VALUES (?, ?, ?, 1, 2, ?)",
            [sku, name, category, supplier],
        )
    yield store
    store.close()


def test_sites_resolve_from_id_name_city_typo_and_local_name(store):
    for typed in ("HAM", "ham", "Hamburg DC", "hamburg", "hamberg", "Hamburgh"):
        assert store.location(typed)["location_id"] == "HAM", typed
    assert store.location("München")["location_id"] == "MUC"


def test_a_site_that_fits_two_asks_which_and_an_unknown_names_the_nearest(lookalikes):
    with pytest.raises(AmbiguousEntityError) as asked:
        lookalikes.location("berlin")
    assert "Berlin DC (BER)" in str(asked.value) and "Berlin South Store (BES)" in str(asked.value)
    assert str(asked.value).endswith("Which one do you mean?")
    assert lookalikes.location("berlin south")["location_id"] == "BES"
    with pytest.raises(UnknownEntityError) as unknown:
        lookalikes.location("hmbg")
    assert "unknown location" in str(unknown.value) and "Hamburg DC (HAM)" in str(unknown.value)
    with pytest.raises(UnknownEntityError) as unknown:
        lookalikes.location("paris")
    assert not isinstance(unknown.value, AmbiguousEntityError)


def test_categories_resolve_from_part_plural_typo_and_everyday_words(store):
    assert store.resolve_category("electronics") == "Electronics Accessories"
    assert store.resolve_category("pet supplies") == "Pet Supplies"
    assert store.resolve_category("pet stuff") == "Pet Supplies"
    assert store.resolve_category("office supplies") == "Office"
    assert store.resolve_category("toy") == "Toys"
    assert store.resolve_category("cosmetics") == "Beauty"
    assert store.resolve_category("elctronics") == "Electronics Accessories"
    with pytest.raises(UnknownEntityError):
        store.resolve_category("weather")


def test_suppliers_resolve_from_id_name_distinctive_part_and_typo(store, lookalikes):
    sup = store.suppliers().iloc[0]
    assert store.supplier(sup.supplier_id)["supplier_id"] == sup.supplier_id
    assert store.supplier(sup["name"].upper())["supplier_id"] == sup.supplier_id
    assert lookalikes.supplier("vltava")["supplier_id"] == "SUP-001"
    assert lookalikes.supplier("vltvaa")["supplier_id"] == "SUP-001"  # a typo
    assert lookalikes.supplier("weser cosmetics")["supplier_id"] == "SUP-002"
    with pytest.raises(AmbiguousEntityError) as asked:
        lookalikes.supplier("weser")
    assert "Weser Cosmetics GmbH (SUP-002)" in str(asked.value)


def test_suppliers_resolve_and_are_mentioned_by_their_id_in_loose_forms(lookalikes):
    for typed in ("SUP-003", "sup 3", "SUP3", "sup-003", "supplier #3", "vendor no. 3"):
        assert lookalikes.supplier(typed)["supplier_id"] == "SUP-003", typed
        request = f"lead time and fill rate of {typed}"
        assert [(m.kind, m.key) for m in lookalikes.resolver.mentions(request)] == [
            ("supplier", "SUP-003")
        ], typed
    # an id no supplier has is no mention, and a count after "suppliers" is no id
    assert lookalikes.resolver.mentions("scorecard for sup 9") == []
    assert lookalikes.resolver.mentions("rank the suppliers, top 3") == []
    with pytest.raises(UnknownEntityError):
        lookalikes.supplier("SUP-009")


def test_skus_resolve_from_loose_codes_and_product_names(lookalikes):
    for typed in ("SKU-00088", "sku 88", "SKU88", "sku-088", "88"):
        assert lookalikes.product(typed)["sku"] == "SKU-00088", typed
    assert lookalikes.product("the den dog bed")["sku"] == "SKU-00088"
    assert lookalikes.product("citrus shea hand cream")["sku"] == "SKU-00001"
    assert lookalikes.product("aloe hand cream")["sku"] == "SKU-00003"
    with pytest.raises(AmbiguousEntityError) as asked:
        lookalikes.product("shea hand cream")
    assert "SKU-00001" in str(asked.value) and "SKU-00002" in str(asked.value)
    with pytest.raises(UnknownEntityError):
        lookalikes.product("sku 9999")


def test_pos_and_alerts_resolve_from_loose_forms(store):
    po = store.query("SELECT po_number FROM purchase_orders LIMIT 1").iloc[0, 0]
    digits = po.split("-")[1]
    for typed in (po, f"po {digits}", f"PO{digits}", f"purchase order {digits}", digits):
        assert store.purchase_order(typed)["po_number"] == po, typed
    with pytest.raises(UnknownEntityError):
        store.purchase_order("PO-99999999")


def test_mentions_in_a_request_go_to_their_kind_longest_name_first(lookalikes):
    found = {m.kind: m.key for m in lookalikes.resolver.mentions("draft to weser cosmetics re sku 88 at hamberg")}  # fmt: skip
    assert found == {"supplier": "SUP-002", "sku": "SKU-00088", "location": "HAM"}
    found = {m.kind: m.key for m in lookalikes.resolver.mentions("which toys run out at MUC")}
    assert found == {"location": "MUC"}  # no Toys category in this workspace
    found = {m.kind: m.key for m in lookalikes.resolver.mentions("pet stuff running low in munich")}
    assert found == {"category": "Pet Supplies", "location": "MUC"}
    # a three-letter site code counts in capitals or after a preposition, not as a word
    assert [m.kind for m in lookalikes.resolver.mentions("the serrano ham")] == []
    assert [m.key for m in lookalikes.resolver.mentions("stock in ham")] == ["HAM"]


MONDAY = date(2026, 11, 30)


@pytest.mark.parametrize(
    "text, days",
    [
        ("anything out by friday?", 4),
        ("by next monday", 7),
        ("tomorrow", 1),
        ("in a fortnight", 14),
        ("next 3 weeks", 21),
        ("this week", 7),
        ("next month", 28),
        ("till end of month", 31),  # on the month's last day: the next month's end
        ("by dec 10", 10),
        ("before the weekend", 6),
        ("forecast HTB646-D", None),  # a code, not 646 days
        ("sales in 1987", None),  # a year is no horizon
        ("next 5 days or next 2 weeks", None),  # two horizons: the model's value stands
        # "and" is a word, not "an d" (one day): follow-ups start with it
        ("and next week?", 7),
        ("and over the next quarter?", 84),
        ("and in the next 9 days?", 9),
        ("and at hamburg?", None),
        ("3d", 3),
        ("a couple of weeks", 14),
    ],
)
def test_horizons_in_words_count_days_from_the_workspace_today(text, days):
    assert horizon_days(text, MONDAY) == days
