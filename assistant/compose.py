"""Answers composed in code from what the tools returned.

A 135M model re-typing a tool's rendering is slow (most of a turn's time) and lossy ("2 of 31
SKUs", a quote cut mid-sentence), so the reply leads with each tool's own summary, written for
people, and the full result stays in its table. A result may ask for one more call that completes
it (an alert explanation -> the SOP for its kind): that call is made in code, not by the model.
The model writes free text only where no tool applies (a refusal, a greeting), and text that has
run away (a digit or a phrase repeated without end) never reaches the user.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from assistant.answers import quote_result
from tools.registry import ToolRun

FALLBACK = (
    "I can help with stock-outs, forecasts, orders, suppliers, alerts, routes and SOPs. "
    "Could you say that another way?"
)
CLARIFY = "Which one do you mean?"
MAX_FREE_TEXT = 700
_RUNAWAY = [
    re.compile(r"\d{13,}"),  # 'A-12000000000000...'
    re.compile(r"(.)\1{11,}"),  # one character over and over
    re.compile(r"(\b.{4,60}?\b)(?:\W*\1){3,}", re.S),  # one phrase four times in a row
]


def degenerate(text: str) -> bool:
    """Has generated text run away (repetition, endless digits, far too long)?"""
    return len(text) > MAX_FREE_TEXT or any(p.search(text) for p in _RUNAWAY)


def free_text(text: str) -> str:
    """The model's own words, unless they ran away."""
    text = text.strip()
    return FALLBACK if not text or degenerate(text) else text


def answer_of(run: ToolRun) -> str:
    """One tool's part of the reply: its summary, or the head of its rendering."""
    if not run.ok:
        error = str(run.error)
        return error if error.endswith(CLARIFY) else quote_result(run.render())
    return run.result.summary() or quote_result(run.render())


def compose(runs: Sequence[ToolRun]) -> str:
    """The reply to one request from its tool runs: the successful ones, else the last error."""
    done = [run for run in runs if run.ok]
    if not done:
        return answer_of(runs[-1]) if runs else FALLBACK
    parts = list(dict.fromkeys(answer_of(run) for run in done))
    return "\n\n".join(parts)


def pending_follow_up(runs: Sequence[ToolRun]) -> tuple[str, dict] | None:
    """The completing call the latest result asks for, unless this request already made it."""
    if not runs or not runs[-1].ok:
        return None
    wanted = runs[-1].result.follow_up()
    made = {run.name for run in runs}
    return wanted if wanted and wanted[0] not in made else None
