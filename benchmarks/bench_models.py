"""Base model vs LoRA vs AdaLoRA (vs the keyword-rules floor) on the held-out split.

Each entry is `name=model_source:adapter[:raw]` ('none' for no adapter; ':raw' scores the
model without the argument guard that the app puts in front of it). Prints the table,
saves each report as JSON under --out, and writes the section into docs/benchmarks.md.

    .venv/bin/python benchmarks/bench_models.py --limit 120 \
        rules=rules:none base=embedded:none 'lora!=embedded:assistant/adapters/stockpilot-lora'

A name ending in '!' is also scored on the whole test split. torch vs llama.cpp, one run:

    .venv/bin/python benchmarks/bench_models.py --limit 60 --section '## CPU runtimes: torch vs llama.cpp' \
        torch=embedded:shipped llama.cpp=llama-cpp:shipped
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from docs_section import write_section  # noqa: E402

from assistant.agent import build_backend  # noqa: E402
from assistant.settings import load_settings  # noqa: E402
from finetune.data import load_split  # noqa: E402
from finetune.evaluate import TABLE_HEADER, Report, save_report, score_all, summarise  # noqa: E402

SECTION = "## Fine-tuned model: tool calling, irrelevance, groundedness"


def stratified(examples: list, limit: int | None, seed: int = 0) -> list:
    """The same subset for every model: each kind in proportion."""
    if not limit or limit >= len(examples):
        return examples
    rng = random.Random(seed)
    by_kind: dict[str, list] = {}
    for e in examples:
        by_kind.setdefault(e.kind, []).append(e)
    chosen = []
    for items in by_kind.values():
        k = max(1, round(limit * len(items) / len(examples)))
        chosen += rng.sample(items, min(k, len(items)))
    return chosen


def run_entry(
    entry: str, subset: list, full: list, out: Path, max_new_tokens: int, threads: int
) -> list[Report]:
    """Score one model on the subset; a name ending in '!' is scored on the full split too."""
    name, spec = entry.split("=", 1)
    on_full = name.endswith("!")
    name = name.rstrip("!")
    source, adapter, *flags = spec.split(":")
    settings = load_settings(
        model_source=source,
        adapter_path=None if adapter == "none" else adapter,
        threads=threads,
        max_new_tokens=max_new_tokens,
    )
    backend = build_backend(settings, guard="raw" not in flags)
    examples = full if on_full else subset
    scores = score_all(backend, examples, name)
    chosen = {id(e) for e in subset}
    reports = [
        summarise(name, [s for e, s in zip(examples, scores, strict=True) if id(e) in chosen])
    ]
    if on_full:
        reports.append(summarise(f"{name} (all {len(full)})", scores))
    for report in reports:
        save_report(
            report,
            out / f"{report.backend.split()[0]}{'-all' if '(all' in report.backend else ''}.json",
        )
        print(TABLE_HEADER + "\n" + report.row(), flush=True)
    return reports


def section(reports: list[Report], n: int, note: str, title: str = SECTION) -> str:
    lines = [
        title,
        "",
        f"`benchmarks/bench_models.py`, {date.today()}, 2 vCPU / 24 GiB / no GPU, greedy decoding, "
        f"{n} held-out examples (phrasings and entities never seen in training; answers on a differently "
        "seeded simulation). Exact args = BFCL-style AST match after validation through the tool's own "
        "request model; SOP queries compared by word overlap. Irrelevance = no tool call on off-topic "
        "requests. Groundedness = share of figures/ids/dates in final answers found in the tool results.",
        "",
        TABLE_HEADER,
        *[r.row() for r in reports],
        "",
        note,
    ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("entries", nargs="*", help="name=model_source:adapter[:raw]")
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--data-dir", default="finetune/generated")
    parser.add_argument("--out", default=".cache/eval")
    parser.add_argument("--note", default="")
    parser.add_argument("--max-new-tokens", type=int, default=160)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--no-write", action="store_true")
    # e.g. torch vs llama.cpp (model_source "llama-cpp") in one run, in a section of its own
    parser.add_argument("--section", default=SECTION, help="docs/benchmarks.md heading to write")
    parser.add_argument(
        "--previous", nargs="*", default=[], help="saved reports (JSON) to list above the new rows"
    )
    args = parser.parse_args()
    full = load_split(Path(args.data_dir), "test")
    test = stratified(full, args.limit)
    out = Path(args.out)
    reports = [Report(**json.loads(Path(p).read_text())) for p in args.previous]
    reports += [
        r
        for entry in args.entries
        for r in run_entry(entry, test, full, out, args.max_new_tokens, args.threads)
    ]
    text = section(reports, len(test), args.note, args.section)
    print(text)
    print(json.dumps({r.backend: r.per_tool_exact for r in reports}, indent=1))
    if not args.no_write:
        write_section(args.section, text)
