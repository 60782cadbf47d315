"""Argument types shared by the tool request models, with the normalisation done in code
(strip, upper-case codes, parse dates) so the model does not have to be perfect."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Annotated, Literal, get_args

from pydantic import BaseModel, BeforeValidator, Field

from tools.horizons import MAX_HORIZON_DAYS
from tools.registry import ToolError


def _upper(value):
    """A code typed loosely ('sku 42', 'htb646 d') is upper-cased; a product name is left as
    written, for the resolver to match ('citrus hand cream')."""
    if not isinstance(value, str):
        return value
    value = value.strip()
    if len(value.split()) <= 2 and re.search(r"\d", value):
        return value.upper().replace(" ", "-")
    return value


def _blank_to_none(value):
    return (
        None
        if isinstance(value, str) and value.strip().lower() in {"", "none", "null", "all", "any"}
        else value
    )


# What an argument names. The entity resolver, the argument guard, copy decoding, the
# training data and the evaluation all read an argument's kind from its type, never from
# lists of argument names.
EntityKind = Literal[
    "sku",
    "location",
    "category",
    "supplier",
    "po",
    "alert",
    "date",
    "period",  # a span of history ("last week", "2026-10")
    "horizon",
    "count",
    "text",
    "change",  # a signed percent change ("doubles" +100), read from words (tools.changes)
    "share",  # a share lost, percent ("half" 50)
    "delay",  # days later ("another week" 7)
    "cancellation",  # never arrives ("cancelled", "won't show up")
]
ENTITY_KINDS: tuple[str, ...] = get_args(EntityKind)


@dataclass(frozen=True)
class Names:
    """Annotated marker: the argument names an entity of ``kind``."""

    kind: EntityKind


def entity_kind(request: type[BaseModel], argument: str) -> str | None:
    """The entity kind an argument of a request model names (None: a plain setting)."""
    info = request.model_fields.get(argument)
    if info is None:
        return None
    marks = [m for m in info.metadata if isinstance(m, Names)]
    return marks[0].kind if marks else _kind_in(info.annotation)


def _kind_in(annotation) -> str | None:
    """Names(...) inside an Optional[...] (``PoNumber | None``) or an Annotated alias."""
    for mark in getattr(annotation, "__metadata__", ()):
        if isinstance(mark, Names):
            return mark.kind
    for inner in get_args(annotation):
        if (kind := _kind_in(inner)) is not None:
            return kind
    return None


def arguments_of_kind(request: type[BaseModel], kind: str) -> list[str]:
    return [name for name in request.model_fields if entity_kind(request, name) == kind]


Sku = Annotated[
    str,
    BeforeValidator(_upper),
    Field(min_length=1, max_length=40, description="SKU code, e.g. SKU-00042"),
    Names("sku"),
]
Location = Annotated[
    Annotated[str, Field(max_length=80)] | None,
    BeforeValidator(_blank_to_none),
    Field(None, description="warehouse id, name or city"),
    Names("location"),
]
Category = Annotated[
    Annotated[str, Field(max_length=80)] | None,
    BeforeValidator(_blank_to_none),
    Field(None, description="product category"),
    Names("category"),
]
Supplier = Annotated[
    Annotated[str, Field(max_length=120)] | None,
    BeforeValidator(_blank_to_none),
    Field(None, description="supplier id or name"),
    Names("supplier"),
]
PoNumber = Annotated[
    str, Field(min_length=1, max_length=40, description="PO number, e.g. PO-4512"), Names("po")
]
AlertId = Annotated[
    str, Field(min_length=1, max_length=40, description="alert id, e.g. A-17"), Names("alert")
]
HorizonDays = Annotated[
    int, Field(ge=1, le=MAX_HORIZON_DAYS, description="days ahead, 1-84"), Names("horizon")
]
Limit = Annotated[int, Field(ge=1, le=100), Names("count")]
DateText = Annotated[
    Annotated[str, Field(max_length=40)] | None,
    BeforeValidator(_blank_to_none),
    Field(None, description="ISO date, 'today' or 'tomorrow'"),
    Names("date"),
]
FreeText = Annotated[str, Field(min_length=2, max_length=300), Names("text")]

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


Period = Annotated[
    str | None,
    BeforeValidator(_blank_to_none),
    Field(None, max_length=60, description="past period in words or dates: 'last week', '2026-11'"),
    Names("period"),
]
