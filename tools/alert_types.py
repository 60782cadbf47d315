"""Alert kinds and severities, defined once: the scan, the tools, the UI and the schema check read
them from here (``typing.get_args``), never from lists typed again."""

from __future__ import annotations

from typing import Literal, get_args

# in the order alerts are listed within a severity: data first (it blocks decisions on the rest)
AlertKind = Literal["data_error", "supplier_delay", "demand_spike", "demand_drop", "shrinkage"]
Severity = Literal["critical", "high", "medium", "low"]  # most severe first
KINDS: tuple[str, ...] = get_args(AlertKind)
SEVERITIES: tuple[str, ...] = get_args(Severity)
