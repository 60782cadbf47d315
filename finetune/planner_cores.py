"""Grammar cores for the planner tools: the buy list, what-if, sales history and the briefing.

Until stage 17 these tools were taught only by forty whole sentences each (finetune.phrasings),
and the model learnt the sentences: on held-out phrasings it called sales_history for none of
24 requests. Here they are composed as the older tools are (finetune.grammar): a core naming
the metric or the edit, optional filter, period and group-by phrases in any order, openers,
sign-offs and typos, with their own train-only word lists (periods, slips, percentages), so
the model learns which words carry which argument. The held-out register phrasings stay
unseen: finetune.grammar drops any composed request of their shape.
"""

from __future__ import annotations

import random

from finetune.phrasings import DOWNS, GROUPS, LOSSES, PERIODS, SLIPS, UPS
from finetune.registers import EXTRA_SLOTS, product_mention, product_names

_UNITS, _REVENUE, _LOST = {"metric": "units_sold"}, {"metric": "revenue"}, {"metric": "lost_sales"}
_ON_HAND, _VALUE = {"metric": "stock_on_hand"}, {"metric": "stock_value"}
_OUT_DAYS = {"metric": "stockout_days"}
_CANCEL = {"cancel": True}

CORES: dict[str, list[tuple[str, dict]]] = {
    "sales_history": [
        ("units sold {per}", _UNITS),
        ("how many units did we sell {per}", _UNITS),
        ("unit sales {per}", _UNITS),
        ("sales volume {per}", _UNITS),
        ("qty sold {per}", _UNITS),
        ("what did we sell {per}", _UNITS),
        ("how many {prod} went out {per}", _UNITS),
        ("{prod} sales {per}", _UNITS),
        ("how much {cat} did we sell {per}", _UNITS),
        ("pieces sold of {sku} {per}", _UNITS),
        ("revenue {per}", _REVENUE),
        ("turnover {per}", _REVENUE),
        ("sales in euros {per}", _REVENUE),
        ("how much money did {cat} make {per}", _REVENUE),
        ("takings {per}", _REVENUE),
        ("what did we earn {per}", _REVENUE),
        ("revenue for {prod} {per}", _REVENUE),
        ("income from sales {per}", _REVENUE),
        ("lost sales {per}", _LOST),
        ("sales lost to stockouts {per}", _LOST),
        ("missed demand {per}", _LOST),
        ("how much did stockouts cost us {per}", _LOST),
        ("units we could not sell because we were out {per}", _LOST),
        ("lost units for {prod} {per}", _LOST),
        ("stock on hand", _ON_HAND),
        ("how much do we have in stock", _ON_HAND),
        ("current stock level", _ON_HAND),
        ("units in stock", _ON_HAND),
        ("on-hand qty", _ON_HAND),
        ("how much {prod} do we have right now", _ON_HAND),
        ("stock value", _VALUE),
        ("inventory value", _VALUE),
        ("what's our stock worth", _VALUE),
        ("how much money is tied up in stock", _VALUE),
        ("inventory worth", _VALUE),
        ("value of the stock we hold", _VALUE),
        ("stockout days {per}", _OUT_DAYS),
        ("days out of stock {per}", _OUT_DAYS),
        ("how many days were we out {per}", _OUT_DAYS),
        ("days with zero stock {per}", _OUT_DAYS),
        ("oos days {per}", _OUT_DAYS),
        ("how many days was {prod} unavailable {per}", _OUT_DAYS),
        # Rankings and time series: the group is in the core.
        ("best selling categories {per}", {**_UNITS, "group_by": "category"}),
        ("which sites sold the most {per}", {**_UNITS, "group_by": "location"}),
        ("top {n} products by revenue {per}", {**_REVENUE, "group_by": "sku"}),
        ("worst {n} items for lost sales {per}", {**_LOST, "group_by": "sku"}),
        ("which suppliers brought in the most revenue {per}", {**_REVENUE, "group_by": "supplier"}),
        ("where were we out of stock most {per}", {**_OUT_DAYS, "group_by": "location"}),
        ("which categories hold the most stock value", {**_VALUE, "group_by": "category"}),
        ("weekly sales {per}", {**_UNITS, "group_by": "week"}),
        ("daily revenue {per}", {**_REVENUE, "group_by": "day"}),
        ("monthly units sold {per}", {**_UNITS, "group_by": "month"}),
    ],
    "what_if": [
        ("what if {po} is {slip} late", {}),
        ("{po} slips {slip}, what runs out", {}),
        ("suppose {sup} delivers {slip} late", {}),
        ("impact if {sup} is {slip} behind", {}),
        ("{sup} delayed {slip}: which skus stock out", {}),
        ("what happens when {po} comes {slip} later", {}),
        ("if {po} is pushed back {slip}", {}),
        ("{sup} is running {slip} behind on all orders, impact?", {}),
        ("scenario {po} late by {slip}", {}),
        ("what if everything from {sup} arrives {slip} late", {}),
        ("how does stock look if {po} lands {slip} late", {}),
        ("delay {po} by {slip} and reproject", {}),
        ("{po} cancelled, what happens to stock", _CANCEL),
        ("impact of cancelling {po}", _CANCEL),
        ("what if {sup} cancels everything", _CANCEL),
        ("scenario: {po} never comes", _CANCEL),
        ("suppose {po} is called off", _CANCEL),
        ("{sup} can't deliver their open orders, what then", _CANCEL),
        ("what if {cat} demand {up}", {}),
        ("suppose sales of {prod} {down}", {}),
        ("scenario {sku} demand {up}", {}),
        ("if demand at {loc} {up} what runs out", {}),
        ("{prod} goes viral and demand {up}, do we run out", {}),
        ("what if {cat} sales {down} at {loc}", {}),
        ("model demand for {prod} that {down}", {}),
        ("stress test {loc}: demand {up}", {}),
        ("{loc} flood wipes out {loss} of the stock, what happens", {}),
        ("suppose we write off {loss} of the stock at {loc}", {}),
        ("scenario: {loss} of {loc} inventory damaged", {}),
        ("impact of losing {loss} of stock in {loc}", {}),
        ("if {loss} of the {loc} stock is lost what stocks out", {}),
        ("a theft takes {loss} of {loc}'s stock, impact?", {}),
    ],
    "briefing": [
        ("what's going on today", {}),
        ("morning update", {}),
        ("anything i should know", {}),
        ("give me the highlights", {}),
        ("summary of today", {}),
        ("daily digest", {}),
        ("what happened overnight", {}),
        ("any fires to put out", {}),
        ("what do i need to deal with today", {}),
        ("start my day", {}),
        ("today's priorities", {}),
        ("headlines for today", {}),
        ("what's important this morning", {}),
        ("day overview", {}),
        ("morning brief", {}),
        ("what's new today", {}),
        ("where do i start today", {}),
        ("the briefing", {}),
    ],
    # The buy list: reorder_plan without a SKU, for a site, category or supplier.
    "reorder_plan": [
        ("what should we order", {}),
        ("buy list", {}),
        ("order list for this week", {}),
        ("what do we need to buy", {}),
        ("purchase suggestions", {}),
        ("what needs reordering", {}),
        ("replenishment list", {}),
        ("proposed pos", {}),
        ("what to reorder", {}),
        ("which items need a po", {}),
        ("draft the order list", {}),
        ("what should i buy", {}),
        ("reorder suggestions", {}),
        ("what do we have to order today", {}),
    ],
}
OPTIONAL = {
    "sales_history": ["per", "grp", "n", "loc", "cat", "sup"],
    "what_if": ["h"],
    "briefing": [],
    "reorder_plan": ["loc", "sl", "cat", "sup"],
}
PHRASES = {
    "per": ["{per}"],
    "grp": ["by {grp}", "per {grp}", "split by {grp}", "broken down by {grp}", "for each {grp}"],
    "prod": ["for {prod}", "of {prod}", "{prod}"],
}

