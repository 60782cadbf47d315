"""The one way text is shortened, in every layer: tool results for the model, quotes in
answers, SOP excerpts, terminal lines and import messages."""

from __future__ import annotations

from typing import Literal

Boundary = Literal["char", "word", "sentence"]


def clip(text: str, limit: int, *, at: Boundary = "char", mark: str = "...") -> str:
    """``text`` in at most ``limit`` characters, ``mark`` included when it had to be cut.

    ``at`` says where a cut may fall: anywhere, after a word, or after a sentence (". " or
    "; ") when one ends past half the room, which needs no mark; else after a word.
    """
    if len(text) <= limit:
        return text
    room = max(0, limit - len(mark))
    cut = text[:room]
    if at == "sentence":
        end = max(cut.rfind(". "), cut.rfind("; "))
        if end > room // 2:
            return cut[: end + 1]
    if at != "char" and " " in cut:
        cut = cut[: cut.rfind(" ")]
    return cut.rstrip() + mark


def call_text(name: str, arguments: dict | None) -> str:
    """A tool call as people read it: ``name(key='value', n=3)``."""
    args = ", ".join(f"{key}={value!r}" for key, value in (arguments or {}).items())
    return f"{name}({args})"
