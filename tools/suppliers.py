"""Supplier scorecards, open/late/at-risk purchase orders, and e-mail drafts built from PO facts."""

from __future__ import annotations

from typing import Literal

from tools.arguments import lowered
from tools.registry import Request, ToolContext, ToolResult, tool


class ScorecardRequest(Request):
    supplier: str | None = None


class SupplierOrdersRequest(Request):
    supplier: str | None = None
    status: lowered(Literal["late", "open", "at_risk", "all"]) = "late"


class DraftEmailRequest(Request):
    supplier: str | None = None
    po_number: str | None = None


@tool("supplier_scorecard", "on-time-in-full, lead time and fill rate per supplier", ScorecardRequest)
def supplier_scorecard(ctx: ToolContext, req: ScorecardRequest) -> ToolResult:
    raise NotImplementedError


@tool("supplier_orders", "open, late or at-risk purchase orders", SupplierOrdersRequest)
def supplier_orders(ctx: ToolContext, req: SupplierOrdersRequest) -> ToolResult:
    raise NotImplementedError


@tool("draft_supplier_email", "e-mail draft to a supplier about a PO or its late POs", DraftEmailRequest)
def draft_supplier_email(ctx: ToolContext, req: DraftEmailRequest) -> ToolResult:
    raise NotImplementedError
