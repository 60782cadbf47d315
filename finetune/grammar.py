"""Compositional phrasings for the training split: a request core per tool, argument phrases
in random order, and the openers and sign-offs staff actually type.

The whole-sentence templates in ``finetune.templates`` give a dozen phrasings per tool; a
135M model learns those sentences rather than which words carry which argument. Composing
cores with argument phrases gives thousands of distinct requests, so the model learns the
slots. Training only: any composed request whose shape equals a held-out template is
dropped, so the test split's phrasings stay unseen.
"""

from __future__ import annotations

import random
import re

from assistant.protocol import Call, Turn
from finetune import planner_cores
from finetune.entities import EntityPool
from finetune.examples import (
    Example,
    add_typos,
    agent_spec_fields,
    exchange,
    fill_slot,
    followup_example,
    is_valid,
    vary_case,
)
from finetune.phrasings import CONTRASTS, REGISTERS
from finetune.templates import (
    FOLLOW_UPS,
    SLOT_ARGUMENT,
    TEMPLATES,
    split_of,
)

# Request cores: (text, fixed arguments). Slots inside a core are always filled.
CORES: dict[str, list[tuple[str, dict]]] = {
    "stockout_risk": [
        ("stock-out risk", {}),
        ("which items go out of stock", {}),
        ("what are we about to run short of", {}),
        ("shortage list", {}),
        ("oos risk list", {}),
        ("skus at risk of a stockout", {}),
        ("what will be sold out", {}),
        ("which products run dry", {}),
        ("anything close to stocking out", {}),
        ("at-risk skus", {}),
        ("stockout report", {}),
        ("what's going to be out of stock", {}),
        ("which lines will we be out of", {}),
        ("risk of running out", {}),
        # The category or site inside the request, where staff usually put it.
        ("which {cat} items go out of stock", {}),
        ("items in {cat} that could run out", {}),
        ("products in the {cat} range at risk", {}),
        ("{cat} lines at risk of a stockout", {}),
        ("anything in {cat} running low", {}),
        ("which {cat} skus run short at {loc}", {}),
        ("at {loc}, which {cat} products sell out", {}),
        ("{loc}: {cat} stock-out risk", {}),
        ("is any {cat} stock about to run out in {loc}", {}),
        ("lines in {cat} at {loc} that could go oos", {}),
        ("what at {loc} is about to run out", {}),
        ("{loc} shortages", {}),
        # "{cat} products/items/lines" as a noun phrase, and category plus site in one breath.
        ("which {cat} products might run out", {}),
        ("{cat} products at risk of stocking out", {}),
        ("what {cat} products will sell out", {}),
        ("which of our {cat} products are running low", {}),
        ("any {cat} products close to a stockout", {}),
        ("which {cat} articles are at risk", {}),
        ("which products in {cat} will stock out", {}),
        ("which lines in {cat} are short at {loc}", {}),
        ("what in {cat} could run out at {loc}", {}),
        ("items in {cat} at risk in {loc}", {}),
        ("any {cat} items at risk at {loc}", {}),
        ("{cat} products that could go out of stock at {loc}", {}),
    ],
    "forecast_demand": [
        ("forecast {sku}", {}),
        ("demand for {sku}", {}),
        ("{sku} demand forecast", {}),
        ("how much {sku} will sell", {}),
        ("projected sales {sku}", {}),
        ("what demand do we expect for {sku}", {}),
        ("sales forecast of {sku}", {}),
        ("{sku} expected units sold", {}),
        ("predict {sku} sales", {}),
        ("how many units of {sku} will customers order", {}),
        ("demand outlook for {sku}", {}),
        ("how will {sku} sell", {}),
        ("how does demand for {sku} look", {}),
        ("what sales do we expect on {sku}", {}),
        ("units {sku} will sell", {}),
        ("what will {sku} demand be", {}),
        ("how will demand for {sku} develop", {}),
        ("what will sales of {sku} look like", {}),
        ("expected demand {sku}", {}),
        ("demand curve for {sku}", {}),
    ],
    "stock_projection": [
        ("stock projection for {sku}", {}),
        ("projected inventory of {sku}", {}),
        ("how many days of cover does {sku} have", {}),
        ("when do we run out of {sku}", {}),
        ("{sku} on hand going forward", {}),
        ("how long does {sku} last", {}),
        ("runout date for {sku}", {}),
        ("day-by-day inventory {sku}", {}),
        ("will we have enough {sku}", {}),
        ("{sku} stock outlook", {}),
        ("project the stock of {sku}", {}),
        # What is left (stock), not what sells (demand).
        ("what's left of {sku}", {}),
        ("how many {sku} remain", {}),
        ("leftover stock of {sku}", {}),
        ("closing stock for {sku}", {}),
        ("{sku} units remaining", {}),
        ("ending inventory of {sku}", {}),
        ("how much {sku} do we still have", {}),
        ("how much {sku} will we have on the shelf", {}),
    ],
    "reorder_plan": [
        ("how much {sku} to order", {}),
        ("reorder {sku}?", {}),
        ("safety stock {sku}", {}),
        ("{sku} reorder point", {}),
        ("order recommendation for {sku}", {}),
        ("do we need to buy more {sku}", {}),
        ("replenish {sku}", {}),
        ("rop for {sku}", {}),
        ("what should the order qty be for {sku}", {}),
        ("ss and rop {sku}", {}),
        ("when should we reorder {sku}", {}),
    ],
    "list_alerts": [
        ("alerts", {}),
        ("open alerts", {}),
        ("show the alerts", {}),
        ("anomalies", {}),
        ("what has been flagged", {}),
        ("alert list", {}),
        ("{kind} alerts", {}),
        ("any {kind} flags", {}),
        ("{sev} alerts", {}),
        ("{kind} anomalies", {}),
        ("what's in the inbox", {}),
        ("current warnings", {}),
        ("show {kind} issues", {}),
        ("unresolved alerts", {}),
        ("{sev} {kind} alerts", {}),
        ("any {sev} {kind} flags", {}),
        ("list the {sev} {kind} anomalies", {}),
        ("{kind} alerts rated {sev}", {}),
        ("pull the {sev} {kind} alerts", {}),
        ("which {kind} alerts are {sev}", {}),
        ("{sev}-severity {kind} alerts", {}),
    ],
    "explain_alert": [
        ("explain {alert}", {}),
        ("what is {alert} about", {}),
        ("{alert} details", {}),
        ("why was {alert} raised", {}),
        ("tell me about {alert}", {}),
        ("break down alert {alert}", {}),
        ("{alert}?", {}),
        ("look into {alert}", {}),
        ("what triggered {alert}", {}),
        ("root cause of {alert}", {}),
    ],
    "plan_routes": [
        ("plan routes", {}),
        ("delivery routes", {}),
        ("route the deliveries", {}),
        ("van routes", {}),
        ("build the delivery plan", {}),
        ("optimise the drops", {}),
        ("vrp", {}),
        ("dispatch plan", {}),
        ("routing", {}),
        ("how do we route the orders", {}),
        ("plan the drivers' runs", {}),
        ("routes out of {loc}", {}),
        ("plan the {loc} delivery runs", {}),
        ("dispatch from {loc}", {}),
        ("van runs leaving {loc}", {}),
        ("{loc} deliveries routing", {}),
    ],
    "supplier_scorecard": [
        ("supplier performance review", {}),
        ("vendor scorecard", {}),
        ("how are our suppliers doing", {}),
        ("on-time rate by supplier", {}),
        ("supplier ranking", {}),
        ("how is {sup} doing", {}),
        ("{sup} on-time performance", {}),
        ("is {sup} reliable", {}),
        ("{sup} lead times", {}),
        ("fill rate of {sup}", {}),
        ("scorecard", {}),
        ("which vendor is most reliable", {}),
    ],
    "supplier_orders": [
        ("late pos", {"status": "late"}),
        ("overdue orders", {"status": "late"}),
        ("purchase orders past due", {"status": "late"}),
        ("what's late", {"status": "late"}),
        ("open pos", {"status": "open"}),
        ("outstanding purchase orders", {"status": "open"}),
        ("pos not yet received", {"status": "open"}),
        ("pos at risk", {"status": "at_risk"}),
        ("orders that might arrive late", {"status": "at_risk"}),
        ("inbound at risk of delay", {"status": "at_risk"}),
        ("all purchase orders", {"status": "all"}),
        ("po history", {"status": "all"}),
        ("every po", {"status": "all"}),
        ("list the late pos", {"status": "late"}),
        ("list {sup} purchase orders", {"status": "all"}),
        ("list open orders with {sup}", {"status": "open"}),
        ("list every order placed with {sup}", {"status": "all"}),
        ("list pos that could slip", {"status": "at_risk"}),
        ("show all {sup} pos", {"status": "all"}),
        ("what is {sup} behind on", {"status": "late"}),
        ("which orders is {sup} late with", {"status": "late"}),
        ("what's overdue from {sup}", {"status": "late"}),
        ("{sup} late deliveries", {"status": "late"}),
        ("is {sup} late on anything", {"status": "late"}),
        ("what has {sup} still to deliver", {"status": "open"}),
        ("{sup} pos at risk", {"status": "at_risk"}),
    ],
    "draft_supplier_email": [
        ("draft an email", {}),
        ("write a chaser", {}),
        ("email the supplier", {}),
        ("prepare a reminder mail", {}),
        ("escalation email", {}),
        ("compose a chase note", {}),
        ("draft a message", {}),
        ("write to the vendor", {}),
        ("chaser email", {}),
        ("nudge the supplier", {}),
    ],
    "recommend_products": [
        ("what sells with {sku}", {}),
        ("companion products for {sku}", {}),
        ("{sku} cross-sell", {}),
        ("items often bought alongside {sku}", {}),
        ("basket partners of {sku}", {}),
        ("add-on ideas for {sku}", {}),
        ("replacement for {sku}", {"mode": "substitutes"}),
        ("{sku} substitutes", {"mode": "substitutes"}),
        ("what can we sell instead of {sku}", {"mode": "substitutes"}),
        ("alternative to {sku}", {"mode": "substitutes"}),
        ("swap for {sku}", {"mode": "substitutes"}),
        ("similar items to {sku}", {"mode": "substitutes"}),
        ("something like {sku} we can offer instead", {"mode": "substitutes"}),
        ("comparable products to {sku}", {"mode": "substitutes"}),
        ("{sku} is out, what else", {"mode": "substitutes"}),
        ("look-alikes for {sku}", {"mode": "substitutes"}),
        ("anything similar to {sku}", {"mode": "substitutes"}),
        ("products like {sku} in stock", {"mode": "substitutes"}),
        ("similar skus to {sku}", {"mode": "substitutes"}),
        ("what is similar to {sku}", {"mode": "substitutes"}),
    ],
    "search_sops": [
        ("sop on {topic}", {}),
        ("what's the process for {topic}", {}),
        ("policy: {topic}", {}),
        ("how should we deal with {topic}", {}),
        ("procedure {topic}", {}),
        ("what do the sops say about {topic}", {}),
        ("guidance on {topic}", {}),
        ("where is the procedure for {topic}", {}),
        ("how do i handle {topic}", {}),
        ("find the sop on {topic}", {}),
        ("open the procedure about {topic}", {}),
        ("is there guidance about {topic}", {}),
        ("sops about {topic}", {}),
        ("the sop for {topic}", {}),
        ("pull up the procedure for {topic}", {}),
        ("what's our policy on {topic}", {}),
        ("sop re {topic}", {}),
        ("procedure doc: {topic}", {}),
        ("rules for {topic}", {}),
        # Staff ask for a procedure by the situation they are in, not by its title.
        ("what do i do when {situ}", {}),
        ("{situ} - what now", {}),
        ("{situ}, what's the procedure", {}),
        ("who do i tell if {situ}", {}),
        ("what's the drill when {situ}", {}),
        ("how do we handle it when {situ}", {}),
    ],
}

