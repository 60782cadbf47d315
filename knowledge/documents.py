"""Read one source file (Markdown, plain text or PDF) into a typed document ready for chunking.

Users bring their own SOPs, so everything but the text is optional: the id, title, owner and
version come from front matter or the title line when present and fall back to the file name.

A document is data, never instructions. ``addressed_to_assistant`` finds text written to the
assistant rather than to staff ("ignore your rules", "you must call <tool>", chat markup), so
the index can flag the document to whoever owns the corpus and the quotes can say so.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

from pydantic import BaseModel

SUPPORTED_SUFFIXES = {".md": "markdown", ".markdown": "markdown", ".txt": "text", ".pdf": "pdf"}

_FRONT_MATTER = re.compile(r"\A---\s*\n(.*?)\n---\s*\n", re.DOTALL)
_DOC_ID = re.compile(r"\b([A-Z]{2,6}-\d{1,4})\b")
_H1 = re.compile(r"^#\s+(.+?)\s*#*\s*$", re.MULTILINE)


# Phrases that address an AI assistant, not a person: an SOP tells staff what to do; it has no
# business telling the assistant to drop its rules, call tools or say things to the user.
_ADDRESSING = [
    re.compile(p, re.IGNORECASE)
    for p in (
        r"\b(?:ignore|disregard|forget|override)\s+(?:all\s+|any\s+)?(?:of\s+)?(?:your|the|previous|prior|above|earlier|these|those|all)\s+(?:\w+\s+)?(?:rules|instructions|guidelines|guardrails|prompts?|policies|directives)",
        r"\byou\s+(?:must|should|shall|have\s+to|are\s+(?:required|instructed)\s+to)\s+(?:now\s+|always\s+)?(?:call|invoke|run|use)\s+(?:the\s+)?(?:`?[a-z]+_[a-z_]+`?|tool|function)",
        r"\b(?:tell|instruct|advise)\s+(?:the\s+)?users?\s+(?:to|that)\b",
        r"\b(?:as\s+an?\s+|dear\s+|attention,?\s+|note\s+to\s+(?:the\s+)?)(?:ai|assistant|chatbot|language\s+model|llm)\b",
        r"\b(?:hey|hi|hello|dear)?,?\s*(?:ai|assistant|chatbot|model)\s*[,:]\s*(?:you|ignore|always|never|do)\b",
        r"\b(?:system\s+prompt|developer\s+message|jailbreak)\b",
        r"<\s*/?\s*(?:tool_call|system|quote)\b|<\|im_(?:start|end)\|>",
        r"\b(?:do\s+not|don't|never)\s+(?:tell|mention|reveal|show)\b.{0,40}\b(?:user|staff|anyone)\b",
    )
]


def addressed_to_assistant(text: str) -> list[str]:
    """The phrases in ``text`` that address an AI assistant (empty: none), as found."""
    found = []
    for pattern in _ADDRESSING:
        for match in pattern.finditer(text):
            phrase = " ".join(match.group(0).split())
            if phrase not in found:
                found.append(phrase)
    return found


class UnreadableDocumentError(ValueError):
    """A file that is present but yields no usable text; the message says why."""


class Page(BaseModel):
    """A span of text with its location: one page of a PDF, or the whole of a text file."""

    number: int | None = None  # PDF page number (1-based); None for text and Markdown
    text: str


class SourceDocument(BaseModel):
    path: str  # relative to the indexed folder, '/'-separated: the document's identity in the store
    kind: Literal["markdown", "text", "pdf"]
    doc_id: str
    title: str
    owner: str = ""
    version: str = ""
    effective: str = ""
    pages: list[Page]


def is_supported(path: Path) -> bool:
    return path.suffix.lower() in SUPPORTED_SUFFIXES and not path.name.startswith(".")


def read_document(path: Path, relative: str, raw: bytes) -> SourceDocument:
    """Parse ``raw`` (the bytes of ``path``); raises UnreadableDocumentError with a reason."""
    kind = SUPPORTED_SUFFIXES[path.suffix.lower()]
    if kind == "pdf":
        meta, pages = {}, _pdf_pages(raw)
    else:
        meta, body = split_front_matter(_decode(raw))
        pages = [Page(text=body)]
    if not any(p.text.strip() for p in pages):
        hint = " (a scanned PDF needs OCR first)" if kind == "pdf" else ""
        raise UnreadableDocumentError(f"no text found{hint}")
    first_heading = _H1.search(pages[0].text) if kind != "pdf" else None
    title_line = meta.get("title") or (first_heading.group(1) if first_heading else "")
    doc_id = meta.get("id") or _find_id(title_line) or _find_id(path.stem.upper()) or path.stem
    title = (
        _strip_id(title_line, doc_id)
        or path.stem.replace("_", " ").replace("-", " ").strip().capitalize()
    )
    return SourceDocument(
        path=relative,
        kind=kind,
        doc_id=doc_id,
        title=title,
        owner=meta.get("owner", ""),
        version=str(meta.get("version", "")),
        effective=str(meta.get("effective", "")),
        pages=pages,
    )


def split_front_matter(text: str) -> tuple[dict[str, str], str]:
    """'---\\nkey: value\\n---' at the top -> ({key: value}, rest). Flat keys only: no YAML dependency."""
    match = _FRONT_MATTER.match(text)
    if not match:
        return {}, text
    meta = {}
    for line in match.group(1).splitlines():
        key, sep, value = line.partition(":")
        if sep and key.strip():
            meta[key.strip().lower()] = value.strip().strip("\"'")
    return meta, text[match.end() :]


def _decode(raw: bytes) -> str:
    if b"\x00" in raw[:4096]:
        raise UnreadableDocumentError("binary content, not text")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.decode("cp1252", errors="replace")  # files saved by older Windows editors


def _pdf_pages(raw: bytes) -> list[Page]:
    import io

    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    try:
        reader = PdfReader(io.BytesIO(raw))
        return [
            Page(number=i + 1, text=page.extract_text() or "")
            for i, page in enumerate(reader.pages)
        ]
    except (PyPdfError, ValueError, KeyError, TypeError, OSError) as error:
        raise UnreadableDocumentError(f"not a readable PDF: {error}") from None


def _find_id(text: str) -> str | None:
    match = _DOC_ID.search(text)
    return match.group(1) if match else None


def _strip_id(title: str, doc_id: str) -> str:
    """'SOP-07 Supplier communication' -> 'Supplier communication' (also 'SOP-07: ...', 'SOP-07 - ...')."""
    if title.startswith(doc_id):
        title = title[len(doc_id) :].lstrip(" :-–—")
    return title.strip()
