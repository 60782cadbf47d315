"""Argument types shared by the tool request models, with the normalisation done in code
(strip, upper-case codes, parse dates) so the model does not have to be perfect."""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Annotated

from pydantic import BeforeValidator, Field

from tools.registry import ToolError

MAX_HORIZON_DAYS = 84  # 12 weeks


def _upper(value):
    return value.strip().upper().replace(" ", "-") if isinstance(value, str) else value


def _blank_to_none(value):
    return (
        None
        if isinstance(value, str) and value.strip().lower() in {"", "none", "null", "all", "any"}
        else value
    )


Sku = Annotated[
    str,
    BeforeValidator(_upper),
    Field(min_length=1, max_length=40, description="SKU code, e.g. SKU-00042"),
]
Location = Annotated[
    str | None,
    BeforeValidator(_blank_to_none),
    Field(None, description="warehouse id, name or city"),
]
HorizonDays = Annotated[int, Field(ge=1, le=MAX_HORIZON_DAYS, description="days ahead, 1-84")]
Limit = Annotated[int, Field(ge=1, le=100)]
DateText = Annotated[
    str | None,
    BeforeValidator(_blank_to_none),
    Field(None, description="ISO date, 'today' or 'tomorrow'"),
]

_WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]


def resolve_date(text: str | None, today: date, argument: str = "date") -> date:
    """'2026-12-01', '2026-12-1', 'today', 'tomorrow', 'monday' -> a date (None -> today)."""
    if text is None:
        return today
    value = text.strip().lower()
    if value in {"today", "now"}:
        return today
    if value == "tomorrow":
        return today + timedelta(days=1)
    if value in _WEEKDAYS:
        return today + timedelta(days=(_WEEKDAYS.index(value) - today.weekday()) % 7)
    match = re.fullmatch(r"(\d{4})-(\d{1,2})-(\d{1,2})", value)
    if match:
        try:
            return date(*map(int, match.groups()))
        except ValueError:
            pass
    raise ToolError(
        f"{argument}: cannot read '{text}' as a date; use YYYY-MM-DD, 'today' or 'tomorrow'"
    )


def _lower(value):
    return (
        value.strip().lower().replace(" ", "_").replace("-", "_")
        if isinstance(value, str)
        else value
    )


def lowered(annotation):
    """Wrap a Literal so 'High' or 'demand spike' validate as 'high' / 'demand_spike'."""
    return Annotated[annotation, BeforeValidator(_blank_to_none), BeforeValidator(_lower)]
