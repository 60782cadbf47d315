"""Replace (or append) one '## ' section of docs/benchmarks.md: each benchmark owns its section.

A benchmark owns only what it generates. Its text is written between two markers, so the reading
a person writes under the table (outside the markers) survives the next run."""

from __future__ import annotations

from pathlib import Path

DOC = Path(__file__).resolve().parents[1] / "docs" / "benchmarks.md"
BEGIN, END = "<!-- generated: begin -->", "<!-- generated: end -->"


def _split(doc: str, heading: str) -> tuple[str, str, str] | None:
    """(before, the section's body after its heading, from the next '## ' on), if present."""
    if heading not in doc:
        return None
    head, rest = doc.split(heading, 1)
    nxt = rest.find("\n## ")
    return (head, rest, "") if nxt < 0 else (head, rest[:nxt], rest[nxt:])


def write_section(heading: str, text: str, path: Path = DOC) -> None:
    """``text`` starts with ``heading``. In a section that has the markers only the generated
    part is replaced; otherwise the old section (up to the next '## ') is."""
    doc = path.read_text() if path.exists() else "# Benchmarks\n"
    body = text.split(heading, 1)[-1].strip()
    generated = f"{BEGIN}\n{body}\n{END}"
    parts = _split(doc, heading)
    if parts and BEGIN in parts[1] and END in parts[1]:
        head, old, rest = parts
        before, tail = old.split(BEGIN, 1)
        after = tail.split(END, 1)[1]
        doc = head + heading + before + generated + after + rest
    elif parts:
        head, _, rest = parts
        doc = head + f"{heading}\n\n{generated}\n" + rest
    else:
        doc = doc.rstrip() + f"\n\n{heading}\n\n{generated}\n"
    path.write_text(doc)


def append_to_section(heading: str, intro: str, text: str, path: Path = DOC) -> None:
    """Add ``text`` at the end of the section (kept as history); created with ``intro``."""
    doc = path.read_text() if path.exists() else "# Benchmarks\n"
    parts = _split(doc, heading)
    if not parts:  # a history section has no generated block: every run is kept
        path.write_text(doc.rstrip() + f"\n\n{heading}\n\n{intro}\n\n{text.rstrip()}\n")
        return
    head, body, rest = parts
    path.write_text(head + heading + body.rstrip() + "\n\n" + text.rstrip() + "\n" + rest)
