"""Fixtures for the browser tests: a generated dataset, the app in a subprocess (rules model),
and headless Debian Chromium driven by Playwright. Skipped cleanly where either is missing."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
import harness  # noqa: E402

SCREENSHOTS = harness.REPO / "docs" / "screenshots"


@pytest.fixture(scope="session")
def browser_ready() -> None:
    reason = harness.browser_unavailable()
    if reason:
        pytest.skip(reason)


@pytest.fixture(scope="session")
def ui_data(browser_ready, tmp_path_factory) -> Path:
    return harness.cached_dataset(tmp_path_factory.mktemp("ui") / "data")


@pytest.fixture(scope="session")
def rules_app(ui_data):
    server = harness.AppServer(ui_data, model_source="rules", command=harness.FAKE_APP).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def chromium(browser_ready):
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=20_000)  # the default 5 s is short on a loaded 2-core machine
    with sync_playwright() as playwright:
        browser = harness.launch_browser(playwright)
        yield browser
        browser.close()


@pytest.fixture
def page(chromium, rules_app):
    context, page = harness.open_page(chromium, rules_app.url)
    yield page
    context.close()


@pytest.fixture
def screenshot():
    """Save a full-page screenshot of a tab under docs/screenshots/."""

    def take(page, name: str) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        page.wait_for_timeout(300)  # let the last render settle
        page.screenshot(path=str(path), full_page=True)
        return path

    return take