# Optional argument phrases a core can take, per tool.
OPTIONAL = {
    "stockout_risk": ["h", "loc", "cat", "n"],
    "forecast_demand": ["h", "loc"],
    "stock_projection": ["h", "loc"],
    "reorder_plan": ["loc", "sl"],
    "list_alerts": ["sev", "kind", "sku", "loc", "n"],
    "explain_alert": [],
    "plan_routes": ["loc", "date", "veh", "cap"],
    "supplier_scorecard": ["sup"],
    "supplier_orders": ["sup"],
    "draft_supplier_email": ["po", "sup"],
    "recommend_products": ["n"],
    "search_sops": [],
}
PHRASES = {
    "h": ["{h}"],
    "loc": ["at {loc}", "in {loc}", "for {loc}", "{loc}", "@ {loc}", "- {loc}"],
    "cat": ["in {cat}", "for {cat}", "{cat} only", "category {cat}", "in the {cat} category"],
    "n": ["top {n}", "limit {n}", "just {n}", "first {n}", "max {n}"],
    "sku": ["for {sku}", "on {sku}", "{sku}"],
    "sup": ["from {sup}", "for {sup}", "with {sup}", "{sup}"],
    "po": ["about {po}", "for {po}", "re {po}", "{po}", "regarding {po}"],
    "veh": [
        "with {veh} vans",
        "using {veh} vehicles",
        "{veh} trucks",
        "{veh} drivers",
        "fleet {veh}",
    ],
    "cap": ["{cap} kg vans", "capacity {cap} kg", "max load {cap}kg", "with {cap}kg trucks"],
    "date": ["{date}", "for {date}"],
    "sev": ["{sev} only", "severity {sev}", "{sev}"],
    "kind": ["type {kind}", "kind {kind}", "only {kind}"],
    "sl": ["at {sl}", "with {sl}", "target {sl}", "{sl}"],
}
# The planner tools (buy list, what-if, sales history, briefing) composed the same way.
for _tool, _cores in planner_cores.CORES.items():
    CORES.setdefault(_tool, []).extend(_cores)
