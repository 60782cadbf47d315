"""`stockpilot` command line: thin wrappers over library functions.

This is the composition root: settings are read here (and in the sub-command groups
assistant/data_cli.py, tool_cli.py, knowledge_cli.py, and finetune/cli.py) and passed down as
values; every registered tool is also a `stockpilot tool <name>` command.
"""

from __future__ import annotations

import json

import typer

from assistant.settings import load_settings

app = typer.Typer(
    no_args_is_help=True, add_completion=False, help="Stockpilot supply-chain assistant."
)


def _mount() -> None:
    from assistant.data_cli import app as data_app
    from assistant.knowledge_cli import app as knowledge_app
    from assistant.tool_cli import tool_app
    from finetune.cli import app as finetune_app

    app.add_typer(data_app, name="data", help="Generate, import and inspect the data store.")
    app.add_typer(tool_app, name="tool", help="Run one supply-chain tool directly.")
    app.add_typer(knowledge_app, name="knowledge", help="Index and search the SOP knowledge base.")
    app.add_typer(
        finetune_app, name="finetune", help="Training data, LoRA/AdaLoRA training, evaluation."
    )


@app.command("forecast")
def forecast(
    action: str = typer.Argument("run", help="run: batch forecast for all SKUs"),
    horizon_days: int = 28,
) -> None:
    """Batch forecast every SKU x location and store it (`stockpilot forecast run`)."""
    from assistant.tool_cli import run_tool

    if action != "run":
        raise typer.BadParameter(f"unknown action '{action}'; use: run", param_hint="ACTION")
    run_tool("run_forecasts", {"horizon_days": horizon_days}, read_only=False)


@app.command("alerts")
def alerts(
    action: str = typer.Argument("scan", help="scan: detect anomalies and rewrite alerts"),
) -> None:
    """Scan the data for anomalies and write alerts (`stockpilot alerts scan`)."""
    from assistant.tool_cli import run_tool

    if action != "scan":
        raise typer.BadParameter(f"unknown action '{action}'; use: scan", param_hint="ACTION")
    run_tool("scan_anomalies", {}, read_only=False)


@app.command("briefing")
def briefing(as_json: bool = typer.Option(False, "--json", help="print the full result")) -> None:
    """Morning briefing: stock-outs next 7 days, new and critical alerts, late POs, top actions."""
    from assistant.tool_cli import run_tool

    run_tool("briefing", {}, as_json=as_json)


@app.command()
def chat(show_tools: bool = True) -> None:
    """Chat with the assistant in the terminal (streaming, shows tool calls)."""
    from assistant.chat_cli import run_chat

    run_chat(load_settings(), show_tools=show_tools)


@app.command()
def ask(question: str, as_json: bool = typer.Option(False, "--json")) -> None:
    """Ask one question and print the grounded answer."""
    from assistant.agent import build_assistant
    from assistant.safe_text import plain_text

    reply = build_assistant(load_settings()).ask(question)
    text = json.dumps(reply.to_dict(), indent=2, default=str) if as_json else reply.markdown()
    typer.echo(plain_text(text))  # data cannot send escape sequences to the terminal


@app.command()
def serve() -> None:
    """Start the Gradio app."""
    from ui.app import launch

    launch(load_settings())


@app.command()
def api() -> None:
    """Start the OpenAI-compatible HTTP API."""
    from assistant.api import serve_api

    serve_api(load_settings())


@app.command()
def mcp(
    transport: str = typer.Option("stdio", help="stdio (launched by an MCP client) or http"),
    host: str = typer.Option(None, help="http: address to bind (default: api_host)"),
    port: int = typer.Option(8001, help="http: port; the endpoint is http://HOST:PORT/mcp"),
) -> None:
    """Serve the agent's tools and the SOPs over the Model Context Protocol."""
    from assistant.mcp_server import serve_mcp

    if transport not in {"stdio", "http"}:
        raise typer.BadParameter(f"'{transport}'; use stdio or http", param_hint="--transport")
    settings = load_settings()
    serve_mcp(settings, transport, host or settings.api_host, port)


def _mount_traces() -> None:
    from assistant.traces_cli import app as traces_app

    app.add_typer(traces_app, name="traces", help="List, open and export stored turn traces.")


_mount()
_mount_traces()
