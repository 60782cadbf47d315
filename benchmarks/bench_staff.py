"""Staff requests, in-process: ../shared/eval/staff_requests.jsonl through the assistant.

The requests were written outside the team, as planners, buyers and dispatchers type them, over
the demo workspace (`stockpilot data generate` defaults). They are scored with the verdict of
../shared/eval/score_staff.py itself (imported, so the rules are the same as over the API): the
first tool call of the last turn must be an expected tool with the expected key arguments.
Evaluation only: nothing here is ever trained on. Prints the pass rate and the seconds per turn.

    python benchmarks/bench_staff.py --data-dir /path/to/demo [--out transcripts.jsonl] [--ids 1,5]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
EVAL = ROOT.parent / "shared" / "eval"

from assistant.agent import build_assistant  # noqa: E402
from assistant.settings import load_settings  # noqa: E402


def load_scorer():
    """../shared/eval/score_staff.py as a module (None when ../shared is absent)."""
    path = EVAL / "score_staff.py"
    if not path.exists():
        return None
    spec = importlib.util.spec_from_file_location("score_staff", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run_case(assistant, case: dict) -> dict:
    """One conversation, turn by turn in one session; the record score_staff.py reads."""
    session = assistant.new_session()
    turn_seconds, reply = [], None
    for turn in case["turns"]:
        started = time.perf_counter()
        reply = assistant.ask(turn, session)
        turn_seconds.append(time.perf_counter() - started)
    assistant.forget(session)
    return {
        "id": case["id"],
        "answer": reply.text,
        "calls": [
            {
                "name": run.name,
                "arguments": run.arguments,
                "ok": run.ok,
                "error": run.error,
                "result_head": run.render().split("\n")[0][:300],
            }
            for run in reply.tool_runs
        ],
        "seconds": round(sum(turn_seconds), 2),
        "turn_seconds": [round(s, 2) for s in turn_seconds],
        "checks": reply.argument_checks,
    }


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default="data", help="the demo workspace")
    parser.add_argument("--out", type=Path, help="write one record per case (JSONL)")
    parser.add_argument("--ids", help="comma-separated case ids (default: all)")
    parser.add_argument("--model-source", default=None, help="override model_source")
    args = parser.parse_args()
    scorer = load_scorer()
    if scorer is None:
        print(f"skipped: {EVAL} is absent")
        return
    cases = scorer.load_cases()
    if args.ids:
        wanted = {int(i) for i in args.ids.split(",")}
        cases = [c for c in cases if c["id"] in wanted]
    overrides = {"data_dir": Path(args.data_dir)}
    if args.model_source:
        overrides["model_source"] = args.model_source
    assistant = build_assistant(load_settings(**overrides))
    records, sink = {}, args.out.open("w") if args.out else None
    for case in cases:
        try:
            record = run_case(assistant, case)
        except Exception as error:  # a crash is a failed case, and is shown
            record = {"id": case["id"], "error": repr(error), "calls": [], "seconds": 0.0}
        records[case["id"]] = record
        if sink:
            sink.write(json.dumps(record, ensure_ascii=False, default=str) + "\n")
            sink.flush()
    scorer.report(cases, records)
    turns = [s for r in records.values() for s in r.get("turn_seconds", [])]
    single = [r["turn_seconds"][0] for r in records.values() if len(r.get("turn_seconds", [])) == 1]
    print(
        f"per turn: p50 {percentile(turns, 0.5):.2f} s, p90 {percentile(turns, 0.9):.2f} s "
        f"({len(turns)} turns); single-turn cases p50 {statistics.median(single):.2f} s"
    )


if __name__ == "__main__":
    main()
