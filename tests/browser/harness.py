"""Start the Gradio app in a subprocess on a small generated dataset and drive it with Debian's
Chromium through Playwright. Used by the browser tests and by benchmarks/bench_ui.py.

The app runs in its own process because a client in the same process as a Gradio server hangs;
the dataset is built in a subprocess too, with the same library calls as
`stockpilot data generate`, `forecast run`, `alerts scan` and `knowledge index`.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
import warnings
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]
DATASET = {"skus": 40, "days": 200, "seed": 7}
VIEWPORT = {"width": 1400, "height": 1000}
TABLE_PLACEHOLDER_TEXT = "Each answer's table and chart appear here"  # gone once an answer is final


def browser_unavailable() -> str | None:
    """Why browser tests cannot run here, or None."""
    if not Path(CHROMIUM).exists():
        return f"{CHROMIUM} missing (apt-get install -y chromium chromium-driver)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright for Python is not installed"
    return None


def launch_browser(playwright):
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)


FAKE_APP = [sys.executable, str(Path(__file__).with_name("fake_app.py"))]


def open_page(browser, url: str):
    """(context, page) with the app loaded; close the context when done."""
    context = browser.new_context(viewport=VIEWPORT, accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(30_000)
    page.goto(url, wait_until="load")  # not "networkidle": gradio keeps a stream open
    page.locator("#briefing").wait_for()
    return context, page


def settings_env(
    data_dir: Path, model_source: str = "rules", adapter: str | None = None, port: int | None = None
) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "STOCKPILOT_DATA_DIR": str(data_dir),
            "STOCKPILOT_MODEL_SOURCE": model_source,
            "STOCKPILOT_MODEL_CACHE_DIR": str(REPO / ".cache" / "models"),
            "GRADIO_ANALYTICS_ENABLED": "False",
            "PYTHONUNBUFFERED": "1",
        }
    )
    if adapter is not None:
        env["STOCKPILOT_ADAPTER_PATH"] = adapter
    if port is not None:
        env["STOCKPILOT_UI_PORT"] = str(port)
    return env


def build_dataset(data_dir: Path, skus: int, days: int, seed: int, part: str) -> None:
    """One part of the dataset, as the CLI would make it: "data" (sample data, batch forecast,
    alert scan) or "sops" (the SOP index)."""
    from assistant.context import open_context
    from assistant.settings import load_settings

    settings = load_settings(data_dir=data_dir)
    if part == "sops":
        from knowledge.retrieve import SHIPPED_SOPS, open_retriever

        open_retriever(path=settings.vector_store).index(settings.sop_dir or SHIPPED_SOPS)
        return
    from tools.registry import call_tool
    from tools.store.simulate import generate

    generate(settings.database, settings.truth_database, skus=skus, days=days, seed=seed)
    ctx = open_context(settings, read_only=False, with_sops=False)
    for job in ("run_forecasts", "scan_anomalies"):
        run = call_tool(ctx, job, {})
        print(job, "ok" if run.ok else run.error, flush=True)
    ctx.store.close()


def prepare_dataset(data_dir: Path, part: str, **overrides) -> Path:
    """Build one part of the dataset into ``data_dir`` in a subprocess; returns the folder."""
    params = {**DATASET, **overrides}
    data_dir.mkdir(parents=True, exist_ok=True)
    code = (
        f"import sys; sys.path.insert(0, {str(Path(__file__).parent)!r}); import harness; "
        f"harness.build_dataset(__import__('pathlib').Path({str(data_dir)!r}), "
        f"{params['skus']}, {params['days']}, {params['seed']}, {part!r})"
    )
    subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, env=settings_env(data_dir), check=True, timeout=600
    )
    return data_dir


# What each part is made from: a change to any of these rebuilds that part's cached copy.
PART_SOURCES = {
    "data": (
        "tools/store/simulate",
        "tools/store/schema.sql",
        "tools/forecasting",
        "tools/anomalies.py",
        "pyproject.toml",
    ),
    "sops": ("knowledge", "pyproject.toml"),
}


def part_key(part: str, params: dict) -> str:
    digest = hashlib.sha256(repr(sorted(params.items())).encode())
    for name in PART_SOURCES[part]:
        path = REPO / name
        for file in sorted(path.rglob("*") if path.is_dir() else [path]):
            if file.is_file() and "__pycache__" not in file.parts:
                digest.update(file.relative_to(REPO).as_posix().encode())
                digest.update(file.read_bytes())
    return f"{part}-{digest.hexdigest()[:16]}"


def build_part(cache: Path, part: str, params: dict) -> Path:
    """Build one part into ``cache``. If the sources do not build right now (the tree is shared
    with engineers mid-edit), fall back to the newest earlier build of that part, with a warning:
    the UI tests test the UI; the simulator's own tests catch its breakage."""
    building = cache.with_name(cache.name + f".tmp{os.getpid()}")
    shutil.rmtree(building, ignore_errors=True)
    try:
        prepare_dataset(building, part, **params)
    except subprocess.CalledProcessError as error:
        shutil.rmtree(building, ignore_errors=True)
        earlier = sorted(
            (p for p in cache.parent.glob(f"{part}-*") if ".tmp" not in p.name),
            key=lambda p: p.stat().st_mtime,
        )
        if not earlier:
            raise
        warnings.warn(
            f"building the {part} part failed ({error}); using {earlier[-1].name}", stacklevel=2
        )
        return earlier[-1]
    shutil.rmtree(cache, ignore_errors=True)
    building.rename(cache)
    return cache


def cached_dataset(target: Path, **overrides) -> Path:
    """A private copy of the test dataset. Each part is built once per version of its sources
    under .cache/ui-browser/: indexing the SOPs alone takes most of a minute on a loaded 2-core
    machine, and the data changes more often than the SOPs."""
    params = {**DATASET, **overrides}
    for part in PART_SOURCES:
        cache = REPO / ".cache" / "ui-browser" / part_key(part, params if part == "data" else {})
        if not cache.exists():
            cache = build_part(cache, part, params)
        shutil.copytree(cache, target, dirs_exist_ok=True)
    return target


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class AppServer:
    """`python -m ui.app` in a subprocess; ``url`` once ``start`` returns."""

    def __init__(
        self,
        data_dir: Path,
        model_source: str = "rules",
        adapter: str | None = None,
        log_path: Path | None = None,
        command: list[str] | None = None,
    ):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        self.env = settings_env(data_dir, model_source, adapter, self.port)
        self.log_path = log_path or data_dir / f"ui-{self.port}.log"
        self.process: subprocess.Popen | None = None
        self.command = command or [sys.executable, "-m", "ui.app"]

    def start(self, timeout: float = 180) -> AppServer:
        log = open(self.log_path, "w")  # noqa: SIM115 - closed with the process
        self.process = subprocess.Popen(
            self.command,
            cwd=REPO,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"app exited with {self.process.returncode}:\n{self.log_tail()}")
            try:
                with urllib.request.urlopen(self.url, timeout=2) as response:
                    if response.status == 200:
                        return self
            except OSError:
                time.sleep(0.5)
        self.stop()
        raise TimeoutError(
            f"app did not answer on {self.url} in {timeout:.0f} s:\n{self.log_tail()}"
        )

    def log_tail(self, chars: int = 4000) -> str:
        return self.log_path.read_text(errors="replace")[-chars:] if self.log_path.exists() else ""

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
