"""Split a document into passages along its headings, small enough for the embedder.

A passage is one section (the heading level that divides the document), split further at
paragraph boundaries only when it exceeds ``MAX_CHARS``: all-MiniLM-L6-v2 reads 256 word
pieces (about 1,000 characters of English) and silently ignores the rest.
"""

from __future__ import annotations

import re

from pydantic import BaseModel

from knowledge.documents import SourceDocument

CHUNKER_VERSION = "headings-v1"  # part of each chunk's fingerprint: changing the rules re-indexes
MAX_CHARS = 900
MIN_CHARS = 200  # a trailing piece shorter than this joins the previous one when it fits

_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
_FENCE = re.compile(r"^\s*(```|~~~)")
_NUMBERED = re.compile(r"^(\d+(?:\.\d+)*)\.?\s+(.+)$")
_UPDATED = re.compile(
    r"^\s*[*_]*(?:updated|last updated|revised)[*_]*\s*:?\s*[*_]*\s*(\d{4}-\d{2}-\d{2})[*_]*\s*$",
    re.I,
)


class Chunk(BaseModel):
    doc_id: str
    title: str
    section: str  # heading text without its number, '' for text before the first heading
    section_no: str = ""  # '3' for '## 3. Escalation ladder'
    updated: str = ""  # ISO date from an 'Updated: 2026-04-14' line under the heading
    part: int = 0  # 0, 1, ... when a long section was split
    text: str

    def embedding_text(self, doc_title: str) -> str:
        return matching_text(doc_title, self.section, self.text)


def matching_text(doc_title: str, section: str, text: str) -> str:
    """What the embedder and BM25 see: the text with its document and section names, which
    carry most of the topic words of a short passage."""
    return f"{doc_title}: {section}\n{text}" if section else f"{doc_title}\n{text}"


class _Section(BaseModel):
    heading: str
    lines: list[str]


def chunk_document(doc: SourceDocument, max_chars: int = MAX_CHARS) -> list[Chunk]:
    chunks: list[Chunk] = []
    for page in doc.pages:
        if page.number is not None:  # PDF: no reliable headings, the page is the citation
            sections = [_Section(heading=f"page {page.number}", lines=page.text.splitlines())]
        else:
            sections = split_sections(page.text)
        for section in sections:
            chunks.extend(_section_chunks(doc, section, max_chars))
    return chunks


def split_sections(text: str) -> list[_Section]:
    """Split Markdown at the heading level that divides the document into sections.

    A heading that is alone at its level and comes first (the '# Title' line) is the title, not
    a section; deeper headings stay inside their section's text.
    """
    headings = [(i, len(m.group(1)), m.group(2)) for i, m in _headings(text.splitlines())]
    levels = [level for _, level, _ in headings]
    if headings and levels.count(levels[0]) == 1 and len(headings) > 1:
        title_line = headings[0][0]
        headings = headings[1:]
    else:
        title_line = None
    split_level = min((level for _, level, _ in headings), default=None)
    section_lines = {i for i, level, _ in headings if level == split_level}
    lines = text.splitlines()
    sections = [_Section(heading="", lines=[])]
    for i, line in enumerate(lines):
        if i == title_line:
            continue
        if i in section_lines:
            sections.append(_Section(heading=_HEADING.match(line).group(2), lines=[]))
        else:
            sections[-1].lines.append(line)
    return [s for s in sections if s.heading or "\n".join(s.lines).strip()]


def _headings(lines: list[str]):
    in_fence = False
    for i, line in enumerate(lines):
        if _FENCE.match(line):
            in_fence = not in_fence
        elif not in_fence and (match := _HEADING.match(line)):
            yield i, match


def _section_chunks(doc: SourceDocument, section: _Section, max_chars: int) -> list[Chunk]:
    number, name = _number(section.heading)
    updated, body = "", []
    for line in section.lines:
        match = _UPDATED.match(line)
        if match and not updated and not "".join(body).strip():
            updated = match.group(1)
        else:
            body.append(line)
    pieces = pack_paragraphs(_paragraphs("\n".join(body)), max_chars)
    return [
        Chunk(
            doc_id=doc.doc_id,
            title=doc.title,
            section=name,
            section_no=number,
            updated=updated,
            part=i,
            text=piece,
        )
        for i, piece in enumerate(pieces)
    ]


def _number(heading: str) -> tuple[str, str]:
    match = _NUMBERED.match(heading.strip())
    return (match.group(1), match.group(2).strip()) if match else ("", heading.strip())


def _paragraphs(text: str) -> list[str]:
    """Blank-line separated blocks; a sub-heading is kept with the block that follows it."""
    blocks = [b.strip() for b in re.split(r"\n\s*\n", text) if b.strip()]
    merged: list[str] = []
    for block in blocks:
        if (
            merged
            and _HEADING.match(merged[-1].splitlines()[-1])
            and len(merged[-1].splitlines()) == 1
        ):
            merged[-1] = f"{merged[-1]}\n{block}"
        else:
            merged.append(block)
    return merged


def pack_paragraphs(paragraphs: list[str], max_chars: int) -> list[str]:
    """Greedily join paragraphs into pieces of at most ``max_chars``; split oversized ones by
    lines, then sentences, then words, so no piece is ever cut mid-word."""
    units: list[str] = []
    for paragraph in paragraphs:
        units.extend(_split_oversized(paragraph, max_chars))
    pieces: list[str] = []
    for unit in units:
        if pieces and len(pieces[-1]) + 2 + len(unit) <= max_chars:
            pieces[-1] = f"{pieces[-1]}\n\n{unit}"
        else:
            pieces.append(unit)
    if (
        len(pieces) > 1
        and len(pieces[-1]) < MIN_CHARS
        and len(pieces[-2]) + len(pieces[-1]) + 2 <= max_chars * 1.2
    ):
        pieces[-2:] = [f"{pieces[-2]}\n\n{pieces[-1]}"]
    return pieces


def _split_oversized(text: str, max_chars: int) -> list[str]:
    if len(text) <= max_chars:
        return [text]
    for separator in ("\n", r"(?<=[.!?;])\s+", r"\s+"):
        parts = [p for p in re.split(separator, text) if p.strip()]
        if len(parts) > 1:
            joiner = "\n" if separator == "\n" else " "
            out: list[str] = []
            for part in parts:
                for small in _split_oversized(part, max_chars):
                    if out and len(out[-1]) + len(joiner) + len(small) <= max_chars:
                        out[-1] = f"{out[-1]}{joiner}{small}"
                    else:
                        out.append(small)
            return out
    return [text[i : i + max_chars] for i in range(0, len(text), max_chars)]  # one endless token
