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


def build_dataset(data_dir: Path, skus: int, days: int, seed: int) -> None:
    """Sample data, batch forecast, alert scan and SOP index, as the CLI would make them."""
    from assistant.context import open_context
    from assistant.settings import load_settings
    from knowledge.retrieve import SHIPPED_SOPS, open_retriever
    from tools.registry import call_tool
    from tools.store.simulate import generate

    settings = load_settings(data_dir=data_dir)
    generate(settings.database, settings.truth_database, skus=skus, days=days, seed=seed)
    ctx = open_context(settings, read_only=False, with_sops=False)
    for job in ("run_forecasts", "scan_anomalies"):
        try:
            run = call_tool(ctx, job, {})
            print(job, "ok" if run.ok else run.error, flush=True)
        except NotImplementedError:
            print(job, "not implemented yet", flush=True)
    ctx.store.close()
    open_retriever(path=settings.vector_store).index(settings.sop_dir or SHIPPED_SOPS)


def prepare_dataset(data_dir: Path, **overrides) -> Path:
    """Build the dataset into ``data_dir`` in a subprocess; returns the folder."""
    params = {**DATASET, **overrides}
    data_dir.mkdir(parents=True, exist_ok=True)
    code = (
        f"import sys; sys.path.insert(0, {str(Path(__file__).parent)!r}); import harness; "
        f"harness.build_dataset(__import__('pathlib').Path({str(data_dir)!r}), "
        f"{params['skus']}, {params['days']}, {params['seed']})"
    )
    subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, env=settings_env(data_dir), check=True, timeout=600
    )
    return data_dir


# What the dataset is made from: a change to any of these invalidates the cached copy.
DATASET_SOURCES = (
    "tools/store/simulate.py",
    "tools/store/schema.sql",
    "tools/forecasting.py",
    "tools/anomalies.py",
    "knowledge",
    "pyproject.toml",
)


def dataset_key(params: dict) -> str:
    digest = hashlib.sha256(repr(sorted(params.items())).encode())
    for name in DATASET_SOURCES:
        path = REPO / name
        for file in sorted(path.rglob("*") if path.is_dir() else [path]):
            if file.is_file() and "__pycache__" not in file.parts:
                digest.update(file.relative_to(REPO).as_posix().encode())
                digest.update(file.read_bytes())
    return digest.hexdigest()[:16]


def cached_dataset(target: Path, **overrides) -> Path:
    """A private copy of the test dataset, built once per source version under .cache/ (indexing
    the SOPs alone takes most of a minute on a loaded 2-core machine)."""
    params = {**DATASET, **overrides}
    cache = REPO / ".cache" / "ui-browser" / dataset_key(params)
    if not (cache / "stockpilot.duckdb").exists():
        building = cache.with_name(cache.name + f".tmp{os.getpid()}")
        shutil.rmtree(building, ignore_errors=True)
        prepare_dataset(building, **params)
        shutil.rmtree(cache, ignore_errors=True)
        building.rename(cache)
    shutil.copytree(cache, target)
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
    ):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        self.env = settings_env(data_dir, model_source, adapter, self.port)
        self.log_path = log_path or data_dir / f"ui-{self.port}.log"
        self.process: subprocess.Popen | None = None

    def start(self, timeout: float = 180) -> AppServer:
        log = open(self.log_path, "w")  # noqa: SIM115 - closed with the process
        self.process = subprocess.Popen(
            [sys.executable, "-m", "ui.app"],
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
