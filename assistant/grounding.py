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
# A number starts after no word character or decimal point and ends at no word character:
# "6.9-25" is the two bounds 6.9 and 25, and "HTB646-D" holds no number.
_NUMBER = re.compile(r"(?<![\w.])(?<![A-Za-z]-)-?\d[\d,]*(?:\.\d+)?%?(?![\w.]\d|\w)")
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
        # '1,200' is a thousands separator, but compact JSON '[12,15]' is a list: keep both readings
        pieces = [token] + (token.rstrip("%").split(",") if "," in token else [])
        for piece in pieces:
            value = _as_float(piece)
            if value is None:
                continue
            values.add(value)
            values.add(abs(value))  # '6.9-25' is a range, not minus 25
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


def _blank(text: str, spans: list[tuple[int, int]]) -> str:
    """Overwrite spans with spaces, keeping every other character's position."""
    chars = list(text)
    for begin, end in spans:
        chars[begin:end] = " " * (end - begin)
    return "".join(chars)


def claim_spans(answer: str) -> list[tuple[str, str, int, int]]:
    """(kind, token, start, end) for every checkable item: entity ids, ISO dates, numbers.
    List ordinals ('1. ...') are not claims."""
    text = _blank(answer, [m.span() for m in _LIST_ORDINAL.finditer(answer)])
    claims = [("entity", m.group(0), *m.span()) for m in _ENTITY.finditer(text)]
    claims += [("date", m.group(0), *m.span()) for m in _DATE.finditer(text)]
    rest = _blank(text, [(c[2], c[3]) for c in claims])
    claims += [("number", m.group(0), *m.span()) for m in _NUMBER.finditer(rest)]
    return sorted(claims, key=lambda claim: claim[2])


def extract_claims(answer: str) -> list[tuple[str, str]]:
    """(kind, token) for every checkable item, in reading order."""
    return [(kind, token) for kind, token, _, _ in claim_spans(answer)]


def check(answer: str, sources: Iterable[str]) -> GroundingReport:
    source_text = "\n".join(sources)
    # exact ids, not substrings: SKU-0004 is not supported by SKU-00042
    known = {m.upper() for m in _ENTITY.findall(source_text)} | set(_DATE.findall(source_text))
    numbers = _source_numbers(_ENTITY.sub(" ", source_text))
    report = GroundingReport()
    for kind, token in extract_claims(answer):
        report.claims.append(token)
        ok = _number_supported(token, numbers) if kind == "number" else token.upper() in known
        if not ok:
            report.unsupported.append(token)
    return report


def mark_unsupported(answer: str, report: GroundingReport) -> str:
    """Append a visible marker after every occurrence of an unsupported item (found by the
    same claim scan as the check, so '12' is never marked inside '12.5' or a list ordinal)."""
    unsupported = set(report.unsupported)
    ends = [end for _, token, _, end in claim_spans(answer) if token in unsupported]
    for end in reversed(ends):
        answer = answer[:end] + MARK + answer[end:]
    return answer