OPTIONAL |= planner_cores.OPTIONAL
PHRASES |= planner_cores.PHRASES
# A request about one SKU takes no category or supplier filter (those make a buy list).
ONE_SKU_EXCLUDES = {"cat", "sup"}
OPENERS = ["", "", "", "", "hey ", "pls ", "quick q: ", "urgent: ", "hi, ", "ok so ", "can u do "]
CLOSERS = ["", "", "", "?", " pls", " thanks", " asap", " please", " thx", "??", ".", " !"]
FOLLOW_OPENERS = [
    "and",
    "what about",
    "how about",
    "ok now",
    "same for",
    "and for",
    "also",
    "now",
    "then",
    "ok",
    "same but",
    "try",
]
FOLLOW_SLOTS = ["loc", "h", "sku", "cat", "sup", "po", "alert"]

# Train-only horizon wordings on top of finetune.examples.HORIZONS.
WEEK_WORDS = ["one", "two", "three", "four", "five", "six", "eight", "ten", "twelve"]
WEEK_NUMBERS = [1, 2, 3, 4, 5, 6, 8, 10, 12]


def extra_horizon(rng: random.Random) -> tuple[str, int]:
    i = rng.randrange(len(WEEK_WORDS))
    weeks, word = WEEK_NUMBERS[i], WEEK_WORDS[i]
    days = rng.randint(2, 60)
    return rng.choice(
        [
            (f"next {word} weeks" if weeks > 1 else "next week", weeks * 7),
            (f"over the next {weeks} weeks" if weeks > 1 else "over the next week", weeks * 7),
            (f"in {weeks} wks", weeks * 7),
            (f"{weeks} weeks out", weeks * 7),
            (f"for the coming {days} days", days),
            (f"{days}d", days),
            (f"over {days} days", days),
            (f"the next {days} days", days),
            ("for the coming week", 7),
            ("next 2 months", 56),
        ]
    )


