"""Product recommendations from customer-order co-occurrence: bought-together and substitutes."""

from __future__ import annotations

from typing import Literal

from tools.arguments import Limit, Sku, lowered
from tools.registry import Request, ToolContext, ToolResult, tool


class RecommendRequest(Request):
    sku: Sku
    mode: lowered(Literal["bought_together", "substitutes"]) = "bought_together"
    limit: Limit = 5


@tool("recommend_products", "products bought together with, or substitutes for, a SKU", RecommendRequest)
def recommend_products(ctx: ToolContext, req: RecommendRequest) -> ToolResult:
    raise NotImplementedError
