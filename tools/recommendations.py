"""Product recommendations from customer-order co-occurrence: bought-together and substitutes.

Bought-together is classic association analysis over recent baskets (one customer order =
one basket): support, confidence and lift of "customers who bought A also bought B".
Substitutes are items a customer buys *instead*: same category and a similar price, rarely
in the same basket, but bought with the same other items (similar co-purchase neighbours)
and of the same product type (name overlap). They are listed in-stock first, so an
out-of-stock SKU gets alternatives that can actually be sold.
"""

from __future__ import annotations

import math
import re
from datetime import date, timedelta
from typing import Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel

from tools.arguments import Limit, Sku, lowered
from tools.registry import Evidence, Request, ToolContext, ToolResult, tool
from tools.store import Store

LOOKBACK_DAYS = 180
MIN_TOGETHER = 3  # minimum support as a basket count: fewer co-occurrences are noise
PRICE_BAND = 1.5  # substitutes cost between 1/1.5x and 1.5x the SKU's price
MAX_SUBSTITUTE_LIFT = 2.0  # pairs bought together this much more than chance are complements
MIN_SUBSTITUTE_SCORE = 0.25  # below this a same-category item is merely another product


class RecommendRequest(Request):
    sku: Sku
    mode: lowered(Literal["bought_together", "substitutes"]) = "bought_together"
    limit: Limit = 5


class Recommendation(BaseModel):
    rank: int
    sku: str
    name: str
    price: float
    on_hand: float  # all locations, latest day
    together: int  # baskets holding both SKUs
    support: float  # together / all baskets
    confidence: float  # together / baskets holding the asked SKU
    lift: float | None  # confidence / share of baskets holding this SKU
    neighbour_similarity: float | None = None  # substitutes: cosine of co-purchase profiles
    name_similarity: float | None = None  # substitutes: word overlap of product names
    score: float | None = None  # substitutes: ranking score


class Recommendations(ToolResult):
    sku: str
    name: str
    mode: str
    on_hand: float
    baskets: int
    baskets_with_sku: int
    period_start: date
    period_end: date
    items: list[Recommendation]

    def render(self) -> str:
        stock = "out of stock" if self.on_hand <= 0 else f"{self.on_hand:g} on hand"
        what = "Bought together with" if self.mode == "bought_together" else "Substitutes for"
        head = (
            f"{what} {self.sku} {self.name} ({stock}; in {self.baskets_with_sku} of {self.baskets} baskets "
            f"{self.period_start.isoformat()}..{self.period_end.isoformat()}):"
        )
        if not self.items:
            return head + " none found."
        return "\n".join([head, *(self._line(r) for r in self.items)])

    def summary(self) -> str:
        what = "Bought together with" if self.mode == "bought_together" else "Substitutes for"
        stock = "out of stock" if self.on_hand <= 0 else f"{self.on_hand:g} on hand"
        head = f"{what} {self.sku} {self.name} ({stock}):"
        if not self.items:
            return f"{head} none found in {self.baskets} baskets."
        lines = []
        for r in self.items:
            have = "out of stock" if r.on_hand <= 0 else f"{r.on_hand:g} on hand"
            why = (
                f"in {r.together} shared baskets"
                if self.mode == "bought_together"
                else f"price {r.price:.2f}"
            )
            lines.append(f"{r.rank}. {r.sku} {r.name} ({why}, {have})")
        return "\n".join([head, *lines])

    def _line(self, r: Recommendation) -> str:
        stock = "out of stock" if r.on_hand <= 0 else f"on hand {r.on_hand:g}"
        lift = "n/a" if r.lift is None else f"{r.lift:.1f}"
        if self.mode == "bought_together":
            return (
                f"{r.rank}. {r.sku} {r.name}: {r.together} baskets, support {100 * r.support:.2f}%, "
                f"confidence {100 * r.confidence:.0f}%, lift {lift}, {stock}"
            )
        return (
            f"{r.rank}. {r.sku} {r.name}: price {r.price:.2f}, {stock}, score {r.score:.2f} "
            f"(shared co-purchases {r.neighbour_similarity:.2f}, name match {r.name_similarity:.2f}, "
            f"together {r.together}, lift {lift})"
        )

    def table(self) -> pd.DataFrame:
        return pd.DataFrame([r.model_dump() for r in self.items])