# Train-only word lists, wider than the registers' (which the held-out phrasings share).
TRAIN_PERIODS = PERIODS + ["last 2 weeks", "in july", "in june", "this week", "the past 14 days"]
TRAIN_PERIODS += ["last 90 days", "ytd", "last 3 months", "since november", "past 7 days"]
TRAIN_PERIODS += ["previous month", "2026-09", "september 2026", "over the last 60 days", "today"]
TRAIN_PERIODS += ["last 6 weeks"]
TRAIN_GROUPS = GROUPS + [("product", "sku"), ("item", "sku"), ("warehouse", "location")]
TRAIN_GROUPS += [("dc", "location"), ("vendor", "supplier")]
TRAIN_SLIPS = SLIPS + [("6 days", 6), ("two days", 2), ("3 weeks", 21), ("12 days", 12)]
TRAIN_SLIPS += [("three weeks", 21), ("a day", 1), ("8 days", 8)]
TRAIN_UPS = UPS + [("goes up by 60%", 60), ("is up 10 percent", 10), ("spikes 80%", 80)]
TRAIN_UPS += [("climbs 35%", 35), ("quadruples", 300), ("rises 5%", 5)]
TRAIN_DOWNS = DOWNS + [("dips 15%", -15), ("is down 25 percent", -25), ("shrinks 10%", -10)]
TRAIN_DOWNS += [("falls by half", -50), ("drops 60%", -60)]
TRAIN_LOSSES = LOSSES + [("40%", 40), ("a quarter", 25), ("25 percent", 25), ("60%", 60)]
CHOICES = {
    "per": [(p, p) for p in TRAIN_PERIODS],
    "grp": TRAIN_GROUPS,
    "slip": TRAIN_SLIPS,
    "up": TRAIN_UPS,
    "down": TRAIN_DOWNS,
    "loss": TRAIN_LOSSES,
}
ARGUMENTS = EXTRA_SLOTS  # {slot: the argument it fills} for the slots above and {prod}
_PRODUCTS = product_names("train")


def fill_planner_slot(slot: str, rng: random.Random) -> tuple[str, object] | None:
    """(surface, value) for a slot of these cores, or None for a slot of the common grammar."""
    if slot in CHOICES:
        return rng.choice(CHOICES[slot])
    if slot == "prod":
        mention = product_mention(rng.choice(_PRODUCTS), rng)
        return mention, mention
    return None
