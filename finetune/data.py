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
from dataclasses import dataclass
from pathlib import Path

from assistant.protocol import Call, Turn
from finetune import grammar, registers
from finetune.entities import EntityPool, entity_pools
from finetune.examples import (
    HORIZONS,
    Example,
    add_typos,
    agent_spec_fields,
    exchange,
    fill_slot,
    followup_example,
    is_valid,
    render_template,
)
from finetune.near_misses import near_miss_refusals
from finetune.templates import FOLLOW_UPS, IRRELEVANT, REFUSAL, SLOT_ARGUMENT, TEMPLATES, split_of
from tools.registry import agent_tools

# Re-exported: callers read the record and the slot fillers from here as well.
__all__ = ["HORIZONS", "Example", "build_dataset", "fill_slot", "load_split", "save_dataset"]

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
                if not is_valid(tool, arguments):
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
        if not (is_valid(tool, arguments) and is_valid(tool, second)):
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
        if not is_valid(tool, arguments):
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
        if not is_valid(tool2, arguments2):
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
    near_misses: int = 900
    composed_switches: int = 1200
    # Training only: topic switches between training templates, built as the held-out ones are.
    template_switches: int = 600
    # Stage 7 (finetune.registers): staff registers and follow-ups by reference; their held-out
    # phrasings are the test-extra split, so the 329 of test.jsonl stay as they were.
    register_per_template: int = 24
    reference_followups: int = 1500
    test_register_per_template: int = 3
    test_reference_followups: int = 80
    # Dev split: generated as training is (its phrasings and entities, its own draws), with
    # no request that is also a training request; for validation loss, never the test split.
    dev_examples: int = 240


def build_dataset(
    config: DatasetConfig,
    answers: dict[str, list[Example]] | None = None,
    train_outputs: dict[str, list[str]] | None = None,
    test_outputs: dict[str, list[str]] | None = None,
) -> dict[str, list[Example]]:
    """{'train', 'test', 'test-extra', 'dev'}: ``answers`` (from finetune.answers) are added to
    train and test; test-extra holds the stage-7 registers' held-out phrasings."""
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
            examples += stage7_examples(config, "train", pools["train"], outputs, "train")
        rng.shuffle(examples)
        data[split] = examples
    data["test-extra"] = stage7_examples(config, "test", pools["test"], test_outputs or {}, "test")
    data["dev"] = dev_examples(config, pools["train"], train_outputs or {}, data["train"])
    return data


def stage7_examples(
    config: DatasetConfig,
    split: str,
    pool: EntityPool,
    outputs: dict[str, list[str]],
    stream: str,
    scale: float = 1.0,
) -> list[Example]:
    """Register calls and follow-ups by reference of ``split``, from their own random stream."""
    rng = random.Random(f"{config.seed}-registers-{stream}")
    tools = {spec.name for spec in agent_tools()}
    train = split == "train"
    per = config.register_per_template if train else config.test_register_per_template
    refs = config.reference_followups if train else config.test_reference_followups
    per, refs = max(1, round(per * scale)), max(1, round(refs * scale))
    examples = registers.register_calls(split, pool, rng, per, tools)
    examples += registers.reference_followups(split, pool, rng, refs, outputs, tools)
    rng.shuffle(examples)
    return examples


def request_key(example: Example) -> str:
    """The latest request, case and spacing dropped: what makes two examples the same ask."""
    users = [t.content for t in example.context if t.role == "user"]
    return " ".join(" || ".join(users).lower().split())


def dev_examples(
    config: DatasetConfig, pool: EntityPool, outputs: dict[str, list[str]], train: list[Example]
) -> list[Example]:
    """Examples drawn like training ones (training phrasings and entities, other draws), none
    of whose requests is a training request."""
    rng = random.Random(f"{config.seed}-dev")
    made = call_examples("train", pool, rng, 1)
    made += refusal_examples("train", rng, 1)
    made += followup_examples("train", pool, rng, 40, outputs)
    made += grammar.composed_calls(pool, rng, 6)
    made += stage7_examples(config, "train", pool, outputs, "dev", scale=0.05)
    seen = {request_key(e) for e in train}
    fresh = list({request_key(e): e for e in made if request_key(e) not in seen}.values())
    rng.shuffle(fresh)
    for e in fresh:
        e.split = "dev"
    return fresh[: config.dev_examples]


def composed_examples(
    config: DatasetConfig, pool: EntityPool, tool_outputs: dict[str, list[str]]
) -> list[Example]:
    rng = random.Random(f"{config.seed}-composed")  # its own stream: the test split is unchanged
    calls = grammar.composed_calls(pool, rng, config.composed_per_tool)
    followups = grammar.composed_followups(pool, rng, config.composed_followups, tool_outputs)
    near_misses = near_miss_refusals(rng, config.near_misses)
    switches = grammar.composed_switches(
        pool, rng, config.composed_switches, tool_outputs, near_misses
    )
    return calls + followups + near_misses + switches


def build_from_tool_runs(
    runs: dict, seed: int = 0, frozen_test: Path | None = None
) -> dict[str, list[Example]]:
    """The dataset from recorded tool runs ({'answers': {split: [example json]}, 'outputs':
    {split: {tool: [rendered result]}}}): the only input that depends on the tools' code, so a
    rebuild from the same runs gives the same hash. ``frozen_test``: keep that folder's
    test.jsonl (the held-out figures stay comparable across stages) if it has one."""
    answers = {
        split: [Example.from_json(e) for e in examples]
        for split, examples in runs.get("answers", {}).items()
    }
    outputs = runs.get("outputs", {})
    data = build_dataset(
        DatasetConfig(seed=seed), answers, outputs.get("train"), outputs.get("test")
    )
    if frozen_test is not None and (Path(frozen_test) / "test.jsonl").exists():
        data["test"] = load_split(frozen_test, "test")
    return data


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
