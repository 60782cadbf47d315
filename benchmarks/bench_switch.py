"""Topic switches: after one exchange, a new and unrelated request (another tool, or an
off-topic one). The held-out split's two-turn examples are all follow-ups on the same tool;
this set checks that the model does not keep to the previous tool.

Conversations are generated from the held-out phrasings and entities only (seeded), with tool
results from the held-out split's answer examples. Prints the table and writes the section
into docs/benchmarks.md.

    .venv/bin/python benchmarks/bench_switch.py 'stage 4=.cache/adapters/lora-stage4' 'shipped=shipped'
"""

from __future__ import annotations

import argparse
import random
import sys
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from docs_section import write_section  # noqa: E402

from assistant.agent import build_backend  # noqa: E402
from assistant.settings import load_settings  # noqa: E402
from finetune.data import load_split, switch_examples  # noqa: E402
from finetune.entities import entity_pools  # noqa: E402
from finetune.evaluate import TABLE_HEADER, save_report, score_all, summarise  # noqa: E402
from tools.registry import failed  # noqa: E402

SECTION = "## Topic switches (held-out phrasings, second request unrelated to the first)"


def held_out_switches(count: int, seed: int = 0) -> list:
    outputs: dict[str, list[str]] = {}
    for example in load_split(ROOT / "finetune/generated", "test"):
        for turn in example.context:
            if turn.role == "tool" and not failed(turn.content):
                outputs.setdefault(turn.tool_name, []).append(turn.content)
    pool = entity_pools(0)["test"]
    return switch_examples("test", pool, random.Random(f"{seed}-switch-test"), count, outputs)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("entries", nargs="+", help="name=adapter ('none' for the base model)")
    parser.add_argument("--count", type=int, default=80)
    parser.add_argument("--no-write", action="store_true")
    parser.add_argument("--reports", type=Path, help="a folder for each entry's report (failures)")
    args = parser.parse_args()
    examples = held_out_switches(args.count)
    rows = []
    for entry in args.entries:
        name, adapter = entry.split("=", 1)
        settings = load_settings(adapter_path=None if adapter == "none" else adapter)
        report = summarise(name, score_all(build_backend(settings), examples, name))
        rows.append(report.row().replace("nan%", "n/a"))  # no answer turns to ground
        if args.reports:
            args.reports.mkdir(parents=True, exist_ok=True)
            save_report(report, args.reports / f"{name}.json")
        print(TABLE_HEADER + "\n" + rows[-1], flush=True)
    calls = sum(e.kind == "call" for e in examples)
    text = "\n".join(
        [
            SECTION,
            "",
            f"`benchmarks/bench_switch.py --count {args.count}`, {date.today()}, 2 vCPU / 24 GiB / "
            f"no GPU, greedy: {calls} conversations whose second request needs another tool and "
            f"{len(examples) - calls} whose second request is off-topic (irrelevance column).",
            "",
            TABLE_HEADER,
            *rows,
            "",
        ]
    )
    print(text)
    if not args.no_write:
        write_section(SECTION, text)
