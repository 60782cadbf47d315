"""`stockpilot traces list | show ID | export ID`: the stored turns (assistant.traces)."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from assistant.settings import load_settings

app = typer.Typer(no_args_is_help=True, add_completion=False)


def _store():
    from assistant.traces import TRACE_FILE, TraceStore

    settings = load_settings()
    return TraceStore(
        settings.data_dir / TRACE_FILE, settings.trace_keep, settings.trace_max_age_days
    )


def _get(trace_id: str) -> dict:
    try:
        return _store().get(trace_id)
    except KeyError as error:
        raise typer.BadParameter(str(error.args[0]), param_hint="TRACE_ID") from None


@app.command("list")
def list_traces(limit: int = typer.Option(20, min=1, help="newest first")) -> None:
    """The latest turns: id, time, question, tools called, seconds."""
    import pandas as pd

    from assistant.traces import summary_row

    rows = [summary_row(t) for t in _store().turns()[:limit]]
    if not rows:
        typer.echo("No traces yet: every answered question is stored here.")
        return
    frame = pd.DataFrame(rows)
    frame["trace_id"] = frame["trace_id"].str[:12]
    typer.echo(frame.to_markdown(index=False))


@app.command("show")
def show(trace_id: str) -> None:
    """One turn, span by span (a unique prefix of the id is enough)."""
    turn = _get(trace_id)
    typer.echo(f"trace {turn['trace_id']}  {turn['started']}  {turn['seconds']:.2f} s")
    typer.echo(f"Q: {turn['question']}\nA: {turn['answer']}\n")
    for span in turn["spans"]:
        attributes = span["attributes"]
        detail = attributes.get("gen_ai.tool.call.arguments", "")
        if attributes.get("gen_ai.operation.name") == "chat":
            detail = (
                f"prompt {attributes.get('gen_ai.usage.input_tokens', 0)} tokens, "
                f"generated {attributes.get('gen_ai.usage.output_tokens', 0)}"
            )
        status = "" if span["status"] != "ERROR" else f"  ERROR {span['status_description']}"
        typer.echo(f"{span['seconds']:8.3f} s  {span['name']}  {detail}{status}")


@app.command("export")
def export(
    trace_id: str,
    out: Path = typer.Option(None, "--out", "-o", help="file to write (default: stdout)"),
) -> None:
    """One turn as JSON (all spans and attributes)."""
    text = json.dumps(_get(trace_id), indent=2, ensure_ascii=False)
    if out is None:
        typer.echo(text)
    else:
        out.write_text(text + "\n", encoding="utf-8")
        typer.echo(f"wrote {out}")
