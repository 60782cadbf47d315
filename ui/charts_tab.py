"""The Charts tab: a SKU's forecast and projected stock, and the delivery routes, drawn from the
same tools the assistant calls (``forecast_demand``, ``stock_projection``, ``plan_routes``).

Both SKU charts are redrawn whenever the SKU, location or horizon changes, so a chart never
shows an earlier selection; each chart's status line sits under it, next to what caused it.
"""

from __future__ import annotations

from dataclasses import dataclass

import gradio as gr

from tools.registry import ToolRun
from ui.charts import chart_for_run
from ui.chat import safe_table
from ui.links import escape_markdown
from ui.tables import present
from ui.workspace import NoDataError, Workspace

ALL = "all locations"


@dataclass
class ChartsHandles:
    sku: gr.Dropdown
    outputs: list  # what open_sku returns: sku, forecast plot and note, projection plot and note
    inputs: list  # sku, location, horizon
    draw: object  # (sku, location, horizon) -> outputs; run when the tab is opened


def build_charts_tab(app: gr.Blocks, workspace: Workspace) -> ChartsHandles:
    """Components and events of the Charts tab (call inside a ``gr.Tab``)."""
    with gr.Row():
        sku = gr.Dropdown(label="SKU", choices=[], filterable=True, elem_id="chart-sku")
        location = gr.Dropdown(label="Location", choices=[ALL], value=ALL, elem_id="chart-location")
        horizon = gr.Slider(7, 84, value=28, step=7, label="Horizon (days)", elem_id="horizon")
    with gr.Row(equal_height=False):
        with gr.Column():
            forecast_plot = gr.Plot(label="Demand forecast", elem_id="forecast-plot")
            forecast_note = gr.Markdown(elem_id="forecast-note")
        with gr.Column():
            projection_plot = gr.Plot(label="Projected stock", elem_id="projection-plot")
            projection_note = gr.Markdown(elem_id="projection-note")
    gr.Markdown("### Delivery routes")
    with gr.Row():
        depot = gr.Dropdown(label="Warehouse", choices=[], elem_id="route-location")
        day = gr.Textbox(label="Date", value="today", placeholder="YYYY-MM-DD, today or tomorrow")
        plan = gr.Button("Plan routes", elem_id="plan-routes")
    route_note = gr.Markdown(elem_id="route-note")
    with gr.Row(equal_height=False):
        route_plot = gr.Plot(label="Routes", elem_id="route-plot")
        route_table = gr.Dataframe(
            label="Stops", interactive=False, max_height=560, visible=False, elem_id="route-stops"
        )

    def load_choices():
        try:
            with workspace.reading() as ctx:
                skus = ctx.store.products()
                locations = ctx.store.locations()
        except NoDataError as error:
            return gr.update(), gr.update(), gr.update(), str(error)
        sku_choices = [(f"{r.sku} {r.name}", r.sku) for r in skus.itertuples()]
        loc_choices = [
            (f"{r.name} ({r.location_id})", r.location_id) for r in locations.itertuples()
        ]
        return (
            gr.update(choices=sku_choices, value=sku_choices[0][1] if sku_choices else None),
            gr.update(choices=[(ALL, ALL), *loc_choices], value=ALL),
            gr.update(choices=loc_choices, value=loc_choices[0][1] if loc_choices else None),
            "",
        )

    def draw_both(sku_value: str | None, location_value: str | None, days: float):
        return sku_charts(workspace, sku_value, location_value, days)

    def draw_on_open(sku_value: str | None, location_value: str | None, days: float):
        """The tab opened: draw the selection, or the first SKU when the page has not filled
        the picker yet."""
        if not sku_value:
            try:
                with workspace.reading() as ctx:
                    products = ctx.store.products()
            except NoDataError as error:
                return [gr.skip(), None, str(error), None, ""]
            sku_value = products["sku"].iloc[0] if len(products) else None
        return [gr.update(value=sku_value), *draw_both(sku_value, location_value, days)]

    def routes(location_value: str | None, day_value: str):
        arguments = {"location": location_value, "date": (day_value or "today").strip()}
        run, figure, note = run_chart(workspace, "plan_routes", arguments)
        table = safe_table(run.result) if run is not None and run.ok else None
        shown = gr.update(value=present(table), visible=True) if table is not None else gr.skip()
        return figure, shown, note

    inputs = [sku, location, horizon]
    charts = [forecast_plot, forecast_note, projection_plot, projection_note]
    for control in (sku, location):  # .input: user choices only, not values set by a link
        control.input(draw_both, inputs, charts)
    horizon.change(draw_both, inputs, charts, trigger_mode="always_last")
    plan.click(routes, [depot, day], [route_plot, route_table, route_note])
    app.load(load_choices, None, [sku, location, depot, forecast_note])
    return ChartsHandles(sku, [sku, *charts], inputs, draw_on_open)


def sku_charts(workspace: Workspace, sku_value, location_value, days) -> list:
    """[forecast figure, its note, projection figure, its note] for the selected inputs."""
    if not sku_value:
        return [None, "_Pick a SKU first._", None, ""]
    arguments = {"sku": sku_value, "horizon_days": int(days or 28)}
    if location_value and location_value != ALL:
        arguments["location"] = location_value
    out = []
    for tool in ("forecast_demand", "stock_projection"):
        _run, figure, note = run_chart(workspace, tool, arguments)
        out += [figure, note]
    return out


def open_sku(workspace: Workspace, sku_value: str) -> list:
    """What a SKU link shows: that SKU selected, its forecast and projection drawn (all
    locations, four weeks)."""
    return [gr.update(value=sku_value), *sku_charts(workspace, sku_value, ALL, 28)]


def run_chart(
    workspace: Workspace, tool: str, arguments: dict
) -> tuple[ToolRun | None, object, str]:
    """(the tool run, its chart, a status line) for one tool call."""
    try:
        run = workspace.call(tool, arguments)
    except NoDataError as error:
        return None, None, str(error)
    if not run.ok:
        return run, None, f"**Could not draw:** {escape_markdown(run.error)}"
    with workspace.reading() as ctx:
        figure = chart_for_run(run, ctx.store)
    summary = run.result.summary() if hasattr(run.result, "summary") else None
    line = summary or run.render().splitlines()[0][:400]
    return run, figure, f"{escape_markdown(line)} _({run.seconds:.1f} s)_"
