"""Changes in words -> numbers, the one definition of them: a signed percent change ("doubles"
+100, "triples" +200, "halves" -50, "drops 30%" -30, "is cut by a quarter" -25), a share lost
("lose half of the stock" 50, "a fire destroys a third" 33) and a delay ("slips another week" 7,
"2 weeks late" 14).

The argument guard sets a what-if's settings from these, as it sets horizons: multiplying out
"triples" is arithmetic a 135M model gets wrong. Each reader returns the value and the span of
the text it read, so the horizon reader does not take "a quarter" (a fraction) for 84 days or
"a week late" (a delay) for a seven-day horizon. A text naming two different values names none.
``names_an_edit`` says whether a request names any change at all: what_if's grounds.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rapidfuzz import fuzz, process

from tools.horizons import AMOUNT, amount_days

FACTORS = {  # a multiple of today's demand, as a percent change
    r"doubl(?:es?|ed|ing)|twice|2x": 100,
    r"tripl(?:es?|ed|ing)|3x": 200,
    r"quadrupl(?:es?|ed|ing)|4x": 300,
    r"halv(?:es?|ed|ing)": -50,
}
FRACTIONS = {"half": 50, "a third": 33, "one third": 33, "two thirds": 67, "a quarter": 25}
FRACTIONS |= {"one quarter": 25, "three quarters": 75, "a tenth": 10}
LOST_ALL = {"all": 100, "everything": 100}  # of a site's stock, not of a demand change
_NUMBER = r"(?<![\w.-])(\d+(?:\.\d+)?)\s*(?:%|percent\b|pct\b|per cent\b)"


def _amounts(fractions: dict[str, float]) -> re.Pattern:
    words = "|".join(sorted(fractions, key=len, reverse=True))
    return re.compile(rf"{_NUMBER}|\b({words})\b")


LOST_FRACTIONS = FRACTIONS | LOST_ALL
CHANGE_AMOUNT, LOST_AMOUNT = _amounts(FRACTIONS), _amounts(LOST_FRACTIONS)
UP = r"up|rises?|rising|rose|grows?|growing|grew|increases?|increased|jumps?|jumped|spikes?|"
UP += r"climbs?|boost(?:ed|s)?|higher|more|plus|gains?|surges?"
DOWN = r"down|drops?|dropped|falls?|fell|cut|decreases?|decreased|declines?|declined|lower|less|"
DOWN += r"shrinks?|reduced?|slumps?|minus|dips?|sinks?|loses?|lost"
_UP, _DOWN = re.compile(rf"\b(?:{UP})\b|\+\s*$"), re.compile(rf"\b(?:{DOWN})\b|-\s*$")
_FACTORS = [(re.compile(rf"\b(?:{pattern})\b"), change) for pattern, change in FACTORS.items()]
LATE = re.compile(
    r"\b(?:late|later|slips?|slipped|slipping|delay(?:s|ed)?|behind|push(?:es|ed)?(?: back)?|"
    r"overdue|postponed?)\b"
)
# An amount that is a share of a site's stock: "30% of the stock", "half of its stock", "20% of
# Riga's inventory", "a third of the glasgow warehouse stock".
OF_STOCK = re.compile(
    r"\s+of\s+(?:the\s+|its\s+|our\s+|their\s+)?(?:[\w-]+(?:'s)?\s+){0,3}?(?:stock|inventory)\b"
)
_SPAN = 24  # characters between a direction or delay word and its amount


@dataclass(frozen=True)
class Read:
    value: float | bool
    span: tuple[int, int]

    @property
    def number(self) -> int | float | bool:
        """The value as an argument takes it: 200, not 200.0; a yes stays True."""
        if isinstance(self.value, bool):
            return self.value
        return int(self.value) if float(self.value).is_integer() else self.value


def _amount(match: re.Match, fractions: dict[str, float]) -> float:
    """The percent a CHANGE_AMOUNT / LOST_AMOUNT match names: "30%" 30, "a third" 33."""
    return float(match.group(1)) if match.group(1) else fractions[match.group(2)]


def percent_change(text: str) -> Read | None:
    """The one signed percent change ``text`` names: a factor ("doubles") or an amount with a
    direction before it or right after it ("drops 30%", "30% more")."""
    low = text.lower()
    found = [Read(change, m.span()) for pattern, change in _FACTORS for m in pattern.finditer(low)]
    for m in CHANGE_AMOUNT.finditer(low):
        if OF_STOCK.match(low, m.end()):
            continue  # "lost 30% of the stock": a share of stock lost, not a demand change
        amount = _amount(m, FRACTIONS)
        before, after = low[max(0, m.start() - _SPAN) : m.start()], low[m.end() : m.end() + 12]
        sign = _direction(before, after)
        if sign and amount:
            found.append(Read(sign * amount, m.span()))
    return _one(found)


def share_lost(text: str) -> Read | None:
    """The one share (percent, 0-100] of something ``text`` says is lost: "20%", "half", "all"."""
    found = [Read(_amount(m, LOST_FRACTIONS), m.span()) for m in LOST_AMOUNT.finditer(text.lower())]
    return _one([r for r in found if 0 < r.value <= 100])


def delay_days(text: str) -> Read | None:
    """The one delay ``text`` names: a duration next to a word of lateness ("a week late",
    "slips 3 days", "delayed by a fortnight")."""
    # "another week", "an extra week": one week, with the text's spans kept
    low = re.sub(r"\b(?:another|an extra|one more)\b", lambda m: "a".ljust(len(m[0])), text.lower())
    durations = [(m, amount_days(m.group(1), m.group(2))) for m in AMOUNT.finditer(low)]
    durations += [(m, 14) for m in re.finditer(r"\b(?:a\s+)?fortnight\b", low)]
    gaps = {}  # each duration near a word of lateness -> characters to the nearest one
    for m, days in durations:
        start = max(0, m.start() - _SPAN)
        near = [w.span() for w in LATE.finditer(low[start : m.end() + _SPAN])]
        if near:
            gap = min(max(a + start - m.end(), m.start() - b - start) for a, b in near)
            gaps[Read(float(days), m.span())] = gap
    found = list(gaps)
    if len({r.value for r in found}) > 1:  # "3 weeks later, next fortnight": the closer one
        found = [r for r in found if gaps[r] == min(gaps.values())]
    return _one(found)


CANCELLED = re.compile(
    r"\b(?:cancel\w*|call(?:s|ed)? off|pull(?:s|ed)?(?: out)?|withdraw\w*|"
    r"never (?:arrives?|comes?|shows? up|turns? up|gets? here)|(?:not|nt) (?:arriving|coming|"
    r"delivered)|(?:doesn'?t|don'?t|won'?t|can'?t|cannot|can not) (?:arrive|come|deliver|"
    r"show up))\b"
)
LOSING = re.compile(
    r"\b(?:los(?:e|es|ing|t)|loss|destroy\w*|damag\w*|fire|flood\w*|theft|stolen|writ(?:e|ten)[- ]?"
    r"offs?|wiped)\b"
)
HYPOTHESIS = re.compile(
    r"\b(?:if|suppose|supposing|assum\w*|imagine|scenario|simulat\w*|sim|stress[- ]test\w*|"
    r"hypothetical\w*|re-?project\w*|re-?run)\b"
)


def cancellation(text: str) -> Read | None:
    """A cancellation ``text`` names ("is cancelled", "never arrives", "won't show up")."""
    match = CANCELLED.search(text.lower())
    return Read(True, match.span()) if match else None


def stock_lost(text: str) -> Read | None:
    """The share of stock ``text`` says is lost, only where it says so ("loses half", "a fire
    destroys 20%"): a bare "20%" is no loss of stock."""
    return share_lost(text) if LOSING.search(text.lower()) else None


def names_an_edit(text: str) -> bool:
    """Does ``text`` name a change a what-if can run: a delay, a cancellation, a demand change,
    stock lost, or lateness under a hypothesis ("what if Acme slips")? A request that names
    none ("what's open with Acme", "explain the first one") is not a what-if,
    whatever a model makes of its words (``tools.registry.ToolSpec.grounds``)."""
    low = text.lower()
    return _names_an_edit(low) or _names_an_edit(_edit_words_spelled(low))


def _names_an_edit(low: str) -> bool:
    if delay_days(low) or percent_change(low) or CANCELLED.search(low):
        return True
    if LOSING.search(low) and share_lost(low):
        return True
    if not HYPOTHESIS.search(low):
        return False
    changing = [LATE, _UP, _DOWN, *(pattern for pattern, _ in _FACTORS)]
    return any(pattern.search(low) for pattern in changing)


# Words the checks above look for, so that a typo ("lte", "arrves", "ddeays") still counts: a
# false "yes" only leaves the model's choice standing, a false "no" would overrule a real what-if.
_EDIT_WORDS = re.findall(
    r"\w+",
    """late later slips slipped slipping delay delays delayed behind overdue postponed
cancel cancels cancelled canceled cancelling called pushed never arrive arrives arriving coming
deliver lose loses losing lost loss destroys destroyed damage damaged flood theft stolen wiped
doubles doubled triples tripled halves halved rises jumps increases drops falls decreases grows
suppose assume
assuming imagine scenario simulate hypothetically reproject""",
)
_KEPT = {"day", "days", "week", "weeks", "wk", "wks", "month", "months", "fortnight", "quarter"}


def _edit_words_spelled(text: str) -> str:
    def nearest(match: re.Match) -> str:
        word = match.group(0)
        if len(word) < 3 or word in _EDIT_WORDS or word in _KEPT:
            return word
        found = process.extractOne(word, _EDIT_WORDS, scorer=fuzz.ratio, score_cutoff=75)
        return found[0] if found else word

    return re.sub(r"[a-z]+", nearest, text)


def without(text: str, read: Read) -> str:
    """``text`` with the span ``read`` took blanked, for the readers that come after."""
    start, end = read.span
    return text[:start] + " " * (end - start) + text[end:]


def _direction(before: str, after: str) -> int:
    """+1 / -1 from the nearest direction word before the amount, else right after it."""
    ups, downs = list(_UP.finditer(before)), list(_DOWN.finditer(before))
    last_up = ups[-1].end() if ups else -1
    last_down = downs[-1].end() if downs else -1
    if last_up != last_down:
        return 1 if last_up > last_down else -1
    head = after.split()[:1]
    if head and _UP.fullmatch(head[0]):
        return 1
    if head and _DOWN.fullmatch(head[0]):
        return -1
    return 0


def _one(found: list[Read]) -> Read | None:
    values = {round(r.value, 6) for r in found}
    return found[0] if len(values) == 1 else None
