"""The dataset's building blocks, shared by the templated data (finetune.data) and the
composed grammar (finetune.grammar): the example record, slot filling (what a user types and
the argument the model should emit), typos, and the earlier exchange a follow-up builds on.

Both generators import this module and neither imports the other's internals.
"""

from __future__ import annotations

import random
import string
from dataclasses import asdict, dataclass, field

from assistant.answers import quote_result as answer_from_output
from assistant.protocol import Call, Turn
from finetune.entities import EntityPool
from finetune.templates import SLOT_ARGUMENT
from tools.registry import agent_tools, validate_arguments


@dataclass
class Example:
    context: list[Turn]  # conversation before the target (no system turn)
    target: Turn  # the assistant turn to learn
    kind: str  # call | refusal | followup | answer | chain
    template: str
    split: str
    entities: list[str] = field(default_factory=list)

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict) -> Example:
        def turn(d):
            return Turn(d["role"], d["content"], [Call(**c) for c in d["calls"]], d["tool_name"])

        return cls(
            [turn(t) for t in data["context"]],
            turn(data["target"]),
            data["kind"],
            data["template"],
            data["split"],
            data.get("entities", []),
        )


# -- surface forms: what a user types, and the argument the model should emit ------------------

HORIZONS = [
    ("next week", 7),
    ("this week", 7),
    ("in the next 7 days", 7),
    ("over the next two weeks", 14),
    ("next fortnight", 14),
    ("next month", 28),
    ("in the next 4 weeks", 28),
    ("tomorrow", 1),
    ("over the next quarter", 84),
    ("in the next 12 weeks", 84),
]
SEVERITIES = ["critical", "high", "medium", "low"]
KINDS = [
    ("demand spike", "demand_spike"),
    ("spike", "demand_spike"),
    ("demand drop", "demand_drop"),
    ("sales drop", "demand_drop"),
    ("data error", "data_error"),
    ("data quality", "data_error"),
    ("supplier delay", "supplier_delay"),
    ("late supplier", "supplier_delay"),
    ("shrinkage", "shrinkage"),
]
WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday"]


def vary_case(rng: random.Random, text: str) -> str:
    roll = rng.random()
    return text.lower() if roll < 0.3 else text.upper() if roll < 0.38 else text


def fill_slot(slot: str, pool: EntityPool, rng: random.Random):
    """(surface text, argument value) for one slot."""
    if slot == "sku":
        value = vary_case(rng, rng.choice(pool.skus))
        return value, value
    if slot == "loc":
        city = rng.choice(pool.cities)
        form = rng.random()
        if form < 0.35:
            value = vary_case(rng, city)
            return value, value
        if form < 0.6:
            value = vary_case(rng, f"{city} DC")
            return f"the {value}" if rng.random() < 0.5 else value, value
        if form < 0.8:
            value = vary_case(rng, city)
            return f"the {value} warehouse", value
        code = city[:3].upper()
        return code, code
    if slot == "h":
        if rng.random() < 0.45:
            return rng.choice(HORIZONS)
        n = rng.randint(1, 12) if rng.random() < 0.4 else rng.randint(2, 84)
        if n <= 12 and rng.random() < 0.5:
            return (f"in the next {n} weeks" if n > 1 else "in the next week"), n * 7
        return rng.choice([f"in the next {n} days", f"next {n} days", f"within {n} days"]), n
    if slot == "cat":
        value = vary_case(rng, rng.choice(pool.categories))
        return value, value
    if slot == "n":
        n = rng.choice([3, 5, 10, 15, 20, 25, 50])
        return str(n), n
    if slot == "sup":
        name = rng.choice(pool.suppliers)
        value = name.split()[0] if rng.random() < 0.35 else name
        value = vary_case(rng, value)
        return value, value
    if slot == "po":
        n = rng.choice(pool.pos)
        surface = rng.choice(
            [
                f"PO-{n}",
                f"PO {n}",
                f"po {n}",
                f"PO{n}",
                f"PO #{n}",
                f"po-{n}",
                f"purchase order {n}",
            ]
        )
        return surface, f"PO-{n}"
    if slot == "alert":
        n = rng.choice(pool.alerts)
        surface = rng.choice([f"A-{n}", f"a-{n}", f"A{n}", f"A-{n}", f"a{n}"])
        return surface, f"A-{n}"
    if slot == "date":
        roll = rng.random()
        if roll < 0.35:
            return "today", "today"
        if roll < 0.65:
            return "tomorrow", "tomorrow"
        if roll < 0.8:
            day = rng.choice(WEEKDAYS)
            return f"on {day}" if rng.random() < 0.5 else day, day
        iso = rng.choice(pool.dates)
        return iso, iso
    if slot == "veh":
        n = rng.randint(2, 12)
        return str(n), n
    if slot == "cap":
        n = rng.choice([500, 750, 800, 1000, 1200, 1500, 2000, 3500])
        return str(n), float(n)
    if slot == "sev":
        value = rng.choice(SEVERITIES)
        return value, value
    if slot == "kind":
        return rng.choice(KINDS)
    if slot == "sl":
        level = rng.choice([90, 95, 97, 98, 99, 99.5])
        return rng.choice([f"{level}%", f"{level}% service level", f"{level} percent"]), round(
            level / 100, 4
        )
    if slot == "topic":
        value = rng.choice(pool.topics)
        return value, value
    raise KeyError(slot)


