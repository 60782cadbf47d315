"""Stage-7 phrasings: the registers staff really write in, for every agent tool.

Terse and telegraphic requests ("fcst {sku} {loc} 4w"), questions and commands, product names
or parts of them where a code would go, loose codes ("sku 88"), relative dates and horizons
("by friday", "a fortnight"), policy questions that belong to the SOP search, promo and event
questions about a SKU that belong to a stock or forecast tool, and follow-ups that refer to
the rows of the previous result ("the top one", "that supplier", "them").

The model's job is the tool and a verbatim copy of each mention into the argument of its kind;
the entity resolver and the argument guard turn mentions into ids and horizons in code.
Written fresh for this stage. As in ``finetune.templates``, every fifth phrasing of a list is
held out (the ``test-extra`` split), and entities come from the disjoint train/test pools.
"""

from __future__ import annotations

import random
import re

from assistant.memory import bound_history
from assistant.protocol import Call, Turn
from finetune.entities import EntityPool
from finetune.examples import (
    Example,
    add_typos,
    agent_spec_fields,
    exchange,
    fill_slot,
    is_valid,
    vary_case,
)
from finetune.templates import SLOT_ARGUMENT, split_of

# New slots: {prod} a product name (the sku argument), {code} a loose SKU code, {rel} a
# relative horizon, {day} a relative delivery day, {tw} a terse horizon ("4w", "10d").
EXTRA_SLOTS = {
    "prod": "sku",
    "code": "sku",
    "rel": "horizon_days",
    "day": "date",
    "tw": "horizon_days",
}

# Made-up product names (adjective + material/flavour + product): nouns are split between
# train and test so a held-out name was never seen whole or in part.
_ADJECTIVES = """citrus|nordic|classic|compact|deluxe|organic|bamboo|velvet|stainless|retro|eco
|soft|mini|pro|family|travel|premium|rustic|urban|alpine|coastal|smart|quick|silent|ultra|cosy
|bright|matte|golden|wild""".replace("\n", "").split("|")
_MATERIALS = """lavender|oak|linen|cotton|mint|ceramic|steel|rose|cedar|vanilla|charcoal|honey
|sea salt|walnut|coconut|glass|wool|copper|ginger|jasmine""".replace("\n", "").split("|")
_PRODUCTS = """hand cream|duvet cover|webcam cover|water bottle|dog bed|garden hose|tea towel
|phone stand|desk lamp|cutting board|bath mat|scented candle|yoga mat|lunch box|pillow case
|cat scratcher|plant pot|usb hub|shower gel|kettle|throw blanket|notebook|picture frame|door mat
|knife set|ice tray|bird feeder|laptop sleeve|bike light|toy train|puzzle box|bowl set|face mask
|hair brush|storage jar|wall clock|spice rack|beach towel|travel mug|seed tray""".replace(
    "\n", ""
).split("|")


