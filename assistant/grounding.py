"""Grounding check: every figure, SKU, PO, alert id and date in an answer must appear in
what the tools returned (or in the user's own words). Unsupported items are marked.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

MARK = " [unverified]"

_ENTITY = re.compile(r"\b(?:SKU-\d+|PO-\d+|A-\d+|SUP-\d+)\b", re.I)
_DATE = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")
_NUMBER = re.compile(r"(?<![\w.-])-?\d[\d,]*(?:\.\d+)?%?(?![\w-])")
_SOURCE_NUMBER = re.compile(r"-?\d[\d,]*(?:\.\d+)?%?")  # permissive: '2.13d', '240u' count
_LIST_ORDINAL = re.compile(r"^\s*\d{1,2}[.)]\s", re.M)


@dataclass
class GroundingReport:
    claims: list[str] = field(default_factory=list)
    unsupported: list[str] = field(default_factory=list)

    @property
    def grounded_share(self) -> float:
        return 1.0 if not self.claims else 1 - len(self.unsupported) / len(self.claims)


def _as_float(token: str) -> float | None:
    try:
        return float(token.rstrip("%").replace(",", ""))
    except ValueError:
        return None


def _source_numbers(text: str) -> set[float]:
    values = set()
    for token in _SOURCE_NUMBER.findall(_DATE.sub(" ", text)):
        value = _as_float(token)
        if value is not None:
            values.add(value)
            if token.endswith("%") or 0 < value <= 1:  # 0.87 and 87% say the same
                values.update({value * 100, value / 100})
    return values


def _decimals(token: str) -> int:
    body = token.rstrip("%")
    return len(body.split(".")[1]) if "." in body else 0


def _number_supported(token: str, numbers: set[float]) -> bool:
    value = _as_float(token)
    if value is None:
        return True
    places = _decimals(token)
    tolerance = 0.5 * 10 ** (-places) + 1e-9  # '2.1' is supported by 2.13 in a tool result
    return any(abs(value - n) <= tolerance for n in numbers)


def extract_claims(answer: str) -> list[tuple[str, str]]:
    """(kind, token) for every checkable item: entity ids, ISO dates, numbers."""
    without_ordinals = _LIST_ORDINAL.sub(" ", answer)
    claims = [("entity", m.group(0)) for m in _ENTITY.finditer(without_ordinals)]
    claims += [("date", d) for d in _DATE.findall(without_ordinals)]
    rest = _DATE.sub(" ", _ENTITY.sub(" ", without_ordinals))
    claims += [("number", n) for n in _NUMBER.findall(rest)]
    return claims


def check(answer: str, sources: Iterable[str]) -> GroundingReport:
    source_text = "\n".join(sources)
    upper = source_text.upper()
    numbers = _source_numbers(_ENTITY.sub(" ", source_text))
    report = GroundingReport()
    for kind, token in extract_claims(answer):
        report.claims.append(token)
        if kind == "number":
            ok = _number_supported(token, numbers)
        else:
            ok = token.upper() in upper
        if not ok:
            report.unsupported.append(token)
    return report


def mark_unsupported(answer: str, report: GroundingReport) -> str:
    """Append a visible marker to each unsupported item (first occurrence each)."""
    for token in dict.fromkeys(report.unsupported):
        answer = re.sub(rf"(?<![\w.-]){re.escape(token)}(?![\w-])", lambda m: m.group(0) + MARK, answer, count=1)
    return answer
