"""Synthetic supply-chain history with a hidden ground truth.

``generate`` writes two DuckDB files from one seed: the visible store (schema.sql: what a
shop system would hold up to yesterday) and a separate truth file (truth.sql: true demand,
demand patterns, labelled anomalies, planted basket structure and the hidden future) that
only tests and benchmarks read. Work is vectorised over series; only the stock simulation
loops over days, because today's stock depends on yesterday's.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

from tools.store.db import Store

TRUTH_SCHEMA = Path(__file__).with_name("truth.sql")
PATTERNS = ("smooth", "seasonal", "trending", "intermittent", "lumpy", "new_launch")
PATTERN_SHARE = (0.30, 0.18, 0.12, 0.18, 0.10, 0.12)
ANOMALY_KINDS = ("demand_spike", "demand_drop", "data_error", "supplier_delay", "shrinkage")
BASKET_DAYS = 90  # baskets cover the last quarter: enough for co-occurrence, cheap to store
ARRIVAL_PAD = 90  # days after the horizon that late arrivals may still land on
LATE_LABEL_DAYS = 7  # a PO this many days past its promised date is a labelled supplier delay
DEFAULT_TODAY = date(2026, 11, 30)  # fixed, so that sample data is reproducible

# (id, name, city, lat, lon, relative size)
LOCATIONS = (
    ("BER", "Berlin DC", "Berlin", 52.5200, 13.4050, 1.0),
    ("HAM", "Hamburg DC", "Hamburg", 53.5511, 9.9937, 0.8),
    ("MUC", "Munich DC", "Munich", 48.1351, 11.5820, 0.9),
    ("FRA", "Frankfurt DC", "Frankfurt", 50.1109, 8.6821, 0.7),
    ("CGN", "Cologne DC", "Cologne", 50.9375, 6.9603, 0.7),
    ("STR", "Stuttgart DC", "Stuttgart", 48.7758, 9.1829, 0.6),
    ("LEJ", "Leipzig DC", "Leipzig", 51.3397, 12.3731, 0.5),
    ("HAJ", "Hanover DC", "Hanover", 52.3759, 9.7320, 0.5),
    ("NUE", "Nuremberg DC", "Nuremberg", 49.4521, 11.0767, 0.5),
    ("DRS", "Dresden DC", "Dresden", 51.0504, 13.7373, 0.4),
    ("DTM", "Dortmund DC", "Dortmund", 51.5136, 7.4653, 0.5),
    ("BRE", "Bremen DC", "Bremen", 53.0793, 8.8017, 0.4),
)


@dataclass(frozen=True)
class Category:
    items: tuple[tuple[str, float, float], ...]  # (item, base price EUR, weight kg)
    qualifiers: tuple[str, ...]
    variants: tuple[str, ...]
    trade: str  # what its suppliers call themselves
    peak_day: int | None = None  # day of year of the seasonal peak
    shelf_life: tuple[int, int] | None = None  # days, for perishables


# Catalogue data reads best one row per line, so the formatter leaves it alone.
# fmt: off
CATEGORIES: dict[str, Category] = {
    "Kitchen": Category(
        (
            ("Frying Pan", 34, 1.4), ("Silicone Spatula", 8, 0.1), ("French Press", 29, 0.8),
            ("Coffee Grinder", 39, 1.1), ("Chef's Knife", 45, 0.3), ("Cutting Board", 19, 1.0),
            ("Knife Sharpener", 15, 0.3), ("Baking Tray", 14, 0.6), ("Oven Mitts", 11, 0.2),
            ("Saucepan", 32, 1.2), ("Mixing Bowl Set", 24, 1.3), ("Electric Kettle", 38, 1.1),
            ("Salad Spinner", 21, 0.7),
        ),
        (
            "Classic", "Pro", "Nordic", "Essential", "Premium", "Compact", "Heritage",
            "Urban", "Chef", "Everyday", "Artisan", "Studio",
        ),
        ("Black", "Graphite", "Red", "White", "Sage", "Copper", "Small", "Large"),
        "Kitchenware", peak_day=340,
    ),
    "Home Textiles": Category(
        (
            ("Duvet Cover", 49, 1.2), ("Pillowcase Set", 19, 0.4), ("Fitted Sheet", 25, 0.6),
            ("Bath Towel", 16, 0.6), ("Hand Towel", 8, 0.25), ("Bath Mat", 14, 0.5),
            ("Throw Blanket", 35, 1.0), ("Curtain Panel", 29, 1.1), ("Cushion Cover", 12, 0.2),
            ("Table Runner", 15, 0.3), ("Kitchen Towel Set", 10, 0.3), ("Blackout Curtain", 39, 1.5),
        ),
        (
            "Linen", "Organic Cotton", "Waffle", "Jersey", "Percale", "Velvet", "Soft",
            "Nordic", "Classic", "Premium", "Striped", "Herringbone",
        ),
        ("Sand", "Navy", "Grey", "White", "Terracotta", "Olive", "135x200", "155x220"),
        "Textiles", peak_day=315,
    ),
    "Garden": Category(
        (
            ("Garden Hose 25m", 32, 3.0), ("Hose Nozzle", 9, 0.2), ("Potting Soil 40L", 8, 18.0),
            ("Plant Pot", 12, 1.2), ("Watering Can", 15, 0.8), ("Pruning Shears", 22, 0.3),
            ("Gardening Gloves", 9, 0.15), ("Barbecue Tongs", 12, 0.3), ("Bird Feeder", 18, 0.7),
            ("Solar Path Light", 14, 0.4), ("Lawn Seed 1kg", 13, 1.0), ("Raised Bed Kit", 79, 14.0),
            ("Garden Kneeler", 19, 0.9),
        ),
        (
            "Green Thumb", "Classic", "Pro", "Eco", "Heavy-Duty", "Compact", "Terra",
            "Meadow", "Urban", "Premium", "Garden Line", "Nordic",
        ),
        ("Green", "Anthracite", "Terracotta", "Small", "Medium", "Large", "Stone", "Black"),
        "Garden Supply", peak_day=135,
    ),
    "Toys": Category(
        (
            ("Wooden Train Set", 39, 1.5), ("Train Track Extension", 15, 0.6), ("Puzzle 1000 Pieces", 17, 0.7),
            ("Puzzle Mat", 14, 0.5), ("Remote Control Car", 45, 0.9), ("Building Blocks Set", 29, 1.0),
            ("Plush Bear", 19, 0.3), ("Board Game", 29, 1.0), ("Card Game", 11, 0.2),
            ("Craft Kit", 16, 0.6), ("Doll House", 69, 4.0), ("Marble Run", 34, 1.4),
        ),
        (
            "Happy", "Little Explorer", "Classic", "Wonder", "Junior", "Rainbow", "Adventure",
            "Smart", "Wooden", "Mini", "Deluxe", "Star",
        ),
        ("Blue", "Red", "Yellow", "Ages 3+", "Ages 6+", "Ages 8+", "Green", "Pastel"),
        "Toys", peak_day=350,
    ),
    "Electronics Accessories": Category(
        (
            ("Phone Case", 15, 0.05), ("Screen Protector", 9, 0.03), ("USB-C Charger 65W", 29, 0.2),
            ("USB-C Cable 2m", 11, 0.08), ("Wireless Mouse", 22, 0.1), ("Mouse Pad", 8, 0.15),
            ("AA Batteries 8-Pack", 7, 0.2), ("Power Bank 10000mAh", 29, 0.25), ("Bluetooth Earbuds", 49, 0.1),
            ("HDMI Cable", 10, 0.12), ("Laptop Sleeve", 24, 0.3), ("Webcam Cover", 5, 0.01),
        ),
        (
            "Volt", "Pro", "Slim", "Ultra", "Everyday", "Tech", "Flex",
            "Max", "Core", "Nano", "Prime", "Go",
        ),
        ("Black", "White", "Grey", "Blue", "for iPhone 15", "for Galaxy S24", "Matte", "Clear"),
        "Electronics", peak_day=345,
    ),
    "Pet Supplies": Category(
        (
            ("Dog Leash", 14, 0.2), ("Dog Collar", 11, 0.1), ("Cat Litter 10L", 9, 6.0),
            ("Litter Scoop", 5, 0.1), ("Dry Dog Food 2kg", 16, 2.0), ("Dog Bowl", 9, 0.4),
            ("Cat Scratching Post", 29, 3.5), ("Cat Treats", 3, 0.1), ("Dog Bed", 39, 2.0),
            ("Chew Toy", 7, 0.15), ("Bird Seed 1kg", 5, 1.0), ("Aquarium Filter", 25, 0.6),
        ),
        (
            "Happy Paws", "Wild", "Nordic", "Classic", "Premium", "Comfort", "Active",
            "Natural", "Buddy", "Furry", "Tail", "Den",
        ),
        ("S", "M", "L", "Red", "Blue", "Brown", "Salmon", "Chicken"),
        "Pet Products",
    ),
    "Beauty": Category(
        (
            ("Shampoo 250ml", 6, 0.3), ("Conditioner 250ml", 6, 0.3), ("Face Cream 50ml", 18, 0.1),
            ("Facial Cleanser", 11, 0.2), ("Hand Cream", 5, 0.1), ("Body Lotion", 8, 0.3),
            ("Lip Balm", 3, 0.02), ("Sunscreen SPF50", 12, 0.2), ("Shower Gel", 4, 0.3),
            ("Hair Oil", 14, 0.1), ("Face Mask", 7, 0.05), ("Deodorant", 4, 0.1),
        ),
        (
            "Pure", "Aloe", "Botanic", "Sensitive", "Hydra", "Argan", "Fresh",
            "Velvet", "Derma", "Green Tea", "Shea", "Rose",
        ),
        ("Normal Skin", "Dry Skin", "Unscented", "Citrus", "Lavender", "Travel Size", "Men", "Family Size"),
        "Cosmetics", peak_day=190, shelf_life=(365, 1095),
    ),
    "Office": Category(
        (
            ("Notebook A5", 7, 0.3), ("Gel Pens 10-Pack", 9, 0.1), ("Stapler", 12, 0.3),
            ("Staples Box", 3, 0.1), ("Printer Paper A4", 6, 2.5), ("Desk Organizer", 19, 0.8),
            ("Sticky Notes", 4, 0.1), ("Ring Binder", 4, 0.4), ("Desk Lamp", 35, 1.2),
            ("Whiteboard Markers", 8, 0.1), ("Calculator", 14, 0.2), ("Label Printer", 59, 0.8),
        ),
        (
            "Office Pro", "Classic", "Smart", "Eco", "Studio", "Focus", "Campus",
            "Executive", "Minimal", "Colour", "Bright", "Daily",
        ),
        ("Black", "Blue", "Assorted", "Ruled", "Dotted", "Recycled", "Pack of 5", "Grey"),
        "Office Supplies", peak_day=245,
    ),
    "Sports": Category(
        (
            ("Tennis Racket", 69, 0.3), ("Tennis Balls 4-Pack", 8, 0.25), ("Yoga Mat", 29, 1.2),
            ("Yoga Block", 12, 0.3), ("Gym Bag", 35, 0.8), ("Water Bottle", 15, 0.3),
            ("Resistance Bands", 16, 0.3), ("Dumbbell Set", 49, 10.0), ("Running Socks", 12, 0.1),
            ("Jump Rope", 9, 0.2), ("Football", 22, 0.45), ("Foam Roller", 19, 0.5),
        ),
        (
            "Active", "Pro", "Endurance", "Flex", "Peak", "Core", "Sprint",
            "Trail", "Power", "Balance", "Summit", "Velocity",
        ),
        ("Black", "Blue", "Neon", "Size 39-42", "Size 43-46", "Light", "Heavy", "Grey"),
        "Sports", peak_day=20,
    ),
    "Pantry": Category(
        (
            ("Coffee Beans 1kg", 16, 1.0), ("Pasta 500g", 2, 0.5), ("Tomato Sauce", 3, 0.5),
            ("BBQ Sauce", 4, 0.5), ("Olive Oil 750ml", 11, 0.9), ("Green Tea 50 Bags", 5, 0.15),
            ("Honey 500g", 7, 0.6), ("Granola 750g", 5, 0.8), ("Dark Chocolate", 3, 0.1),
            ("Basmati Rice 1kg", 4, 1.0), ("Peanut Butter", 4, 0.4), ("Sea Salt", 3, 0.5),
        ),
        (
            "Organic", "Bella", "Alpine", "Golden", "Nordic", "Farmhouse", "Classic",
            "Finest", "Bio", "Sunny", "Rustic", "Heritage",
        ),
        ("Original", "Mild", "Intense", "Family Pack", "Single", "Multipack", "Fairtrade", "Vegan"),
        "Foods", peak_day=355, shelf_life=(90, 720),
    ),
}
CATEGORY_NAMES = tuple(CATEGORIES)

# Items customers buy together; each planted complement group is one of these kits.
KITS = (
    (("Kitchen", "Frying Pan"), ("Kitchen", "Silicone Spatula")),
    (("Kitchen", "French Press"), ("Kitchen", "Coffee Grinder"), ("Pantry", "Coffee Beans 1kg")),
    (("Kitchen", "Chef's Knife"), ("Kitchen", "Cutting Board"), ("Kitchen", "Knife Sharpener")),
    (("Kitchen", "Baking Tray"), ("Kitchen", "Oven Mitts")),
    (("Home Textiles", "Duvet Cover"), ("Home Textiles", "Pillowcase Set"), ("Home Textiles", "Fitted Sheet")),
    (("Home Textiles", "Bath Towel"), ("Home Textiles", "Hand Towel"), ("Home Textiles", "Bath Mat")),
    (("Garden", "Garden Hose 25m"), ("Garden", "Hose Nozzle")),
    (("Garden", "Potting Soil 40L"), ("Garden", "Plant Pot"), ("Garden", "Watering Can")),
    (("Garden", "Pruning Shears"), ("Garden", "Gardening Gloves")),
    (("Garden", "Barbecue Tongs"), ("Pantry", "BBQ Sauce")),
    (("Toys", "Wooden Train Set"), ("Toys", "Train Track Extension")),
    (("Toys", "Puzzle 1000 Pieces"), ("Toys", "Puzzle Mat")),
    (("Toys", "Remote Control Car"), ("Electronics Accessories", "AA Batteries 8-Pack")),
    (("Electronics Accessories", "Phone Case"), ("Electronics Accessories", "Screen Protector")),
    (("Electronics Accessories", "USB-C Charger 65W"), ("Electronics Accessories", "USB-C Cable 2m")),
    (("Electronics Accessories", "Wireless Mouse"), ("Electronics Accessories", "Mouse Pad")),
    (("Pet Supplies", "Dog Leash"), ("Pet Supplies", "Dog Collar")),
    (("Pet Supplies", "Cat Litter 10L"), ("Pet Supplies", "Litter Scoop")),
    (("Pet Supplies", "Dry Dog Food 2kg"), ("Pet Supplies", "Dog Bowl")),
    (("Beauty", "Shampoo 250ml"), ("Beauty", "Conditioner 250ml")),
    (("Beauty", "Face Cream 50ml"), ("Beauty", "Facial Cleanser")),
    (("Office", "Notebook A5"), ("Office", "Gel Pens 10-Pack")),
    (("Office", "Stapler"), ("Office", "Staples Box")),
    (("Sports", "Tennis Racket"), ("Sports", "Tennis Balls 4-Pack")),
    (("Sports", "Yoga Mat"), ("Sports", "Yoga Block")),
    (("Sports", "Gym Bag"), ("Sports", "Water Bottle")),
    (("Pantry", "Pasta 500g"), ("Pantry", "Tomato Sauce")),
)

# country: (name stems, legal forms, e-mail domain suffix, lead time range in days, share)
SUPPLIER_COUNTRIES = {
    "Germany": (
        (
            "Nordwind", "Rheintal", "Hansa", "Elbtal", "Bavaria", "Schwarzwald", "Isartal", "Weser",
            "Harz", "Taunus", "Mosel", "Ostsee", "Nordsee", "Spree", "Lindenhof", "Bergland",
            "Sonnenfeld", "Adler", "Falken", "Eichen", "Kristall", "Brenner", "Lausitz", "Eifel",
            "Allgäu", "Havel", "Main", "Neckar",
        ),
        ("GmbH", "AG", "GmbH & Co. KG", "KG"), "de", (4, 10), 0.48,
    ),
    "Austria": (
        (
            "Alpine", "Tirol", "Wiener", "Donau", "Salzach", "Kärnten",
        ),
        ("GmbH", "AG"), "at", (5, 11), 0.08,
    ),
    "Netherlands": (
        (
            "Delta", "Van der Berg", "Polder", "Oranje", "Zeeland",
        ),
        ("B.V.",), "nl", (6, 13), 0.08,
    ),
    "Poland": (
        (
            "Wisla", "Mazury", "Baltyk", "Tatra", "Odra",
        ),
        ("Sp. z o.o.",), "pl", (6, 14), 0.1,
    ),
    "Czechia": (
        (
            "Vltava", "Morava", "Krkonose", "Sumava",
        ),
        ("s.r.o.",), "cz", (6, 13), 0.07,
    ),
    "Italy": (
        (
            "Bellavista", "Lombarda", "Toscana", "Adriatica", "Dolomiti",
        ),
        ("S.r.l.", "S.p.A."), "it", (8, 16), 0.08,
    ),
    "China": (
        (
            "Ningbo Ocean", "Shenzhen Bright", "Yiwu Star", "Xiamen Harbour", "Guangzhou Pearl",
        ),
        ("Co., Ltd.",), "cn", (14, 21), 0.11,
    ),
}
FIRST_NAMES = (
    "Anna", "Lukas", "Marie", "Jonas", "Sophie", "Felix", "Laura", "Paul", "Lea", "Maximilian",
    "Julia", "Elias", "Hannah", "Noah", "Clara", "Tobias", "Eva", "Jan", "Katarzyna", "Piotr",
    "Giulia", "Marco", "Pieter", "Femke", "Tomas", "Wei", "Li",
)
LAST_NAMES = (
    "Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Wagner", "Becker", "Hoffmann", "Koch", "Richter",
    "Klein", "Wolf", "Neumann", "Schwarz", "Braun", "Zimmermann", "Kowalski", "Nowak", "Rossi", "Bianchi",
    "de Vries", "Jansen", "Novak", "Svoboda", "Zhang", "Chen",
)
# fmt: on


@dataclass(frozen=True)
class SimulationSummary:
    """What ``generate`` wrote, with headline properties of the data."""

    db_path: Path
    truth_path: Path
    today: date
    seed: int
    skus: int
    days: int
    locations: int
    series: int
    rows: dict[str, int]  # visible tables
    truth_rows: dict[str, int]
    stockout_rate: float  # share of history series-days that end with zero stock
    anomalies: dict[str, int]  # labels per kind
    seconds: float  # wall time, reported only (never written into the data)

    @property
    def total_rows(self) -> int:
        return sum(self.rows.values()) + sum(self.truth_rows.values())


@dataclass
class _Catalog:
    locations: pd.DataFrame
    suppliers: pd.DataFrame
    products: pd.DataFrame
    category: np.ndarray  # per SKU: index into CATEGORY_NAMES
    supplier: np.ndarray  # per SKU: supplier index
    home: np.ndarray  # per SKU: location index
    weight: np.ndarray  # per SKU: kg per unit
    volume: np.ndarray  # per SKU: m3 per unit
    groups: pd.DataFrame  # planted basket structure: group_id, kind, sku index


@dataclass
class _Series:
    sku: np.ndarray  # SKU index per series, sorted by (sku, location)
    loc: np.ndarray
    pattern: np.ndarray  # index into PATTERNS
    launch: np.ndarray  # day index of launch (negative: before the history starts)
    level: np.ndarray  # typical daily demand
    rate: np.ndarray  # share of days with demand (1 for steady patterns)
    size: np.ndarray  # mean demand on a day with demand


@dataclass
class _Stock:
    sales: np.ndarray  # (T, n) true sales
    on_hand: np.ndarray  # (T, n) end-of-day stock
    lost: np.ndarray  # (T, n) unmet demand
    orders: dict[
        str, np.ndarray
    ]  # one entry per order line: day, series, qty, qty_received, arrival
    lead_promised: np.ndarray  # per supplier
    shrink: list[tuple[int, int, int]] = field(default_factory=list)  # (day, series, units)


def generate(
    db_path: str | Path,
    truth_path: str | Path,
    skus: int = 300,
    days: int = 730,
    seed: int = 7,
    today: date = DEFAULT_TODAY,
    locations: int = 3,
    future_days: int = 28,
    progress: Callable[[str], None] | None = None,
) -> SimulationSummary:
    """Simulate ``days`` of history before ``today`` and write the visible and truth databases.

    Both files are built under temporary names and moved into place at the end, so a failure
    never leaves half-written data behind. The same arguments give identical tables.
    """
    _check_arguments(skus, days, locations, future_days)
    db_path, truth_path = Path(db_path), Path(truth_path)
    if db_path.resolve() == truth_path.resolve():
        raise ValueError("truth_path: must differ from db_path, the truth must stay separate")
    say = progress or (lambda _message: None)
    started = time.perf_counter()
    streams = [np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(6)]
    rng_catalog, rng_demand, rng_stock, rng_anomaly, rng_orders, rng_promo = streams

    say(f"catalog: {skus} SKUs, {locations} locations")
    start = today - timedelta(days=days)
    horizon = days + future_days
    catalog = _make_catalog(rng_catalog, skus, locations)
    series = _make_series(rng_catalog, catalog, locations, days, start)
    promotions, lift = _make_promotions(rng_promo, catalog, series, horizon, start)

    say(f"demand: {len(series.sku)} series x {horizon} days")
    expected, demand = _make_demand(rng_demand, catalog, series, lift, horizon, start, days)
    del lift
    labels: list[dict] = []
    targets = _anomaly_targets(rng_anomaly, series, days)
    _inject_demand_anomalies(rng_anomaly, targets, expected, demand, labels)

    say("stock: replenishment and sales, day by day")
    stock = _simulate_stock(rng_stock, catalog, series, demand, start, days, targets["shrinkage"])
    labels += [_label("shrinkage", s, t, t, units) for t, s, units in stock.shrink]
    pos, lines, receipts, delays = _purchase_orders(catalog, series, stock, days, start)
    labels += delays
    rec_sales, rec_on_hand = _record_errors(rng_anomaly, targets, stock, days, labels)

    say("customer orders: baskets and deliveries")
    orders, order_lines = _customer_orders(rng_orders, catalog, series, today)

    say("tables: long-format frames for both files")
    history = _series_keys(catalog, series, start, 0, days)
    tables = {
        "meta": pd.DataFrame(
            {
                "key": ["today", "seed", "skus", "days", "future_days", "locations", "generator"],
                "value": [
                    today.isoformat(),
                    str(seed),
                    str(skus),
                    str(days),
                    str(future_days),
                    str(locations),
                    "tools.store.simulate",
                ],
            }
        ),
        "suppliers": catalog.suppliers,
        "locations": catalog.locations,
        "products": catalog.products,
        "promotions": promotions,
        "purchase_orders": pos,
        "po_lines": lines,
        "customer_orders": orders,
        "customer_order_lines": order_lines,
        "sales": _series_frame(history, {"units": rec_sales}),
        "inventory": _series_frame(
            history, {"on_hand": rec_on_hand, "allocated": _allocated(rng_stock, rec_on_hand)}
        ),
    }
    truth = _truth_tables(
        catalog, series, start, days, horizon, expected, demand, stock, receipts, labels
    )
    say("writing databases")
    tmp_db, tmp_truth = _temp_path(db_path), _temp_path(truth_path)
    try:
        rows = _write_visible(tmp_db, tables)
        truth_rows = _write_truth(tmp_truth, truth)
        _publish(tmp_truth, truth_path)
        _publish(tmp_db, db_path)
    except BaseException:
        _remove(tmp_db)
        _remove(tmp_truth)
        raise
    hist = stock.on_hand[:days]
    active = np.arange(days)[:, None] >= series.launch[None, :]
    kinds = [lab["kind"] for lab in labels]
    return SimulationSummary(
        db_path=db_path,
        truth_path=truth_path,
        today=today,
        seed=seed,
        skus=skus,
        days=days,
        locations=locations,
        series=len(series.sku),
        rows=rows,
        truth_rows=truth_rows,
        stockout_rate=round(float(((hist <= 0) & active).sum() / active.sum()), 4),
        anomalies={k: kinds.count(k) for k in ANOMALY_KINDS},
        seconds=round(time.perf_counter() - started, 2),
    )


def _check_arguments(skus: int, days: int, locations: int, future_days: int) -> None:
    if skus < 10:
        raise ValueError(f"skus: need at least 10, got {skus}")
    if days < BASKET_DAYS + 30:
        raise ValueError(f"days: need at least {BASKET_DAYS + 30} days of history, got {days}")
    if not 1 <= locations <= len(LOCATIONS):
        raise ValueError(f"locations: between 1 and {len(LOCATIONS)}, got {locations}")
    if not 1 <= future_days <= 365:
        raise ValueError(f"future_days: between 1 and 365, got {future_days}")


# -- catalog ------------------------------------------------------------------------------


def _make_catalog(rng: np.random.Generator, skus: int, n_loc: int) -> _Catalog:
    locations = pd.DataFrame(
        [(i, n, c, "dc", la, lo) for i, n, c, la, lo, _ in LOCATIONS[:n_loc]],
        columns=["location_id", "name", "city", "kind", "lat", "lon"],
    )
    loc_weight = np.array([w for *_, w in LOCATIONS[:n_loc]])
    loc_weight = loc_weight / loc_weight.sum()
    suppliers, supplier_category = _make_suppliers(rng, max(8, skus // 40))

    # Planted basket structure first, so that every dataset, however small, carries it.
    rows: list[tuple[int, str, int]] = []  # (category index, item, home location)
    groups: list[tuple[int, str, int]] = []  # (group id, kind, row index)
    n_comp, n_sub = max(2, skus // 20), max(1, skus // 30)
    while n_comp * 2.4 + n_sub * 2.5 > 0.6 * skus and n_comp > 1:
        n_comp, n_sub = n_comp - 1, max(1, n_sub - (n_comp % 2))
    kit_order = rng.permutation(len(KITS))
    for g in range(n_comp):
        home = int(rng.choice(n_loc, p=loc_weight))
        for cat, item in KITS[kit_order[g % len(KITS)]]:
            groups.append((g + 1, "complement", len(rows)))
            rows.append((CATEGORY_NAMES.index(cat), item, home))
    sub_group: dict[int, int] = {}  # row -> substitute group id
    for g in range(n_sub):
        cat = int(rng.integers(len(CATEGORY_NAMES)))
        item = CATEGORIES[CATEGORY_NAMES[cat]].items[
            int(rng.integers(len(CATEGORIES[CATEGORY_NAMES[cat]].items)))
        ][0]
        home = int(rng.choice(n_loc, p=loc_weight))
        for _ in range(int(rng.integers(2, 4))):
            groups.append((n_comp + g + 1, "substitute", len(rows)))
            sub_group[len(rows)] = n_comp + g + 1
            rows.append((cat, item, home))
    while len(rows) < skus:
        cat = int(rng.integers(len(CATEGORY_NAMES)))
        items = CATEGORIES[CATEGORY_NAMES[cat]].items
        rows.append(
            (cat, items[int(rng.integers(len(items)))][0], int(rng.choice(n_loc, p=loc_weight)))
        )

    # SKU numbers are shuffled so planted groups do not sit next to each other.
    order = rng.permutation(skus)  # order[k] = row that becomes SKU k
    position = np.empty(skus, dtype=np.int64)
    position[order] = np.arange(skus)
    cat = np.array([rows[r][0] for r in order])
    items = [rows[r][1] for r in order]
    home = np.array([rows[r][2] for r in order])
    width = max(5, len(str(skus)))
    sku_ids = [f"SKU-{k + 1:0{width}d}" for k in range(skus)]

    names = _product_names(rng, cat, items)
    facts = {
        (c, i): (p, w) for c, n in enumerate(CATEGORY_NAMES) for i, p, w in CATEGORIES[n].items
    }
    base, kg = np.array([facts[c, it] for c, it in zip(cat, items, strict=True)]).T
    price_factor = np.exp(rng.normal(0, 0.25, skus))
    # Substitutes sit within a few percent of each other's price.
    group_factor = np.exp(rng.normal(0, 0.2, n_comp + n_sub + 2))
    for r, g in sub_group.items():
        price_factor[position[r]] = group_factor[g] * rng.uniform(0.95, 1.05)
    price = np.maximum(1.49, np.round(base * price_factor) - 0.01)
    unit_cost = np.round(price * rng.uniform(0.35, 0.6, skus), 2)
    case_pack = np.where(
        price < 10,
        rng.choice([6, 12, 24], skus),
        np.where(price < 40, rng.choice([1, 4, 6, 12], skus), rng.choice([1, 4], skus)),
    )
    shelf = np.full(skus, np.nan)
    for c, name in enumerate(CATEGORY_NAMES):
        life = CATEGORIES[name].shelf_life
        mask = cat == c
        if life is not None:
            shelf[mask] = rng.integers(life[0], life[1] + 1, mask.sum())
    supplier = np.empty(skus, dtype=np.int64)
    for c in range(len(CATEGORY_NAMES)):
        mask = cat == c
        pool = np.flatnonzero(supplier_category == c)
        if pool.size == 0:  # fewer suppliers than categories: the wholesaler covers the rest
            pool = np.flatnonzero(supplier_category == -1)
        supplier[mask] = rng.choice(pool, mask.sum())
    products = pd.DataFrame(
        {
            "sku": sku_ids,
            "name": names,
            "category": [CATEGORY_NAMES[c] for c in cat],
            "unit_cost": unit_cost,
            "price": price,
            "case_pack": case_pack.astype(np.int32),
            "shelf_life_days": pd.array(shelf, dtype="Int32"),
            "supplier_id": suppliers.supplier_id.to_numpy()[supplier],
            "launch_date": None,  # filled once patterns are drawn
        }
    )
    group_frame = pd.DataFrame(groups, columns=["group_id", "kind", "row"])
    group_frame["sku"] = position[group_frame.pop("row").to_numpy()]
    return _Catalog(
        locations=locations,
        suppliers=suppliers,
        products=products,
        category=cat,
        supplier=supplier,
        home=home,
        weight=kg * rng.uniform(0.8, 1.2, skus),
        volume=kg * rng.uniform(0.002, 0.008, skus) + 0.0005,
        groups=group_frame,
    )


def _product_names(rng: np.random.Generator, cat: np.ndarray, items: list[str]) -> list[str]:
    """'<qualifier> <item>, <variant>', unique: each item draws from its own shuffled combos."""
    pools: dict[tuple[int, str], list[str]] = {}
    names = []
    for c, item in zip(cat, items, strict=True):
        key = (int(c), item)
        if key not in pools:
            spec = CATEGORIES[CATEGORY_NAMES[c]]
            combos = [f"{q} {item}, {v}" for q in spec.qualifiers for v in spec.variants]
            pools[key] = [combos[i] for i in rng.permutation(len(combos))]
        pool = pools[key]
        names.append(pool.pop() if pool else f"{item} #{len(names) + 1}")
    return names


def _make_suppliers(rng: np.random.Generator, n: int) -> tuple[pd.DataFrame, np.ndarray]:
    countries = list(SUPPLIER_COUNTRIES)
    share = np.array([SUPPLIER_COUNTRIES[c][4] for c in countries])
    taken: set[str] = set()
    records, categories = [], []
    for i in range(n):
        cat = i % len(CATEGORY_NAMES)
        if n < len(CATEGORY_NAMES) and i == n - 1:  # too few suppliers for one per category
            cat = -1
        trade = CATEGORIES[CATEGORY_NAMES[cat]].trade if cat >= 0 else "Wholesale"
        country = countries[int(rng.choice(len(countries), p=share / share.sum()))]
        stems, forms, tld, (lo, hi), _ = SUPPLIER_COUNTRIES[country]
        free = [s for s in stems if f"{s} {trade}" not in taken]
        if not free:  # this country's stems are used up for this trade: fall back to Germany
            country = "Germany"
            stems, forms, tld, (lo, hi), _ = SUPPLIER_COUNTRIES[country]
            free = [s for s in stems if f"{s} {trade}" not in taken] or [
                f"{stems[i % len(stems)]} {i}"
            ]
        stem = free[int(rng.integers(len(free)))]
        taken.add(f"{stem} {trade}")
        name = f"{stem} {trade} {forms[int(rng.integers(len(forms)))]}"
        first = FIRST_NAMES[int(rng.integers(len(FIRST_NAMES)))]
        last = LAST_NAMES[int(rng.integers(len(LAST_NAMES)))]
        domain = _ascii(f"{stem}-{trade}").lower().replace(" ", "-")
        mean = float(rng.integers(lo * 2, hi * 2 + 1)) / 2
        records.append(
            {
                "supplier_id": f"SUP-{i + 1:03d}",
                "name": name,
                "contact_name": f"{first} {last}",
                "contact_email": f"{_ascii(first).lower()}.{_ascii(last).lower().replace(' ', '')}@{domain}.{tld}",
                "country": country,
                "lead_time_mean_days": mean,
                "lead_time_sd_days": round(mean * float(rng.uniform(0.1, 0.3)), 1),
                "moq": int(rng.choice([1, 6, 12, 24, 48])),
                "on_time_rate": round(float(rng.uniform(0.72, 0.97)), 2),
            }
        )
        categories.append(cat)
    frame = pd.DataFrame(records)
    frame["moq"] = frame.moq.astype(np.int32)
    return frame, np.array(categories)


def _ascii(text: str) -> str:
    for a, b in (
        ("ä", "ae"),
        ("ö", "oe"),
        ("ü", "ue"),
        ("ß", "ss"),
        ("Ä", "Ae"),
        ("Ö", "Oe"),
        ("Ü", "Ue"),
    ):
        text = text.replace(a, b)
    return "".join(ch for ch in text if ch.isascii() and (ch.isalnum() or ch in " -"))


# -- series and demand ----------------------------------------------------------------------


def _make_series(
    rng: np.random.Generator, catalog: _Catalog, n_loc: int, days: int, start: date
) -> _Series:
    """One series per SKU at its home location, plus a second location for about a third."""
    skus = len(catalog.home)
    planted = np.zeros(skus, dtype=bool)
    planted[catalog.groups.sku.to_numpy()] = True
    pattern = rng.choice(len(PATTERNS), skus, p=PATTERN_SHARE)
    new = PATTERNS.index("new_launch")
    pattern[planted & (pattern == new)] = PATTERNS.index("smooth")  # baskets need a past
    launch = np.where(
        pattern == new,
        days - rng.integers(20, min(150, days - 30) + 1, skus),
        -rng.integers(30, 1500, skus),
    )
    catalog.products["launch_date"] = [start + timedelta(days=int(x)) for x in launch]

    level = np.exp(rng.normal(np.log(6.0), 0.8, skus)).clip(0.8, 80)
    rate = np.ones(skus)
    size = level.copy()
    sparse = pattern == PATTERNS.index("intermittent")
    rate[sparse] = rng.uniform(0.08, 0.35, sparse.sum())
    size[sparse] = 1 + rng.uniform(0.2, 1.5, sparse.sum())
    lumpy = pattern == PATTERNS.index("lumpy")
    rate[lumpy] = rng.uniform(0.04, 0.15, lumpy.sum())
    size[lumpy] = rng.uniform(5, 25, lumpy.sum())
    level = np.where(sparse | lumpy, rate * size, level)

    second = (rng.random(skus) < 0.35) & (n_loc > 1)
    other = (catalog.home + rng.integers(1, max(2, n_loc), skus)) % max(1, n_loc)
    share = rng.uniform(0.3, 0.8, skus)  # the second location sells less
    sku = np.concatenate([np.arange(skus), np.flatnonzero(second)])
    loc = np.concatenate([catalog.home, other[second]])
    scale = np.concatenate([np.ones(skus), share[second]])
    order = np.lexsort((loc, sku))
    sku, loc, scale = sku[order], loc[order], scale[order]
    sparse_series = (sparse | lumpy)[sku]
    return _Series(
        sku=sku,
        loc=loc,
        pattern=pattern[sku],
        launch=launch[sku],
        level=level[sku] * scale,
        rate=np.where(sparse_series, rate[sku] * scale, 1.0),
        size=size[sku],
    )


def _make_promotions(
    rng: np.random.Generator, catalog: _Catalog, series: _Series, horizon: int, start: date
) -> tuple[pd.DataFrame, np.ndarray]:
    """A promotions calendar (past and planned) and the demand lift it causes per series-day."""
    skus = len(catalog.home)
    lift = np.ones((horizon, len(series.sku)), dtype=np.float32)
    first = np.searchsorted(series.sku, np.arange(skus))
    last = np.searchsorted(series.sku, np.arange(skus), side="right")
    loc_ids = catalog.locations.location_id.to_numpy()
    discounts = np.array([10, 15, 20, 25, 30, 40, 50])
    records = []
    for k in np.flatnonzero(rng.random(skus) < 0.4):
        count = 1 + int(rng.poisson(1.0))
        slot = horizon // count
        for j in range(count):
            length = int(rng.integers(3, 15))
            if slot <= length + 1:
                continue
            begin = j * slot + int(rng.integers(0, slot - length))
            discount = float(rng.choice(discounts, p=[0.15, 0.2, 0.2, 0.15, 0.15, 0.1, 0.05]))
            targets = np.arange(first[k], last[k])
            location = None
            if targets.size > 1 and rng.random() < 0.3:  # a local promotion at one warehouse
                targets = targets[int(rng.integers(targets.size)) :][:1]
                location = loc_ids[series.loc[targets[0]]]
            lift[begin : begin + length, targets] = 1.2 + 3.6 * discount / 100
            records.append(
                (
                    catalog.products.sku.iat[k],
                    location,
                    start + timedelta(days=begin),
                    start + timedelta(days=begin + length - 1),
                    discount,
                )
            )
    frame = pd.DataFrame(
        records, columns=["sku", "location_id", "start_date", "end_date", "discount_pct"]
    )
    frame = frame.sort_values(["start_date", "sku"], kind="stable").reset_index(drop=True)
    frame.insert(0, "promo_id", [f"PR-{i + 1:05d}" for i in range(len(frame))])
    return frame, lift


WEEKLY = np.array([0.92, 0.95, 0.97, 1.0, 1.08, 1.12, 0.96])  # Monday..Sunday


def _make_demand(
    rng: np.random.Generator,
    catalog: _Catalog,
    series: _Series,
    lift: np.ndarray,
    horizon: int,
    start: date,
    days: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Expected and realised daily demand, (days, series) arrays, by pattern class."""
    n = len(series.sku)
    pat = series.pattern
    t = np.arange(horizon, dtype=np.float32)[:, None]
    dates = pd.date_range(start, periods=horizon, freq="D")
    dow = dates.dayofweek.to_numpy()
    doy = dates.dayofyear.to_numpy().astype(np.float32)[:, None]
    seasonal = pat == PATTERNS.index("seasonal")
    week_amp = np.where(seasonal, 1.0, 0.35).astype(np.float32)
    mult = 1 + week_amp[None, :] * (WEEKLY[dow].astype(np.float32)[:, None] - 1)
    peaks = np.array([CATEGORIES[c].peak_day or 180 for c in CATEGORY_NAMES])[
        catalog.category[series.sku]
    ]
    amp = np.where(seasonal, rng.uniform(0.35, 0.8, n), 0.0).astype(np.float32)
    mult *= 1 + amp * np.cos(2 * np.pi * (doy - peaks.astype(np.float32)) / 365.25)
    growth = np.where(
        pat == PATTERNS.index("trending"),
        rng.choice([-1.0, 1.0], n, p=[0.35, 0.65]) * rng.uniform(0.3, 0.9, n),
        0.0,
    )
    mult *= np.maximum(0.15, 1 + growth.astype(np.float32) * (t - days) / 365)
    new = pat == PATTERNS.index("new_launch")
    tau = rng.uniform(10, 40, n).astype(np.float32)
    ramp = 1 - np.exp(-np.clip(t - series.launch.astype(np.float32), 0, None) / tau)
    mult *= np.where(new[None, :], ramp * (t >= series.launch), 1.0).astype(np.float32)
    mult *= lift

    expected = np.empty((horizon, n), dtype=np.float64)
    demand = np.empty((horizon, n), dtype=np.int32)
    steady = np.flatnonzero(
        ~np.isin(pat, [PATTERNS.index("intermittent"), PATTERNS.index("lumpy")])
    )
    mu = mult[:, steady] * series.level[steady].astype(np.float32)
    k = rng.uniform(3, 12, steady.size)
    expected[:, steady] = mu
    # Gamma-Poisson (negative binomial) noise; float32 gamma draws halve the cost at 10k SKUs.
    noise = rng.standard_gamma(k.astype(np.float32), (horizon, steady.size), dtype=np.float32)
    demand[:, steady] = rng.poisson(mu * noise / k.astype(np.float32))
    for name in ("intermittent", "lumpy"):
        cols = np.flatnonzero(pat == PATTERNS.index(name))
        p = np.minimum(0.95, mult[:, cols] * series.rate[cols])
        size = series.size[cols]
        occurs = rng.random((horizon, cols.size)) < p
        if name == "intermittent":  # sizes close to their mean: low CV2
            amount = 1 + rng.poisson(size - 1, (horizon, cols.size))
        else:  # rare and very variable: high CV2
            amount = 1 + rng.poisson(rng.gamma(0.8, (size - 1) / 0.8, (horizon, cols.size)))
        expected[:, cols] = p * size
        demand[:, cols] = occurs * amount
    return expected, demand


