"""The Data tab: import CSV/Parquet files (validated first; nothing is written when a file has
errors), regenerate the sample data, re-run the batch forecast and the alert scan, re-index
the SOPs. Every job takes the workspace's write lock, so chat answers never see half a change.
"""

from __future__ import annotations

import logging
from functools import partial
from pathlib import Path
from typing import Any

import gradio as gr
import pandas as pd

from tools.registry import call_tool
from tools.store import Store
from ui.workspace import Workspace

log = logging.getLogger(__name__)

PROBLEM_COLUMNS = ["file", "row", "column", "message"]


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


def build_data_tab(app: gr.Blocks, workspace: Workspace) -> None:
    """Components and events of the Data tab (call inside a ``gr.Tab``)."""
    settings = workspace.settings
    overview = gr.Markdown(elem_id="data-overview")
    refresh = gr.Button("Refresh", size="sm")
    with gr.Row(equal_height=False):
        with gr.Column():
            gr.Markdown(
                "### Import files\nOne file per table, named after it (`products.csv`, "
                "`sales.parquet`, ...). All files are checked first; if any row is invalid "
                "nothing is written."
            )
            files = gr.File(
                file_count="multiple",
                file_types=[".csv", ".parquet"],
                type="filepath",
                label="CSV or Parquet files",
                elem_id="import-files",
            )
            import_button = gr.Button("Validate and import", variant="primary", elem_id="import")
            import_status = gr.Markdown(elem_id="import-status")
            problems = gr.Dataframe(
                headers=PROBLEM_COLUMNS,
                interactive=False,
                max_height=360,
                label="Validation problems",
                elem_id="import-problems",
            )
        with gr.Column():
            gr.Markdown("### Sample data\nReplaces the whole database with simulated history.")
            with gr.Row():
                skus = gr.Number(300, label="SKUs", precision=0, minimum=10)
                days = gr.Number(730, label="Days of history", precision=0, minimum=60)
                seed = gr.Number(7, label="Seed", precision=0)
            confirm = gr.Checkbox(False, label="I understand this replaces the current data")
            regenerate = gr.Button("Regenerate sample data", variant="stop", elem_id="regenerate")
            gr.Markdown("### Batch jobs")
            with gr.Row():
                forecasts = gr.Button("Re-run forecasts", elem_id="run-forecasts")
                scan = gr.Button("Scan for alerts", elem_id="scan-alerts")
                reindex = gr.Button("Re-index SOPs", elem_id="reindex")
            job_status = gr.Markdown(elem_id="job-status")

    def show_overview():
        if not settings.database.exists():
            return overview_markdown(settings, None)
        with workspace.reading() as ctx:
            return overview_markdown(settings, ctx.store)

    def do_import(paths: list[str] | None, progress=gr.Progress()):
        from tools.store.importer import ImportValidationError, import_files, validate_files

        if not paths:
            return "_Choose one or more files first._", gr.skip()
        paths = [Path(p) for p in paths]
        progress(0.1, desc="validating")
        found = validate(paths, validate_files)
        if found:
            return (
                f"**Nothing imported**: {len(found)} problem(s) in "
                f"{len({str(p.file) for p in found})} file(s).",
                problems_frame(found),
            )
        progress(0.5, desc="importing")
        with workspace.writing() as ctx:
            try:
                report = import_files(ctx.store, paths)
            except ImportValidationError as error:
                return "**Nothing imported**: the files changed meanwhile.", problems_frame(
                    error.problems
                )
        names = ", ".join(p.name for p in paths)
        return f"Imported {names}. {_describe(report)}", pd.DataFrame(columns=PROBLEM_COLUMNS)

    def validate(paths: list[Path], validate_files) -> list:
        """Problems of the files against the current data (or an empty schema when there is no
        database yet, so that a failed first import leaves no file behind)."""
        if settings.database.exists():
            with workspace.writing() as ctx:
                return validate_files(ctx.store, paths)
        scratch = Store(":memory:")
        try:
            return validate_files(scratch, paths)
        finally:
            scratch.close()

    def do_regenerate(
        n_skus, n_days, n_seed, confirmed: bool, progress=gr.Progress(track_tqdm=True)
    ):
        from tools.store.simulate import generate

        if not confirmed:
            return "_Tick the box to confirm that the current data will be replaced._"
        steps = iter(range(1, 20))
        with workspace.writing(open_store=False):
            summary = generate(
                settings.database,
                settings.truth_database,
                skus=int(n_skus),
                days=int(n_days),
                seed=int(n_seed),
                progress=lambda message: progress(min(0.9, next(steps) / 8), desc=message),
            )
        return (
            f"Generated {int(n_skus)} SKUs x {int(n_days)} days in "
            f"{getattr(summary, 'seconds', 0):.1f} s. Now re-run forecasts and the alert scan."
        )

    def run_job(tool: str, progress=gr.Progress(track_tqdm=True)):
        progress(0, desc=tool)
        with workspace.writing() as ctx:
            run = call_tool(ctx, tool, {})
        if not run.ok:
            return f"**{tool} failed:** {run.error}"
        return f"`{tool}` done in {run.seconds:.1f} s. {run.render()[:600]}"

    def do_reindex(progress=gr.Progress()):
        from knowledge.retrieve import SHIPPED_SOPS, open_retriever

        folder = settings.sop_dir or SHIPPED_SOPS
        progress(0.1, desc=f"indexing {folder}")
        with workspace.writing(open_store=False):
            retriever = open_retriever(path=settings.vector_store, url=settings.chroma_url)
            report = retriever.index(folder)
        return f"SOPs re-indexed from `{folder}`. {_describe(report)}"

    refresh.click(show_overview, None, overview)
    import_button.click(do_import, [files], [import_status, problems]).then(
        show_overview, None, overview
    )
    regenerate.click(do_regenerate, [skus, days, seed, confirm], job_status).then(
        show_overview, None, overview
    )
    forecasts.click(partial(run_job, "run_forecasts"), None, job_status)
    scan.click(partial(run_job, "scan_anomalies"), None, job_status).then(
        show_overview, None, overview
    )
    reindex.click(do_reindex, None, job_status)
    app.load(show_overview, None, overview)


def _describe(report: Any) -> str:
    """A one-line summary of a job report (pydantic model or anything with a repr)."""
    if report is None:
        return ""
    if hasattr(report, "model_dump"):
        data = report.model_dump(mode="json")
        return "; ".join(
            f"{k}: {len(v) if isinstance(v, list) else v}"
            for k, v in data.items()
            if v not in (None, [], {}, "")
        )
    return str(report)
