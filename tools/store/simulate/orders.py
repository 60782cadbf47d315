"""Purchase orders as the ERP shows them, and customer orders (baskets and delivery runs)."""

from __future__ import annotations

import math
from datetime import date, timedelta

import numpy as np
import pandas as pd

from tools.store.simulate.catalogue import LOCATIONS, Catalog
from tools.store.simulate.demand import Series
from tools.store.simulate.policy import LATE_LABEL_DAYS, Stock
from tools.store.simulate.truth import label

BASKET_DAYS = 90  # baskets cover the last quarter: enough for co-occurrence, cheap to store


def purchase_orders(
    catalog: Catalog, series: Series, stock: Stock, days: int, start: date
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
        label(
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


def customer_orders(
    rng: np.random.Generator, catalog: Catalog, series: Series, today: date
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
