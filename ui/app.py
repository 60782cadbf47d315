"""The Gradio front end: layout of the tabs and the server launch (`stockpilot serve`).

Each tab lives in its own module; all of them go through one ``Workspace`` (the assistant and
the store, with the lock that lets the Data tab write).
"""

from __future__ import annotations

from knowledge.offline import enforce_offline

enforce_offline()  # before gradio is imported: no analytics, no version check

import contextlib  # noqa: E402
import os  # noqa: E402
from pathlib import Path  # noqa: E402

from assistant import limits  # noqa: E402
from assistant.settings import Settings, load_settings  # noqa: E402


def use_workspace_temp_dir(data_dir: Path, create: bool = False) -> Path:
    """Gradio's upload and cache folders under the workspace, not the machine-wide
    /tmp/gradio that serves other Gradio apps' files too. Set before gradio is imported
    (some of its modules read it at import) and again at launch."""
    folder = Path(data_dir).resolve() / "gradio-tmp"
    if create:
        folder.mkdir(parents=True, exist_ok=True)
    os.environ["GRADIO_TEMP_DIR"] = str(folder)
    os.environ["GRADIO_EXAMPLES_CACHE"] = str(folder / "examples")
    return folder


with contextlib.suppress(Exception):  # a broken config is reported by whoever loads it next
    use_workspace_temp_dir(load_settings().data_dir)

import gradio as gr  # noqa: E402

from ui.alerts import build_alerts_tab  # noqa: E402
from ui.charts_tab import build_charts_tab  # noqa: E402
from ui.chat_tab import build_chat_tab  # noqa: E402
from ui.data_tab import build_data_tab  # noqa: E402
from ui.history import build_history_tab  # noqa: E402
from ui.home import build_home_tab  # noqa: E402
from ui.home import warm as warm_briefing  # noqa: E402
from ui.navigate import Screens, wire_links  # noqa: E402
from ui.suppliers import build_suppliers_tab  # noqa: E402
from ui.workspace import Workspace  # noqa: E402

MODEL_CONCURRENCY = 2  # events at once; the CPU model gains nothing from more


HEADER = "## Stockpilot"  # for planners: no model, adapter or file paths up here


class AfterBriefing:
    """Stands in for the Blocks in the tab builders: their page-load events are queued behind
    the briefing's, so on a busy machine the first screen does not wait for tabs not open yet."""

    def __init__(self, app: gr.Blocks):
        self.app = app
        self.loads: list[tuple] = []

    def load(self, fn=None, inputs=None, outputs=None, **kwargs) -> None:
        self.loads.append((fn, inputs, outputs, kwargs))

    def chain(self, first) -> None:
        """Run the recorded loads one after another once ``first`` (the briefing) is done."""
        event = first
        for fn, inputs, outputs, kwargs in self.loads:
            event = event.then(fn, inputs, outputs, **kwargs)


def build_app(settings: Settings, assistant=None) -> gr.Blocks:
    """The whole app. ``assistant`` (an ``Assistant``) is built from settings on first use when
    not given; tests pass one with a scripted model."""
    workspace = Workspace(settings, assistant)
    with gr.Blocks(title="Stockpilot", analytics_enabled=False) as app:
        gr.Markdown(HEADER, elem_id="header")
        later = AfterBriefing(app)
        with gr.Tabs(selected="home", elem_id="tabs") as tabs:
            with gr.Tab("Home", id="home"):
                home_table, briefing_shown = build_home_tab(app, workspace)
            with gr.Tab("Chat", id="chat"):
                chat = build_chat_tab(workspace)
            with gr.Tab("Charts", id="charts") as charts_tab:
                charts = build_charts_tab(later, workspace)
            with gr.Tab("Alerts", id="alerts"):
                alerts = build_alerts_tab(later, workspace)
            with gr.Tab("Supplier desk", id="suppliers"):
                suppliers = build_suppliers_tab(later, workspace)
            with gr.Tab("Data", id="data"):
                build_data_tab(later, workspace)
            build_history_tab(app, workspace)
        # the charts are drawn when their tab is opened, not on page load (the briefing first)
        charts_tab.select(charts.draw, charts.inputs, charts.outputs)
        screens = Screens(tabs, chat, charts, alerts, suppliers)
        wire_links(app, workspace, screens, [home_table, chat.table, suppliers.late])
        later.chain(briefing_shown)
    app.workspace = workspace  # for tests and the launcher
    return app


def parse_auth(text: str | None) -> tuple[str, str] | None:
    """'user:password' -> ('user', 'password'); the password may itself contain ':'."""
    if not text:
        return None
    user, sep, password = text.partition(":")
    if not sep or not user or not password:
        raise ValueError("ui_auth: expected 'user:password'")
    return user, password


def launch(settings: Settings) -> None:
    """Serve the app on settings.ui_host:ui_port (blocking)."""
    enforce_offline()
    use_workspace_temp_dir(settings.data_dir, create=True)
    app = build_app(settings)
    if settings.database.exists():
        _ = app.workspace.assistant  # load the model before the first visitor waits for it
        warm_briefing(app.workspace)  # the first screen shows at once, not after the tools run
    app.queue(default_concurrency_limit=MODEL_CONCURRENCY)
    app.launch(
        server_name=settings.ui_host,
        server_port=settings.ui_port,
        auth=limits.LoginThrottle(*login) if (login := parse_auth(settings.ui_auth)) else None,
        show_error=True,
        footer_links=["settings"],
        run_history=False,
        mcp_server=False,
        ssr_mode=False,
    )


if __name__ == "__main__":
    launch(load_settings())
