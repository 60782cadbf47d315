"""Query normalisation: spell out the supply-chain abbreviations staff type ('SS', 'PO', 'OTIF')
next to the abbreviation, so both the embedder and BM25 can match SOPs that write them out."""

from __future__ import annotations

import re

ABBREVIATIONS = {
    "ss": "safety stock",
    "po": "purchase order",
    "pos": "purchase orders",
    "asn": "advance shipping notice",
    "dc": "distribution centre",
    "dcs": "distribution centres",
    "moq": "minimum order quantity",
    "otif": "on-time-in-full",
    "fefo": "first-expired-first-out",
    "rtv": "return to vendor",
    "fva": "forecast value added",
    "ltl": "pallet network",
    "ftl": "full truck load",
    "eta": "expected arrival",
    "qty": "quantity",
    "leadtime": "lead time",
    "recalc": "recalculate",
}
_WORD = re.compile(r"[A-Za-z]+")


def expand_query(query: str) -> str:
    """'when do we recalc SS' -> 'when do we recalc SS (recalculate; safety stock)'."""
    seen: list[str] = []
    for word in _WORD.findall(query):
        expansion = ABBREVIATIONS.get(word.lower())
        if expansion and expansion not in seen:
            seen.append(expansion)
    return f"{query} ({'; '.join(seen)})" if seen else query
