"""SOP search exposed as an agent tool."""

from __future__ import annotations

from pydantic import Field

from tools.registry import Request, ToolContext, ToolResult, tool


class SearchSopsRequest(Request):
    query: str = Field(min_length=2, max_length=300)
    k: int = Field(3, ge=1, le=10)


@tool("search_sops", "search the standard operating procedures", SearchSopsRequest)
def search_sops(ctx: ToolContext, req: SearchSopsRequest) -> ToolResult:
    raise NotImplementedError
