"""`stockpilot tool <name> key=value ...`: every registered tool from the command line.

Settings and the tool context are built here, at the top, and handed to tools.registry.
"""

from __future__ import annotations

import json

import typer

tool_app = typer.Typer(no_args_is_help=True, add_completion=False)


def parse_pairs(pairs: list[str]) -> dict:
    """['horizon_days=7', 'location=Berlin DC'] -> {'horizon_days': 7, 'location': 'Berlin DC'}."""
    arguments = {}
    for pair in pairs:
        if "=" not in pair:
            raise typer.BadParameter(f"'{pair}' is not key=value", param_hint="ARGUMENTS")
        key, value = pair.split("=", 1)
        try:
            arguments[key.strip()] = json.loads(value)
        except json.JSONDecodeError:
            arguments[key.strip()] = value
    return arguments


def run_tool(name: str, arguments: dict, read_only: bool = True, as_json: bool = False) -> None:
    from assistant.context import open_context
    from assistant.settings import load_settings
    from tools.registry import call_tool, load_tools

    spec = load_tools().get(name)
    settings = load_settings()
    ctx = open_context(
        settings,
        read_only=read_only and not (spec and spec.writes),
        with_sops=name == "search_sops",
    )
    run = call_tool(ctx, name, arguments)
    if not run.ok:
        typer.echo(f"error: {run.error}", err=True)
        raise typer.Exit(2)
    if as_json:
        typer.echo(json.dumps(run.result.model_dump(mode="json"), indent=2))
        return
    typer.echo(run.result.render())
    table = run.result.table()
    if table is not None and len(table):
        typer.echo("")
        typer.echo(table.to_string(index=False))
    typer.echo(f"\n({run.seconds:.2f}s)", err=True)


@tool_app.command("list")
def list_tools() -> None:
    """List the registered tools and their arguments."""
    from tools.registry import load_tools

    for spec in load_tools().values():
        typer.echo(f"{spec.signature():60s} {spec.summary}")


@tool_app.command("run")
def run(
    name: str,
    arguments: list[str] = typer.Argument(None, help="key=value pairs"),
    as_json: bool = typer.Option(False, "--json", help="print the full result as JSON"),
) -> None:
    """Run one tool, e.g. `stockpilot tool run stockout_risk horizon_days=7 location=berlin`."""
    run_tool(name, parse_pairs(arguments or []), as_json=as_json)
