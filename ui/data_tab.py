"""The Data tab: import files, regenerate the sample data, re-run the batch forecast and the
alert scan, re-index the SOPs, each with progress shown. The jobs live in ui.data_jobs."""

from __future__ import annotations

from functools import partial
from pathlib import Path

import gradio as gr

from tools.store.importer import TABLES
from ui.data_jobs import (
    PROBLEM_COLUMNS,
    columns_frame,
    import_uploads,
    overview,
    regenerate_sample,
    reindex_sops,
    run_batch,
    template_file,
)
from ui.workspace import Workspace

IMPORT_TABLES = list(TABLES)  # the importer's tables, in its dependency order
JOB_TITLES = {"run_forecasts": "batch forecast", "scan_anomalies": "alert scan"}


def build_data_tab(app: gr.Blocks, workspace: Workspace) -> None:
    """Components and events of the Data tab (call inside a ``gr.Tab``)."""
    summary = gr.Markdown(elem_id="data-overview")
    refresh = gr.Button("Refresh", size="sm")
    with gr.Row(equal_height=False):
        with gr.Column():
            gr.Markdown(
                "### Import files\nOne file per table, named after it (`products.csv`, "
                "`sales.parquet`, ...). Comma or semicolon separated, decimal point or comma, "
                "headers in any case. All files are checked first; if any row is invalid "
                "nothing is written."
            )
            files = gr.File(
                file_count="multiple",
                file_types=[".csv", ".parquet"],
                type="filepath",
                label="CSV or Parquet files",
                elem_id="import-files",
            )
            update = gr.Checkbox(
                False,
                label="Update existing records (rows whose key exists change that record)",
                elem_id="import-update",
            )
            import_button = gr.Button("Validate and import", variant="primary", elem_id="import")
            import_status = gr.Markdown(elem_id="import-status")
            rerun = gr.Button(
                "Re-run forecasts and the alert scan now", visible=False, elem_id="rerun-after"
            )
            problems = gr.Dataframe(
                headers=PROBLEM_COLUMNS,
                interactive=False,
                wrap=True,
                max_height=360,
                label="Validation problems",
                elem_id="import-problems",
            )
            with gr.Accordion("Expected columns and templates", open=False, elem_id="columns"):
                table_pick = gr.Dropdown(
                    IMPORT_TABLES, value="products", label="Table", elem_id="columns-table"
                )
                columns = gr.Dataframe(interactive=False, wrap=True, elem_id="columns-list")
                template = gr.DownloadButton("CSV template", size="sm", elem_id="template")
        with gr.Column():
            gr.Markdown("### Sample data\nReplaces the whole database with simulated history.")
            with gr.Row():
                skus = gr.Number(300, label="SKUs", precision=0, minimum=10)
                days = gr.Number(730, label="Days of history", precision=0, minimum=120)
                seed = gr.Number(7, label="Seed", precision=0)
            then_jobs = gr.Checkbox(True, label="Then re-run forecasts and the alert scan")
            confirm = gr.Checkbox(False, label="I understand this replaces the current data")
            regenerate = gr.Button("Regenerate sample data", variant="stop", elem_id="regenerate")
            gr.Markdown("### Batch jobs")
            with gr.Row():
                forecasts = gr.Button("Re-run forecasts", elem_id="run-forecasts")
                scan = gr.Button("Scan for alerts", elem_id="scan-alerts")
                reindex = gr.Button("Re-index SOPs", elem_id="reindex")
            job_status = gr.Markdown(elem_id="job-status")

    def do_import(paths: list[str] | None, update_mode: bool, progress=gr.Progress()):
        if not paths:
            return "_Choose one or more files first._", gr.skip(), gr.update(visible=False)
        status, found = import_uploads(
            workspace,
            [Path(p) for p in paths],
            say=lambda step: progress(None, desc=step),
            update=bool(update_mode),
        )
        return status, found, gr.update(visible=found.empty)

    def do_rerun(progress=gr.Progress(track_tqdm=True)):
        lines = []
        for tool, title in JOB_TITLES.items():
            progress(None, desc=title)
            lines.append(run_batch(workspace, tool))
        return "\n\n".join(lines), gr.update(visible=False)

    def show_columns(table: str):
        return columns_frame(table), template_file(table)

    def do_regenerate(
        n_skus,
        n_days,
        n_seed,
        run_jobs: bool,
        confirmed: bool,
        progress=gr.Progress(track_tqdm=True),
    ):
        if not confirmed:
            return "_Tick the box to confirm that the current data will be replaced._"
        try:
            lines = [
                regenerate_sample(
                    workspace,
                    int(n_skus),
                    int(n_days),
                    int(n_seed),
                    say=lambda message: progress(None, desc=message),
                )
            ]
        except ValueError as error:  # the simulator names the argument it refuses
            return f"**Cannot generate:** {error}"
        if run_jobs:
            for tool, title in JOB_TITLES.items():
                progress(None, desc=title)
                lines.append(run_batch(workspace, tool))
        return "\n\n".join(lines)

    def do_batch(tool: str, progress=gr.Progress(track_tqdm=True)):
        progress(None, desc=JOB_TITLES[tool])  # the forecast's own tqdm bar takes over from here
        return run_batch(workspace, tool)

    def do_reindex(progress=gr.Progress(track_tqdm=True)):
        progress(None, desc="indexing SOPs")
        return reindex_sops(workspace)

    show = partial(overview, workspace)
    refresh.click(show, None, summary)
    import_button.click(do_import, [files, update], [import_status, problems, rerun]).then(
        show, None, summary
    )
    rerun.click(do_rerun, None, [import_status, rerun]).then(show, None, summary)
    table_pick.change(show_columns, table_pick, [columns, template])
    app.load(show_columns, table_pick, [columns, template])
    regenerate.click(do_regenerate, [skus, days, seed, then_jobs, confirm], job_status).then(
        show, None, summary
    )
    forecasts.click(partial(do_batch, "run_forecasts"), None, job_status).then(show, None, summary)
    scan.click(partial(do_batch, "scan_anomalies"), None, job_status).then(show, None, summary)
    reindex.click(do_reindex, None, job_status)
    app.load(show, None, summary)