# Train-only categories and SOP topics beyond the entity pools: with ~35 of each the model
# memorises the list; with many more it learns to copy whatever the user named, whole.
EXTRA_CATEGORIES = """Kids Clothing|Hair Care|Power Tools|Frozen Food|Dairy|Cookware|Board Games
|Art Supplies|Vitamins|Skincare|Smart Home|Printer Ink|Laptop Bags|Cycling|Swimwear|Knitwear
|Cutlery|Glassware|Hardware|Electrical|Flooring|Small Appliances|Baby Food|Cat Food|Dog Toys
|Aquatics|Home Fragrance|Wall Art|Mirrors|Curtains|Towels|Socks|Sunglasses|Perfume|Makeup
|Oral Care|First Aid|Batteries|Light Bulbs|Fasteners|Patio Furniture|BBQ|Plants|Seeds
|Pool Supplies|Ski Gear|Yoga|Running Shoes|Helmets|Car Care|Tyres|Spices|Pasta|Cereal|Sweets|Wine
|Soft Drinks|Baking|Frozen Desserts|School Supplies""".replace("\n", "").split("|")
EXTRA_TOPICS = """what to do when a carrier misses a pickup|approving a rush order|how to count
stock at year end|who signs off a write-off|handling a duplicate purchase order|what to do when
a supplier goes bankrupt|when to split a purchase order|how to report a damaged pallet|setting
safety stock for new items|how long to keep receiving records|what happens when a forecast is
too high|choosing between two suppliers|how to escalate a quality issue|restocking after a
recall|booking a delivery slot|blocked stock in quarantine|handling a price dispute|how to
close a purchase order early|when to expedite by courier|rebalancing stock across sites|hazardous
goods storage|temperature controlled deliveries|customs paperwork for imports|who can change a
reorder point|what to tell customers about a delay|how to return goods to a vendor|end of life
products|substituting an out of stock item|weekend delivery rules|when to cancel a backorder
|how we agree lead times|consignment stock|pallet labelling standards|how to plan a clearance
sale|checking supplier invoices against receipts|how often to recount fast movers|a cost
increase from a vendor|a short shipment from a supplier|claims for damaged goods from a carrier
|a missing delivery note from the supplier|refusing a delivery at the dock|changing the delivery
date of a purchase order|a supplier asking for earlier payment|moving stock between two
warehouses|cancelling an order after it shipped|a quality complaint from a customer|late
invoices from a logistics partner|minimum order quantities from a new vendor"""
EXTRA_TOPICS = [t.strip() for t in EXTRA_TOPICS.replace("\n", " ").split("|")]
# Train-only situations a procedure answers, as staff describe them; the query is the situation.
SITUATIONS = """a pallet shows up damaged|a supplier ships fewer units than we ordered|the shelf count
does not match the system|a carrier misses the pickup|stock on hand goes negative|an item is past
its best before date|a promo gets moved up at short notice|a driver can't make the delivery window
|a vendor puts its prices up|a demand spike alert fires|a po is stuck waiting for approval|a
delivery turns up without paperwork|a truck is over its weight limit|a supplier stops answering
emails|stock goes missing between two counts|the forecast looks far too high|an emergency order
is over my approval limit|a shipment is held at customs|the wrong item arrives from a vendor|a
supplier doubles its lead time|an order needs cancelling after it shipped|a new product has no
sales history|the warehouse runs out of space|a supplier wants to move the delivery date"""
SITUATIONS = [t.strip() for t in SITUATIONS.replace("\n", " ").split("|")]
TRAIN_SLOT_ARGUMENT = {"situ": "query"}  # slots of the cores above beyond the templates' own


