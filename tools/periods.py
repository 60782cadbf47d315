"""Periods of history in words or dates -> (start, end) dates, relative to the store's today.

"last week" is the previous Monday-Sunday week, "this month" the 1st up to today, "last 14
days" the fourteen days before today, "2026-11" a month, "2026" or "in 1987" a year (a year is a
period, never a number of days), "2026-11-01..2026-11-15" or "from 1 nov to 15 nov" a range.
Anything else goes to dateparser (pinned) for a single day: "3 days ago", "last monday",
"1 Dec 2026". Today is the store's planning date (``Store.today()``), not the computer's clock.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import dateparser

from tools.registry import ToolError

DEFAULT_PERIOD = "last 28 days"
MONTHS = {m.lower(): i for i, m in enumerate(calendar.month_name) if m}
MONTHS |= {m.lower(): i for i, m in enumerate(calendar.month_abbr) if m}
MONTHS["sept"] = 9
UNITS = {"day": 1, "days": 1, "week": 7, "weeks": 7, "month": 0, "months": 0, "year": 0, "years": 0}
NUMBERS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "a": 1, "an": 1}
HINT = "use e.g. 'last week', 'last month', 'this month', 'yesterday', '2026-11', '2026-11-01..2026-11-15'"


@dataclass(frozen=True)
class Period:
    start: date
    end: date  # inclusive
    label: str

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def describe(self) -> str:
        span = str(self.start) if self.start == self.end else f"{self.start}..{self.end}"
        return span if self.label == span else f"{self.label} ({span})"


def resolve_period(text: str | None, today: date, argument: str = "period") -> Period:
    """The period a user's words name, relative to ``today`` (ToolError naming ``argument``)."""
    raw = (text or DEFAULT_PERIOD).strip()
    value = re.sub(r"\s+", " ", raw.lower()).strip(" .?!")
    value = re.sub(r"^(in|during|for|over|of|on)\s+(the\s+)?", "", value)
    if (named := _named(value, today)) is not None:  # "year to date" is no range "year".."date"
        return Period(*named, value)
    for splitter in (r"\s*\.\.\s*", r"\s+to\s+", r"\s+until\s+", r"\s+-\s+"):
        parts = re.split(
            splitter, re.sub(r"^(from|between)\s+", "", value).replace(" and ", " to ")
        )
        if len(parts) == 2 and all(parts):
            first, last = (_single(p, today, argument, raw) for p in parts)
            if last.end < first.start:
                raise ToolError(f"{argument}: '{raw}' ends before it starts")
            return Period(first.start, last.end, value)
    if value.startswith("since "):
        first = _single(value[6:], today, argument, raw)
        return Period(first.start, today - timedelta(days=1), value)
    period = _single(value, today, argument, raw)
    return Period(period.start, period.end, value)


def _single(value: str, today: date, argument: str, raw: str) -> Period:
    value = value.strip()
    found = _named(value, today) or _rolling(value, today) or _calendar(value, today)
    if found is not None:
        return Period(found[0], found[1], value)
    if re.fullmatch(r"\d{4}-\d{1,2}(-\d{1,2})?", value):  # ISO-shaped but no such day or month
        raise ToolError(f"{argument}: '{raw}' is not a real date or month; {HINT}")
    parsed = dateparser.parse(
        value,
        languages=["en"],
        settings={
            "RELATIVE_BASE": datetime.combine(today, datetime.min.time()),
            "PREFER_DATES_FROM": "past",
            "RETURN_AS_TIMEZONE_AWARE": False,
        },
    )
    if parsed is None:
        raise ToolError(f"{argument}: cannot read '{raw}' as a period; {HINT}")
    return Period(parsed.date(), parsed.date(), value)


