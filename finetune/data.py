"""Tool-use training data, generated from the tool registry and the agent's own protocol.

An example is a conversation (protocol turns) plus the assistant turn to learn: a tool call,
an honest refusal, or a final answer that copies figures from the tool results it was given.
Splits are by template and by entity value: the test split's phrasings and entities never
appear in training.
"""

from __future__ import annotations

import hashlib
import json
import random
from dataclasses import asdict, dataclass, field
from pathlib import Path

from assistant.answers import quote_result as answer_from_output
from assistant.protocol import Call, Turn
from finetune.entities import EntityPool, entity_pools
from finetune.templates import FOLLOW_UPS, IRRELEVANT, REFUSAL, SLOT_ARGUMENT, TEMPLATES, split_of
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


def _case(rng: random.Random, text: str) -> str:
    roll = rng.random()
    return text.lower() if roll < 0.3 else text.upper() if roll < 0.38 else text


def fill_slot(slot: str, pool: EntityPool, rng: random.Random):
    """(surface text, argument value) for one slot."""
    if slot == "sku":
        value = _case(rng, rng.choice(pool.skus))
        return value, value
    if slot == "loc":
        city = rng.choice(pool.cities)
        form = rng.random()
        if form < 0.35:
            value = _case(rng, city)
            return value, value
        if form < 0.6:
            value = _case(rng, f"{city} DC")
            return f"the {value}" if rng.random() < 0.5 else value, value
        if form < 0.8:
            value = _case(rng, city)
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
        value = _case(rng, rng.choice(pool.categories))
        return value, value
    if slot == "n":
        n = rng.choice([3, 5, 10, 15, 20, 25, 50])
        return str(n), n
    if slot == "sup":
        name = rng.choice(pool.suppliers)
        value = name.split()[0] if rng.random() < 0.35 else name
        value = _case(rng, value)
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


def _slots(text: str) -> list[str]:
    import string

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
    for slot in _slots(text):
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


def _valid(tool: str, arguments: dict) -> bool:
    try:
        validate_arguments(tool, arguments)
        return True
    except ValueError:
        return False


# -- example builders ------------------------------------------------------------------------


def call_examples(
    split: str, pool: EntityPool, rng: random.Random, per_template: int
) -> list[Example]:
    examples = []
    for tool, templates in TEMPLATES.items():
        for index, (text, fixed) in enumerate(templates):
            if split_of(index) != split:
                continue
            for _ in range(per_template):
                user, arguments, surfaces = render_template(text, fixed, pool, rng)
                if not _valid(tool, arguments):
                    continue
                examples.append(
                    Example(
                        [Turn("user", user)],
                        Turn("assistant", calls=[Call(tool, arguments)]),
                        "call",
                        f"{tool}/{index}",
                        split,
                        surfaces,
                    )
                )
    return examples


def refusal_examples(split: str, rng: random.Random, copies: int) -> list[Example]:
    examples = []
    for index, text in enumerate(IRRELEVANT):
        if split_of(index) != split:
            continue
        for _ in range(copies):
            user = add_typos(text, rng) if rng.random() < 0.4 else text
            examples.append(
                Example(
                    [Turn("user", user)],
                    Turn("assistant", REFUSAL),
                    "refusal",
                    f"irrelevant/{index}",
                    split,
                )
            )
    return examples


def followup_examples(
    split: str, pool: EntityPool, rng: random.Random, count: int, tool_outputs: dict[str, list[str]]
) -> list[Example]:
    """A first request, its call, result and answer; then a terse follow-up changing one slot."""
    examples = []
    follow = [(i, t, s) for i, (t, s) in enumerate(FOLLOW_UPS) if split_of(i) == split]
    candidates = []
    for tool, templates in TEMPLATES.items():
        for index, (text, fixed) in enumerate(templates):
            if split_of(index) == split:
                candidates.append((tool, index, text, fixed))
    attempts = 0
    while len(examples) < count and attempts < count * 20:
        attempts += 1
        tool, index, text, fixed = rng.choice(candidates)
        f_index, f_text, slot = rng.choice(follow)
        if SLOT_ARGUMENT[slot] not in agent_spec_fields(tool):
            continue
        user, arguments, surfaces = render_template(text, fixed, pool, rng)
        surface, value = fill_slot(slot, pool, rng)
        second = dict(arguments, **{SLOT_ARGUMENT[slot]: value})
        if not (_valid(tool, arguments) and _valid(tool, second)):
            continue
        output = rng.choice(tool_outputs.get(tool) or [f"{tool}: results shown to the user"])
        examples.append(
            followup_example(
                user,
                Call(tool, arguments),
                output,
                f_text.format(**{slot: surface}),
                Call(tool, second),
                f"{tool}/{index}+follow/{f_index}",
                split,
                surfaces + [str(value)],
            )
        )
    return examples


def exchange(user: str, call: Call, output: str) -> list[Turn]:
    """An earlier exchange as the model sees it: request, call, result, the quoted answer."""
    return [
        Turn("user", user),
        Turn("assistant", calls=[call]),
        Turn("tool", output, tool_name=call.name),
        Turn("assistant", answer_from_output(output)),
    ]


