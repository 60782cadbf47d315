"""Staff shorthand the model never read, spelled out for it: "soh" is "stock on hand", "tmrw"
"tomorrow", "lorries" "vans".

Planners write in the trade's abbreviations; the small model learnt the tools from the words of
their descriptions and of the training data. The model's copy of the user's turns has each
shorthand word replaced by those words; everything else (the argument guard's readers, the
resolver, grounding, the transcript) keeps the user's own text. Training prompts are built from
the same view (``model_view``), so a later stage learns the words the app shows it. Only whole
words are replaced, never part of a code ("SS-100", "HTB646-D") or a name: a word joined to a
digit, hyphen, dot or slash is left alone, and no shorthand here is a site, supplier or category
name of the demo data.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace

from assistant.protocol import Turn

# Only words the training data never has: the model learnt "fcst", "pls", "vendor", "trucks",
# "rop" and "ss" as they are, and on our own held-out requests spelling those out lost more than
# it won (docs/benchmarks.md); a test pins that no entry occurs in the training requests.
SHORTHAND = {
    "frcst": "forecast",
    "fcsts": "forecasts",
    "inv": "inventory",
    "stk": "stock",
    "soh": "stock on hand",
    "qtys": "quantities",
    "repl": "replenishment",
    "replen": "replenishment",
    "avg": "average",
    "supp": "supplier",
    "supps": "suppliers",
    "whs": "warehouses",
    "whse": "warehouse",
    "lorry": "van",
    "lorries": "vans",
    "tmrw": "tomorrow",
    "tmr": "tomorrow",
    "tdy": "today",
    "yday": "yesterday",
    "wk": "week",
    "mth": "month",
    "mths": "months",
    "eow": "end of week",
    "eom": "end of month",
    "plz": "please",
    "alts": "alternatives",
    "recs": "recommendations",
}
_WORD = re.compile(
    r"(?<![\w./-])(" + "|".join(sorted(SHORTHAND, key=len, reverse=True)) + r")(?![\w/-]|\.\w)",
    re.IGNORECASE,
)


def spelled_out(text: str) -> str:
    """``text`` with each shorthand word replaced by its words."""
    return _WORD.sub(lambda m: SHORTHAND[m.group(1).lower()], text)


def model_view(turns: Sequence[Turn]) -> list[Turn]:
    """The turns as the model reads them, in the app and in training alike."""
    return [replace(t, content=spelled_out(t.content)) if t.role == "user" else t for t in turns]


class StaffWords:
    """Wraps a backend: the model reads the user's turns with shorthand spelled out."""

    def __init__(self, backend):
        self.backend = backend

    def __getattr__(self, name):  # name, loaded, chooses_tools, ... of the wrapped backend
        return getattr(self.backend, name)

    def respond(self, turns: Sequence[Turn], specs, on_token=None, **options):
        return self.backend.respond(model_view(turns), specs, on_token, **options)