def product_names(split: str) -> list[str]:
    """Product names of one split (nouns disjoint between splits), e.g. 'Citrus Hand Cream'."""
    rng = random.Random("products")
    nouns = list(_PRODUCTS)
    rng.shuffle(nouns)
    held = set(nouns[: len(nouns) // 4])
    mine = [n for n in _PRODUCTS if (n in held) == (split == "test")]
    names = {
        f"{rng.choice(_ADJECTIVES)} {rng.choice(_MATERIALS)} {rng.choice(mine)}" for _ in range(400)
    }
    names |= {f"{rng.choice(_ADJECTIVES)} {rng.choice(mine)}" for _ in range(200)}
    return sorted(names)


# Relative horizons: (words, days). Deadlines such as "by friday" depend on today, which the
# model never sees: the target is what tools.horizons computes on the demo workspace's today,
# and the argument guard computes it in code on the live one.
RELATIVE = [
    ("by friday", 7),
    ("before the weekend", 7),
    ("by next monday", 7),
    ("till end of the week", 7),
    ("through the weekend", 7),
    ("a fortnight", 14),
    ("the next fortnight", 14),
    ("next couple of weeks", 14),
    ("over the next three weeks", 21),
    ("in the next ten days", 10),
    ("by end of month", 28),
    ("until month end", 28),
    ("over the next six weeks", 42),
    ("next 2 months", 56),
    ("the coming quarter", 84),
]
TERSE = [("1w", 7), ("2w", 14), ("3w", 21), ("4w", 28), ("6w", 42), ("8w", 56), ("10d", 10)]
TERSE += [("14d", 14), ("30d", 30), ("5d", 5), ("12w", 84), ("3d", 3), ("2wks", 14)]
DAYS = ["tomorrow", "next monday", "friday", "the day after tomorrow", "thursday", "monday"]
DAYS += ["next tuesday", "wed", "this saturday"]


def relative_days(words: str, fallback: int) -> int:
    from tools.horizons import horizon_days
    from tools.store.simulate import DEFAULT_TODAY

    return horizon_days(words, DEFAULT_TODAY) or fallback


def loose_code(rng: random.Random) -> str:
    n = rng.randint(1, 999)
    return rng.choice([f"sku {n}", f"SKU{n}", f"sku-{n}", f"Sku #{n}", f"item {n}", f"sku{n}"])


def product_mention(name: str, rng: random.Random) -> str:
    """A product named whole, by its last words, or with 'the' in front; casing varies."""
    words = name.split()
    roll = rng.random()
    if roll < 0.4 or len(words) < 3:
        text = name
    elif roll < 0.7:
        text = " ".join(words[-2:])
    else:
        text = " ".join(words[1:])
    return vary_case(rng, text)


def fill_register_slot(slot: str, pool: EntityPool, products: list[str], rng: random.Random):
    """(surface, argument value) for a slot, the new ones included."""
    if slot == "prod":
        mention = product_mention(rng.choice(products), rng)
        return mention, mention
    if slot == "code":
        mention = loose_code(rng)
        return mention, mention
    if slot == "rel":
        words, days = rng.choice(RELATIVE)
        return words, relative_days(words, days)
    if slot == "tw":
        return rng.choice(TERSE)
    if slot in _CHOICES:
        return rng.choice(_CHOICES[slot])
    if slot == "day":
        day = rng.choice(DAYS)
        return day, day
    return fill_slot(slot, pool, rng)


# Phrasings per tool, (text, fixed arguments). Typos are added to the words at random.
REGISTERS: dict[str, list[tuple[str, dict]]] = {
    "stockout_risk": [
        ("oos {loc} {tw}", {}),
        ("what runs out {rel}", {}),
        ("gonna run out of anything {rel} at {loc}?", {}),
        ("{cat} at risk {tw}", {}),
        ("stockouts {rel} pls", {}),
        ("which {cat} will be gone {rel}", {}),
        ("top {n} at risk {loc}", {}),
        ("are we short on any {cat} at {loc}", {}),
        ("risk list {loc} {cat}", {}),
        ("what do we run out of first at {loc}", {}),
        ("shortages {tw}", {}),
        ("give me the {n} riskiest items", {}),
        ("anything in {cat} that won't last {rel}?", {}),
        ("check stock-outs for {loc} {rel}", {}),
        ("low stock warning {cat}", {}),
    ],
    "forecast_demand": [
        ("fcst {tw} {sku} @ {loc}", {}),
        ("fcst {prod}", {}),
        ("how much {prod} will we sell {rel}", {}),
        ("demand {code} {tw}", {}),
        ("expect a bump in {sku} sales for the promo?", {}),
        ("will {prod} sell well over black friday", {}),
        ("forecast the {prod} at {loc}", {}),
        ("projected demand {prod} {rel}", {}),
        ("what will {code} sell {rel} in {loc}", {}),
        ("sales outlook {sku} {tw}", {}),
        ("how many {prod} do customers want {rel}", {}),
        ("demand for {prod} during the christmas rush?", {}),
        ("fcast {code}", {}),
        ("predict sales {prod} {loc}", {}),
        ("units expected {sku} {rel}", {}),
    ],
    "stock_projection": [
        ("will {sku} hold up during the promotion", {}),
        ("will {prod} last {rel}", {}),
        ("do we have enough {prod} for the promo", {}),
        ("proj {sku} {loc} {tw}", {}),
        ("when do we run out of {prod}", {}),
        ("stock {code} {rel}", {}),
        ("is {prod} going to make it through the sale weekend", {}),
        ("cover on {code} at {loc}", {}),
        ("how long will the {prod} hold out at {loc}", {}),
        ("enough {sku} for the campaign {rel}?", {}),
        ("on hand outlook {prod} {tw}", {}),
        ("can {loc} cover the {prod} promo {rel}", {}),
        ("runout {code}", {}),
        ("are we covered on {prod} for the event", {}),
        ("days of stock left {prod}", {}),
    ],
    "reorder_plan": [
        ("reorder {code}?", {}),
        ("how much {prod} should we buy", {}),
        ("rop {prod} {loc}", {}),
        ("ss {sku} {sl}", {}),
        ("order qty for the {prod}", {}),
        ("time to reorder {prod}?", {}),
        ("buy more {code} at {loc}?", {}),
        ("what should we order of {prod} at {sl}", {}),
        ("replenishment {prod}", {}),
        ("do we need more {prod} in {loc}", {}),
        # Without a SKU: the buy list (proposed POs) for a site, supplier or category.
        ("what do i need to buy from {sup}", {}),
        ("reorder proposal {loc}", {}),
        ("put together an order proposal", {}),
        ("buy list {cat}", {}),
        ("what do we need to order at {loc}", {}),
        ("proposed pos for {sup}", {}),
        ("what needs reordering in {cat}", {}),
        ("order list {sup}", {}),
        ("reorder everything that's low at {loc}", {}),
        ("what to buy from {sup}", {}),
        ("shopping list for {cat} at {loc}", {}),
        ("which items should we reorder now", {}),
        ("draft the buy list", {}),
        ("{loc} replenishment list", {}),
        ("what should we order for {cat}", {}),
    ],
    "list_alerts": [
        ("alerts {loc}", {}),
        ("anything flagged for {prod}?", {}),
        ("{sev} stuff only", {}),
        ("new {kind} flags at {loc}?", {}),
        ("what's flagged on {code}", {}),
        ("show me the top {n} alerts", {}),
        ("any red flags today", {}),
        ("open issues {sev}", {}),
        ("anomaly list {kind}", {}),
        ("whats been flagged at {loc} lately", {}),
    ],
    "explain_alert": [
        ("why {alert}", {}),
        ("wats {alert}", {}),
        ("what's up with {alert}?", {}),
        ("dig into {alert} pls", {}),
        ("{alert} - cause?", {}),
        ("reason for alert {alert}", {}),
        ("what does {alert} mean", {}),
        ("drill into {alert}", {}),
        ("explain the {alert} flag", {}),
        ("what set off {alert}", {}),
    ],
    "plan_routes": [
        ("routes {day}", {}),
        ("plan {loc} deliveries {day}", {}),
        ("van plan {day} {veh} vans", {}),
        ("who drives where {day} from {loc}", {}),
        ("route {loc} {day} cap {cap}", {}),
        ("delivery runs for {day}", {}),
        ("dispatch {loc} {day}", {}),
        ("plan the drops {day} with {veh} trucks", {}),
        ("sort out {day}'s routes for {loc}", {}),
        ("routing {day}", {}),
    ],
    "supplier_scorecard": [
        ("how's {sup} doing", {}),
        ("scorecard {sup}", {}),
        ("is {sup} any good lately", {}),
        ("otif {sup}", {}),
        ("rank the vendors", {}),
        ("{sup} reliability?", {}),
        ("who's our worst supplier", {}),
        ("vendor performance {sup}", {}),
        ("how late is {sup} usually", {}),
        ("supplier kpis", {}),
    ],
    "supplier_orders": [
        ("what's late from {sup}", {"status": "late"}),
        ("late pos {sup}", {"status": "late"}),
        ("open orders {sup}", {"status": "open"}),
        ("anything overdue?", {"status": "late"}),
        ("{sup} open pos", {"status": "open"}),
        ("which orders could slip", {"status": "at_risk"}),
        ("all orders with {sup}", {"status": "all"}),
        ("po status {sup}", {"status": "all"}),
        ("what is {sup} still owing us", {"status": "open"}),
        ("inbound at risk {sup}", {"status": "at_risk"}),
        ("late stuff from suppliers", {"status": "late"}),
        ("whats overdue from {sup}", {"status": "late"}),
    ],
    "draft_supplier_email": [
        ("chase {sup}", {}),
        ("email {sup} re {po}", {}),
        ("write to {sup} about the delay", {}),
        ("draft a chaser for {po}", {}),
        ("mail {sup} about their late stuff", {}),
        ("ping {sup} about {po}", {}),
        ("escalate {po}", {}),
        ("draft a note to {sup}", {}),
        ("chaser email {po}", {}),
        ("nudge {sup} about overdue pos", {}),
        # Without a supplier or PO: one follow-up draft per supplier with late or at-risk POs.
        ("a separate chaser for each supplier that's behind", {}),
        ("chase every late supplier", {}),
        ("draft follow-ups for all late orders", {}),
        ("write to all the vendors who are behind", {}),
        ("send chasers to everyone who's late", {}),
        ("follow-up emails for late pos", {}),
        ("draft reminders for all overdue suppliers", {}),
        ("chase all late pos", {}),
        ("one email per late supplier pls", {}),
        ("nudge every supplier with open late orders", {}),
    ],
    "recommend_products": [
        ("subs for {prod}", {"mode": "substitutes"}),
        ("what can we offer instead of the {prod}", {"mode": "substitutes"}),
        ("alternatives {code}", {"mode": "substitutes"}),
        ("bought with {prod}", {}),
        ("cross sell {code}", {}),
        ("{prod} is out, what else have we got", {"mode": "substitutes"}),
        ("what goes with {prod}", {}),
        ("swap {prod} for what?", {"mode": "substitutes"}),
        ("{n} alternatives to {prod}", {"mode": "substitutes"}),
        ("upsell ideas {prod}", {}),
    ],
}

# What-if re-projections (tools/whatif.py): {slip} days late, {up}/{down} demand change in
# percent, {loss} percent of a site's stock lost; cancel is fixed.
REGISTERS["what_if"] = [
    ("{po} delayed by {slip}: what stocks out?", {}),
    ("what if {sup} is {slip} late", {}),
    ("what happens if {po} is cancelled", {"cancel": True}),
    ("{cat} demand {up} {h}, what then", {}),
    ("what if {prod} sales {up}", {}),
    ("say {sup}'s order comes {slip} later, what happens to stock", {}),
    ("simulate {loc} losing {loss} of its stock", {}),
    ("what if we lose {loss} of stock at {loc}", {}),
    ("what if {sup} cancels their open orders", {"cancel": True}),
    ("what if demand for {sku} {down}", {}),
    ("impact of {po} arriving {slip} late", {}),
    ("what if {cat} demand {up} at {loc}", {}),
    ("scenario: {sup} delays everything by {slip}", {}),
    ("if {po} never arrives what happens", {"cancel": True}),
    ("what if sales of {cat} {down} {h}", {}),
    ("what if a fire destroys {loss} of {loc}'s stock", {}),
    ("re-project if {po} is {slip} late", {}),
    ("what if {sku} demand {up} at {loc}", {}),
    ("what breaks if {sup} slips {slip}", {}),
    ("what if we get a promo spike on {prod}: demand {up}", {}),
    # Second batch (stage 11): more shapes, so the held-out fifth is not the only unseen wording.
    ("what if {po} shows up {slip} late", {}),
    ("run a scenario where {sup} is {slip} behind", {}),
    ("model {po} arriving {slip} late", {}),
    ("{sup} running {slip} late, which skus suffer", {}),
    ("what if {po} gets cancelled", {"cancel": True}),
    ("scenario: {cat} demand {up}", {}),
    ("if {sku} demand {up} {h} do we run out", {}),
    ("test {prod} demand {down}", {}),
    ("simulate {po} not arriving", {"cancel": True}),
    ("what if {loc} loses {loss} of its stock to damage", {}),
    ("what happens to {cat} if sales {down}", {}),
    ("how bad is it if {sup} delivers {slip} late", {}),
    ("assume {prod} demand {up} at {loc}: any stockouts", {}),
    ("sim {po} slipping {slip}", {}),
    ("if we lost {loss} of the stock in {loc} what happens", {}),
    ("what if {sup} pulls all their open pos", {"cancel": True}),
    ("re-run the projection with {po} {slip} late", {}),
    ("stress test: {cat} demand {up} {h}", {}),
    ("scenario where demand for {prod} {down}", {}),
    ("suppose {sup} is {slip} late on everything", {}),
]
# Sales and stock history (tools/history.py): {metric} a metric in words, {per} a past period
# copied verbatim, {grp} a group-by.
REGISTERS["sales_history"] = [
    ("units of {sku} sold {per}", {"metric": "units_sold"}),
    ("{n} worst skus for lost sales {per}", {"metric": "lost_sales", "group_by": "sku"}),
    ("what is the stock at {loc} worth", {"metric": "stock_value"}),
    ("{metric} {per} by {grp}", {}),
    ("revenue {cat} {per}", {"metric": "revenue"}),
    ("what did {prod} sell {per}", {"metric": "units_sold"}),
    ("how much stock do we hold at {loc}", {"metric": "stock_on_hand"}),
    ("stock-out days {per} per site", {"metric": "stockout_days", "group_by": "location"}),
    ("sales of {cat} at {loc} {per}", {"metric": "units_sold"}),
    ("what's our inventory worth in {cat}", {"metric": "stock_value"}),
    ("turnover from {sup} products {per}", {"metric": "revenue"}),
    ("units sold {per} by week", {"metric": "units_sold", "group_by": "week"}),
    ("how much did we lose to stockouts {per}", {"metric": "lost_sales"}),
    ("best sellers {per}", {"metric": "units_sold", "group_by": "sku"}),
    ("revenue by category {per}", {"metric": "revenue", "group_by": "category"}),
    ("{metric} for {sku} {per}", {}),
    ("top {n} categories by revenue {per}", {"metric": "revenue", "group_by": "category"}),
    ("how many days was {prod} out of stock {per}", {"metric": "stockout_days"}),
    ("sold units {loc} {per}", {"metric": "units_sold"}),
    ("value of stock per warehouse", {"metric": "stock_value", "group_by": "location"}),
    # Second batch (stage 11).
    ("how many {prod} did we sell {per}", {"metric": "units_sold"}),
    ("{metric} at {loc} {per}", {}),
    ("sales {per} for {cat}", {"metric": "units_sold"}),
    ("stock value {loc}", {"metric": "stock_value"}),
    ("revenue from {sup} {per}", {"metric": "revenue"}),
    ("top {n} sellers at {loc} {per}", {"metric": "units_sold", "group_by": "sku"}),
    ("lost sales {cat} {per}", {"metric": "lost_sales"}),
    ("how much is on hand in {cat}", {"metric": "stock_on_hand"}),
    ("days out of stock for {sku} {per}", {"metric": "stockout_days"}),
    ("revenue per site {per}", {"metric": "revenue", "group_by": "location"}),
    ("units sold by supplier {per}", {"metric": "units_sold", "group_by": "supplier"}),
    ("which categories sold the most {per}", {"metric": "units_sold", "group_by": "category"}),
    ("what did {loc} sell {per}", {"metric": "units_sold"}),
    ("inventory value by category", {"metric": "stock_value", "group_by": "category"}),
    ("break down {metric} by {grp} {per}", {}),
    ("daily units for {sku} {per}", {"metric": "units_sold", "group_by": "day"}),
    ("revenue by month {per}", {"metric": "revenue", "group_by": "month"}),
    ("how much stock do we have of {prod}", {"metric": "stock_on_hand"}),
    ("missed sales from stockouts at {loc} {per}", {"metric": "lost_sales"}),
    (
        "{n} categories with the most stockout days {per}",
        {"metric": "stockout_days", "group_by": "category"},
    ),
]
PERIODS = ["last week", "last month", "yesterday", "in october", "2026-11", "the last 30 days"]
PERIODS += ["this year", "q3", "last quarter", "since monday", "in september", "2026-10"]
PERIODS += ["over the past 2 weeks", "this month", "last 7 days", "in august"]
METRIC_WORDS = [("units sold", "units_sold"), ("revenue", "revenue"), ("lost sales", "lost_sales")]
METRIC_WORDS += [("stock on hand", "stock_on_hand"), ("stock value", "stock_value")]
METRIC_WORDS += [("stockout days", "stockout_days"), ("sales", "units_sold")]
GROUPS = [("sku", "sku"), ("category", "category"), ("site", "location"), ("month", "month")]
GROUPS += [("supplier", "supplier"), ("day", "day"), ("week", "week"), ("location", "location")]

# The morning briefing takes no arguments.
REGISTERS["briefing"] = [
    ("what needs my attention first thing", {}),
    ("morning briefing", {}),
    ("what's urgent today", {}),
    ("give me the daily rundown", {}),
    ("brief me", {}),
    ("what should i look at first today", {}),
    ("daily summary pls", {}),
    ("start of day overview", {}),
    ("what's on fire this morning", {}),
    ("today's briefing", {}),
    # Second batch (stage 11).
    ("overview for today", {}),
    ("morning summary", {}),
    ("what's the situation today", {}),
    ("give me the morning report", {}),
    ("daily briefing please", {}),
    ("catch me up on today", {}),
    ("status report for this morning", {}),
    ("top priorities today?", {}),
    ("run the briefing", {}),
    ("quick rundown before standup", {}),
]

SLIPS = [("a week", 7), ("another week", 7), ("2 weeks", 14), ("3 days", 3), ("5 days", 5)]
SLIPS += [("10 days", 10), ("a fortnight", 14), ("two weeks", 14), ("4 days", 4), ("1 week", 7)]
UPS = [("doubles", 100), ("goes up 20%", 20), ("rises by 50%", 50), ("jumps 30 percent", 30)]
UPS += [("triples", 200), ("is up 15%", 15), ("grows 40%", 40), ("increases by 25%", 25)]
DOWNS = [("halves", -50), ("drops 30%", -30), ("falls by 20%", -20), ("goes down 10%", -10)]
DOWNS += [("drops by a quarter", -25), ("is cut by 40%", -40)]
LOSSES = [("20%", 20), ("half", 50), ("10%", 10), ("a third", 33), ("30 percent", 30)]
LOSSES += [("all", 100), ("15%", 15)]
EXTRA_SLOTS |= {
    "slip": "slip_days",
    "up": "demand_change_pct",
    "down": "demand_change_pct",
    "loss": "stock_loss_pct",
}
EXTRA_SLOTS |= {"per": "period", "metric": "metric", "grp": "group_by"}
_CHOICES = {"slip": SLIPS, "up": UPS, "down": DOWNS, "loss": LOSSES}
_CHOICES |= {"per": [(p, p) for p in PERIODS], "metric": METRIC_WORDS, "grp": GROUPS}

# Policy questions: the SOP search with the question's subject as the query.
POLICY: list[tuple[str, str]] = [
    ("whose approval do i need for a po above {amount}", "approval for a po above {amount}"),
    ("do i need approval for an order above {amount}", "approval for an order above {amount}"),
    ("what do we do when a delivery arrives damaged", "delivery arrives damaged"),
    ("who can approve a write-off", "approve a write-off"),
    ("can i split a po between two suppliers", "split a po between two suppliers"),
    ("what's the rule for air freight", "rule for air freight"),
    ("how many days before we chase a supplier", "days before we chase a supplier"),
    ("who do i call if a truck doesn't show up", "truck doesn't show up"),
    ("is there a limit for emergency orders", "limit for emergency orders"),
    ("what happens if stock count is off by {amount}", "stock count is off by {amount}"),
    ("who approves a price increase from a vendor", "approves a price increase from a vendor"),
    ("when do we escalate a late po", "escalate a late po"),
    ("what's the return policy for faulty goods", "return policy for faulty goods"),
    ("what do i do with expired stock", "expired stock"),
    ("how should we handle a recall", "handle a recall"),
    ("who decides safety stock levels", "decides safety stock levels"),
    ("what's the cut-off for same day dispatch", "cut-off for same day dispatch"),
    ("what if a supplier ships the wrong item", "supplier ships the wrong item"),
    ("approval needed for orders over {amount}?", "approval needed for orders over {amount}"),
    ("how do we quarantine suspect stock", "quarantine suspect stock"),
]
AMOUNTS = ["50k", "10k", "€25,000", "100k", "5000 eur", "20 units", "£15k", "250k", "2%"]

# Follow-ups by reference: (first tool, follow-up text, tool, fixed arguments, reference).
# References: sku1/sku2/sku3 the n-th SKU code in the previous result, po1 / alert1 the first
# PO / alert id in it, sup the supplier the previous call named, loc the site it named.
REFERENCES: list[tuple[str, str, str, dict, str]] = [
    (
        "stockout_risk",
        "any subs for the top row?",
        "recommend_products",
        {"mode": "substitutes"},
        "sku1",
    ),
    ("stockout_risk", "forecast the second sku", "forecast_demand", {}, "sku2"),
    ("stockout_risk", "project stock for the top one", "stock_projection", {}, "sku1"),
    ("stockout_risk", "how much of the first should we order", "reorder_plan", {}, "sku1"),
    ("stockout_risk", "and the third one's projection?", "stock_projection", {}, "sku3"),
    ("stockout_risk", "what can replace #2", "recommend_products", {"mode": "substitutes"}, "sku2"),
    ("stockout_risk", "demand for the first one", "forecast_demand", {}, "sku1"),
    (
        "stockout_risk",
        "alternatives to the second",
        "recommend_products",
        {"mode": "substitutes"},
        "sku2",
    ),
    ("list_alerts", "explain the top one in that list", "explain_alert", {}, "alert1"),
    ("list_alerts", "why was the top alert raised", "explain_alert", {}, "alert1"),
    ("list_alerts", "details on the first", "explain_alert", {}, "alert1"),
    ("list_alerts", "what's behind the first alert?", "explain_alert", {}, "alert1"),
    ("supplier_orders", "draft an email about the first one", "draft_supplier_email", {}, "po1"),
    ("supplier_orders", "chase the first po", "draft_supplier_email", {}, "po1"),
    ("supplier_orders", "email them", "draft_supplier_email", {}, "sup"),
    ("supplier_orders", "how is that supplier doing overall", "supplier_scorecard", {}, "sup"),
    ("supplier_orders", "write to that supplier", "draft_supplier_email", {}, "sup"),
    ("supplier_orders", "and their scorecard?", "supplier_scorecard", {}, "sup"),
    (
        "supplier_scorecard",
        "what do they still have open with us",
        "supplier_orders",
        {"status": "open"},
        "sup",
    ),
    ("supplier_scorecard", "what are they late on", "supplier_orders", {"status": "late"}, "sup"),
    (
        "supplier_scorecard",
        "that supplier's late pos",
        "supplier_orders",
        {"status": "late"},
        "sup",
    ),
    ("supplier_scorecard", "draft them a chaser", "draft_supplier_email", {}, "sup"),
    ("supplier_scorecard", "show all their pos", "supplier_orders", {"status": "all"}, "sup"),
    ("supplier_scorecard", "email them about it", "draft_supplier_email", {}, "sup"),
    ("stockout_risk", "ok that but {loc}", "stockout_risk", {}, "loc!"),
    ("stockout_risk", "now only {loc}", "stockout_risk", {}, "loc!"),
    ("list_alerts", "and {loc}'s alerts", "list_alerts", {}, "loc!"),
    ("forecast_demand", "same at {loc}", "forecast_demand", {}, "loc!"),
    ("stock_projection", "what about {loc}", "stock_projection", {}, "loc!"),
    ("forecast_demand", "and the stock projection for it", "stock_projection", {}, "skuprev"),
    ("forecast_demand", "how much should we reorder of it", "reorder_plan", {}, "skuprev"),
    ("stock_projection", "and its forecast?", "forecast_demand", {}, "skuprev"),
    (
        "stock_projection",
        "substitutes for it",
        "recommend_products",
        {"mode": "substitutes"},
        "skuprev",
    ),
    ("reorder_plan", "what sells with it", "recommend_products", {}, "skuprev"),
    ("explain_alert", "any other alerts for that sku", "list_alerts", {}, "skuprev"),
]

_CODES = {
    "sku": re.compile(r"\b(?:SKU-\d+|[A-Z]{2,3}-\d{3,4}|[A-Z]{2,3}\d{2,3}-[A-Z])\b"),
    "po": re.compile(r"\bPO-\d+\b"),
    "alert": re.compile(r"\bA-\d+\b"),
}


def codes_in(text: str, kind: str) -> list[str]:
    return list(dict.fromkeys(_CODES[kind].findall(text)))


def register_calls(
    split: str, pool: EntityPool, rng: random.Random, per_template: int, tools: set[str]
) -> list[Example]:
    """Calls from the register phrasings (and policy questions) of ``split``."""
    products, examples = product_names(split), []
    for tool, templates in REGISTERS.items():
        if tool not in tools:
            continue
        for index, (text, fixed) in enumerate(templates):
            if split_of(index) != split:
                continue
            for _ in range(per_template):
                made = render(text, fixed, pool, products, rng)
                if made and is_valid(tool, made[1]):
                    user, arguments, surfaces = made
                    call = Turn("assistant", calls=[Call(tool, arguments)])
                    examples.append(
                        Example(
                            [Turn("user", user)], call, "call", f"{tool}/r{index}", split, surfaces
                        )
                    )
    for index, (question, query) in enumerate(POLICY):
        if split_of(index) != split or "search_sops" not in tools:
            continue
        for _ in range(per_template):
            amount = rng.choice(AMOUNTS)
            user = question.format(amount=amount)
            user = add_typos(user, rng) if rng.random() < 0.3 and "{" not in query else user
            call = Call("search_sops", {"query": query.format(amount=amount)})
            examples.append(
                Example(
                    [Turn("user", user)],
                    Turn("assistant", calls=[call]),
                    "call",
                    f"search_sops/p{index}",
                    split,
                )
            )
    return examples


def render(text: str, fixed: dict, pool: EntityPool, products: list[str], rng: random.Random):
    """(user text, arguments, entity surfaces); typos in the words only, never in values."""
    values, arguments, surfaces = {}, dict(fixed), []
    for slot in re.findall(r"\{(\w+)\}", text):
        surface, value = fill_register_slot(slot, pool, products, rng)
        values[slot] = surface
        arguments[EXTRA_SLOTS.get(slot) or SLOT_ARGUMENT[slot]] = value
        surfaces.append(str(value))
    words = text
    if rng.random() < 0.35:
        marked = re.sub(r"\{\w+\}", "\x00", text)
        noisy = add_typos(marked, rng).split("\x00")
        slots = re.findall(r"\{\w+\}", text)
        if len(noisy) == len(slots) + 1:
            words = "".join(p + s for p, s in zip(noisy, slots + [""], strict=True))
    return words.format(**values), arguments, surfaces


def reference_followups(
    split: str,
    pool: EntityPool,
    rng: random.Random,
    count: int,
    tool_outputs: dict[str, list[str]],
    tools: set[str],
) -> list[Example]:
    """An exchange, then a follow-up that names a row or entity of it by reference; the target
    copies that entity from what the model sees of the previous result (or call)."""
    products = product_names(split)
    usable = [
        (i, r)
        for i, r in enumerate(REFERENCES)
        if split_of(i) == split and r[0] in tools and r[2] in tools
    ]
    firsts = _first_requests(split)
    examples: list[Example] = []
    for _ in range(count * 20):
        if len(examples) >= count or not usable:
            break
        index, (first_tool, follow, tool, fixed, ref) = rng.choice(usable)
        candidates = firsts.get(first_tool, [])
        outputs = tool_outputs.get(first_tool) or []
        if not candidates or not outputs:
            continue
        made = render(*rng.choice(candidates), pool, products, rng)
        if made is None or not is_valid(first_tool, made[0 + 1]):
            continue
        user, arguments, surfaces = made
        output = rng.choice(outputs)
        if output.startswith("ERROR"):  # an error names no rows to refer to
            continue
        context = exchange(user, Call(first_tool, arguments), output)
        seen = "\n".join(t.content for t in bound_history([*context, Turn("user", follow)]))
        target = dict(fixed)
        follow_text = follow
        if ref.startswith("sku") and ref[3:].isdigit():
            codes = codes_in(seen, "sku")
            if len(codes) < int(ref[3:]):
                continue
            target["sku"] = codes[int(ref[3:]) - 1]
        elif ref == "po1" or ref == "alert1":
            codes = codes_in(seen, ref[:-1])
            if not codes:
                continue
            target["po_number" if ref == "po1" else "alert_id"] = codes[0]
        elif ref == "sup":
            if not arguments.get("supplier"):
                continue
            target["supplier"] = arguments["supplier"]
        elif ref == "skuprev":
            codes = codes_in(seen, "sku")
            value = arguments.get("sku") or (codes[0] if codes else None)
            if not value:
                continue
            target["sku"] = value
        elif ref == "loc!":  # same tool, the new site replaces the old one
            surface, value = fill_slot("loc", pool, rng)
            follow_text = follow.format(loc=surface)
            target = {**arguments, "location": value}
        if not is_valid(tool, target) or set(target) - agent_spec_fields(tool):
            continue
        if rng.random() < 0.25:
            follow_text = add_typos(follow_text, rng)
        examples.append(
            Example(
                [*context, Turn("user", follow_text)],
                Turn("assistant", calls=[Call(tool, target)]),
                "followup",
                f"{first_tool}/ref{index}",
                split,
                surfaces,
            )
        )
    return examples


def _first_requests(split: str) -> dict[str, list[tuple[str, dict]]]:
    """Register phrasings of ``split`` that can open an exchange, per tool."""
    return {
        tool: [t for i, t in enumerate(templates) if split_of(i) == split]
        for tool, templates in REGISTERS.items()
    }
