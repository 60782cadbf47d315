"""The simulator's promises: censoring, labelled anomalies kept in the truth file, determinism,
a hidden future, realistic purchasing, planted basket structure and routing-ready deliveries."""

from __future__ import annotations

import math
from datetime import date, timedelta
from itertools import combinations

import duckdb
import pandas as pd
import pytest

from tools.store.simulate import ANOMALY_KINDS, PATTERNS, generate

TRUTH_TABLES = {
    "true_demand",
    "future_inventory",
    "future_receipts",
    "demand_patterns",
    "anomaly_labels",
    "basket_groups",
}


@pytest.fixture(scope="module")
def con(sample_db):
    """The visible store as `shop` and the truth file as `truth`, both read-only."""
    connection = duckdb.connect()
    connection.execute(f"ATTACH '{sample_db.db_path}' AS shop (READ_ONLY)")
    connection.execute(f"ATTACH '{sample_db.truth_path}' AS truth (READ_ONLY)")
    yield connection
    connection.close()


def rows(con, sql: str, params=None) -> pd.DataFrame:
    return con.execute(sql, params or []).df()


def test_stockouts_censor_sales_while_demand_continues(con, sample_db):
    censored = rows(
        con,
        """
        SELECT count(*) AS n, sum(t.demand - s.units) AS lost FROM shop.inventory i
        JOIN shop.sales s USING (date, sku, location_id)
        JOIN truth.true_demand t USING (date, sku, location_id)
        WHERE i.on_hand = 0 AND t.demand > s.units""",
    )
    assert censored.n[0] > 100
    assert censored.lost[0] > censored.n[0]
    # Out-of-stock days are a realistic minority of all series-days.
    assert 0.03 <= sample_db.summary.stockout_rate <= 0.08
    share = con.execute("SELECT avg((on_hand <= 0)::INT) FROM shop.inventory").fetchone()[0]
    assert share == pytest.approx(sample_db.summary.stockout_rate, abs=0.005)


def test_sales_never_exceed_true_demand_except_labelled_data_errors(con):
    over = rows(
        con,
        """
        SELECT s.date, s.sku, s.location_id FROM shop.sales s
        JOIN truth.true_demand t USING (date, sku, location_id) WHERE s.units > t.demand""",
    )
    labels = rows(
        con,
        "SELECT start_date AS date, sku, location_id FROM truth.anomaly_labels WHERE kind = 'data_error'",
    )
    over_keys = set(map(tuple, over.astype(str).to_numpy()))
    assert over_keys
    assert over_keys <= set(map(tuple, labels.astype(str).to_numpy()))


def test_anomalies_are_labelled_only_in_the_truth_file(con, sample_db):
    visible = {
        r[0]
        for r in con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_catalog = 'shop'"
        ).fetchall()
    }
    truth = {
        r[0]
        for r in con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_catalog = 'truth'"
        ).fetchall()
    }
    assert truth == TRUTH_TABLES
    assert not visible & TRUTH_TABLES
    assert con.execute("SELECT count(*) FROM shop.alerts").fetchone()[0] == 0
    counts = (
        rows(con, "SELECT kind, count(*) AS n FROM truth.anomaly_labels GROUP BY kind")
        .set_index("kind")
        .n
    )
    assert set(counts.index) == set(ANOMALY_KINDS)
    assert counts.to_dict() == sample_db.summary.anomalies


def test_spikes_and_drops_change_true_demand(con):
    spikes = rows(
        con,
        """
        SELECT l.label_id, l.magnitude, max(t.demand / greatest(t.expected, 1)) AS ratio
        FROM truth.anomaly_labels l JOIN truth.true_demand t
          ON t.sku = l.sku AND t.location_id = l.location_id AND t.date BETWEEN l.start_date AND l.end_date
        WHERE l.kind = 'demand_spike' GROUP BY ALL""",
    )
    assert len(spikes) >= 3
    assert (spikes.magnitude.between(3, 8)).all()
    assert (spikes.ratio >= spikes.magnitude * 0.95).all()
    drops = rows(
        con,
        """
        SELECT l.label_id, l.magnitude, sum(t.demand) / sum(t.expected) AS ratio,
               date_diff('day', l.start_date, l.end_date) + 1 AS length
        FROM truth.anomaly_labels l JOIN truth.true_demand t
          ON t.sku = l.sku AND t.location_id = l.location_id AND t.date BETWEEN l.start_date AND l.end_date
        WHERE l.kind = 'demand_drop' GROUP BY ALL""",
    )
    assert len(drops) >= 2
    assert (drops.length >= 7).all()
    assert (drops.ratio < 0.5).all()  # 10-30% of normal demand, with noise