def _named(value: str, today: date) -> tuple[date, date] | None:
    yesterday = today - timedelta(days=1)
    monday = today - timedelta(days=today.weekday())
    first = today.replace(day=1)
    quarter = date(today.year, 3 * ((today.month - 1) // 3) + 1, 1)
    named = {
        "today": (today, today),
        "yesterday": (yesterday, yesterday),
        "this week": (monday, today),
        "last week": (monday - timedelta(days=7), monday - timedelta(days=1)),
        "previous week": (monday - timedelta(days=7), monday - timedelta(days=1)),
        "this month": (first, today),
        "last month": (_add_months(first, -1), first - timedelta(days=1)),
        "previous month": (_add_months(first, -1), first - timedelta(days=1)),
        "this quarter": (quarter, today),
        "last quarter": (_add_months(quarter, -3), quarter - timedelta(days=1)),
        "this year": (date(today.year, 1, 1), today),
        "year to date": (date(today.year, 1, 1), today),
        "ytd": (date(today.year, 1, 1), today),
        "so far this year": (date(today.year, 1, 1), today),
        "month to date": (first, today),
        "mtd": (first, today),
        "so far this month": (first, today),
        "quarter to date": (quarter, today),
        "qtd": (quarter, today),
        # "past" and "last" with no count: the span ending yesterday ("last month" is the
        # calendar month, as "last week" is the calendar week)
        "past week": (today - timedelta(days=7), yesterday),
        "last fortnight": (today - timedelta(days=14), yesterday),
        "past fortnight": (today - timedelta(days=14), yesterday),
        "past month": (_add_months(today, -1), yesterday),
        "past year": (_add_months(today, -12), yesterday),
        "last year": (date(today.year - 1, 1, 1), date(today.year - 1, 12, 31)),
    }
    return named.get(value.removeprefix("the "))


def _rolling(value: str, today: date) -> tuple[date, date] | None:
    """'last 14 days', 'past 3 weeks', 'last two months': the span ending yesterday."""
    m = re.fullmatch(
        r"(?:the )?(?:last|past|previous) (\d+|\w+) (days?|weeks?|months?|years?)", value
    )
    if not m:
        return None
    count = int(m[1]) if m[1].isdigit() else NUMBERS.get(m[1])
    if not count:
        return None
    end = today - timedelta(days=1)
    unit = m[2]
    if unit.startswith(("day", "week")):
        return today - timedelta(days=count * UNITS[unit]), end
    months = count * (12 if unit.startswith("year") else 1)
    return _add_months(today, -months), end


def _calendar(value: str, today: date) -> tuple[date, date] | None:
    """ISO day, ISO month, a year, or a month name with or without its year."""
    if m := re.fullmatch(r"(\d{4})-(\d{1,2})-(\d{1,2})", value):
        try:
            day = date(int(m[1]), int(m[2]), int(m[3]))
        except ValueError:
            return None
        return day, day
    if m := re.fullmatch(r"(\d{4})-(\d{1,2})", value):
        if 1 <= int(m[2]) <= 12:
            return _month(int(m[1]), int(m[2]))
        return None
    if m := re.fullmatch(r"q([1-4])(?:\s*(\d{4}))?|(\d{4})\s*q([1-4])", value):
        # a quarter: "q3", "q3 2026", "2026 q3"; without a year the latest one that has begun
        number, year = int(m[1] or m[4]), m[2] or m[3]
        start_month = 3 * (number - 1) + 1
        if year is None:
            year = today.year if date(today.year, start_month, 1) <= today else today.year - 1
        start = date(int(year), start_month, 1)
        end = _add_months(start, 3) - timedelta(days=1)
        return start, min(end, today) if start <= today else end  # the current one ends today
    if m := re.fullmatch(r"(?:year )?(\d{4})", value):
        return date(int(m[1]), 1, 1), date(int(m[1]), 12, 31)
    if m := re.fullmatch(r"([a-z]+)(?: (\d{4}))?", value):
        month = MONTHS.get(m[1])
        if month is None:
            return None
        year = int(m[2]) if m[2] else (today.year if month <= today.month else today.year - 1)
        return _month(year, month)
    return None


def _month(year: int, month: int) -> tuple[date, date]:
    return date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1])


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    return date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))
