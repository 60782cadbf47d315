"""The user's words fill and correct a call's entity slots, by kind.

The model picks the tool; the entity resolver (tools.resolver) reads which sites, categories,
suppliers, SKUs, POs and alerts the latest request names, and each mention goes into the slot of
its kind: "hamberg" is the Hamburg site whatever slot the model put it in, and a supplier name is
never a location. A request that refers to an earlier result ("the first one", "that supplier",
"their open orders", "draft the email") takes the entity from the latest result that names one
of that kind, or from the earlier call, never the digits of the words ("first" is not
``sku='1'``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from assistant.protocol import Call, Turn
from tools.arguments import arguments_of_kind
from tools.horizons import UNIT_DAYS, WEEKDAYS
from tools.registry import ToolSpec, failed
from tools.resolver import GENERIC
from tools.store.db import UnknownEntityError

KINDS = ("sku", "location", "category", "supplier", "po", "alert")
CODED = ("sku", "po", "alert")  # kinds staff name by a code ("SKU-00112", "PO 4512", "A-17")
ORDINALS = {
    "first": 0, "1st": 0, "top": 0, "second": 1, "2nd": 1, "third": 2, "3rd": 2, "fourth": 3,
    "4th": 3, "fifth": 4, "5th": 4, "last": -1, "bottom": -1,
}  # fmt: skip
_NOUN = (
    r"(?:one|sku|item|product|row|line|po|order|alert|supplier|vendor|site|location|result|entry)s?"
)
# "the first one", "the 2nd sku", "number 3" point at a row; "top 5" is a count, not a row.
_ORDINAL = re.compile(
    r"\b(?:(first|1st|second|2nd|third|3rd|fourth|4th|fifth|5th|last|bottom)(?:\s+" + _NOUN + r")?"
    r"|(top)\s+" + _NOUN + r")\b(?!\s*\d)"
    r"|\b(?:number|no\.|#)\s*(\d{1,2})\b"
)
_REFERENCE = re.compile(
    r"\b(?:it|its|it's|that|this|those|these|them|their|they|theirs|same|said|him|her|"
    r"that one|this one)\b"
)
# "email them", "chase those" point at a whole result, never at one of its rows.
_PLURAL = re.compile(r"\b(?:them|they|their|theirs|those|these)\b")
# "chase the supplier", "draft the email" after a result point at its one entity of that kind
# (an e-mail is about a PO). Only a noun that ends its phrase: "the supplier scorecard" is every
# supplier's, and a plural ("the suppliers") points at no single one.
_DEFINITE = re.compile(
    r"\bthe\s+(supplier|vendor|po|purchase order|alert|sku|email|e-mail|draft)"
    r"(?=\s*$|\s*[?.!,;]|\s+(?:about|for|of|on|re|again|too|and|then|now|please|pls)\b)"
)
_DEFINITE_KIND = {
    "supplier": "supplier", "vendor": "supplier", "po": "po", "purchase order": "po",
    "alert": "alert", "sku": "sku", "email": "po", "e-mail": "po", "draft": "po",
}  # fmt: skip
_CODES = {
    "sku": re.compile(r"\bSKU-\d+\b"),
    "po": re.compile(r"\bPO-\d+\b"),
    "alert": re.compile(r"\bA-\d+\b"),
    "supplier": re.compile(r"\bSUP-\d+\b"),
}


def ordinal(text: str) -> int | None:
    """Which row 'the first one', 'the 2nd sku', 'number 3', 'the last one' points at."""
    match = _ORDINAL.search(text.lower())
    if match is None:
        return None
    word = match.group(1) or match.group(2)
    return ORDINALS[word] if word else int(match.group(3)) - 1


def latest_request(turns: Sequence[Turn]) -> tuple[str, int]:
    """(the latest user turn's text, its index); ("", len(turns)) when there is none."""
    for i in range(len(turns) - 1, -1, -1):
        if turns[i].role == "user":
            return turns[i].content, i
    return "", len(turns)


def referred_kinds(request: str) -> set[str] | None:
    """Kinds of entity the request points back at: every kind for a pronoun ("that", "them",
    "the first one"), the named kinds for a definite noun ("the supplier", "draft the email"),
    None for no reference."""
    text = request.lower()
    if _points_back(text):
        return set(KINDS)
    named = {_DEFINITE_KIND[m.group(1)] for m in _DEFINITE.finditer(text)}
    return named or None


def _points_back(text: str) -> bool:
    """A pronoun or a row ("that", "them", "the first one") in lower-cased ``text``."""
    return ordinal(text) is not None or bool(_REFERENCE.search(text))


def _earlier(turns: Sequence[Turn], before: int) -> tuple[list[str], list[Call]]:
    """(the successful tool results, latest first, the calls) of the exchanges before the latest
    request."""
    results, calls = [], []
    for turn in turns[:before]:
        calls += turn.calls
        if turn.role == "tool" and not failed(turn.content):
            results.insert(0, turn.content)
    return results, calls


# Words of a bare reference to a row: "the second one", "it", "that one", "the last item".
ROW_WORDS = {
    *ORDINALS,
    "one",
    "ones",
    "row",
    "line",
    "item",
    "entry",
    "result",
    "number",
    "please",
    "pls",
}


def refers_only(text: str) -> bool:
    """Is ``text`` nothing but a reference ("the second one", "that one", "it")?"""
    return names_nothing(text, FUNCTION_WORDS | ROW_WORDS) and _points_back(text.lower())


def row_kind(turns: Sequence[Turn], resolver) -> str | None:
    """The kind of entity the rows of the latest result are (the kind whose code comes first:
    an alert list's rows are alerts, though each names a SKU and a PO too)."""
    _, at = latest_request(turns)
    results, _ = _earlier(turns, at)
    for result in results:
        first = {}
        for kind in ("alert", "po", "sku"):
            match = _CODES[kind].search(result)
            if match:
                first[kind] = match.start()
        suppliers = resolver.mentions_of(result, "supplier") if not first else []
        if suppliers:
            first["supplier"] = suppliers[0].start
        if first:
            return min(first, key=first.get)
    return None


def _latest_naming(results: list[str], kind: str, resolver) -> list[str]:
    """The entities of ``kind`` in the latest result that names any: after an alert and its SOP,
    "the PO" is the alert's PO, though the SOP came last."""
    for result in results:
        found = entities_in(result, kind, resolver)
        if found:
            return found
    return []


def entities_in(result: str, kind: str, resolver) -> list[str]:
    """Keys of ``kind`` in a tool result, in the order its rows list them."""
    if kind in ("supplier", "location"):
        keys = [m.key for m in resolver.mentions_of(result, kind) if m.key]
        if kind == "supplier":
            ids = _CODES["supplier"].findall(result)
            keys = ids or keys
        return list(dict.fromkeys(keys))
    pattern = _CODES.get(kind)
    return list(dict.fromkeys(pattern.findall(result))) if pattern else []


def resolved_key(resolver, kind: str, value) -> str | None:
    """The key ``value`` names as an entity of ``kind``; None when it names none."""
    try:
        return resolver.key(kind, str(value))
    except (UnknownEntityError, ValueError):
        return None


def lookups(resolver):
    """``resolved_key`` for one pass over a reply's calls: each (kind, value) is resolved once."""
    seen: dict[tuple[str, str], str | None] = {}

    def resolves(kind: str, value) -> str | None:
        key = (kind, str(value))
        if key not in seen:
            seen[key] = resolved_key(resolver, kind, value)
        return seen[key]

    return resolves


def fill_slots(
    calls: list[Call], turns: Sequence[Turn], specs: Sequence[ToolSpec], resolver
) -> tuple[list[Call], list[str], list[str]]:
    """(calls, set notes, dropped notes) with every entity slot read from the user's words."""
    request, at = latest_request(turns)
    mentions = resolver.mentions(request)
    row = ordinal(request)
    refers = referred_kinds(request) or set()
    results, earlier_calls = _earlier(turns, at)
    by_name = {spec.name: spec for spec in specs}
    resolves = lookups(resolver)
    out, notes, dropped = [], [], []
    for call in calls:
        spec = by_name.get(call.name)
        if spec is None:
            out.append(call)
            continue
        args = dict(call.arguments)
        taken = {kind: arguments_of_kind(spec.request, kind) for kind in KINDS}
        if row is None and _PLURAL.search(request.lower()):
            dropped += _one_row_of_many(call.name, args, spec, taken, mentions, results, resolver)
        for kind, names in taken.items():
            if not names:
                continue
            name = names[0]
            value = _slot_value(kind, name, args, spec, mentions, row, kind in refers, results,
                                earlier_calls, resolver, resolves, request)  # fmt: skip
            if value is _DROP:
                dropped.append(f"{call.name}.{name}={args.pop(name)!r}")
            elif value is not None and value != args.get(name):
                before = resolves(kind, args[name]) if name in args else None
                args[name] = value
                if before != resolves(kind, value):
                    notes.append(f"{call.name}.{name}={value}")
        _move_misplaced(call.name, args, spec, taken, resolver, resolves, notes, dropped)
        out.append(Call(call.name, args))
    return out, notes, dropped


_DROP = object()


def _one_row_of_many(tool, args, spec, taken, mentions, results, resolver) -> list[str]:
    """Drop an optional code the model took from one row of a result that lists several, when
    the request points at the result in the plural: "email them" after one supplier's POs is
    that supplier (filled next, from the earlier call), and after every supplier's, a draft per
    supplier; the first row's PO is neither. A code the user wrote stays."""
    dropped = []
    for kind in CODED:
        for name in taken[kind]:
            if name not in args or spec.request.model_fields[name].is_required():
                continue
            if any(m.kind == kind for m in mentions):
                continue
            if len(_latest_naming(results, kind, resolver)) > 1:
                dropped.append(f"{tool}.{name}={args.pop(name)!r}")
    return dropped


def _slot_value(
    kind, name, args, spec, mentions, row, refers, results, earlier, resolver, resolves, request
):
    """The value a slot should hold (None: leave the model's, _DROP: remove it)."""
    mine = [m for m in mentions if m.kind == kind]
    if mine:
        keys = {m.key for m in mine if not m.ambiguous}
        if len(mine) == 1 and mine[0].ambiguous:
            current = resolves(kind, args[name]) if name in args else None
            # the tool asks which one, listing the candidates
            return None if current in mine[0].candidates else request[mine[0].start : mine[0].end]
        if len(keys) == 1:
            return resolver.display(kind, keys.pop())
        return None  # several named: the model chose among them
    if row is not None and kind in ("sku", "po", "alert", "supplier"):
        found = _latest_naming(results, kind, resolver)
        if found and -len(found) <= row < len(found):
            return resolver.display(kind, found[row])
    if refers and name not in args:
        for call in reversed(earlier):
            for key, value in call.arguments.items():
                if key == name and value not in (None, ""):
                    return value
        found = _latest_naming(results, kind, resolver)
        required = spec.request.model_fields[name].is_required()
        if len(found) == 1 or (found and required):
            return resolver.display(kind, found[0])
    return None


MOVABLE = ("supplier", "location", "category", "sku")  # most specific first


def _move_misplaced(tool, args, spec, taken, resolver, resolves, notes, dropped) -> None:
    """A value in the wrong slot ('Weser Cosmetics' as location or sku) moves to the slot of its
    kind, and leaves the wrong one when optional, as does one that names nothing ('SKUs')."""
    for kind in MOVABLE:
        for name in taken.get(kind, []):
            if name not in args or resolves(kind, args[name]) is not None:
                continue
            value = args[name]
            other = next(
                (k for k in MOVABLE if k != kind and resolves(k, value) is not None),
                None,
            )
            target = (taken.get(other) or [None])[0] if other else None
            if target and target not in args:
                args[target] = resolver.display(other, resolves(other, value))
                notes.append(f"{tool}.{target}={args[target]}")
            if not spec.request.model_fields[name].is_required() and (
                other or names_nothing(value)
            ):
                dropped.append(f"{tool}.{name}={args.pop(name)!r}")


# Words that name no site, category or supplier on their own: "stockouts in the next 4 weeks"
# is not ``location="the"``, though "the" is in the conversation.
# fmt: off
FUNCTION_WORDS = {
    "a", "an", "the", "this", "that", "these", "those", "it", "its", "there", "here", "all",
    "any", "every", "each", "some", "none", "in", "at", "on", "of", "for", "from", "to", "by",
    "with", "and", "or", "my", "our", "your", "their", "next", "same", "other",
}
# fmt: on
# Words of a time, which the horizon and period readers take: "and tomorrow?" after an error
# is not ``location="tomorrow"``. Units and weekdays are the horizon reader's own.
# fmt: off
_UNITS = [unit for unit in UNIT_DAYS if len(unit) > 1]  # "d" (as in "7d") is no word of its own
TIME_WORDS = {*_UNITS, *(f"{unit}s" for unit in _UNITS), *WEEKDAYS} | {
    "today", "tonight", "tomorrow", "tmrw", "tmr", "yesterday", "weekend", "fortnight", "year",
    "now", "soon", "end", "until", "till", "before", "within",
}
# fmt: on
# Words that name no entity on their own either: "the 3 riskiest SKUs" is not
# ``category="SKUs"``, "next week" no site.
# fmt: off
NOTHING = FUNCTION_WORDS | GENERIC | TIME_WORDS | {
    "sku", "skus", "stock", "inventory", "stuff", "everything", "anything", "them", "po", "pos",
    "order", "orders", "alert", "alerts", "risk", "risks",
}
# fmt: on


def names_nothing(value, vocabulary: set[str] = NOTHING) -> bool:
    """Is ``value`` made of ``vocabulary`` words only ("the", "all of them", "SKUs")?"""
    words = re.findall(r"[a-z0-9]+", value.lower()) if isinstance(value, str) else [value]
    return bool(words) and all(w in vocabulary for w in words)
