"""End-to-end latency of the three headline jobs with the embedded model (+ shipped adapter),
on each runtime named (torch ``embedded``, ``llama-cpp``), in one run so the figures compare.

Prints p50/p90 seconds per job over N runs (fresh session each) to the first visible output
(a tool step or answer text) and to the complete answer, prompt tokens per model turn and how
many tool calls were made, and writes the table into docs/benchmarks.md. Replies are composed
from the tools' summaries (setting ``answers = "tools"``, the default).

    .venv/bin/python benchmarks/bench_assistant.py --runs 10 --model-source embedded llama-cpp
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from docs_section import write_section  # noqa: E402

from assistant.agent import Assistant, build_chat_model  # noqa: E402
from assistant.settings import load_settings  # noqa: E402
from finetune.answers import build_workspace  # noqa: E402

SECTION = "## Assistant latency (headline jobs)"


def headline_questions(ws) -> dict[str, str]:
    store = ws.ctx.store
    alert = store.query("SELECT alert_id FROM alerts ORDER BY alert_id LIMIT 1").alert_id[0]
    late = store.query(
        "SELECT po_number FROM purchase_orders WHERE status IN ('open','partial') AND promised_date < ? "
        "ORDER BY promised_date LIMIT 1",
        [store.today()],
    ).po_number[0]
    return {
        "stock-outs next week": "Which SKUs will stock out next week?",
        "explain alert": f"Explain alert {alert}",
        "supplier e-mail": f"Draft an email to the supplier about the late {late}",
    }


def run(ws, runs: int, adapter: str, source: str) -> list[dict]:
    settings = load_settings(model_source=source, adapter_path=adapter, threads=2)
    model = build_chat_model(settings, ws.ctx.store.resolver)
    assistant = Assistant(model, ws.ctx)
    rows = []
    for job, question in headline_questions(ws).items():
        seconds, first, prompt_tokens, calls, unsupported = [], [], [], [], []
        for _ in range(runs):
            started, seen = time.perf_counter(), None
            for kind, payload in assistant.stream(question, assistant.new_session()):
                if seen is None and kind in ("token", "tool_pending", "tool_start"):
                    seen = time.perf_counter() - started
                if kind == "final":
                    reply = payload
            seconds.append(time.perf_counter() - started)
            first.append(seen if seen is not None else seconds[-1])
            turns = max(1, len(reply.tool_runs) + 1)
            prompt_tokens.append(reply.prompt_tokens / turns)
            calls.append(len(reply.tool_runs))
            unsupported.append(len(reply.grounding.unsupported))
        rows.append(
            {
                "runtime": source,
                "job": job,
                "question": question,
                "first_p50_s": statistics.median(first),
                "p50_s": statistics.median(seconds),
                "p90_s": sorted(seconds)[int(0.9 * (len(seconds) - 1))],
                "prompt_tokens_per_turn": statistics.mean(prompt_tokens),
                "tool_calls": statistics.mean(calls),
                "unsupported": sum(unsupported),
                "example": reply.text[:160].replace("\n", " / "),
            }
        )
        print(rows[-1], flush=True)
    return rows


def table(rows: list[dict], runs: int, adapter: str) -> str:
    lines = [
        SECTION,
        "",
        f"`benchmarks/bench_assistant.py --runs {runs}`, {date.today()}, 2 vCPU / 24 GiB / no GPU, "
        f"SmolLM2-135M + adapter `{adapter}`, 2 threads, greedy; 200 SKUs x 400 days sample data.",
        "Prompt tokens per model turn include the ~385-token system prompt, whose KV cache is computed once",
        "per process and reused, so only the conversation part is processed per turn.",
        "",
        "| runtime | job | question | first output p50 s | answer p50 s | answer p90 s | prompt tokens / model turn | tool calls | unverified items |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['runtime']} | {r['job']} | {r['question']} | {r['first_p50_s']:.2f} | {r['p50_s']:.2f} | {r['p90_s']:.2f} | "
            f"{r['prompt_tokens_per_turn']:.0f} | {r['tool_calls']:.1f} | {r['unsupported']} |"
        )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--adapter", default="shipped")
    parser.add_argument("--model-source", nargs="+", default=["embedded"], help="runtimes to time")
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    ws = build_workspace(ROOT / ".cache" / "bench-workspace", seed=21, skus=200, days=400)
    result = [row for src in args.model_source for row in run(ws, args.runs, args.adapter, src)]
    text = table(result, args.runs, args.adapter)
    print(text)
    if not args.no_write:
        write_section(SECTION, text)