# -- basket statistics ------------------------------------------------------------------------
def baskets(store: Store, start: date, end: date) -> pd.DataFrame:
    """Distinct (order_id, sku) pairs of customer orders placed in [start, end]."""
    lines = store.order_lines(start=start, end=end)
    return lines[["order_id", "sku"]].drop_duplicates()


def cooccurrence(pairs: pd.DataFrame, sku: str) -> pd.DataFrame:
    """Per other SKU: together (baskets with both), n_b (baskets with it), support, confidence, lift."""
    n = pairs.order_id.nunique()
    with_sku = pairs.order_id[pairs.sku == sku].unique()
    n_a = len(with_sku)
    counts = pairs.sku.value_counts()
    together = pairs[pairs.order_id.isin(with_sku) & (pairs.sku != sku)].sku.value_counts()
    frame = pd.DataFrame({"n_b": counts}).join(together.rename("together")).fillna({"together": 0})
    frame = frame.drop(index=sku, errors="ignore")
    frame["together"] = frame.together.astype(int)
    frame["support"] = frame.together / max(n, 1)
    frame["confidence"] = frame.together / n_a if n_a else 0.0
    frame["lift"] = frame.confidence / (frame.n_b / n) if n_a else np.nan
    frame.index.name = "sku"
    return frame.reset_index()


def neighbour_profiles(pairs: pd.DataFrame, skus: list[str]) -> pd.DataFrame:
    """Rows: the given SKUs; columns: every SKU; values: baskets shared (the co-purchase profile)."""
    mine = pairs[pairs.sku.isin(skus)]
    joined = mine.merge(pairs, on="order_id", suffixes=("", "_other"))
    joined = joined[joined.sku != joined.sku_other]
    return pd.crosstab(joined.sku, joined.sku_other).reindex(index=skus, fill_value=0)


def cosine_to(profiles: pd.DataFrame, sku: str) -> pd.Series:
    """Cosine similarity of each SKU's co-purchase profile to ``sku``'s, ignoring the pair itself
    (two substitutes are rarely bought together, which must not count for or against them)."""
    target = profiles.loc[sku].to_numpy(float)
    out = {}
    for other in profiles.index:
        if other == sku:
            continue
        a, b = target.copy(), profiles.loc[other].to_numpy(float)
        for column in (sku, other):
            if column in profiles.columns:
                idx = profiles.columns.get_loc(column)
                a[idx] = b[idx] = 0.0
        norm = np.linalg.norm(a) * np.linalg.norm(b)
        out[other] = float(a @ b / norm) if norm else 0.0
    return pd.Series(out, dtype=float)


_WORD = re.compile(r"[a-z0-9]+")


def name_similarity(a: str, b: str) -> float:
    """Jaccard overlap of the words of two product names."""
    wa, wb = set(_WORD.findall(a.lower())), set(_WORD.findall(b.lower()))
    return len(wa & wb) / len(wa | wb) if wa | wb else 0.0


def on_hand_totals(store: Store, skus: list[str]) -> pd.Series:
    stock = store.stock_positions(skus=skus)
    return (
        stock.groupby("sku").on_hand.sum().clip(lower=0).reindex(skus, fill_value=0).astype(float)
    )


# -- the two modes ----------------------------------------------------------------------------------
def bought_together(cooc: pd.DataFrame, limit: int) -> pd.DataFrame:
    frame = cooc[cooc.together >= MIN_TOGETHER]
    return frame.sort_values(["lift", "together", "sku"], ascending=[False, False, True]).head(
        limit
    )


