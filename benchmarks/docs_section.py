"""Replace (or append) one '## ' section of docs/benchmarks.md: each benchmark owns its section."""

from __future__ import annotations

from pathlib import Path

DOC = Path(__file__).resolve().parents[1] / "docs" / "benchmarks.md"


def write_section(heading: str, text: str, path: Path = DOC) -> None:
    """``text`` starts with ``heading``; the old section (up to the next '## ') is replaced."""
    doc = path.read_text()
    if heading in doc:
        head, rest = doc.split(heading, 1)
        tail = rest.split("\n## ", 1)
        doc = head + text + ("\n## " + tail[1] if len(tail) > 1 else "")
    else:
        doc = doc.rstrip() + "\n\n" + text
    path.write_text(doc)
