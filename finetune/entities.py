"""Random entity values for training prompts, split into disjoint train/test pools.

Hundreds of made-up codes, places and names in mixed casing teach the model to copy what
the user wrote instead of memorising a catalogue; the test pool holds values never seen
in training, so the evaluation measures copying, not recall.
"""

from __future__ import annotations

import random
import string
from dataclasses import dataclass, field

CITIES = [
    "Berlin",
    "Hamburg",
    "Munich",
    "Frankfurt",
    "Cologne",
    "Stuttgart",
    "Leipzig",
    "Dresden",
    "Hanover",
    "Nuremberg",
    "Bremen",
    "Essen",
    "Dortmund",
    "Duisburg",
    "Bonn",
    "Mannheim",
    "Karlsruhe",
    "Augsburg",
    "Wiesbaden",
    "Kiel",
    "Rostock",
    "Erfurt",
    "Mainz",
    "Freiburg",
    "Lyon",
    "Paris",
    "Marseille",
    "Lille",
    "Nantes",
    "Bordeaux",
    "Toulouse",
    "Madrid",
    "Barcelona",
    "Valencia",
    "Seville",
    "Bilbao",
    "Lisbon",
    "Porto",
    "Milan",
    "Turin",
    "Rome",
    "Naples",
    "Bologna",
    "Verona",
    "Vienna",
    "Graz",
    "Linz",
    "Salzburg",
    "Zurich",
    "Basel",
    "Geneva",
    "Bern",
    "Prague",
    "Brno",
    "Warsaw",
    "Krakow",
    "Poznan",
    "Gdansk",
    "Wroclaw",
    "Lodz",
    "Budapest",
    "Debrecen",
    "Bratislava",
    "Ljubljana",
    "Zagreb",
    "Split",
    "Amsterdam",
    "Rotterdam",
    "Utrecht",
    "Eindhoven",
    "Antwerp",
    "Ghent",
    "Brussels",
    "Liege",
    "Luxembourg",
    "Copenhagen",
    "Aarhus",
    "Odense",
    "Stockholm",
    "Gothenburg",
    "Malmo",
    "Oslo",
    "Bergen",
    "Helsinki",
    "Tampere",
    "Tallinn",
    "Riga",
    "Vilnius",
    "Dublin",
    "Cork",
    "Manchester",
    "Leeds",
    "Bristol",
    "Birmingham",
    "Glasgow",
    "Edinburgh",
    "Cardiff",
    "Belfast",
    "Liverpool",
    "Sheffield",
    "Bucharest",
    "Cluj",
    "Sofia",
    "Varna",
    "Athens",
    "Thessaloniki",
]

CATEGORIES = """Kitchen|Home Textiles|Garden|Toys|Electronics Accessories|Pet Supplies|Beauty|Office|Sports|Pantry
|Baby Care|Bike Parts|Lighting|Bathroom|Tools|Stationery|Outdoor|Footwear|Jewellery|Party Supplies|Crafts
|Camping|Cleaning|Storage|Furniture|Health|Snacks|Beverages|Coffee|Tea|Fitness|Gaming|Audio|Phone Cases
|Cables|Luggage|Watches|Books|Music|Automotive|Paint|Plumbing|Seasonal Decor|Candles|Rugs|Bedding|Tableware""".replace(
    "\n", ""
).split("|")

SUPPLIER_ROOTS = [
    "Nordwind",
    "Alpine",
    "Baltic",
    "Rhein",
    "Donau",
    "Elbe",
    "Hansa",
    "Isar",
    "Main",
    "Saale",
    "Weser",
    "Fjord",
    "Atlas",
    "Boreal",
    "Cedar",
    "Delta",
    "Ember",
    "Falcon",
    "Granite",
    "Harbor",
    "Iris",
    "Juniper",
    "Keystone",
    "Lumen",
    "Meridian",
    "Nova",
    "Orbit",
    "Pinnacle",
    "Quarry",
    "Raven",
    "Summit",
    "Tundra",
    "Umber",
    "Vertex",
    "Willow",
    "Zephyr",
    "Aurora",
    "Brightline",
    "Coastal",
    "Dune",
    "Evergreen",
    "Frost",
    "Glacier",
    "Highland",
    "Ironwood",
    "Kestrel",
    "Lakeside",
    "Marlin",
    "Northstar",
    "Oakridge",
    "Pacific",
    "Quartz",
    "Redwood",
    "Silverline",
    "Timber",
    "Uplands",
    "Valley",
    "Westbrook",
    "Yarrow",
]
SUPPLIER_TRADES = [
    "Textiles",
    "Kitchenware",
    "Plastics",
    "Electronics",
    "Garden",
    "Toys",
    "Paper",
    "Pet",
    "Foods",
    "Cosmetics",
    "Logistics",
    "Metals",
    "Ceramics",
    "Packaging",
    "Furniture",
    "Lighting",
    "Sports",
    "Beverages",
    "Snacks",
    "Tools",
    "Trading",
    "Imports",
    "Supplies",
    "Goods",
    "Components",
]
SUPPLIER_FORMS = [
    "GmbH",
    "AG",
    "Ltd",
    "BV",
    "SA",
    "Sp. z o.o.",
    "Oy",
    "AB",
    "Inc",
    "& Co. KG",
    "SRL",
    "",
]

