"""The Charts tab: a SKU's forecast and projected stock, and a delivery route map, drawn from the
same tools the assistant calls (``forecast_demand``, ``stock_projection``, ``plan_routes``)."""

from __future__ import annotations

from functools import partial

import gradio as gr
from matplotlib.figure import Figure

from tools.registry import ToolRun
from ui.charts import chart_for_run
from ui.chat import safe_table
from ui.workspace import NoDataError, Workspace

ALL = "all locations"
ROUTE_COLUMNS = ["vehicle", "seq", "order_id", "customer_id", "arrival", "window", "weight_kg"]


def build_charts_tab(app: gr.Blocks, workspace: Workspace) -> None:
    """Components and events of the Charts tab (call inside a ``gr.Tab``)."""
    with gr.Row():
        sku = gr.Dropdown(label="SKU", choices=[], filterable=True, elem_id="chart-sku")
        location = gr.Dropdown(label="Location", choices=[ALL], value=ALL, elem_id="chart-location")
        horizon = gr.Slider(7, 84, value=28, step=7, label="Horizon (days)")
    with gr.Row():
        show_forecast = gr.Button("Forecast", variant="primary", elem_id="show-forecast")
        show_projection = gr.Button("Stock projection", elem_id="show-projection")
    status = gr.Markdown()
    with gr.Row():
        forecast_plot = gr.Plot(label="Demand forecast", elem_id="forecast-plot")
        projection_plot = gr.Plot(label="Projected stock", elem_id="projection-plot")
    gr.Markdown("### Delivery routes")
    with gr.Row():
        depot = gr.Dropdown(label="Warehouse", choices=[], elem_id="route-location")
        day = gr.Textbox(label="Date", value="today", placeholder="YYYY-MM-DD, today or tomorrow")
        plan = gr.Button("Plan routes", elem_id="plan-routes")
    with gr.Row(equal_height=False):
        route_plot = gr.Plot(label="Route map", elem_id="route-plot")
        route_table = gr.Dataframe(
            label="Stops", interactive=False, max_height=480, headers=ROUTE_COLUMNS
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

    def draw(tool: str, sku_value: str | None, location_value: str | None, days: float):
        if not sku_value:
            return None, "_Pick a SKU first._"
        arguments = {"sku": sku_value, "horizon_days": int(days)}
        if location_value and location_value != ALL:
            arguments["location"] = location_value
        _run, figure, note = run_chart(workspace, tool, arguments)
        return figure, note

    def routes(location_value: str | None, day_value: str):
        arguments = {"location": location_value, "date": (day_value or "today").strip()}
        run, figure, note = run_chart(workspace, "plan_routes", arguments)
        return figure, safe_table(run.result) if run is not None and run.ok else None, note

    inputs = [sku, location, horizon]
    show_forecast.click(partial(draw, "forecast_demand"), inputs, [forecast_plot, status])
    show_projection.click(partial(draw, "stock_projection"), inputs, [projection_plot, status])
    plan.click(routes, [depot, day], [route_plot, route_table, status])
    app.load(load_choices, None, [sku, location, depot, status])


def run_chart(
    workspace: Workspace, tool: str, arguments: dict
) -> tuple[ToolRun | None, Figure | None, str]:
    """(the tool run, its chart, a status line) for one tool call."""
    try:
        run = workspace.call(tool, arguments)
    except NoDataError as error:
        return None, None, str(error)
    if not run.ok:
        return run, None, f"**{tool} failed:** {run.error}"
    with workspace.reading() as ctx:
        figure = chart_for_run(run, ctx.store)
    return run, figure, f"{run.render().splitlines()[0][:400]} ({run.seconds:.1f} s)"
