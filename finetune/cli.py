"""`stockpilot finetune data | train | merge | eval | report`."""

from __future__ import annotations

import json
from pathlib import Path

import typer

app = typer.Typer(no_args_is_help=True, add_completion=False)


@app.command()
def data(
    out: Path = Path("finetune/generated"),
    workspace: Path = Path(".cache/finetune-workspace"),
    answers: bool = typer.Option(
        True, help="add answer turns from real tool runs on simulated data"
    ),
    answers_per_tool: int = 24,
    seed: int = 0,
    reuse_tool_runs: bool = typer.Option(
        False, help="rebuild from the recorded tool runs in OUT/tool-runs.json (reproducible)"
    ),
    refresh_test: bool = typer.Option(
        False, help="regenerate test.jsonl too (it is frozen so that figures stay comparable)"
    ),
) -> None:
    """Generate the train/dev/test splits from the tool registry and the agent protocol."""
    from finetune.data import build_from_tool_runs, save_dataset

    runs_file = out / "tool-runs.json"
    if reuse_tool_runs:
        runs = json.loads(runs_file.read_text())
    else:
        runs = {"answers": {}, "outputs": {}}
        if answers:
            from finetune.answers import answer_examples, build_workspace

            for split, sim_seed, per_tool in (
                ("train", 11, answers_per_tool),
                ("test", 12, max(4, answers_per_tool // 4)),
            ):
                ws = build_workspace(workspace / split, sim_seed)
                examples, split_outputs = answer_examples(ws, split, per_tool, seed)
                runs["answers"][split] = [e.to_json() for e in examples]
                runs["outputs"][split] = split_outputs
    dataset = build_from_tool_runs(runs, seed, None if refresh_test else out)
    out.mkdir(parents=True, exist_ok=True)
    runs_file.write_text(json.dumps(runs, ensure_ascii=False, sort_keys=True) + "\n")
    digest = save_dataset(dataset, out)
    (out / "HASH").write_text(digest + "\n")
    for split, examples in dataset.items():
        kinds: dict[str, int] = {}
        for e in examples:
            kinds[e.kind] = kinds.get(e.kind, 0) + 1
        typer.echo(f"{split}: {len(examples)} examples {kinds}")
    typer.echo(f"hash {digest} -> {out}")


@app.command()
def train(
    config: Path = Path("finetune/configs/lora.toml"),
    steps: int | None = None,
    output: str | None = None,
    resume: bool = False,
) -> None:
    """Train a LoRA or AdaLoRA adapter (config file; CPU by default, GPU when present)."""
    from finetune.train import TrainConfig
    from finetune.train import train as run_training

    cfg = TrainConfig.from_toml(config, steps=steps, output_dir=output)
    folder = run_training(cfg, resume=resume)
    typer.echo(json.dumps(json.loads((folder / "stockpilot.json").read_text()), indent=2))


@app.command()
def merge(
    adapters: list[Path],
    weight: list[float] = typer.Option(..., help="one weight per adapter, in order"),
    out: Path = typer.Option(..., help="folder for the merged adapter"),
) -> None:
    """Write the weighted sum of LoRA adapters of one base as one adapter (exact: ranks stacked)."""
    from finetune.merge import MergeError, merge_adapters

    try:
        folder = merge_adapters(adapters, weight, out)
    except MergeError as error:
        raise typer.BadParameter(str(error)) from None
    typer.echo(f"merged {len(adapters)} adapters -> {folder}")


@app.command("eval")
def evaluate(
    adapter: str = typer.Option("shipped", help="adapter folder, 'shipped', or 'none'"),
    model_source: str = typer.Option(
        "embedded", help="embedded | HF folder | openai | openai-completions | rules"
    ),
    data_dir: Path = Path("finetune/generated"),
    split: str = typer.Option("test", help="test (the 329, frozen) | test-extra | dev"),
    limit: int | None = None,
    name: str | None = None,
    copy_names: bool = typer.Option(
        True, help="in-process model: copy names in tool calls verbatim (copy_constraint)"
    ),
    out: Path | None = typer.Option(
        None, help="report JSON (default: eval-report.json in the adapter folder, whole split)"
    ),
) -> None:
    """Score a backend on the held-out split; a whole-split score of an adapter is stored with it."""
    from assistant.settings import load_settings
    from finetune.data import load_split
    from finetune.evaluate import TABLE_HEADER, save_report
    from finetune.evaluate import evaluate as run_eval

    settings = load_settings(
        model_source=model_source,
        adapter_path=None if adapter == "none" else adapter,
        copy_names=copy_names,
    )
    from assistant.agent import build_backend

    backend = build_backend(settings)
    examples = load_split(data_dir, split)[:limit]
    report = run_eval(backend, examples, name or f"{model_source}+{adapter}")
    typer.echo(TABLE_HEADER + "\n" + report.row())
    typer.echo(json.dumps(report.per_tool_exact))
    typer.echo(json.dumps(report.per_tool_count))
    whole = limit is None and split == "test"
    if out is None and whole and model_source == "embedded" and adapter != "none":
        from assistant.model.loader import resolve_adapter

        folder = resolve_adapter(adapter)
        out = folder / "eval-report.json" if folder else None
    if out:
        save_report(report, out)
        typer.echo(f"report -> {out}")


@app.command()
def report(reports: list[Path]) -> None:
    """Print the comparison table from saved eval reports."""
    from finetune.evaluate import TABLE_HEADER, Report

    typer.echo(TABLE_HEADER)
    for path in reports:
        data = json.loads(path.read_text())
        typer.echo(Report(**data).row())
