"""Horizons in words -> days ahead of the workspace's today, the one definition of them.

"next 3 weeks" is 21 days, "a fortnight" 14, "by friday" the days until the coming Friday, "end
of month" the days left in it. The argument guard sets ``horizon_days`` from these; the training
data and the rules backend read the same words. A year ("in 1987") or a text naming several
different horizons names none.
"""

from __future__ import annotations

import calendar
import re
from datetime import date, timedelta

import dateparser

MAX_HORIZON_DAYS = 84  # 12 weeks: what the forecasts cover
WORD_NUMBERS = {
    w: i
    for i, w in enumerate(
        [
            "one",
            "two",
            "three",
            "four",
            "five",
            "six",
            "seven",
            "eight",
            "nine",
            "ten",
            "eleven",
            "twelve",
        ],
        start=1,
    )
}
WORD_NUMBERS |= {"a": 1, "an": 1, "couple of": 2, "few": 3}
UNIT_DAYS = {"d": 1, "day": 1, "week": 7, "wk": 7, "month": 28, "quarter": 84}
WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
_NUMBER_WORDS = "|".join(sorted(WORD_NUMBERS, key=len, reverse=True))
# An amount and a unit; not the digits inside a code such as HTB646-D, and a number word only
# as a whole word ("and" is no "an d", one day).
AMOUNT = re.compile(
    r"(?<![\w-])(\d+|(?:" + _NUMBER_WORDS + r")\b)\s*-?\s*(days?|d|weeks?|wks?|months?|quarters?)\b"
)
_WEEKDAY = re.compile(
    r"\b(?:by|until|till|til|before|through|thru|for|on|next|this|coming|up to)\s+"
    r"(?:next\s+|this\s+|the\s+)?(mon(?:day)?|tue(?:s(?:day)?)?|wed(?:nesday)?|"
    r"thu(?:r(?:s(?:day)?)?)?|fri(?:day)?|sat(?:urday)?|sun(?:day)?)\b"
)
_BY_DATE = re.compile(
    r"\b(?:by|until|till|before|through|up to)\s+((?:the\s+)?\d{1,2}(?:st|nd|rd|th)?\s*"
    r"(?:of\s+)?[a-z]{3,9}|[a-z]{3,9}\s+\d{1,2}(?:st|nd|rd|th)?|\d{4}-\d{1,2}-\d{1,2}|"
    r"\d{1,2}[./]\d{1,2}(?:[./]\d{2,4})?|(?:the\s+)?\d{1,2}(?:st|nd|rd|th))\b"
)
NAMED = [
    (re.compile(r"\bfortnight\b"), lambda today: 14),
    (re.compile(r"\b(?:tomorrow|tmrw|tmr)\b"), lambda today: 1),
    (re.compile(r"\b(?:day after tomorrow)\b"), lambda today: 2),
    (re.compile(r"\bend of (?:the |this )?(?:week|wk)\b|\bweekend\b"), lambda t: _until(t, 6)),
    (re.compile(r"\bend of (?:the |this )?month\b|\bmonth[- ]end\b"), lambda t: _month_end(t)),
    (re.compile(r"\b(?:next|this|coming|the|a)\s+(?:week|wk)\b|\bweekly\b"), lambda today: 7),
    (re.compile(r"\b(?:next|this|coming|the|a)\s+month\b"), lambda today: 28),
    (re.compile(r"\bquarter\b"), lambda today: 84),
]


def amount_days(amount: str, unit: str) -> int:
    """Days in the (amount, unit) of an AMOUNT match: ("3", "weeks") is 21, ("a", "day") 1."""
    n = int(amount) if amount.isdigit() else WORD_NUMBERS[amount]
    return n * UNIT_DAYS[unit.rstrip("s")]


def _until(today: date, weekday: int) -> int:
    """Days to the coming ``weekday`` (a week when it is today)."""
    return (weekday - today.weekday()) % 7 or 7


def _month_end(today: date) -> int:
    last = date(today.year, today.month, calendar.monthrange(today.year, today.month)[1])
    if last == today:  # on the last day, "end of month" is the next one's
        nxt = today + timedelta(days=1)
        last = date(nxt.year, nxt.month, calendar.monthrange(nxt.year, nxt.month)[1])
    return (last - today).days


def _date_days(phrase: str, today: date) -> int | None:
    settings = {
        "RELATIVE_BASE": _midnight(today),
        "PREFER_DATES_FROM": "future",
        "DATE_ORDER": "DMY",
    }
    phrase = re.sub(r"^(?:the\s+)", "", phrase.strip())
    parsed = dateparser.parse(phrase, settings=settings, languages=["en"])
    return (parsed.date() - today).days if parsed else None


def _midnight(today: date):
    from datetime import datetime

    return datetime(today.year, today.month, today.day)


def horizon_days(text: str, today: date | None = None) -> int | None:
    """Days named by one horizon in ``text`` relative to ``today`` (the workspace's planning
    date; the calendar's by default). None: none, several different ones, or one beyond the
    forecasts' reach."""
    text, today = text.lower(), today or date.today()
    found = {amount_days(amount, unit) for amount, unit in AMOUNT.findall(text)}
    if not found:
        for match in _WEEKDAY.finditer(text):
            day = next(i for i, w in enumerate(WEEKDAYS) if w.startswith(match.group(1)[:3]))
            found.add(_until(today, day))
        for match in _BY_DATE.finditer(text):
            days = _date_days(match.group(1), today)
            if days is not None and days > 0:
                found.add(days)
    if not found:  # the first (most specific) named horizon: "end of the month", not "the month"
        named = next((days(today) for pattern, days in NAMED if pattern.search(text)), None)
        found = set() if named is None else {named}
    if len(found) != 1:
        return None
    days = found.pop()
    return days if 1 <= days <= MAX_HORIZON_DAYS else None