TOPICS = """expediting a late purchase order|safety stock policy|reorder approval limits|what to do when a demand spike alert fires
|handling a sudden drop in sales|negative stock on hand|supplier delays|shrinkage investigation|escalating to a supplier
|returns processing|cycle counts|promotion planning|carrier selection|delivery time windows|new product launch
|slow movers and markdowns|stock transfers between warehouses|forecast overrides|vendor onboarding|peak season readiness
|damaged goods on receipt|short shipments|purchase order approval|receiving and put-away|data quality checks
|expiry dates and shelf life|write-offs|stock-out communication to customer service|minimum order quantities
|lead time changes|price increase from a supplier|quality complaints|backorders|dead stock|inventory accuracy targets
|audit of stock adjustments|when to air freight|who approves an emergency order|how often to review reorder points
|promo uplift assumptions|cancelling a purchase order|supplier scorecard review|route planning cut-off times
|overweight vehicles|failed deliveries|customer returns grading|clearance pricing|seasonal stock build""".replace(
    "\n", ""
).split("|")


def _sku(rng: random.Random) -> str:
    style = rng.random()
    if style < 0.7:
        return f"SKU-{rng.randint(1, 99999):05d}"
    letters = "".join(rng.choices(string.ascii_uppercase, k=rng.choice([2, 3])))
    if style < 0.85:
        return f"{letters}-{rng.randint(100, 9999)}"
    return f"{letters}{rng.randint(10, 999)}-{rng.choice(string.ascii_uppercase)}"


def _supplier(rng: random.Random, roots: list[str]) -> str:
    parts = [rng.choice(roots), rng.choice(SUPPLIER_TRADES), rng.choice(SUPPLIER_FORMS)]
    return " ".join(p for p in parts if p)


@dataclass
class EntityPool:
    skus: list[str] = field(default_factory=list)
    cities: list[str] = field(default_factory=list)
    categories: list[str] = field(default_factory=list)
    suppliers: list[str] = field(default_factory=list)
    pos: list[int] = field(default_factory=list)
    alerts: list[int] = field(default_factory=list)
    topics: list[str] = field(default_factory=list)
    dates: list[str] = field(default_factory=list)


def _split(values: list, rng: random.Random, test_share: float) -> tuple[list, list]:
    values = list(dict.fromkeys(values))
    rng.shuffle(values)
    cut = max(1, int(len(values) * test_share))
    return values[cut:], values[:cut]


def entity_pools(seed: int = 0, test_share: float = 0.25) -> dict[str, EntityPool]:
    """{'train': pool, 'test': pool} with no value shared between them."""
    rng = random.Random(seed)
    raw = {
        "skus": [_sku(rng) for _ in range(900)],
        "cities": CITIES,
        "categories": CATEGORIES,
        "pos": rng.sample(range(1000, 99999), 900),
        "alerts": list(range(1, 1000)),
        "topics": TOPICS,
        "dates": [f"2026-{m:02d}-{d:02d}" for m in range(1, 13) for d in range(1, 29)],
    }
    pools = {"train": EntityPool(), "test": EntityPool()}
    for name, values in raw.items():
        train, test = _split(values, rng, test_share)
        setattr(pools["train"], name, train)
        setattr(pools["test"], name, test)
    # A test city must not share its 3-letter code with a training city (Bern / Berlin).
    train_codes = {c[:3].upper() for c in pools["train"].cities}
    pools["test"].cities = [c for c in pools["test"].cities if c[:3].upper() not in train_codes]
    # Users often name a supplier by its first word, so split by that root, not the full name.
    train_roots, test_roots = _split(SUPPLIER_ROOTS, rng, test_share)
    pools["train"].suppliers = list(dict.fromkeys(_supplier(rng, train_roots) for _ in range(400)))
    pools["test"].suppliers = list(dict.fromkeys(_supplier(rng, test_roots) for _ in range(120)))
    return pools
