"""Periods in words or dates, relative to the store's today (a Monday, 2026-11-30)."""

from __future__ import annotations

from datetime import date

import pytest

from tools.periods import resolve_period
from tools.registry import ToolError

TODAY = date(2026, 11, 30)


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        ("last week", "2026-11-23", "2026-11-29"),
        ("Last Week?", "2026-11-23", "2026-11-29"),
        ("this week", "2026-11-30", "2026-11-30"),
        ("last month", "2026-10-01", "2026-10-31"),
        ("this month", "2026-11-01", "2026-11-30"),
        ("yesterday", "2026-11-29", "2026-11-29"),
        ("today", "2026-11-30", "2026-11-30"),
        ("2026-11", "2026-11-01", "2026-11-30"),
        ("2026-02-03", "2026-02-03", "2026-02-03"),
        ("in 1987", "1987-01-01", "1987-12-31"),  # a year, never a 1,987-day horizon
        ("last 14 days", "2026-11-16", "2026-11-29"),
        ("past two weeks", "2026-11-16", "2026-11-29"),
        ("last 3 months", "2026-08-30", "2026-11-29"),
        ("november", "2026-11-01", "2026-11-30"),
        ("march", "2026-03-01", "2026-03-31"),
        ("december", "2025-12-01", "2025-12-31"),  # the last December that has begun
        ("nov 2025", "2025-11-01", "2025-11-30"),
        ("2026-11-01..2026-11-15", "2026-11-01", "2026-11-15"),
        ("from 1 nov to 15 nov", "2026-11-01", "2026-11-15"),
        ("between 2026-10-01 and 2026-10-10", "2026-10-01", "2026-10-10"),
        ("since 2026-11-20", "2026-11-20", "2026-11-29"),
        ("last quarter", "2026-07-01", "2026-09-30"),
        ("q3", "2026-07-01", "2026-09-30"),  # a quarter, the latest that has begun
        ("in Q4", "2026-10-01", "2026-11-30"),  # the current one ends today
        ("q1 2025", "2025-01-01", "2025-03-31"),
        ("2025 q2", "2025-04-01", "2025-06-30"),
        ("q1 2027", "2027-01-01", "2027-03-31"),  # a quarter to come, whole (as "march 2027")
        ("year to date", "2026-01-01", "2026-11-30"),  # no range from "year" to "date"
        ("mtd", "2026-11-01", "2026-11-30"),
        ("in the last fortnight", "2026-11-16", "2026-11-29"),
        ("past month", "2026-10-30", "2026-11-29"),  # rolling; "last month" is October
        ("3 days ago", "2026-11-27", "2026-11-27"),  # dateparser, relative to the store's today
        (None, "2026-11-02", "2026-11-29"),  # default: the last 28 days
    ],
)
def test_periods_in_words_and_dates(text, start, end):
    period = resolve_period(text, TODAY)
    assert (period.start.isoformat(), period.end.isoformat()) == (start, end)


def test_labels_keep_the_words_without_the_preposition():
    assert resolve_period("in 1987", TODAY).describe() == "1987 (1987-01-01..1987-12-31)"
    assert resolve_period("2026-11-03", TODAY).describe() == "2026-11-03"


@pytest.mark.parametrize("text", ["blue moon", "2026-13", "2026-11-20..2026-11-01"])
def test_unreadable_periods_name_the_argument(text):
    with pytest.raises(ToolError, match=r"^period: "):
        resolve_period(text, TODAY)
