"""Answer-turn examples from real tool runs on simulated data.

The tools run on a small simulated workspace (one seed for train, another for test), so the
model learns to quote what a tool returned, with real renderings, not invented ones. Also
builds the two-step alert explanation (explain_alert, then the SOP for that alert kind).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from assistant.memory import CURRENT_TOOL_CHARS
from assistant.protocol import Call, Turn, truncate_tool_text
from finetune.entities import EntityPool, entity_pools
from finetune.examples import Example, answer_from_output, render_template
from finetune.templates import TEMPLATES, split_of
from tools.registry import ToolContext, ToolRun, call_tool, load_tools


@dataclass
class Workspace:
    folder: Path
    ctx: ToolContext


def build_workspace(folder: Path, seed: int, skus: int = 120, days: int = 400) -> Workspace:
    """Simulate data, run the batch jobs (forecasts, alerts) and index the SOPs, once."""
    from knowledge.retrieve import open_retriever
    from tools.store import Store
    from tools.store.simulate import generate

    folder.mkdir(parents=True, exist_ok=True)
    db = folder / "stockpilot.duckdb"
    if not db.exists():
        generate(db, folder / "truth.duckdb", skus=skus, days=days, seed=seed)
        store = Store(db)
        ctx = ToolContext(store)
        for job in ("run_forecasts", "scan_anomalies"):
            run = call_tool(ctx, job, {})
            if not run.ok:
                raise RuntimeError(f"{job}: {run.error}")
        store.close()
    retriever = open_retriever(path=folder / "chroma")
    retriever.index(Path(__file__).resolve().parents[1] / "knowledge" / "sops")
    return Workspace(folder, ToolContext(Store(db, read_only=True), sops=retriever))


def workspace_pool(ctx: ToolContext, fallback: EntityPool) -> EntityPool:
    """Entities that exist in the workspace, so the tools return data, not errors."""
    store = ctx.store
    locations = store.locations()
    pos = store.query(
        "SELECT po_number FROM purchase_orders WHERE status IN ('open', 'partial')"
    ).po_number
    alerts = store.query("SELECT alert_id FROM alerts").alert_id
    return EntityPool(
        skus=list(store.query("SELECT DISTINCT sku FROM inventory").sku),
        cities=list(locations.city) + list(locations.location_id),
        categories=store.categories(),
        suppliers=list(store.suppliers().name),
        pos=[int(p.split("-")[1]) for p in pos] or fallback.pos,
        alerts=[int(a.split("-")[1]) for a in alerts] or fallback.alerts,
        topics=fallback.topics,
        dates=[str(store.today() + timedelta(days=d)) for d in range(3)],  # days with deliveries
    )


def _run_turns(user: str, run: ToolRun) -> list[Turn]:
    return [
        Turn("user", user),
        Turn("assistant", calls=[Call(run.name, run.arguments)]),
        Turn("tool", run.render(), tool_name=run.name),
    ]


def visible(output: str) -> str:
    """What the model sees of a current tool result (memory truncates it): answers quote only this."""
    return truncate_tool_text(output, CURRENT_TOOL_CHARS)


def sop_query(run: ToolRun) -> str:
    """What the agent searches after explaining an alert: the procedure for its kind."""
    if getattr(run.result, "sop_query", None):  # the explanation names the procedure to look up
        return run.result.sop_query
    kind = getattr(run.result, "kind", None) or "alert"
    return f"{str(kind).replace('_', ' ')} alert procedure"


def answer_examples(
    ws: Workspace, split: str, per_tool: int, seed: int = 0, error_share: float = 0.12
) -> tuple[list[Example], dict[str, list[str]]]:
    """(examples, tool outputs by tool) for one split."""
    rng = random.Random(f"answers-{seed}-{split}")
    random_pool = entity_pools(seed)[split]
    pool = workspace_pool(ws.ctx, random_pool)
    specs = load_tools()
    examples: list[Example] = []
    outputs: dict[str, list[str]] = {}
    for tool, templates in TEMPLATES.items():
        if not specs[tool].agent:
            continue
        usable = [(i, t, f) for i, (t, f) in enumerate(templates) if split_of(i) == split]
        made: list[Example] = []
        for _ in range(per_tool * 3):
            if len(made) >= per_tool:
                break
            index, text, fixed = rng.choice(usable)
            source = random_pool if rng.random() < error_share else pool
            user, arguments, surfaces = render_template(text, fixed, source, rng, typos=False)
            run = call_tool(ws.ctx, tool, arguments)
            output = run.render()
            outputs.setdefault(tool, []).append(output)
            context = _run_turns(user, run)
            if tool == "explain_alert" and run.ok:
                # Two steps: look up the SOP for this alert kind, then answer from both results.
                query = sop_query(run)
                examples.append(
                    Example(
                        context,
                        Turn("assistant", calls=[Call("search_sops", {"query": query})]),
                        "chain",
                        f"{tool}/{index}",
                        split,
                        surfaces,
                    )
                )
                sop = call_tool(ws.ctx, "search_sops", {"query": query})
                context = context + [
                    Turn("assistant", calls=[Call("search_sops", {"query": query})]),
                    Turn("tool", sop.render(), tool_name="search_sops"),
                ]
                answer = (
                    answer_from_output(visible(output), 3)
                    + "\n"
                    + answer_from_output(visible(sop.render()), 2)
                )
            else:
                answer = answer_from_output(visible(output))
            made.append(
                Example(
                    context, Turn("assistant", answer), "answer", f"{tool}/{index}", split, surfaces
                )
            )
        examples += made
    return examples, outputs
