"""How an answer quotes a tool result: shared by fine-tuning (the targets the model learns),
the rules backend and the agent's fallback when the model loops instead of answering."""

from __future__ import annotations

import re

from tools.registry import ERROR, failed
from tools.text import clip


def quote_result(output: str, max_lines: int = 3, max_chars: int = 224) -> str:
    """The answer to give from a tool result: its key lines, copied (the fine-tuned model learns this).

    Copying (not paraphrasing) keeps every figure traceable to the tool that produced it;
    the UI shows the full table beside the answer. Quoted SOP passages become
    'SOP-07 §3: first sentences' so the citation travels with the quote.
    """
    if failed(output):
        return f"I could not get that: {output[len(ERROR) :].strip()}"
    output = re.sub(r'<quote source="([^"]+)">\s*', r"\1: ", output).replace("</quote>", "")
    lines = [
        line.strip()
        for line in output.splitlines()
        if line.strip() and not line.startswith("Quoted ")
    ]
    return "\n".join(
        clip(line, max_chars, at="sentence", mark=" ...") for line in lines[:max_lines]
    )