def fill_train_slot(slot: str, pool: EntityPool, rng: random.Random):
    """finetune.examples.fill_slot, with train-only horizons, categories and topics mixed in,
    and the planner tools' slots (periods, groups, slips, percentages, product names)."""
    planner = planner_cores.fill_planner_slot(slot, rng)
    if planner is not None:
        return planner
    if slot == "situ":
        value = rng.choice(SITUATIONS)
        return value, value
    surface, value = fill_slot(slot, pool, rng)
    if slot == "h" and rng.random() < 0.5:
        return extra_horizon(rng)
    if slot == "cat" and rng.random() < 0.5:
        value = vary_case(rng, rng.choice(EXTRA_CATEGORIES))
        return value, value
    if slot == "topic" and rng.random() < 0.5:
        value = rng.choice(EXTRA_TOPICS)
        return value, value
    return surface, value


def shape(text: str) -> str:
    """A phrasing with its slots kept and its punctuation and case dropped."""
    return " ".join(re.findall(r"\{\w+\}|[a-z0-9]+", text.lower()))


def held_out_shapes() -> set[str]:
    """Shapes of the held-out request and follow-up phrasings: the test split's templates and
    the registers' and contrasts' held-out fifth (test-extra)."""
    texts = [
        t
        for phrasings in (TEMPLATES, REGISTERS, CONTRASTS)
        for templates in phrasings.values()
        for i, (t, _) in enumerate(templates)
        if split_of(i) == "test"
    ]
    texts += [t for i, (t, _) in enumerate(FOLLOW_UPS) if split_of(i) == "test"]
    return {shape(t) for t in texts}