# -- anomalies ------------------------------------------------------------------------------


def _anomaly_targets(rng: np.random.Generator, series: _Series, days: int) -> dict[str, list]:
    """Which series get which anomaly, and when: half of them in the last 60 days."""
    n = len(series.sku)
    steady = np.isin(
        series.pattern, [PATTERNS.index(p) for p in ("smooth", "seasonal", "trending")]
    )
    eligible = rng.permutation(np.flatnonzero(steady & (series.level >= 2) & (series.launch <= 0)))
    wanted = {
        "demand_spike": max(3, n // 40),
        "demand_drop": max(2, n // 60),
        "data_error": max(3, n // 50),
        "shrinkage": max(3, n // 60),
    }
    targets: dict[str, list] = {}
    used = 0
    for kind, count in wanted.items():
        picked = eligible[used : used + count]
        used += len(picked)
        items = []
        for i, s in enumerate(picked):
            length = {
                "demand_spike": int(rng.integers(1, 4)),
                "demand_drop": int(rng.integers(7, 22)),
            }.get(kind, 1)
            if i % 2 == 0:  # recent: a 28-60 day scan window must find these
                lo, hi = days - 60, days - length - 1
            else:
                lo, hi = 45, days - 61 - length
            t0 = int(rng.integers(lo, max(lo + 1, hi)))
            items.append((int(s), t0, length, lo, max(lo + 1, hi)))
        targets[kind] = items
    return targets


def _label(kind: str, s: int | None, t0: int, t1: int, magnitude: float, **keys) -> dict:
    return {"kind": kind, "series": s, "t0": t0, "t1": t1, "magnitude": float(magnitude), **keys}


def _inject_demand_anomalies(
    rng: np.random.Generator,
    targets: dict[str, list],
    expected: np.ndarray,
    demand: np.ndarray,
    labels: list[dict],
) -> None:
    """Spikes and drops change the true (realised) demand; the process mean stays as it was."""
    for s, t0, length, _, _ in targets["demand_spike"]:
        factor = float(rng.uniform(3, 8))
        window = slice(t0, t0 + length)
        spike = np.round(np.maximum(expected[window, s], 1.0) * factor).astype(np.int32)
        demand[window, s] = np.maximum(demand[window, s], spike)
        labels.append(_label("demand_spike", s, t0, t0 + length - 1, round(factor, 2)))
    for s, t0, length, _, _ in targets["demand_drop"]:
        keep = float(rng.uniform(0.1, 0.3))
        window = slice(t0, t0 + length)
        demand[window, s] = rng.binomial(demand[window, s], keep)
        labels.append(_label("demand_drop", s, t0, t0 + length - 1, round(keep, 2)))


# -- stock, replenishment and purchase orders -------------------------------------------------


def _lead_times(
    rng: np.random.Generator, suppliers: pd.DataFrame, n_loc: int, horizon: int, days: int
) -> tuple[np.ndarray, np.ndarray]:
    """Promised lead time per supplier, and the actual one per possible PO (supplier, location, day).

    Ordinary lateness stays below LATE_LABEL_DAYS so that every PO at least that late is one of
    the injected, labelled supplier delays (or a late line on top of a late PO).
    """
    mean = suppliers.lead_time_mean_days.to_numpy()
    sd = suppliers.lead_time_sd_days.to_numpy()[:, None, None]
    on_time = suppliers.on_time_rate.to_numpy()[:, None, None]
    promised = np.maximum(1, np.round(mean)).astype(np.int32)
    shape = (len(mean), n_loc, horizon)
    late = rng.random(shape) >= on_time
    slip = np.where(
        late,
        1 + np.minimum(5, np.floor(np.abs(rng.normal(0, 1, shape)) * sd)),
        -rng.integers(0, 3, shape),
    )
    risk = np.full(len(mean), 0.012)
    risk[rng.choice(len(mean), 2, replace=False)] = 0.08  # two unreliable suppliers
    recent = np.where(np.arange(horizon) >= days - 60, 2.5, 1.0)  # so recent scans find some
    injected = rng.random(shape) < risk[:, None, None] * recent[None, None, :]
    slip = np.where(injected, rng.integers(LATE_LABEL_DAYS, 26, shape), slip)
    return promised, np.maximum(1, promised[:, None, None] + slip).astype(np.int32)


def _simulate_stock(
    rng: np.random.Generator,
    catalog: _Catalog,
    series: _Series,
    demand: np.ndarray,
    start: date,
    days: int,
    shrink_targets: list,
) -> _Stock:
    """Day-by-day stock under an (s, S) policy run by fallible planners; lost sales, not backorders.

    Planners forecast from recorded (censored) sales, some keep no safety stock, review weekly
    or skip reviews: that is what makes stock-outs happen at a realistic rate.
    """
    horizon, n = demand.shape
    sup = catalog.supplier[series.sku]
    loc = series.loc
    promised, lead = _lead_times(rng, catalog.suppliers, len(catalog.locations), horizon, days)
    case = catalog.products.case_pack.to_numpy()[series.sku].astype(np.int64)
    moq = catalog.suppliers.moq.to_numpy()[sup]
    moq = np.ceil(moq / case).astype(np.int64) * case
    # Each supplier takes orders on one or two fixed weekdays: one PO per order day carries
    # every SKU of that supplier and warehouse that is due, as buyers really batch them.
    order_days = np.zeros((len(promised), 7), dtype=bool)
    for i in range(len(promised)):
        order_days[i, rng.choice(5, int(rng.choice([1, 2], p=[0.6, 0.4])), replace=False)] = True
    weekday0 = start.weekday()
    review = np.rint(7 / order_days.sum(axis=1))[sup]
    z = np.where(rng.random(n) < 0.3, 0.0, rng.uniform(0.8, 1.8, n))  # 30% keep no safety stock
    bias = rng.uniform(0.75, 1.1, n)  # most planners under-forecast a little
    cover = rng.uniform(7, 28, n)
    alpha = rng.uniform(0.05, 0.15, n)
    plan_lead = promised[sup] + review
    order_from = np.where(series.launch > 0, series.launch - promised[sup] - 3, -1)
    f = series.level * rng.uniform(0.8, 1.2, n)  # the planners' belief about daily demand

    def reorder_point(f: np.ndarray) -> np.ndarray:
        f = f * bias
        return f * plan_lead + z * np.sqrt(f * (1 + f / 4)) * np.sqrt(plan_lead)

    low = reorder_point(f)
    oh = np.where(series.launch <= 0, np.round(low + rng.random(n) * f * cover), 0).astype(np.int64)
    on_order = np.zeros(n, dtype=np.int64)
    total = horizon + ARRIVAL_PAD
    arrive = np.zeros((total, n), dtype=np.int64)  # units received at the start of a day
    close = np.zeros((total, n), dtype=np.int64)  # ordered units whose line closes that day
    sales = np.empty((horizon, n), dtype=np.int32)
    on_hand = np.empty((horizon, n), dtype=np.int32)
    lost = np.empty((horizon, n), dtype=np.int32)
    shrink_at: dict[int, list[tuple[int, float]]] = {}
    for s, t0, *_ in shrink_targets:
        shrink_at.setdefault(t0, []).append((s, float(rng.uniform(0.15, 0.4))))
    parts: dict[str, list[np.ndarray]] = {
        k: [] for k in ("day", "series", "qty", "qty_received", "arrival")
    }
    shrunk: list[tuple[int, int, int]] = []

    for t in range(horizon):
        oh += arrive[t]
        on_order -= close[t]
        want = demand[t]
        sold = np.minimum(oh, want)
        oh -= sold
        for s, frac in shrink_at.get(t, ()):
            units = int(min(oh[s], max(2, round(oh[s] * frac)))) if oh[s] >= 4 else 0
            if units:
                oh[s] -= units
                shrunk.append((t, s, units))
        sales[t], on_hand[t], lost[t] = sold, oh, want - sold
        f = np.where(t >= series.launch, f + alpha * (sold - f), f)
        due = order_days[sup, (weekday0 + t) % 7] & (t >= order_from) & (rng.random(n) >= 0.08)
        point = reorder_point(f)
        position = oh + on_order
        idx = np.flatnonzero(due & (position <= point))
        if idx.size == 0:
            continue
        qty = np.maximum(point[idx] + f[idx] * cover[idx] - position[idx], 1)
        qty = np.maximum(np.ceil(qty / case[idx]).astype(np.int64) * case[idx], moq[idx])
        m = idx.size
        extra = np.where(rng.random(m) < 0.03, rng.integers(2, 9, m), 0)  # a line shipped later
        arrival = np.minimum(t + lead[sup[idx], loc[idx], t] + extra, total - 1)
        short = rng.random(m) < 0.05
        received = np.where(
            short, np.maximum(1, np.floor(qty * rng.uniform(0.5, 0.95, m))), qty
        ).astype(np.int64)
        arrive[arrival, idx] += received
        close[arrival, idx] += qty
        on_order[idx] += qty
        for key, value in zip(parts, (np.full(m, t), idx, qty, received, arrival), strict=True):
            parts[key].append(value)

    orders = {k: np.concatenate(v) if v else np.zeros(0, dtype=np.int64) for k, v in parts.items()}
    return _Stock(
        sales=sales,
        on_hand=on_hand,
        lost=lost,
        orders=orders,
        lead_promised=promised,
        shrink=shrunk,
    )


def _purchase_orders(
    catalog: _Catalog, series: _Series, stock: _Stock, days: int, start: date
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, list[dict]]:
    """POs as the ERP shows them at ``today``, their hidden receipts, and supplier-delay labels.

    One PO per supplier, location and order day; a line is received once its arrival day is
    in the past.
    """
    o = {k: v[stock.orders["day"] < days] for k, v in stock.orders.items()}
    s = o["series"]
    sku = series.sku[s]
    sup = catalog.supplier[sku]
    loc = series.loc[s]
    order = np.lexsort((sku, loc, sup, o["day"]))
    o = {k: v[order] for k, v in o.items()}
    sku, sup, loc = sku[order], sup[order], loc[order]
    key = (o["day"] * len(catalog.suppliers) + sup) * len(catalog.locations) + loc
    starts = np.r_[True, key[1:] != key[:-1]] if key.size else np.zeros(0, dtype=bool)
    po_index = np.cumsum(starts) - 1
    first_line = np.flatnonzero(starts)
    line_no = np.arange(key.size) - first_line[po_index] + 1
    numbers = np.array([f"PO-{1000 + i}" for i in range(first_line.size)], dtype=object)
    visible = o["arrival"] < days
    dates = np.array(
        [start + timedelta(days=i) for i in range(days + int(o["arrival"].max(initial=days)) + 1)],
        dtype=object,
    )

    lines = pd.DataFrame(
        {
            "po_number": numbers[po_index],
            "line_no": line_no.astype(np.int32),
            "sku": catalog.products.sku.to_numpy()[sku],
            "qty_ordered": o["qty"].astype(np.int32),
            "qty_received": np.where(visible, o["qty_received"], 0).astype(np.int32),
            "received_date": np.where(visible, dates[o["arrival"]], None),
            "unit_cost": catalog.products.unit_cost.to_numpy()[sku],
        }
    )
    head_day = o["day"][first_line]
    head_sup = sup[first_line]
    promised_day = head_day + stock.lead_promised[head_sup]
    n_visible = (
        np.add.reduceat(visible.astype(np.int64), first_line) if key.size else np.zeros(0, np.int64)
    )
    n_lines = np.diff(np.r_[first_line, key.size])
    last_arrival = (
        np.maximum.reduceat(o["arrival"], first_line) if key.size else np.zeros(0, np.int64)
    )
    done = n_visible == n_lines
    status = np.where(done, "received", np.where(n_visible > 0, "partial", "open"))
    pos = pd.DataFrame(
        {
            "po_number": numbers,
            "supplier_id": catalog.suppliers.supplier_id.to_numpy()[head_sup],
            "location_id": catalog.locations.location_id.to_numpy()[loc[first_line]],
            "order_date": dates[head_day],
            "promised_date": dates[promised_day],
            "status": status,
            "received_date": np.where(done, dates[last_arrival], None),
        }
    )
    hidden = ~visible
    receipts = pd.DataFrame(
        {
            "po_number": numbers[po_index][hidden],
            "line_no": line_no[hidden].astype(np.int32),
            "sku": catalog.products.sku.to_numpy()[sku][hidden],
            "received_date": dates[o["arrival"][hidden]],
            "qty_received": o["qty_received"][hidden].astype(np.int32),
        }
    )
    # A delay is labelled once it is observable: received that late, or still open that late.
    seen_late = np.where(done, last_arrival, days) - promised_day
    labels = [
        _label(
            "supplier_delay",
            None,
            int(promised_day[i]),
            int(last_arrival[i]),
            int(last_arrival[i] - promised_day[i]),
            po_number=numbers[i],
            supplier_id=pos.supplier_id.iat[i],
            location_id=pos.location_id.iat[i],
        )
        for i in np.flatnonzero(seen_late >= LATE_LABEL_DAYS)
    ]
    return pos, lines, receipts, labels


def _record_errors(
    rng: np.random.Generator, targets: dict[str, list], stock: _Stock, days: int, labels: list[dict]
) -> tuple[np.ndarray, np.ndarray]:
    """Recorded history = true history plus data-entry errors.

    Two in three are an extra zero in booked sales (10x), one in three a sign slip that books
    end-of-day stock as negative. True demand and the physical stock are left as they were.
    """
    rec_sales = stock.sales[:days].copy()
    rec_on_hand = stock.on_hand[:days].copy()
    for i, (s, _, _, lo, hi) in enumerate(targets["data_error"]):
        on_stock = i % 3 == 2
        column = rec_on_hand if on_stock else rec_sales
        candidates = lo + np.flatnonzero(column[lo:hi, s] > 0)
        if candidates.size == 0:
            continue
        t = int(rng.choice(candidates))
        if on_stock:
            column[t, s] = -column[t, s]
        else:
            column[t, s] *= 10
        # magnitude: 10 for an extra zero in sales, the booked negative value for a sign slip
        labels.append(_label("data_error", s, t, t, column[t, s] if on_stock else 10))
    return rec_sales, rec_on_hand


def _allocated(rng: np.random.Generator, on_hand: np.ndarray) -> np.ndarray:
    """Units reserved for picked-but-not-shipped orders: a small share of what is on hand."""
    share = rng.random(on_hand.shape, dtype=np.float32) * np.float32(0.08)  # 0-8%, 4% on average
    return (np.maximum(on_hand, 0) * share).astype(np.int32)


# -- customer orders --------------------------------------------------------------------------


def _customer_orders(
    rng: np.random.Generator, catalog: _Catalog, series: _Series, today: date
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Baskets of the last quarter with planted structure, plus deliveries for today and 2 days.

    Complement groups (kits) are bought together; members of a substitute group never share a
    basket; everything else is drawn by popularity at the order's warehouse.
    """
    skus = len(catalog.home)
    n_loc = len(catalog.locations)
    groups = catalog.groups
    comp = [
        g.sku.to_numpy()
        for _, g in groups[groups.kind == "complement"].groupby("group_id", sort=True)
    ]
    substitute_of = np.full(skus, -1)
    subs = groups[groups.kind == "substitute"]
    substitute_of[subs.sku.to_numpy()] = subs.group_id.to_numpy()
    launched = np.array(
        [d <= today - timedelta(days=BASKET_DAYS) for d in catalog.products.launch_date]
    )
    pools = []
    for loc in range(n_loc):  # popularity-weighted SKUs each warehouse can ship
        mask = (series.loc == loc) & launched[series.sku]
        cum = np.cumsum(series.level[mask])
        pools.append((series.sku[mask], cum / cum[-1] if cum.size else cum))
    loc_weight = np.array([w for *_, w in LOCATIONS[:n_loc]])
    loc_ids = catalog.locations.location_id.tolist()
    # Enough customers per warehouse that a day's 60 stops are 60 different addresses.
    customers = [
        _customer_points(rng, catalog.locations.iloc[i], max(80, skus // (3 * n_loc)))
        for i in range(n_loc)
    ]
    windows = np.arange(480, 901, 30)  # delivery windows open between 08:00 and 15:00

    def fill(basket: list[int], loc: int, extra: int) -> None:
        """Add up to ``extra`` popular SKUs, never a second member of a substitute group."""
        ids, cum = pools[loc]
        if not ids.size:
            return
        wanted = len(basket) + extra
        for pick in ids[np.searchsorted(cum, rng.random(extra + 3))]:
            if len(basket) >= wanted:
                break
            group = substitute_of[pick]
            if pick in basket or (group >= 0 and any(substitute_of[b] == group for b in basket)):
                continue
            basket.append(int(pick))

    records: list[tuple] = []
    lines: list[tuple[int, int, int]] = []

    def add(ordered: date, delivery: date, loc: int, customer: int, basket: list[int]) -> None:
        if not basket:
            return
        qty = rng.geometric(0.65, len(basket))
        ids, lat, lon = customers[loc]
        tw_start = int(rng.choice(windows)) if rng.random() < 0.5 else None
        tw_end = tw_start + int(rng.choice([120, 180, 240])) if tw_start is not None else None
        records.append(
            (
                ordered,
                delivery,
                loc_ids[loc],
                ids[customer],
                lat[customer],
                lon[customer],
                round(float((qty * catalog.weight[basket]).sum()) + 0.2, 2),
                round(float((qty * catalog.volume[basket]).sum()), 4),
                tw_start,
                tw_end,
            )
        )
        lines.extend((len(records) - 1, b, int(q)) for b, q in zip(basket, qty, strict=True))

    for _ in range(int(np.clip(skus * 1.2, 300, 9000))):
        basket: list[int] = []
        if comp and rng.random() < 0.5:
            members = comp[int(rng.integers(len(comp)))]
            loc = int(catalog.home[members[0]])
            chosen = members[rng.random(members.size) < 0.9]
            if chosen.size < 2:
                chosen = rng.permutation(members)[:2]
            basket = [int(x) for x in chosen]
            extra = int(rng.poisson(0.6))
        else:
            loc = int(rng.choice(n_loc, p=loc_weight / loc_weight.sum()))
            extra = 1 + int(rng.poisson(1.0))
        fill(basket, loc, extra)
        ordered = today - timedelta(days=int(rng.integers(1, BASKET_DAYS + 1)))
        delivered = min(
            ordered + timedelta(days=int(rng.integers(1, 4))), today - timedelta(days=1)
        )
        add(ordered, delivered, loc, int(rng.integers(len(customers[loc][0]))), basket)
    for loc in range(n_loc):  # the delivery runs that routing plans: today and the next 2 days
        for ahead in range(3):
            stops = rng.permutation(len(customers[loc][0]))[: int(rng.integers(25, 61))]
            for customer in stops:
                basket = []
                fill(basket, loc, int(rng.integers(1, 4)))
                ordered = today - timedelta(days=int(rng.integers(1, 4)))
                add(ordered, today + timedelta(days=ahead), loc, int(customer), basket)

    columns = [
        "order_date",
        "delivery_date",
        "location_id",
        "customer_id",
        "lat",
        "lon",
        "weight_kg",
        "volume_m3",
        "tw_start_min",
        "tw_end_min",
    ]
    orders = pd.DataFrame(records, columns=columns)
    orders["seq"] = np.arange(len(orders))
    orders = orders.sort_values(["order_date", "seq"], kind="stable")
    ids = np.empty(len(orders), dtype=object)
    ids[orders.seq.to_numpy()] = [f"CO-{i + 1:06d}" for i in range(len(orders))]
    orders.insert(0, "order_id", ids[orders.seq.to_numpy()])
    orders = orders.drop(columns="seq").reset_index(drop=True)
    for col in ("tw_start_min", "tw_end_min"):
        orders[col] = orders[col].astype("Int32")
    line_frame = pd.DataFrame(lines, columns=["order", "sku", "qty"])
    line_frame = (
        pd.DataFrame(
            {
                "order_id": ids[line_frame.order.to_numpy()],
                "sku": catalog.products.sku.to_numpy()[line_frame.sku.to_numpy()],
                "qty": line_frame.qty.astype(np.int32),
            }
        )
        .sort_values(["order_id", "sku"])
        .reset_index(drop=True)
    )
    return orders, line_frame


def _customer_points(
    rng: np.random.Generator, location: pd.Series, n: int
) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Customers at most ~40 km from the warehouse (uniform over the disc)."""
    r = 40 * np.sqrt(rng.random(n)) * 0.97
    angle = rng.uniform(0, 2 * np.pi, n)
    lat = location.lat + r * np.cos(angle) / 110.574
    lon = location.lon + r * np.sin(angle) / (111.320 * math.cos(math.radians(location.lat)))
    ids = [f"CU-{location.location_id}-{i + 1:04d}" for i in range(n)]
    return ids, np.round(lat, 5), np.round(lon, 5)


# -- tables and files -------------------------------------------------------------------------


@dataclass(frozen=True)
class _SeriesKeys:
    """Key columns (date, sku, location_id) of a long table, shared by tables of the same span."""

    mask: np.ndarray  # over the (series, day) grid flattened series-major: row exists
    columns: dict[str, pa.Array]


def _series_keys(catalog: _Catalog, series: _Series, start: date, t0: int, t1: int) -> _SeriesKeys:
    """Keys for days t0..t1-1, ordered by sku, location, date; rows only from a SKU's launch on.

    Arrow dictionary columns keep 10 M rows of SKU and location codes cheap.
    """
    n = len(series.sku)
    span = t1 - t0
    mask = (np.arange(t0, t1)[None, :] >= series.launch[:, None]).ravel()
    sid = np.repeat(np.arange(n, dtype=np.int32), span)[mask]
    epoch = (start - date(1970, 1, 1)).days + t0
    dates = np.tile(np.arange(span, dtype=np.int32) + epoch, n)[mask]
    skus = pa.array(catalog.products.sku)
    locations = pa.array(catalog.locations.location_id)
    return _SeriesKeys(
        mask,
        {
            "date": pa.array(dates, type=pa.date32()),
            "sku": pa.DictionaryArray.from_arrays(series.sku.astype(np.int32)[sid], skus),
            "location_id": pa.DictionaryArray.from_arrays(
                series.loc.astype(np.int32)[sid], locations
            ),
        },
    )


def _series_frame(keys: _SeriesKeys, columns: dict[str, np.ndarray]) -> pa.Table:
    """A long table from (days, series) arrays laid over ``keys``."""
    data = dict(keys.columns)
    for name, values in columns.items():
        data[name] = pa.array(np.ascontiguousarray(values.T).ravel()[keys.mask])
    return pa.table(data)


def _truth_tables(
    catalog: _Catalog,
    series: _Series,
    start: date,
    days: int,
    horizon: int,
    expected: np.ndarray,
    demand: np.ndarray,
    stock: _Stock,
    receipts: pd.DataFrame,
    labels: list[dict],
) -> dict[str, pd.DataFrame | pa.Table]:
    sku_ids = catalog.products.sku.to_numpy()
    loc_ids = catalog.locations.location_id.to_numpy()
    label_rows = []
    for lab in sorted(
        labels,
        key=lambda x: (
            x["t0"],
            ANOMALY_KINDS.index(x["kind"]),
            x["series"] if x["series"] is not None else -1,
            x.get("po_number") or "",
        ),
    ):
        s = lab["series"]
        label_rows.append(
            {
                "kind": lab["kind"],
                "sku": sku_ids[series.sku[s]] if s is not None else None,
                "location_id": loc_ids[series.loc[s]] if s is not None else lab.get("location_id"),
                "supplier_id": lab.get("supplier_id"),
                "po_number": lab.get("po_number"),
                "start_date": start + timedelta(days=lab["t0"]),
                "end_date": start + timedelta(days=lab["t1"]),
                "magnitude": lab["magnitude"],
            }
        )
    label_frame = pd.DataFrame(
        label_rows,
        columns=[
            "kind",
            "sku",
            "location_id",
            "supplier_id",
            "po_number",
            "start_date",
            "end_date",
            "magnitude",
        ],
    )
    label_frame.insert(0, "label_id", np.arange(1, len(label_frame) + 1, dtype=np.int32))
    future = slice(days, horizon)
    return {
        "true_demand": _series_frame(
            _series_keys(catalog, series, start, 0, horizon),
            {"expected": np.round(expected, 3), "demand": demand},
        ),
        "future_inventory": _series_frame(
            _series_keys(catalog, series, start, days, horizon),
            {
                "on_hand": stock.on_hand[future],
                "sales": stock.sales[future],
                "lost_sales": stock.lost[future],
            },
        ),
        "future_receipts": receipts,
        "demand_patterns": pd.DataFrame(
            {
                "sku": sku_ids[series.sku],
                "location_id": loc_ids[series.loc],
                "pattern": np.array(PATTERNS, dtype=object)[series.pattern],
            }
        ),
        "anomaly_labels": label_frame,
        "basket_groups": pd.DataFrame(
            {
                "group_id": catalog.groups.group_id.astype(np.int32),
                "kind": catalog.groups.kind,
                "sku": sku_ids[catalog.groups.sku.to_numpy()],
            }
        ),
    }


VISIBLE_ORDER = (
    "meta",
    "suppliers",
    "locations",
    "products",
    "promotions",
    "purchase_orders",
    "po_lines",
    "customer_orders",
    "customer_order_lines",
    "sales",
    "inventory",
)


def _insert(con: duckdb.DuckDBPyConnection, table: str, frame: pd.DataFrame | pa.Table) -> int:
    columns = ", ".join(
        f'"{c}"' for c in (frame.column_names if isinstance(frame, pa.Table) else frame.columns)
    )
    con.register("_frame", frame)
    try:
        con.execute(f'INSERT INTO "{table}" ({columns}) SELECT {columns} FROM _frame')
    finally:
        con.unregister("_frame")
    return len(frame)


def _temp_path(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    _remove(tmp)
    return tmp


def _remove(path: Path) -> None:
    for p in (path, Path(f"{path}.wal")):
        p.unlink(missing_ok=True)


def _publish(tmp: Path, path: Path) -> None:
    Path(f"{path}.wal").unlink(missing_ok=True)  # a stale WAL would be replayed onto the new file
    os.replace(tmp, path)


def _write_visible(path: Path, tables: dict[str, pd.DataFrame | pa.Table]) -> dict[str, int]:
    store = Store(path)
    try:
        con = store.con
        con.execute("SET enable_progress_bar = false")
        return {name: _insert(con, name, tables[name]) for name in VISIBLE_ORDER}
    finally:
        store.close()


def _write_truth(path: Path, tables: dict[str, pd.DataFrame | pa.Table]) -> dict[str, int]:
    """The truth file is opened with duckdb directly: ``Store`` must never be able to reach it."""
    con = duckdb.connect(str(path))
    try:
        con.execute("SET enable_progress_bar = false")
        con.execute(TRUTH_SCHEMA.read_text())
        return {name: _insert(con, name, frame) for name, frame in tables.items()}
    finally:
        con.close()