def test_data_errors_touch_only_recorded_data(con):
    errors = rows(
        con,
        """
        SELECT l.magnitude, s.units, t.demand, i.on_hand FROM truth.anomaly_labels l
        JOIN shop.sales s ON s.sku = l.sku AND s.location_id = l.location_id AND s.date = l.start_date
        JOIN shop.inventory i ON i.sku = l.sku AND i.location_id = l.location_id AND i.date = l.start_date
        JOIN truth.true_demand t ON t.sku = l.sku AND t.location_id = l.location_id AND t.date = l.start_date
        WHERE l.kind = 'data_error'""",
    )
    extra_zero = errors[errors.magnitude == 10]
    sign_slip = errors[errors.magnitude < 0]
    assert len(extra_zero) >= 1 and len(sign_slip) >= 1
    assert (extra_zero.units % 10 == 0).all() and (extra_zero.units > extra_zero.demand).all()
    assert (sign_slip.on_hand == sign_slip.magnitude).all() and (sign_slip.on_hand < 0).all()


def test_shrinkage_is_a_stock_drop_that_sales_and_receipts_do_not_explain(con):
    checks = rows(
        con,
        """
        WITH receipts AS (
            SELECT l.sku, p.location_id, l.received_date AS date, sum(l.qty_received) AS units
            FROM shop.po_lines l JOIN shop.purchase_orders p USING (po_number)
            WHERE l.received_date IS NOT NULL GROUP BY ALL)
        SELECT l.magnitude, prev.on_hand - s.units + coalesce(r.units, 0) - i.on_hand AS unexplained
        FROM truth.anomaly_labels l
        JOIN shop.inventory i ON i.sku = l.sku AND i.location_id = l.location_id AND i.date = l.start_date
        JOIN shop.inventory prev ON prev.sku = l.sku AND prev.location_id = l.location_id
             AND prev.date = l.start_date - 1
        JOIN shop.sales s ON s.sku = l.sku AND s.location_id = l.location_id AND s.date = l.start_date
        LEFT JOIN receipts r ON r.sku = l.sku AND r.location_id = l.location_id AND r.date = l.start_date
        WHERE l.kind = 'shrinkage'""",
    )
    assert len(checks) >= 2
    assert (checks.unexplained == checks.magnitude).all()
    assert (checks.magnitude >= 2).all()


def test_supplier_delays_are_at_least_a_week_late(con, sample_db):
    delays = rows(
        con,
        """
        SELECT l.po_number, l.start_date, p.promised_date, p.status, p.received_date
        FROM truth.anomaly_labels l JOIN shop.purchase_orders p USING (po_number)
        WHERE l.kind = 'supplier_delay'""",
    )
    assert len(delays) >= 5
    assert (delays.start_date == delays.promised_date).all()
    seen = delays.received_date.fillna(pd.Timestamp(sample_db.today))
    assert ((seen - delays.promised_date).dt.days >= 7).all()


def test_a_good_share_of_anomalies_is_recent(con, sample_db):
    recent = (
        rows(
            con,
            """
        SELECT kind, count(*) AS n FROM truth.anomaly_labels
        WHERE end_date >= ? AND start_date < ? GROUP BY kind""",
            [sample_db.today - timedelta(days=60), sample_db.today],
        )
        .set_index("kind")
        .n
    )
    for kind in ("demand_spike", "data_error", "shrinkage", "supplier_delay"):
        assert recent.get(kind, 0) >= 1, kind


def test_same_seed_gives_identical_tables_and_another_seed_differs(tmp_path):
    def snapshot(folder, seed) -> dict[str, pd.DataFrame]:
        summary = generate(
            folder / "db.duckdb", folder / "truth.duckdb", skus=20, days=150, seed=seed
        )
        tables = {}
        for path in (summary.db_path, summary.truth_path):
            with duckdb.connect(str(path), read_only=True) as c:
                for (name,) in c.execute(
                    "SELECT table_name FROM information_schema.tables ORDER BY 1"
                ).fetchall():
                    tables[f"{path.stem}.{name}"] = c.execute(
                        f'SELECT * FROM "{name}" ORDER BY ALL'
                    ).df()
        return tables

    first = snapshot(tmp_path / "a", seed=7)
    again = snapshot(tmp_path / "b", seed=7)
    other = snapshot(tmp_path / "c", seed=8)
    assert first.keys() == again.keys()
    for name, frame in first.items():
        pd.testing.assert_frame_equal(frame, again[name], check_exact=True, obj=name)
    differing = [n for n, f in first.items() if not f.equals(other[n])]
    assert {"db.sales", "db.products", "db.purchase_orders", "truth.true_demand"} <= set(differing)


