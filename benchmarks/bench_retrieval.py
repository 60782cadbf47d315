"""SOP retrieval benchmark: recall@1, recall@5, MRR and query latency, vector-only vs hybrid.

Indexes the shipped corpus (knowledge/sops) into a temporary chromadb folder, asks every
labelled question in retrieval_questions.jsonl, prints a table and writes the section
"## SOP retrieval" of docs/benchmarks.md.

    .venv/bin/python benchmarks/bench_retrieval.py [--no-write] [--show-misses]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

from pydantic import BaseModel

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from docs_section import DOC as DOCS  # noqa: E402
from docs_section import write_section  # noqa: E402

from knowledge.chunking import split_sections  # noqa: E402
from knowledge.documents import split_front_matter  # noqa: E402
from knowledge.retrieve import SHIPPED_SOPS, Retriever, open_retriever  # noqa: E402

QUESTIONS = Path(__file__).with_name("retrieval_questions.jsonl")
MACHINE = "2 vCPU, 24 GiB, no GPU"
DEPTH = 10  # ranks looked at for MRR


class Question(BaseModel):
    question: str
    doc_id: str
    section: str
    also: list[dict] = []

    def answers(self) -> set[tuple[str, str]]:
        return {(self.doc_id, self.section)} | {(a["doc_id"], a["section"]) for a in self.also}


class ModeResult(BaseModel):
    mode: str
    recall_at_1: float
    recall_at_5: float
    mrr: float
    latency_ms_mean: float
    latency_ms_p95: float
    misses: list[str]


def load_questions() -> list[Question]:
    return [
        Question.model_validate_json(line)
        for line in QUESTIONS.read_text().splitlines()
        if line.strip()
    ]


def check_labels(questions: list[Question]) -> None:
    """Every label must name a real section, and no question may quote its section title."""
    titles: dict[tuple[str, str], str] = {}
    for path in SHIPPED_SOPS.glob("*.md"):
        meta, body = split_front_matter(path.read_text())
        for section in split_sections(body):
            number, _, name = section.heading.partition(". ")
            titles[(meta["id"], number)] = name
    for q in questions:
        for answer in q.answers():
            if answer not in titles:
                raise SystemExit(f"label {answer} of {q.question!r} is not a section of the corpus")
        if titles[(q.doc_id, q.section)].lower() in q.question.lower():
            raise SystemExit(f"{q.question!r} copies its section title verbatim")


def evaluate(
    retriever: Retriever, questions: list[Question], modes: tuple[str, ...]
) -> list[ModeResult]:
    """Ask each question in every mode in turn, so that load from other processes on a shared
    machine hits the modes alike."""
    for mode in modes:
        retriever.search(
            "warm-up query", k=DEPTH, mode=mode
        )  # model load and BM25 build are not query latency
    ranks: dict[str, list[int | None]] = {m: [] for m in modes}
    latencies: dict[str, list[float]] = {m: [] for m in modes}
    misses: dict[str, list[str]] = {m: [] for m in modes}
    for q in questions:
        for mode in modes:
            started = time.perf_counter()
            passages = retriever.search(q.question, k=DEPTH, mode=mode)
            latencies[mode].append((time.perf_counter() - started) * 1000)
            hits = [
                i
                for i, p in enumerate(passages, start=1)
                if (p.doc_id, p.section_no) in q.answers()
            ]
            ranks[mode].append(hits[0] if hits else None)
            if not hits or hits[0] > 5:
                top = passages[0].short_citation if passages else "-"
                rank = hits[0] if hits else f">{DEPTH}"
                misses[mode].append(
                    f"{q.question!r}: want {q.doc_id} §{q.section}, got {top} (rank {rank})"
                )
    return [_score(mode, ranks[mode], latencies[mode], misses[mode]) for mode in modes]


def _score(
    mode: str, ranks: list[int | None], latencies: list[float], misses: list[str]
) -> ModeResult:
    n = len(ranks)
    latencies = sorted(latencies)
    return ModeResult(
        mode=mode,
        recall_at_1=sum(r == 1 for r in ranks if r) / n,
        recall_at_5=sum(r <= 5 for r in ranks if r) / n,
        mrr=sum(1 / r for r in ranks if r) / n,
        latency_ms_mean=statistics.fmean(latencies),
        latency_ms_p95=latencies[int(0.95 * (n - 1))],
        misses=misses,
    )


def render(results: list[ModeResult], questions: int, index_line: str) -> str:
    lines = [
        "## SOP retrieval",
        "",
        f"Script: `benchmarks/bench_retrieval.py`. Date: {date.today().isoformat()}. Machine: {MACHINE}, "
        f"Python {platform.python_version()}.",
        "",
        f"{questions} labelled staff questions (terse, some typos, no section titles copied) over the shipped "
        f"corpus; a hit is a passage from the labelled document section. {index_line} Modes are "
        "interleaved per question; latency is one `Retriever.search` call (query embedding, chromadb "
        f"query, BM25 and fusion), on a shared machine (load average {os.getloadavg()[0]:.1f} at the end "
        "of the run). Hybrid is the default (`knowledge.retrieve.DEFAULT_MODE`).",
        "",
        "| mode | recall@1 | recall@5 | MRR@10 | query ms (mean) | query ms (p95) |",
        "|---|---|---|---|---|---|",
    ]
    for r in results:
        lines.append(
            f"| {r.mode} | {r.recall_at_1:.3f} | {r.recall_at_5:.3f} | {r.mrr:.3f} | "
            f"{r.latency_ms_mean:.1f} | {r.latency_ms_p95:.1f} |"
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--no-write", action="store_true", help="print only, leave docs/benchmarks.md alone"
    )
    parser.add_argument(
        "--show-misses", action="store_true", help="list questions not answered in the top 5"
    )
    args = parser.parse_args()

    questions = load_questions()
    check_labels(questions)
    with tempfile.TemporaryDirectory() as store:
        retriever = open_retriever(path=store, collection="sops-bench")
        report = retriever.index(SHIPPED_SOPS)
        index_line = (
            f"Indexing {len(report.added)} documents ({report.chunks_total} passages) took {report.seconds:.1f} s "
            "including the model load."
        )
        print(index_line)
        results = evaluate(retriever, questions, ("vector", "hybrid"))
    text = render(results, len(questions), index_line)
    print(text)
    if args.show_misses:
        for r in results:
            print(f"misses ({r.mode}):", *r.misses, sep="\n  ")
    if not args.no_write:
        write_section("## SOP retrieval", text)
        print(f"wrote {DOCS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
