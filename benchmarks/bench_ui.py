"""UI latency: from the loaded page to the first streamed answer token, in headless Chromium.

Starts the Gradio app in a subprocess on the small browser-test dataset, loads the page, types
"Which SKUs will stock out next week?" and times, from the moment the page has loaded:
the first visible output (a tool step or text), the first answer token (text that is not a tool
step), and the final answer (the side panels update). Prints a table and appends it to the
"## UI latency" section of docs/benchmarks.md.

    .venv/bin/python benchmarks/bench_ui.py                  # embedded model + rules floor
    .venv/bin/python benchmarks/bench_ui.py --runs 3 --no-write
    .venv/bin/python benchmarks/bench_ui.py --briefing --runs 5  # first screen only (rules)

``--briefing`` times the first screen instead: from navigation start to the page's load event
and to the morning briefing being visible on Home (its "data as of" line), on a fresh page
each time; written to the "## UI first screen" section. The target is the briefing within
1.5 s of page load.
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

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "browser"))
import harness  # noqa: E402
from docs_section import append_to_section  # noqa: E402

QUESTION = "Which SKUs will stock out next week?"
MACHINE = "2 vCPU, 24 GiB, no GPU"
SECTION = "## UI latency"
INTRO = (
    "Script: `benchmarks/bench_ui.py`. Time from the loaded page (headless Chromium, app in a "
    "subprocess, 40 SKUs x 200 days) to the first streamed answer token; each question on a "
    "fresh page and session; medians."
)
# The "Working…" placeholder shows at once and is no output: a tool step or text is.
ANY_OUTPUT_JS = """() => [...document.querySelectorAll('#chatbot [data-testid="bot"]')]
    .some(b => { const t = b.innerText.trim(); return t.length > 0 && !t.startsWith('Working'); })"""
ANSWER_TOKEN_JS = """() => [...document.querySelectorAll('#chatbot [data-testid="bot"]')]
    .filter(b => !b.closest('.thought')).map(b => b.innerText.trim())
    .filter(t => !t.startsWith('Working')).join('').length > 0"""


BRIEFING_SECTION = "## UI first screen (morning briefing)"
BRIEFING_INTRO = (
    "Script: `benchmarks/bench_ui.py --briefing`. Fresh page each time (headless Chromium, app "
    "in a subprocess with the rules model, 40 SKUs x 200 days): seconds from navigation start "
    "to the load event, and to the briefing's 'data as of' line on Home; 'after load' is the "
    "difference (target: under 1.5 s). The first visit follows the app's start at once; the "
    "app computes the briefing in the background at launch and keeps it per data version."
)
MOUNTED_JS = """() => !!document.querySelector('#briefing')"""  # the app has rendered
BRIEFING_JS = (
    """() => (document.querySelector('#briefing')?.innerText || '').includes('data as of')"""
)


def time_briefing(browser, url: str, timeout_ms: int) -> dict[str, float]:
    context = browser.new_context(viewport=harness.VIEWPORT)
    page = context.new_page()
    try:
        started = time.perf_counter()
        page.goto(url, wait_until="load")
        loaded = time.perf_counter()
        page.wait_for_function(MOUNTED_JS, timeout=timeout_ms, polling=20)
        mounted = time.perf_counter()
        page.wait_for_function(BRIEFING_JS, timeout=timeout_ms, polling=20)
        shown = time.perf_counter()
        return {
            "page_load": loaded - started,
            "mounted": mounted - started,
            "briefing": shown - started,
            "after_load": shown - loaded,
        }
    finally:
        context.close()


def measure_briefing(data_dir: Path, runs: int, timeout_ms: int) -> tuple[dict, list[dict]]:
    from playwright.sync_api import sync_playwright

    server = harness.AppServer(data_dir, model_source="rules").start(timeout=600)
    try:
        with sync_playwright() as playwright:
            browser = harness.launch_browser(playwright)
            try:
                first = time_briefing(browser, server.url, timeout_ms)
                return first, [time_briefing(browser, server.url, timeout_ms) for _ in range(runs)]
            finally:
                browser.close()
    finally:
        server.stop()


def briefing_table(first: dict, later: list[dict]) -> str:
    lines = [
        "| visit | runs | page load s | app rendered s | briefing visible s | after load s (max) |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name, results in (("first visit after start", [first]), ("later visits", later)):
        med = {key: statistics.median(r[key] for r in results) for key in results[0]}
        worst = max(r["after_load"] for r in results)
        lines.append(
            f"| {name} | {len(results)} | {med['page_load']:.2f} | {med['mounted']:.2f} | "
            f"{med['briefing']:.2f} | "
            f"{med['after_load']:.2f} ({worst:.2f}) |"
        )
    return "\n".join(lines)


def time_question(browser, url: str, timeout_ms: int) -> dict[str, float]:
    """Seconds from page load to each milestone of one answer (fresh page, fresh session)."""
    context = browser.new_context(viewport=harness.VIEWPORT)
    page = context.new_page()
    try:
        started = time.perf_counter()
        page.goto(url, wait_until="load")
        page.get_by_role("tab", name="Chat").click()  # Home (the briefing) opens first
        page.locator("#question textarea").wait_for()
        loaded = time.perf_counter()
        box = page.locator("#question textarea")
        box.fill(QUESTION)
        box.press("Enter")
        page.wait_for_function(ANY_OUTPUT_JS, timeout=timeout_ms, polling=25)
        first_output = time.perf_counter()
        page.wait_for_function(ANSWER_TOKEN_JS, timeout=timeout_ms, polling=25)
        first_token = time.perf_counter()
        page.get_by_text(harness.TABLE_PLACEHOLDER_TEXT).wait_for(
            state="detached", timeout=timeout_ms
        )
        final = time.perf_counter()
        steps = page.locator("#chatbot .thought-group").count()  # one per tool step
        return {
            "page_load": loaded - started,
            "first_output": first_output - loaded,
            "first_token": first_token - loaded,
            "final": final - loaded,
            "tool_steps": steps,
        }
    finally:
        context.close()


def measure(
    data_dir: Path, model_source: str, runs: int, timeout_ms: int
) -> tuple[dict, list[dict]]:
    """(the first question after the app started, ``runs`` questions after it)."""
    from playwright.sync_api import sync_playwright

    server = harness.AppServer(data_dir, model_source=model_source, adapter="shipped")
    started = time.perf_counter()
    server.start(timeout=600)
    print(f"{model_source}: app up in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    try:
        with sync_playwright() as playwright:
            browser = harness.launch_browser(playwright)
            try:
                # the first question after start also builds the model's prompt cache: kept apart
                cold = time_question(browser, server.url, timeout_ms)
                return cold, [time_question(browser, server.url, timeout_ms) for _ in range(runs)]
            finally:
                browser.close()
    finally:
        server.stop()


def adapter_label() -> str:
    from assistant.model.loader import resolve_adapter

    try:
        found = resolve_adapter("shipped")
    except Exception:  # noqa: BLE001 - a label only
        found = None
    return "shipped adapter" if found else "no adapter (none shipped yet)"


def table(rows: dict[str, list[dict]]) -> str:
    lines = [
        "| model | runs | page load s | first output s | first answer token s | final answer s | tool steps |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for name, results in rows.items():
        med = {key: statistics.median(r[key] for r in results) for key in results[0]}
        lines.append(
            f"| {name} | {len(results)} | {med['page_load']:.2f} | {med['first_output']:.2f} | "
            f"{med['first_token']:.2f} | {med['final']:.2f} | {med['tool_steps']:.0f} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--models", default="embedded,rules", help="comma-separated model sources")
    parser.add_argument("--timeout", type=float, default=300, help="seconds per milestone")
    parser.add_argument("--no-write", action="store_true", help="print only; leave docs alone")
    parser.add_argument("--briefing", action="store_true", help="time the first screen only")
    args = parser.parse_args()
    reason = harness.browser_unavailable()
    if reason:
        sys.exit(f"cannot run: {reason}")
    if args.briefing:
        with tempfile.TemporaryDirectory() as tmp:
            data = harness.cached_dataset(Path(tmp) / "data")
            first, later = measure_briefing(data, args.runs, int(args.timeout * 1000))
        load = os.getloadavg()[0]
        text = (
            f'{date.today().isoformat()}, machine "{MACHINE}" (Python '
            f"{platform.python_version()}, load average {load:.1f} at the end of the run):\n\n"
            f"{briefing_table(first, later)}"
        )
        print(text)
        if not args.no_write:
            append_to_section(BRIEFING_SECTION, BRIEFING_INTRO, text)
        return
    with tempfile.TemporaryDirectory() as tmp:
        data = harness.cached_dataset(Path(tmp) / "data")
        rows = {}
        for source in args.models.split(","):
            label = f"embedded SmolLM2-135M, {adapter_label()}" if source == "embedded" else source
            cold, warm = measure(data, source, args.runs, int(args.timeout * 1000))
            rows[f"{label}: first question after start"] = [cold]
            rows[f"{label}: later questions"] = warm
    load = os.getloadavg()[0]
    text = (
        f'{date.today().isoformat()}, machine "{MACHINE}" (Python {platform.python_version()}, '
        f"load average {load:.1f} at the end of the run):\n\n{table(rows)}"
    )
    print(text)
    if not args.no_write:
        append_to_section(SECTION, INTRO, text)


if __name__ == "__main__":
    main()
