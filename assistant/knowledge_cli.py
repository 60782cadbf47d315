"""`stockpilot knowledge index|search`: thin commands over knowledge.retrieve.

The settings are read once per command, here; knowledge.retrieve gets a path or a server URL.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import typer

from assistant.settings import Settings, load_settings

app = typer.Typer(
    no_args_is_help=True, add_completion=False, help="Index and search the SOP knowledge base."
)


def _retriever(settings: Settings, collection: str):
    from knowledge.retrieve import open_retriever

    where = settings.chroma_url or str(settings.vector_store)
    return open_retriever(
        path=settings.vector_store, url=settings.chroma_url, collection=collection
    ), where


@app.command("index")
def index(
    folder: Path | None = typer.Argument(
        None, help="folder of .md/.txt/.pdf files (default: settings.sop_dir or the shipped SOPs)"
    ),
    collection: str = typer.Option("sops", help="chromadb collection; it mirrors the folder"),
) -> None:
    """Index a folder incrementally: only new or changed files are embedded; removed files are dropped."""
    from knowledge.retrieve import SHIPPED_SOPS

    settings = load_settings()
    source = folder or settings.sop_dir or SHIPPED_SOPS
    if not Path(source).is_dir():
        raise typer.BadParameter(f"{source}: not a folder", param_hint="FOLDER")
    retriever, where = _retriever(settings, collection)
    typer.echo(f"indexing {source} into {where} (collection '{collection}')")
    report = retriever.index(source)
    for failure in report.failed:
        typer.echo(f"failed: {failure.path}: {failure.error}", err=True)
    typer.echo(report.summary())
    if report.failed:
        raise typer.Exit(
            1
        )  # the rest is indexed; a non-zero status tells scripts something was skipped


@app.command("search")
def search(
    query: str,
    k: int = typer.Option(3, "-k", "--k", min=1, max=20, help="number of passages"),
    collection: str = typer.Option("sops"),
    as_json: bool = typer.Option(False, "--json", help="print passages as JSON"),
) -> None:
    """Search the indexed SOPs and print passages with citations and scores."""
    retriever, where = _retriever(load_settings(), collection)
    if retriever.count() == 0:
        typer.echo(
            f"the knowledge base at {where} is empty; run `stockpilot knowledge index`", err=True
        )
        raise typer.Exit(1)
    passages = retriever.search(query, k=k)
    if as_json:
        typer.echo(json.dumps([p.model_dump(mode="json") for p in passages], indent=2))
        return
    for rank, passage in enumerate(passages, start=1):
        typer.echo(f"{rank}. {passage.citation}  (score {passage.score:.3f}, {passage.path})")
        typer.echo(textwrap.indent(passage.text, "   "))
        typer.echo("")
