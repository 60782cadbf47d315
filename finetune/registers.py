"""Stage-7 phrasings: the registers staff really write in, for every agent tool.

Terse and telegraphic requests ("fcst {sku} {loc} 4w"), questions and commands, product names
or parts of them where a code would go, loose codes ("sku 88"), relative dates and horizons
("by friday", "a fortnight"), policy questions that belong to the SOP search, promo and event
questions about a SKU that belong to a stock or forecast tool, and follow-ups that refer to
the rows of the previous result ("the top one", "that supplier", "them").

The model's job is the tool and a verbatim copy of each mention into the argument of its kind;
the entity resolver and the argument guard turn mentions into ids and horizons in code.
The phrasings themselves, written fresh for this stage, are data in ``finetune.phrasings``; this
module fills their slots. As in ``finetune.templates``, every fifth phrasing of a list is
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
from finetune.phrasings import (
    AMOUNTS,
    CONTRASTS,
    DOWNS,
    GROUPS,
    LOSSES,
    METRIC_WORDS,
    PERIODS,
    POLICY,
    REFERENCES,
    REGISTERS,
    SLIPS,
    UPS,
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


EXTRA_SLOTS |= {
    "slip": "slip_days",
    "up": "demand_change_pct",
    "down": "demand_change_pct",
    "loss": "stock_loss_pct",
}
EXTRA_SLOTS |= {"per": "period", "metric": "metric", "grp": "group_by"}
_CHOICES = {"slip": SLIPS, "up": UPS, "down": DOWNS, "loss": LOSSES}
_CHOICES |= {"per": [(p, p) for p in PERIODS], "metric": METRIC_WORDS, "grp": GROUPS}


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
    for tag, phrasings in (("r", REGISTERS), ("x", CONTRASTS)):
        for tool, templates in phrasings.items():
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
                        template = f"{tool}/{tag}{index}"
                        examples.append(
                            Example([Turn("user", user)], call, "call", template, split, surfaces)
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
    words = typos_outside_slots(text, rng) if rng.random() < 0.35 else text
    return words.format(**values), arguments, surfaces


def typos_outside_slots(text: str, rng: random.Random) -> str:
    """``text`` with typos in its words, never in its ``{slot}``s (values are copied exactly)."""
    marked = re.sub(r"\{\w+\}", "\x00", text)
    noisy = add_typos(marked, rng).split("\x00")
    slots = re.findall(r"\{\w+\}", text)
    if len(noisy) != len(slots) + 1:
        return text
    return "".join(p + s for p, s in zip(noisy, slots + [""], strict=True))


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
            target = {**arguments, "location": value}
        if not is_valid(tool, target) or set(target) - agent_spec_fields(tool):
            continue
        if rng.random() < 0.25:  # typos in the words, never in the new site's name
            follow_text = typos_outside_slots(follow_text, rng)
        if ref == "loc!":
            follow_text = follow_text.format(loc=surface)
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