def substitutes(
    store: Store, pairs: pd.DataFrame, cooc: pd.DataFrame, product: dict, limit: int
) -> pd.DataFrame:
    same = store.products(category=product["category"])
    price = float(product["price"]) or 1.0
    band = same[
        (same.sku != product["sku"]) & same.price.between(price / PRICE_BAND, price * PRICE_BAND)
    ]
    if band.empty:
        return band.assign(score=[])
    cands = band.merge(cooc, on="sku", how="left").fillna(
        {"together": 0, "support": 0.0, "confidence": 0.0}
    )
    # Often bought together means complement, not substitute.
    cands = cands[~((cands.lift > MAX_SUBSTITUTE_LIFT) & (cands.together >= MIN_TOGETHER))]
    profiles = neighbour_profiles(pairs, [product["sku"], *cands.sku])
    cands["neighbour_similarity"] = cands.sku.map(cosine_to(profiles, product["sku"])).fillna(0.0)
    cands["name_similarity"] = [name_similarity(product["name"], n) for n in cands.name]
    closeness = 1 - np.abs(np.log(cands.price / price)) / math.log(PRICE_BAND)
    cands["score"] = (
        0.45 * cands.neighbour_similarity + 0.4 * cands.name_similarity + 0.15 * closeness
    )
    cands = cands[cands.score >= MIN_SUBSTITUTE_SCORE].copy()
    cands["on_hand"] = on_hand_totals(store, list(cands.sku)).reindex(cands.sku).to_numpy()
    cands["in_stock"] = cands.on_hand > 0
    ranked = cands.sort_values(["in_stock", "score", "sku"], ascending=[False, False, True])
    return ranked.head(limit)


@tool(
    "recommend_products",
    "products bought together with, or substitutes for, a SKU",
    RecommendRequest,
)
def recommend_products(ctx: ToolContext, req: RecommendRequest) -> Recommendations:
    store = ctx.store
    product = store.product(req.sku)
    today = store.today()
    start, end = today - timedelta(days=LOOKBACK_DAYS), today - timedelta(days=1)
    pairs = baskets(store, start, end)
    cooc = cooccurrence(pairs, product["sku"])
    if req.mode == "bought_together":
        chosen = bought_together(cooc, req.limit)
        method = (
            f"association rules over baskets: support, confidence, lift; at least {MIN_TOGETHER} "
            "shared baskets; ranked by lift"
        )
    else:
        chosen = substitutes(store, pairs, cooc, product, req.limit)
        method = (
            "same category, price within 1.5x, not a complement (lift <= 2); score = 0.45 shared "
            "co-purchase cosine + 0.4 name word overlap + 0.15 price closeness, at least "
            f"{MIN_SUBSTITUTE_SCORE}; in stock first"
        )
    names = store.products(skus=list(chosen.sku)).set_index("sku")
    stock = on_hand_totals(store, [product["sku"], *chosen.sku])
    items = [
        _recommendation(i, row, names, stock) for i, row in enumerate(chosen.itertuples(), start=1)
    ]
    return Recommendations(
        sku=product["sku"],
        name=product["name"],
        mode=req.mode,
        on_hand=float(stock[product["sku"]]),
        baskets=int(pairs.order_id.nunique()),
        baskets_with_sku=int((pairs.sku == product["sku"]).sum()),
        period_start=start,
        period_end=end,
        items=items,
        evidence=Evidence(
            sources=["customer_orders", "customer_order_lines", "products", "inventory"],
            method=method,
            period=f"{start.isoformat()}..{end.isoformat()}",
        ),
    )


def _recommendation(rank: int, row, names: pd.DataFrame, stock: pd.Series) -> Recommendation:
    def opt(name):
        value = getattr(row, name, None)
        return None if value is None or pd.isna(value) else round(float(value), 3)

    return Recommendation(
        rank=rank,
        sku=row.sku,
        name=str(names.name.get(row.sku, "")),
        price=float(names.price.get(row.sku, 0.0)),
        on_hand=float(stock.get(row.sku, 0.0)),
        together=int(row.together),
        support=round(float(row.support), 5),
        confidence=round(float(row.confidence), 3),
        lift=opt("lift"),
        neighbour_similarity=opt("neighbour_similarity"),
        name_similarity=opt("name_similarity"),
        score=opt("score"),
    )
