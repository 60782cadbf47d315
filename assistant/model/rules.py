"""A deterministic keyword router that speaks the same backend interface as the models.

Used by tests and browser tests (fast, no weights) and as the floor in the evaluation
table: a fine-tuned model that cannot beat keyword rules is not worth its latency.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from assistant.answers import quote_result
from assistant.model.backends import OnToken, Reply
from assistant.protocol import Call, Turn
from tools.horizons import MAX_HORIZON_DAYS
from tools.registry import ToolSpec

OUT_OF_SCOPE = (
    "I can only help with our supply chain: stock, forecasts, alerts, suppliers, routes and SOPs."
)
_SKU = re.compile(r"\bsku[-\s]?(\d+)\b", re.I)
_PO = re.compile(r"\bpo[-\s#]?(\d+)\b", re.I)
_ALERT = re.compile(r"\ba[-\s]?(\d+)\b", re.I)
_DAYS = re.compile(r"(\d+)\s*(day|week)", re.I)


def _horizon(text: str, default: int) -> int:
    match = _DAYS.search(text)
    if match:
        n = int(match.group(1))
        return min(MAX_HORIZON_DAYS, n * 7 if match.group(2).lower().startswith("week") else n)
    return 7 if "week" in text else default


def route(text: str) -> Call | None:
    """The tool call a keyword reading of ``text`` suggests, or None."""
    low = text.lower()
    sku = _SKU.search(text)
    sku_code = f"SKU-{int(sku.group(1)):05d}" if sku else None
    po = _PO.search(text)
    if any(w in low for w in ("email", "e-mail", "mail", "draft", "write to")) and (
        po or "supplier" in low
    ):
        return Call("draft_supplier_email", {"po_number": f"PO-{po.group(1)}"} if po else {})
    if "alert" in low and (alert := _ALERT.search(re.sub(r"alerts?", " ", text, flags=re.I))):
        return Call("explain_alert", {"alert_id": f"A-{alert.group(1)}"})
    if "alert" in low or "anomal" in low:
        return Call("list_alerts", {})
    if any(w in low for w in ("stock out", "stockout", "stock-out", "run out", "running out")):
        return Call("stockout_risk", {"horizon_days": _horizon(low, 7)})
    if sku_code and ("substitut" in low or "instead" in low or "alternative" in low):
        return Call("recommend_products", {"sku": sku_code, "mode": "substitutes"})
    if sku_code and ("bought" in low or "together" in low or "cross-sell" in low):
        return Call("recommend_products", {"sku": sku_code})
    if sku_code and any(
        w in low for w in ("reorder", "order quantity", "safety stock", "how much should")
    ):
        return Call("reorder_plan", {"sku": sku_code})
    if sku_code and any(w in low for w in ("projection", "project", "on hand", "cover")):
        return Call("stock_projection", {"sku": sku_code, "horizon_days": _horizon(low, 28)})
    if sku_code and ("forecast" in low or "demand" in low):
        return Call("forecast_demand", {"sku": sku_code, "horizon_days": _horizon(low, 14)})
    if "route" in low or "deliver" in low:
        return Call("plan_routes", {})
    if po or "late po" in low or "open po" in low or "purchase order" in low:
        return Call("supplier_orders", {"status": "late" if "late" in low else "open"})
    if "supplier" in low or "vendor" in low:
        return Call("supplier_scorecard", {})
    if any(
        w in low for w in ("sop", "procedure", "policy", "process", "what should i do", "how do we")
    ):
        return Call("search_sops", {"query": text.strip()[:200]})
    return None


def summarise(turn: Turn) -> str:
    """An answer copied from the head of a tool result (grounded by construction)."""
    return quote_result(turn.content)


class RulesBackend:
    name = "rules"

    def respond(
        self, turns: Sequence[Turn], specs: Sequence[ToolSpec], on_token: OnToken = None
    ) -> Reply:
        last = turns[-1]
        allowed = {s.name for s in specs}
        if last.role == "tool":
            reply = Reply(summarise(last))
        else:
            call = route(last.content)
            reply = Reply("", [call]) if call and call.name in allowed else Reply(OUT_OF_SCOPE)
        if on_token and reply.text:
            on_token(reply.text)
        return reply
