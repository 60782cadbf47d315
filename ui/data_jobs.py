"""The Data tab's jobs, without Gradio: import files (validated first; nothing is written when a
file has errors), regenerate the sample data, run a batch tool, re-index the SOPs. Each takes the
workspace's write lock, so chat answers never see half a change, and returns the text to show.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from tools.registry import call_tool
from tools.store import Store
from ui.links import escape_markdown
from ui.workspace import Workspace

PROBLEM_COLUMNS = ["file", "row", "column", "message"]
Say = Callable[[str], None]


def _quiet(_message: str) -> None:
    return None


def problems_frame(problems: list[Any]) -> pd.DataFrame:
    """ImportProblem(file, row, column, message) objects as the table the tab shows."""
    rows = [{c: getattr(p, c, None) for c in PROBLEM_COLUMNS} for p in problems]
    frame = pd.DataFrame(rows, columns=PROBLEM_COLUMNS)
    frame["file"] = frame["file"].map(lambda f: Path(str(f)).name if f is not None else f)
    return frame


def overview_markdown(settings, store: Store | None) -> str:
    if store is None:
        return (
            f"**No database yet** at `{settings.database}`: import files or generate sample data."
        )
    counts = store.counts()
    try:
        today = store.today().isoformat()
    except ValueError:
        today = "n/a (no inventory yet)"
    rows = " | ".join(f"{table} **{n:,}**" for table, n in counts.items())
    return f"Database `{settings.database}`, planning date **{today}**\n\nRows: {rows}"


def overview(workspace: Workspace) -> str:
    if not workspace.settings.database.exists():
        return overview_markdown(workspace.settings, None)
    with workspace.reading() as ctx:
        return overview_markdown(workspace.settings, ctx.store)


def validate_uploads(workspace: Workspace, paths: list[Path], update: bool = False) -> list:
    """Problems of the files against the current data, or against an empty schema when there is
    no database yet (so that a refused first import leaves no file behind)."""
    from tools.store.importer import validate_files

    if workspace.settings.database.exists():
        with workspace.writing() as ctx:
            return validate_files(ctx.store, paths, update=update)
    scratch = Store(":memory:")
    try:
        return validate_files(scratch, paths, update=update)
    finally:
        scratch.close()


def import_uploads(
    workspace: Workspace, paths: list[Path], say: Say = _quiet, update: bool = False
) -> tuple[str, pd.DataFrame]:
    """(status markdown, problems table): all files are imported, or none. ``update``: rows
    whose key exists update that record (in the same all-or-nothing transaction)."""
    from tools.store.importer import ImportValidationError, import_files

    say("validating")
    problems = validate_uploads(workspace, paths, update)
    if not problems:
        say("importing")
        with workspace.writing() as ctx:
            try:
                report = import_files(ctx.store, paths, update=update)
            except ImportValidationError as error:  # the data changed since validation
                problems = error.problems
    if problems:
        files = len({str(p.file) for p in problems})
        return (
            f"**Nothing imported**: {len(problems)} problem(s) in {files} file(s).",
            problems_frame(problems),
        )
    lines = str(report).splitlines()
    for path in paths:  # uploads sit in a temp folder: name the file as the user knows it
        lines = [line.replace(str(path), path.name) for line in lines]
    notes = "".join(f"\n- {escape_markdown(n.strip())}" for n in lines[1:])
    return (
        f"**Imported:** {escape_markdown(lines[0])}.{notes}\n\n"
        "Forecasts and alerts still reflect the old data: re-run them below.",
        problems_frame([]),
    )


def columns_frame(table: str) -> pd.DataFrame:
    """The columns ``table`` takes (from the importer), for people."""
    from tools.store.import_columns import expected_columns

    return pd.DataFrame(
        [
            {
                "Column": s.name,
                "Type": s.type,
                "Required": "yes" if s.required else "",
                "Key": "yes" if s.key else "",
                "Values": s.rule,
                "Also accepted as": ", ".join(s.headers),
            }
            for s in expected_columns(table)[table]
        ]
    )


def template_file(table: str) -> str:
    """A CSV template for ``table`` (its header line) as a file to download."""
    import tempfile

    from tools.store.import_columns import template_csv

    folder = Path(tempfile.gettempdir()) / "stockpilot-ui" / "templates"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{table}.csv"  # named after the table: it imports under that name
    path.write_text(template_csv(table))
    return str(path)


def regenerate_sample(
    workspace: Workspace, skus: int, days: int, seed: int, say: Say = _quiet
) -> str:
    """Replace the database with simulated history (the simulator writes the file itself)."""
    from tools.store.simulate import generate

    settings = workspace.settings
    with workspace.writing(open_store=False):
        summary = generate(
            settings.database,
            settings.truth_database,
            skus=skus,
            days=days,
            seed=seed,
            progress=say,
        )
    return f"Generated {skus} SKUs x {days} days of history in {summary.seconds:.1f} s."


def run_batch(workspace: Workspace, tool: str) -> str:
    """Run a writing tool (``run_forecasts``, ``scan_anomalies``) on a writable store."""
    with workspace.writing() as ctx:
        run = call_tool(ctx, tool, {})
    if not run.ok:
        return f"**{tool} failed:** {run.error}"
    return f"`{tool}` done in {run.seconds:.1f} s. {run.render()[:600]}"


def reindex_sops(workspace: Workspace) -> str:
    from knowledge.retrieve import SHIPPED_SOPS

    folder = workspace.settings.sop_dir or SHIPPED_SOPS
    with workspace.writing(open_store=False):
        report = workspace.retriever().index(folder)
    changed = {k: len(getattr(report, k)) for k in ("added", "updated", "removed", "unchanged")}
    failed = [f"{f.path}: {f.error}" for f in report.failed]
    text = (
        f"SOPs re-indexed from `{folder}` in {report.seconds:.1f} s: "
        + ", ".join(f"{n} {k}" for k, n in changed.items())
        + f"; {report.chunks_embedded} passages embedded, {report.chunks_total} in the index."
    )
    return text + ("\n\nFailed: " + "; ".join(failed) if failed else "")
