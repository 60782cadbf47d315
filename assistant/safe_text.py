"""Everything from data is data: the one place that makes names, e-mail addresses, SOP text and
other values from the database safe to show as Markdown/HTML (API, Gradio) or in a terminal.

Data is escaped where it is shown, never altered where it is stored. A product named
``<img src=x onerror=...>`` or ``[click here](http://evil.example)`` shows as exactly that text:
no element, no disguised link. The escaping is per character, so streamed pieces can be
escaped one by one.
"""

from __future__ import annotations

import re
import unicodedata

import pandas as pd

from assistant.grounding import MARK

# One definition of a safe e-mail address, in the data layer (the importer and the drafts use it).
from tools.store.import_values import UnsafeEmailError, email_address  # noqa: F401
from tools.text import call_text

# What turns text into markup in CommonMark/GFM and the HTML they allow: tags and autolinks
# (<, >), links and images ([, ]), code (`), and the backslash itself. Emphasis and headings
# are left alone: they change how text looks, not what it does, and escaping them would put
# backslashes into every snake_case word an API client reads.
_MARKDOWN_SPECIAL = re.compile(r"([\\`\[\]<>])")
_UNESCAPE = re.compile(r"\\([\\`\[\]<>|])")
_ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?")


def escape_markdown(text: object) -> str:
    """Text shown as Markdown (answers, names, SOP quotes): no tag, link, image or code span
    can come from it."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", _visible(str(text)))


def unescape_markdown(text: str) -> str:
    """``escape_markdown`` undone: the text as written (for an answer a client sends back)."""
    return _UNESCAPE.sub(r"\1", text)


def markdown_cell(value: object) -> str:
    """One table cell: escaped, and kept on one line with its pipes escaped."""
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return ""
    text = escape_markdown(value)
    return re.sub(r"\s*[\r\n]+\s*", " ", text).replace("|", "\\|")


def markdown_table(frame: pd.DataFrame, max_rows: int | None = None) -> str:
    """A DataFrame as a GFM table with every header and text cell escaped (numbers untouched)."""
    shown = frame if max_rows is None else frame.head(max_rows)
    safe = shown.copy()
    safe.columns = [markdown_cell(c) for c in shown.columns]
    for column, original in zip(safe.columns, shown.columns, strict=True):
        values = shown[original]
        if not (pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values)):
            safe[column] = values.map(markdown_cell)
    return safe.to_markdown(index=False)


def code_span(text: object) -> str:
    """Inline code that the text cannot close: the fence is longer than any backtick run."""
    body = re.sub(r"[\r\n]+", " ", _visible(str(text)))
    fence = "`" * (max((len(r) for r in re.findall(r"`+", body)), default=0) + 1)
    pad = " " if body.startswith("`") or body.endswith("`") else ""
    return f"{fence}{pad}{body}{pad}{fence}"


def code_block(text: object, info: str = "text") -> str:
    """A fenced block (e-mail drafts) that the text cannot close."""
    body = _visible(str(text), keep_newlines=True)
    fence = "`" * max(3, max((len(r) for r in re.findall(r"`+", body)), default=0) + 1)
    return f"{fence}{info}\n{body}\n{fence}"


def plain_text(text: object) -> str:
    """Text for a terminal: no escape sequences or other control characters (tab and newline
    stay), so data cannot move the cursor, recolour or retitle the terminal."""
    return _visible(_ANSI.sub("", str(text)), keep_newlines=True)


def _visible(text: str, keep_newlines: bool = True) -> str:
    """Control characters (NUL, ESC, CR, bidi overrides...) dropped; newline and tab kept."""
    return "".join(
        c
        for c in text
        if (c in "\n\t" and keep_newlines)
        or not (unicodedata.category(c) in {"Cc", "Cf"} and c not in "\u200d")
    )


# Streamed tokens cannot be marked in place: a line after them lists the unsupported items.
UNVERIFIED = "Unverified (not in any tool result): "


# -- an assistant reply as Markdown, everything from data escaped ---------------------------


def answer_markdown(text: str) -> str:
    """The answer as Markdown: the model copies names from data, so it is escaped, marks kept."""
    return MARK.join(escape_markdown(part) for part in text.split(MARK))


def unverified_line(reply) -> str:
    """Streamed tokens cannot be marked in place: the list of unsupported items follows them."""
    items = list(dict.fromkeys(reply.grounding.unsupported))
    return UNVERIFIED + ", ".join(escape_markdown(i) for i in items) if items else ""


def evidence_markdown(reply, max_rows: int = 10) -> str:
    """Deliverables verbatim in a fence they cannot close, then one source line (and table
    head) per tool call; arguments, errors and cells escaped."""
    parts = [code_block(doc) for doc in reply.deliverables]
    for run in reply.tool_runs:
        call = code_span(call_text(run.name, run.arguments))
        if not run.ok:
            parts.append(f"> tool {call} failed: {escape_markdown(run.error)}")
            continue
        table = run.result.table()
        source = f"> source: {call}"
        if table is not None and len(table):
            source += "\n\n" + markdown_table(table, max_rows)
            if max_rows is not None and len(table) > max_rows:  # the rest is in the result
                source += (
                    f"\n\n_first {max_rows} of {len(table)} rows; every row is in the tool result_"
                )
        parts.append(source)
    return "\n\n".join(parts)


def reply_markdown(reply) -> str:
    """An ``assistant.agent.AssistantReply`` as Markdown, answer then evidence: what the API
    sends, and what a Markdown view (UI, ``AssistantReply.markdown``) should show."""
    return "\n\n".join(p for p in [answer_markdown(reply.text), evidence_markdown(reply)] if p)
