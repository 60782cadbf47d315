"""The catalogue: warehouses, suppliers and products, drawn from the literals in catalogue.toml.

The order of every list in catalogue.toml is part of the data: the same seed draws the same
rows from it.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class Category:
    items: tuple[tuple[str, float, float], ...]  # (item, base price EUR, weight kg)
    qualifiers: tuple[str, ...]
    variants: tuple[str, ...]
    trade: str  # what its suppliers call themselves
    peak_day: int | None = None  # day of year of the seasonal peak
    shelf_life: tuple[int, int] | None = None  # days, for perishables


def _load(path: Path) -> dict:
    with path.open("rb") as file:
        return tomllib.load(file)


_DATA = _load(Path(__file__).with_name("catalogue.toml"))
# (id, name, city, lat, lon, relative size)
LOCATIONS: tuple[tuple[str, str, str, float, float, float], ...] = tuple(
    tuple(row) for row in _DATA["locations"]
)
CATEGORIES: dict[str, Category] = {
    name: Category(
        items=tuple(tuple(item) for item in spec["items"]),
        qualifiers=tuple(spec["qualifiers"]),
        variants=tuple(spec["variants"]),
        trade=spec["trade"],
        peak_day=spec.get("peak_day"),
        shelf_life=tuple(spec["shelf_life_days"]) if "shelf_life_days" in spec else None,
    )
    for name, spec in _DATA["categories"].items()
}
CATEGORY_NAMES = tuple(CATEGORIES)
# Items customers buy together; each planted complement group is one of these kits.
KITS = tuple(tuple(tuple(member) for member in kit) for kit in _DATA["kits"])
# country: (name stems, legal forms, e-mail domain suffix, lead time range in days, share)
SUPPLIER_COUNTRIES = {
    country: (
        tuple(spec["stems"]),
        tuple(spec["legal_forms"]),
        spec["domain"],
        tuple(spec["lead_time_days"]),
        spec["share"],
    )
    for country, spec in _DATA["supplier_countries"].items()
}
FIRST_NAMES = tuple(_DATA["first_names"])
LAST_NAMES = tuple(_DATA["last_names"])


@dataclass
class Catalog:
    locations: pd.DataFrame
    suppliers: pd.DataFrame
    products: pd.DataFrame
    category: np.ndarray  # per SKU: index into CATEGORY_NAMES
    supplier: np.ndarray  # per SKU: supplier index
    home: np.ndarray  # per SKU: location index
    weight: np.ndarray  # per SKU: kg per unit
    volume: np.ndarray  # per SKU: m3 per unit
    groups: pd.DataFrame  # planted basket structure: group_id, kind, sku index


def make_catalog(rng: np.random.Generator, skus: int, n_loc: int) -> Catalog:
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
    return Catalog(
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