def slots_of(text: str) -> list[str]:
    return [name for _, name, _, _ in string.Formatter().parse(text) if name]


def add_typos(text: str, rng: random.Random, rate: float = 0.03) -> str:
    """Drop, double or swap a few letters outside the slot values, and vary punctuation."""
    chars = list(text)
    out = []
    i = 0
    while i < len(chars):
        c = chars[i]
        r = rng.random()
        if c.isalpha() and r < rate:
            choice = rng.random()
            if choice < 0.4:
                pass  # dropped letter
            elif choice < 0.7:
                out += [c, c]
            elif i + 1 < len(chars) and chars[i + 1].isalpha():
                out += [chars[i + 1], c]
                i += 1
            else:
                out.append(c)
        else:
            out.append(c)
        i += 1
    result = "".join(out)
    if rng.random() < 0.3:
        result = result.rstrip("?.!")
    return result


def render_template(
    text: str, fixed: dict, pool: EntityPool, rng: random.Random, typos: bool = True
):
    """(user text, arguments, entity surfaces)."""
    values, arguments, surfaces = {}, dict(fixed), []
    for slot in slots_of(text):
        surface, arg = fill_slot(slot, pool, rng)
        values[slot] = surface
        arguments[SLOT_ARGUMENT[slot]] = arg
        surfaces.append(str(arg))
    if typos and rng.random() < 0.5:
        # Typos only in the template words: the slot values must be copied exactly.
        marker = {k: f"\x00{i}\x00" for i, k in enumerate(values)}
        noisy = add_typos(text.format(**marker), rng)
        for k, m in marker.items():
            noisy = noisy.replace(m, values[k])
        user = noisy
    else:
        user = text.format(**values)
    if rng.random() < 0.25:
        user = user.lower()
        arguments = {
            k: (
                v.lower()
                if isinstance(v, str) and k in {"location", "category", "supplier", "sku", "query"}
                else v
            )
            for k, v in arguments.items()
        }
    return user, arguments, surfaces


def is_valid(tool: str, arguments: dict) -> bool:
    try:
        validate_arguments(tool, arguments)
        return True
    except ValueError:
        return False


def exchange(user: str, call: Call, output: str) -> list[Turn]:
    """An earlier exchange as the model sees it: request, call, result, the quoted answer."""
    return [
        Turn("user", user),
        Turn("assistant", calls=[call]),
        Turn("tool", output, tool_name=call.name),
        Turn("assistant", answer_from_output(output)),
    ]


def followup_example(
    user: str,
    first: Call,
    output: str,
    follow: str,
    second: Call,
    template: str,
    split: str,
    entities: list[str],
) -> Example:
    """A request, its call, the result and the quoted answer; then the follow-up -> ``second``."""
    context = [*exchange(user, first, output), Turn("user", follow)]
    return Example(
        context, Turn("assistant", calls=[second]), "followup", template, split, entities
    )


def agent_spec_fields(tool: str) -> set[str]:
    return {
        name for spec in agent_tools() if spec.name == tool for name in spec.request.model_fields
    }