def test_the_future_is_hidden_from_the_store(store, con, sample_db):
    today = sample_db.today
    assert store.today() == today
    for table in ("sales", "inventory"):
        assert store.scalar(f"SELECT max(date) FROM {table}") == today - timedelta(days=1)
        assert store.scalar(f"SELECT count(*) FROM {table} WHERE date >= ?", [today]) == 0
    assert store.sales(start=today).empty
    assert store.scalar("SELECT count(*) FROM purchase_orders WHERE order_date >= ?", [today]) == 0
    # The truth file holds the next 28 days for every series, and real receipts of open POs.
    future = rows(
        con, "SELECT min(date) AS lo, max(date) AS hi, count(*) AS n FROM truth.future_inventory"
    )
    series = con.execute("SELECT count(*) FROM truth.demand_patterns").fetchone()[0]
    assert (future.lo[0].date(), future.hi[0].date()) == (today, today + timedelta(days=27))
    assert future.n[0] == series * 28
    assert (
        con.execute("SELECT count(*) FROM truth.true_demand WHERE date >= ?", [today]).fetchone()[0]
        == series * 28
    )
    receipts = rows(
        con,
        """
        SELECT r.received_date, l.qty_received, l.received_date AS visible_date FROM truth.future_receipts r
        JOIN shop.po_lines l USING (po_number, line_no)""",
    )
    assert len(receipts) > 0
    assert (receipts.received_date >= pd.Timestamp(today)).all()
    assert (receipts.qty_received == 0).all() and receipts.visible_date.isna().all()


def test_meta_and_entities(store, con):
    assert {k: store.meta(k) for k in ("today", "seed", "skus", "days", "future_days")} == {
        "today": "2026-11-30",
        "seed": "7",
        "skus": "60",
        "days": "400",
        "future_days": "28",
    }
    locations = store.locations().set_index("location_id")
    assert list(locations.index) == ["BER", "HAM", "MUC"]
    assert locations.loc["HAM", "name"] == "Hamburg DC"
    assert locations.loc["BER", ["lat", "lon"]].tolist() == pytest.approx([52.52, 13.405], abs=0.01)
    suppliers = store.suppliers()
    assert len(suppliers) == 8 and suppliers.name.is_unique
    assert suppliers.lead_time_mean_days.between(4, 21).all()
    assert suppliers.contact_email.str.fullmatch(r"[a-z.]+@[a-z-]+\.[a-z]{2}").all()
    products = store.products()
    assert products.sku.iloc[0] == "SKU-00001" and products.name.is_unique
    assert set(products.case_pack) <= {1, 4, 6, 12, 24}
    assert (products.price > products.unit_cost).all()
    perishable = products.category.isin(["Pantry", "Beauty"])
    assert products.shelf_life_days[perishable].notna().all()
    assert products.shelf_life_days[~perishable].isna().all()
    patterns = rows(con, "SELECT pattern, count(*) AS n FROM truth.demand_patterns GROUP BY 1")
    assert set(patterns.pattern) == set(PATTERNS)
    stocked = store.series_keys().groupby("sku").size()
    assert 0.2 <= (stocked == 2).mean() <= 0.5  # about a third also stocked at a second DC


def test_new_launches_have_no_history_before_launch(store, con):
    launches = rows(
        con,
        """
        SELECT p.sku, p.launch_date, min(s.date) AS first_sale FROM shop.products p
        JOIN truth.demand_patterns d USING (sku) JOIN shop.sales s USING (sku, location_id)
        WHERE d.pattern = 'new_launch' GROUP BY ALL""",
    )
    assert len(launches) >= 1
    assert (launches.first_sale == launches.launch_date).all()
    assert (launches.launch_date >= pd.Timestamp(date(2026, 11, 30) - timedelta(days=150))).all()


def test_purchase_orders_are_late_short_open_and_batched(store, sample_db):
    today = pd.Timestamp(sample_db.today)
    pos = store.query("SELECT * FROM purchase_orders")
    lines = store.po_lines()
    assert pos.po_number.str.fullmatch(r"PO-\d{4,}").all()
    assert pos.po_number.min() == "PO-1000"
    assert {"open", "received"} <= set(pos.status)
    open_pos = pos[pos.status.isin(["open", "partial"])]
    assert (open_pos.promised_date < today).any()  # already late at today
    assert (open_pos.promised_date >= today).any()
    received = pos[pos.status == "received"]
    assert (received.received_date > received.promised_date).mean() > 0.05
    assert len(lines) > len(pos)  # one PO per supplier, DC and order day carries several lines
    assert lines.groupby("po_number").size().max() >= 3
    short = lines[lines.received_date.notna() & (lines.qty_received < lines.qty_ordered)]
    assert len(short) >= 3
    products = store.products().set_index("sku")
    packs = products.case_pack.reindex(lines.sku).to_numpy()
    moq = store.suppliers().set_index("supplier_id").moq.reindex(lines.supplier_id).to_numpy()
    assert (
        (lines.qty_ordered.to_numpy() % packs == 0) | (lines.qty_ordered.to_numpy() == moq)
    ).all()


