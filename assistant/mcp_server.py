"""The registry's agent tools and the SOPs over the Model Context Protocol (`stockpilot mcp`).

Built on the official SDK's low-level ``Server`` because the tools already carry their JSON
schemas (generated from each tool's pydantic request model, as for the agent): nothing is
declared twice. Calls go through ``tools.registry.call_tool``, so an MCP client gets the same
validation and the same error text the chat model gets (``ERROR tool: invalid arguments:
horizon_days: ...``), as a tool result with ``isError`` set, which MCP clients show to their
model so it can correct the call. Only the agent's tools are offered: the batch jobs that write
(forecast run, alert scan) stay CLI-only, and the store is opened read-only.

The SOPs are resources, ``sop://<file name>``, read from ``sop_dir`` (default: the shipped
corpus). Over HTTP the API's key rule applies (``assistant.api.RequireKey``).
"""

from __future__ import annotations

import logging
import threading
from functools import partial
from pathlib import Path

import anyio
from mcp import types
from mcp.server import Server

from assistant.settings import Settings
from knowledge.documents import UnreadableDocumentError, is_supported, read_document
from tools.registry import ToolContext, ToolSpec, agent_tools, call_tool, load_tools

SERVER_NAME = "stockpilot"
SOP_SCHEME = "sop://"
MCP_PATH = "/mcp"
log = logging.getLogger(__name__)


def tool_definition(spec: ToolSpec) -> types.Tool:
    """The MCP form of a registry tool: the agent's JSON schema and one-line summary."""
    return types.Tool(
        name=spec.name,
        description=spec.summary,
        input_schema=spec.json_schema()["function"]["parameters"],
        annotations=types.ToolAnnotations(read_only_hint=True, open_world_hint=False),
    )


def refusal(name: str, offered: list[str]) -> str:
    """Why a name is not callable here: a batch job (CLI only) or no tool at all."""
    spec = load_tools().get(name)
    if spec is not None and not spec.agent:
        return f"tool: '{name}' is a batch job that writes; run it from the CLI (`stockpilot tool {name}`)"
    return f"tool: unknown tool '{name}'; available: {', '.join(sorted(offered))}"


class SopLibrary:
    """The SOP files of one folder as MCP resources (Markdown, text and PDF, as the index reads)."""

    def __init__(self, folder: Path):
        self.folder = Path(folder)

    def files(self) -> list[Path]:
        if not self.folder.is_dir():
            return []
        return sorted(p for p in self.folder.rglob("*") if p.is_file() and is_supported(p))

    def resources(self) -> list[types.Resource]:
        found = []
        for path in self.files():
            relative = path.relative_to(self.folder).as_posix()
            try:
                doc = read_document(path, relative, path.read_bytes())
            except UnreadableDocumentError as error:
                log.warning("%s: not offered as a resource: %s", path, error)
                continue
            found.append(
                types.Resource(
                    uri=SOP_SCHEME + relative,
                    name=doc.doc_id,
                    title=f"{doc.doc_id} {doc.title}".strip(),
                    description=f"SOP {doc.doc_id}: {doc.title}",
                    mime_type="text/markdown" if doc.kind == "markdown" else "text/plain",
                )
            )
        return found

    def read(self, uri: str) -> tuple[str, str]:
        """(text, mime type) of ``sop://<file>``; ValueError naming the uri when there is none."""
        relative = uri.removeprefix(SOP_SCHEME) if uri.startswith(SOP_SCHEME) else None
        known = {p.relative_to(self.folder).as_posix(): p for p in self.files()}
        if relative not in known:  # also refuses '..' paths: only listed files are readable
            raise ValueError(f"uri: no SOP '{uri}'; list them with resources/list")
        path = known[relative]
        doc = read_document(path, relative, path.read_bytes())
        text = "\n\n".join(page.text for page in doc.pages)
        return text, "text/markdown" if doc.kind == "markdown" else "text/plain"


def build_server(ctx: ToolContext, sop_folder: Path) -> Server:
    """An MCP server over ``ctx`` (open it read-only) and the SOPs in ``sop_folder``."""
    specs = agent_tools()
    offered = [spec.name for spec in specs]
    sops = SopLibrary(sop_folder)
    lock = threading.Lock()  # one store connection: one call at a time

    async def list_tools(_ctx, _params) -> types.ListToolsResult:
        return types.ListToolsResult(tools=[tool_definition(spec) for spec in specs])

    def run(name: str, arguments: dict) -> types.CallToolResult:
        if name not in offered:
            return _error(refusal(name, offered))
        with lock:
            result = call_tool(ctx, name, arguments)
        if not result.ok:
            return _error(result.error)
        summary = result.result.summary()
        text = "\n\n".join(p for p in [summary, result.result.render()] if p)
        return types.CallToolResult(
            content=[types.TextContent(text=text)],
            structured_content=result.result.model_dump(mode="json"),
        )

    async def call(_ctx, params: types.CallToolRequestParams) -> types.CallToolResult:
        try:
            return await anyio.to_thread.run_sync(
                partial(run, params.name, dict(params.arguments or {}))
            )
        except Exception as error:  # a tool bug is a failed call, as in the agent, not a crash
            log.exception("tool %s failed", params.name)
            return _error(f"internal error: {type(error).__name__}: {error}")

    async def list_resources(_ctx, _params) -> types.ListResourcesResult:
        return types.ListResourcesResult(resources=sops.resources())

    async def read_resource(_ctx, params: types.ReadResourceRequestParams):
        text, mime = sops.read(str(params.uri))
        return types.ReadResourceResult(
            contents=[types.TextResourceContents(uri=str(params.uri), mime_type=mime, text=text)]
        )

    return Server(
        SERVER_NAME,
        version="0.1.0",
        instructions="Supply-chain tools over the Stockpilot data store (read-only) and its SOPs.",
        on_list_tools=list_tools,
        on_call_tool=call,
        on_list_resources=list_resources,
        on_read_resource=read_resource,
    )


def _error(message: str) -> types.CallToolResult:
    from tools.registry import ERROR

    return types.CallToolResult(
        content=[types.TextContent(text=f"{ERROR} {message}")], is_error=True
    )


def http_app(server: Server, settings: Settings, host: str):
    """The streamable-HTTP ASGI app at ``/mcp``, behind the API's own key check (the same
    middleware, the same rules: an empty key refuses to start, 401 in the API's words)."""
    from assistant.api import RequireKey, api_key

    app = server.streamable_http_app(streamable_http_path=MCP_PATH, host=host)
    key = api_key(settings)
    return RequireKey(app, key) if key else app


def open_server(settings: Settings) -> Server:
    from assistant.context import open_context
    from knowledge.retrieve import SHIPPED_SOPS

    ctx = open_context(settings, read_only=True)
    return build_server(ctx, settings.sop_dir or SHIPPED_SOPS)


async def _serve_stdio(server: Server) -> None:
    from mcp.server.stdio import stdio_server

    async with stdio_server() as (read, write):
        await server.run(read, write, server.create_initialization_options())


def serve_mcp(settings: Settings, transport: str, host: str, port: int) -> None:
    """Serve until interrupted: ``stdio`` (a client launches us) or ``http`` (streamable HTTP)."""
    server = open_server(settings)
    if transport == "stdio":
        anyio.run(_serve_stdio, server)
        return
    import uvicorn

    uvicorn.run(http_app(server, settings, host), host=host, port=port, log_level="warning")