def _argument(slot: str) -> str:
    return planner_cores.ARGUMENTS.get(slot) or TRAIN_SLOT_ARGUMENT.get(slot) or SLOT_ARGUMENT[slot]


def _fill(text: str, pool: EntityPool, rng: random.Random) -> tuple[str, dict, list[str]]:
    values, arguments, surfaces = {}, {}, []
    for slot in re.findall(r"\{(\w+)\}", text):
        surface, value = fill_train_slot(slot, pool, rng)
        if slot == "date" and surface.startswith("on "):
            surface = surface[3:]
        values[slot], arguments[_argument(slot)] = surface, value
        surfaces.append(str(value))
    return text.format(**values), arguments, surfaces


def compose_request(
    tool: str, pool: EntityPool, rng: random.Random, banned: set[str]
) -> tuple[str, dict, list[str], str] | None:
    """(user text, arguments, entity surfaces, template id) or None if the shape is held out."""
    index = rng.randrange(len(CORES[tool]))
    core, fixed = CORES[tool][index]
    free = [s for s in OPTIONAL[tool] if "{" + s + "}" not in core]
    if "{sku}" in core or "{prod}" in core:
        free = [s for s in free if s not in ONE_SKU_EXCLUDES]
    free = [s for s in free if _argument(s) not in fixed]  # "daily revenue" takes no "by month"
    chosen = [s for s in free if rng.random() < 0.4]
    if tool == "draft_supplier_email" and not chosen:
        chosen = [rng.choice(free)]
    parts = [core] + [rng.choice(PHRASES[s]) for s in chosen]
    if rng.random() < 0.3:
        rng.shuffle(parts)
    body = " ".join(parts)
    text = rng.choice(OPENERS) + body + rng.choice(CLOSERS)
    if shape(text) in banned or shape(body) in banned:  # a held-out phrasing with "pls" is one too
        return None
    if rng.random() < 0.3:  # typos in the words only: the values must be copied exactly
        slots = re.findall(r"\{\w+\}", text)
        marked = re.sub(r"\{\w+\}", "\x00", text)
        noisy = add_typos(marked, rng).split("\x00")
        if len(noisy) == len(slots) + 1:
            text = "".join(p + s for p, s in zip(noisy, slots + [""], strict=True))
    user, arguments, surfaces = _fill(text, pool, rng)
    return user, {**fixed, **arguments}, surfaces, f"{tool}/c{index}"