def test_promotions_lift_true_demand_by_their_discount(con):
    lift = rows(
        con,
        """
        SELECT p.promo_id, p.discount_pct,
               avg(t.expected) FILTER (WHERE t.date BETWEEN p.start_date AND p.end_date) /
               avg(t.expected) FILTER (WHERE t.date < p.start_date) AS ratio
        FROM shop.promotions p
        JOIN truth.demand_patterns d ON d.sku = p.sku AND coalesce(p.location_id, d.location_id) = d.location_id
        JOIN truth.true_demand t ON t.sku = d.sku AND t.location_id = d.location_id
             AND t.date BETWEEN p.start_date - 14 AND p.end_date
        WHERE d.pattern = 'smooth' GROUP BY ALL HAVING count(*) FILTER (WHERE t.date < p.start_date) = 14""",
    )
    assert len(lift) >= 5
    # Demand lifts by 1.2 + 3.6 x discount (10% off: 1.56x, 50% off: 3x), up to weekday noise.
    relative = lift.ratio / (1.2 + 0.036 * lift.discount_pct)
    assert relative.median() == pytest.approx(1.0, abs=0.1)
    assert (lift.ratio > 1.3).all()


def test_baskets_carry_planted_complements_and_never_mix_substitutes(store, con, sample_db):
    lines = store.order_lines(start=sample_db.today - timedelta(days=90))
    baskets = lines.groupby("order_id").sku.apply(frozenset)
    groups = rows(con, "SELECT * FROM truth.basket_groups")
    for _, group in groups[groups.kind == "complement"].groupby("group_id"):
        for a, b in combinations(group.sku, 2):
            together = sum(1 for basket in baskets if a in basket and b in basket)
            assert together >= 10, (a, b)
    for _, group in groups[groups.kind == "substitute"].groupby("group_id"):
        assert len(group) >= 2
        for a, b in combinations(group.sku, 2):
            assert not any(a in basket and b in basket for basket in baskets)
        prices = store.products(skus=list(group.sku)).price
        assert prices.max() / prices.min() < 1.35  # similar price


def test_deliveries_are_ready_for_routing(store, sample_db):
    for location in store.locations().itertuples():
        for ahead in range(3):
            stops = store.deliveries(sample_db.today + timedelta(days=ahead), location.location_id)
            assert 25 <= len(stops) <= 60
            assert stops.customer_id.is_unique
            km = [_haversine(location.lat, location.lon, s.lat, s.lon) for s in stops.itertuples()]
            assert max(km) <= 40
            windowed = stops.tw_start_min.notna()
            assert 0.2 <= windowed.mean() <= 0.8
            assert (stops.tw_end_min[windowed] > stops.tw_start_min[windowed]).all()
            assert (stops.weight_kg > 0).all()


def test_a_failed_write_leaves_existing_files_untouched(tmp_path, monkeypatch):
    from tools.store.simulate import writing

    db, truth = tmp_path / "db.duckdb", tmp_path / "truth.duckdb"
    generate(db, truth, skus=15, days=130)
    before = (db.read_bytes(), truth.read_bytes())

    def broken(*_args, **_kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(writing, "write_truth", broken)
    with pytest.raises(OSError, match="disk full"):
        generate(db, truth, skus=15, days=130, seed=99)
    assert (db.read_bytes(), truth.read_bytes()) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["db.duckdb", "truth.duckdb"]


def test_bad_arguments_are_refused_with_the_argument_named(tmp_path):
    for kwargs, word in (
        ({"skus": 3}, "skus"),
        ({"days": 30}, "days"),
        ({"locations": 99}, "locations"),
    ):
        with pytest.raises(ValueError, match=word):
            generate(tmp_path / "a.duckdb", tmp_path / "b.duckdb", **kwargs)
    with pytest.raises(ValueError, match="truth_path"):
        generate(tmp_path / "a.duckdb", tmp_path / "a.duckdb")
    assert list(tmp_path.iterdir()) == []


def _haversine(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    a = (
        math.sin((p2 - p1) / 2) ** 2
        + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    )
    return 2 * 6371 * math.asin(math.sqrt(a))