def switch_examples(
    split: str, pool: EntityPool, rng: random.Random, count: int, tool_outputs: dict[str, list[str]]
) -> list[Example]:
    """A first request, its call, result and answer; then an unrelated request: another tool
    (the call is due) or something off-topic (the refusal is). Phrasings and entities of
    ``split`` only, so a test set of these is as unseen as the held-out split."""
    candidates = [
        (tool, index, text, fixed)
        for tool, templates in TEMPLATES.items()
        for index, (text, fixed) in enumerate(templates)
        if split_of(index) == split
    ]
    off_topic = [(i, t) for i, t in enumerate(IRRELEVANT) if split_of(i) == split]
    examples = []
    while len(examples) < count:
        tool, index, text, fixed = rng.choice(candidates)
        user, arguments, surfaces = render_template(text, fixed, pool, rng)
        if not _valid(tool, arguments):
            continue
        output = rng.choice(tool_outputs.get(tool) or [f"{tool}: results shown to the user"])
        context = exchange(user, Call(tool, arguments), output)
        if rng.random() < 0.2:
            i, prompt = rng.choice(off_topic)
            context.append(Turn("user", prompt))
            examples.append(
                Example(
                    context,
                    Turn("assistant", REFUSAL),
                    "refusal",
                    f"{tool}/{index}>irrelevant/{i}",
                    split,
                )
            )
            continue
        tool2, index2, text2, fixed2 = rng.choice([c for c in candidates if c[0] != tool])
        user2, arguments2, surfaces2 = render_template(text2, fixed2, pool, rng)
        if not _valid(tool2, arguments2):
            continue
        context.append(Turn("user", user2))
        examples.append(
            Example(
                context,
                Turn("assistant", calls=[Call(tool2, arguments2)]),
                "call",
                f"{tool}/{index}>{tool2}/{index2}",
                split,
                surfaces + surfaces2,
            )
        )
    return examples


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


# -- the whole dataset ---------------------------------------------------------------------


@dataclass
class DatasetConfig:
    seed: int = 0
    per_template: int = 14  # call examples per training template
    test_per_template: int = 4
    refusal_copies: int = 5
    test_refusal_copies: int = 3
    followups: int = 400
    test_followups: int = 60
    # Training only (finetune.grammar): composed requests, follow-ups and near-miss refusals.
    composed_per_tool: int = 500
    composed_followups: int = 1000
    near_misses: int = 500
    composed_switches: int = 1200
    # Training only: topic switches between training templates, built as the held-out ones are.
    template_switches: int = 600


def build_dataset(
    config: DatasetConfig,
    answers: dict[str, list[Example]] | None = None,
    train_outputs: dict[str, list[str]] | None = None,
    test_outputs: dict[str, list[str]] | None = None,
) -> dict[str, list[Example]]:
    """{'train': [...], 'test': [...]}; ``answers`` (from finetune.answers) are added per split."""
    pools = entity_pools(config.seed)
    data = {}
    for split in ("train", "test"):
        rng = random.Random(f"{config.seed}-{split}")
        per = config.per_template if split == "train" else config.test_per_template
        copies = config.refusal_copies if split == "train" else config.test_refusal_copies
        n_follow = config.followups if split == "train" else config.test_followups
        examples = call_examples(split, pools[split], rng, per)
        examples += refusal_examples(split, rng, copies)
        outputs = (train_outputs if split == "train" else test_outputs) or {}
        examples += followup_examples(split, pools[split], rng, n_follow, outputs)
        examples += (answers or {}).get(split, [])
        if split == "train":
            examples += composed_examples(config, pools["train"], outputs)
            switch_rng = random.Random(f"{config.seed}-switch-train")  # the rest stays as it was
            examples += switch_examples(
                "train", pools["train"], switch_rng, config.template_switches, outputs
            )
        rng.shuffle(examples)
        data[split] = examples
    return data


def composed_examples(
    config: DatasetConfig, pool: EntityPool, tool_outputs: dict[str, list[str]]
) -> list[Example]:
    from finetune import grammar  # builds on this module's slot fillers

    rng = random.Random(f"{config.seed}-composed")  # its own stream: the test split is unchanged
    calls = grammar.composed_calls(pool, rng, config.composed_per_tool)
    followups = grammar.composed_followups(pool, rng, config.composed_followups, tool_outputs)
    near_misses = grammar.near_miss_refusals(rng, config.near_misses)
    switches = grammar.composed_switches(
        pool, rng, config.composed_switches, tool_outputs, near_misses
    )
    return calls + followups + near_misses + switches


def save_dataset(data: dict[str, list[Example]], folder: Path) -> str:
    """Write train.jsonl / test.jsonl; returns the content hash recorded with the adapter."""
    folder.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    for split, examples in data.items():
        lines = [json.dumps(e.to_json(), ensure_ascii=False, sort_keys=True) for e in examples]
        text = "\n".join(lines) + "\n"
        digest.update(text.encode())
        (folder / f"{split}.jsonl").write_text(text)
    return digest.hexdigest()[:16]


def load_split(folder: Path, split: str) -> list[Example]:
    path = Path(folder) / f"{split}.jsonl"
    return [
        Example.from_json(json.loads(line))
        for line in path.read_text().splitlines()
        if line.strip()
    ]