def composed_calls(pool: EntityPool, rng: random.Random, per_tool: int) -> list:
    banned, examples = held_out_shapes(), []
    for tool in CORES:
        made = 0
        for _ in range(per_tool * 4):
            if made == per_tool:
                break
            request = compose_request(tool, pool, rng, banned)
            if request is None or not is_valid(tool, request[1]):
                continue
            user, arguments, surfaces, template = request
            examples.append(
                Example(
                    [Turn("user", user)],
                    Turn("assistant", calls=[Call(tool, arguments)]),
                    "call",
                    template,
                    "train",
                    surfaces,
                )
            )
            made += 1
    return examples


def composed_followups(
    pool: EntityPool, rng: random.Random, count: int, tool_outputs: dict[str, list[str]]
) -> list:
    """A composed request, its call, result and answer, then a terse change of one argument."""
    banned, examples = held_out_shapes(), []
    for _ in range(count * 10):
        if len(examples) == count:
            break
        tool = rng.choice(list(CORES))
        slot = rng.choice(FOLLOW_SLOTS)
        if SLOT_ARGUMENT[slot] not in agent_spec_fields(tool):
            continue
        request = compose_request(tool, pool, rng, banned)
        if request is None:
            continue
        user, arguments, surfaces, template = request
        if "sku" in arguments and slot in ONE_SKU_EXCLUDES:
            continue  # "and for acme" after one SKU's plan asks for a buy list, not this call
        phrase = (
            "{" + slot + "}"
            if rng.random() < 0.5
            else rng.choice(PHRASES.get(slot, ["{" + slot + "}"]))
        )
        follow = f"{rng.choice(FOLLOW_OPENERS)} {phrase}{rng.choice(CLOSERS)}"
        if shape(follow) in banned:
            continue
        surface, value = fill_train_slot(slot, pool, rng)
        second = dict(arguments, **{SLOT_ARGUMENT[slot]: value})
        if not (is_valid(tool, arguments) and is_valid(tool, second)):
            continue
        output = rng.choice(tool_outputs.get(tool) or [f"{tool}: results shown to the user"])
        examples.append(
            followup_example(
                user,
                Call(tool, arguments),
                output,
                follow.format(**{slot: surface}),
                Call(tool, second),
                f"{template}+cfollow",
                "train",
                surfaces + [str(value)],
            )
        )
    return examples


def composed_switches(
    pool: EntityPool,
    rng: random.Random,
    count: int,
    tool_outputs: dict[str, list[str]],
    off_topic: list[Example],
) -> list:
    """A composed request, its call, result and answer; then a new, unrelated request (another
    tool, or something off-topic). Without these every second turn in the data continued the
    first tool, and the model kept to it: "explain A-3" after an e-mail became an e-mail call."""
    banned, examples = held_out_shapes(), []
    for _ in range(count * 10):
        if len(examples) == count:
            break
        first_tool = rng.choice(list(CORES))
        first = compose_request(first_tool, pool, rng, banned)
        if first is None or not is_valid(first_tool, first[1]):
            continue
        user, arguments, surfaces, template = first
        output = rng.choice(tool_outputs.get(first_tool) or [f"{first_tool}: results shown"])
        context = exchange(user, Call(first_tool, arguments), output)
        if rng.random() < 0.2 and off_topic:
            refusal = rng.choice(off_topic)
            examples.append(
                Example(
                    [*context, *refusal.context],
                    refusal.target,
                    "refusal",
                    f"{template}>{refusal.template}",
                    "train",
                )
            )
            continue
        tool = rng.choice([t for t in CORES if t != first_tool])
        second = compose_request(tool, pool, rng, banned)
        if second is None or not is_valid(tool, second[1]):
            continue
        examples.append(
            Example(
                [*context, Turn("user", second[0])],
                Turn("assistant", calls=[Call(tool, second[1])]),
                "call",
                f"{template}>{second[3]}",
                "train",
                surfaces + second[2],
            )
        )
    return examples
