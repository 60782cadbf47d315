"""The History tab in headless Chromium (rules model): a question asked in the chat is listed,
opens with its tool call, arguments and timing, and downloads as JSON."""

from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.browser

ANSWER_TIMEOUT = 60_000  # ms: the machine is shared
QUESTION = "Which SKUs will stock out in the next 10 days?"


@pytest.fixture(scope="module")
def app_url(ui_data):
    """The app exactly as `stockpilot serve` runs it (rules model): its assistant is built by
    build_assistant, which attaches the tracer from settings."""
    import harness

    server = harness.AppServer(ui_data, model_source="rules").start()
    yield server.url
    server.stop()


@pytest.fixture
def page(chromium, app_url):
    import harness

    context, page = harness.open_page(chromium, app_url)
    yield page
    context.close()


def test_history_lists_and_opens_a_past_turn(page, screenshot):
    from playwright.sync_api import expect

    page.get_by_role("tab", name="Chat").click()
    box = page.locator("#question textarea")
    expect(box).to_be_enabled(timeout=ANSWER_TIMEOUT)
    box.fill(QUESTION)
    box.press("Enter")
    # the evidence panel names the answer once it is final, and the turn is stored by then
    expect(page.locator("#evidence-title")).to_contain_text("Answer 1", timeout=ANSWER_TIMEOUT)
    expect(box).to_be_enabled(timeout=ANSWER_TIMEOUT)

    page.get_by_role("tab", name="History").click()
    page.locator("#history-refresh").click()
    table = page.locator("#history-table")
    expect(table).to_contain_text(QUESTION, timeout=ANSWER_TIMEOUT)
    expect(table).to_contain_text("Unverified")  # human headers, not snake_case names
    assert "failed_tools" not in table.inner_text()
    table.get_by_text(QUESTION).filter(visible=True).first.click()

    detail = page.locator("#history-detail")
    expect(detail).to_contain_text("Question:", timeout=ANSWER_TIMEOUT)
    expect(detail).to_contain_text(QUESTION)
    steps = page.locator("#history-steps")
    expect(steps).to_contain_text("execute_tool stockout_risk")
    expect(steps).to_contain_text('"horizon_days": 10')
    expect(steps).to_contain_text("chat ")

    with page.expect_download() as download:
        page.locator("#history-download").click()
    path = download.value.path()
    trace = json.loads(path.read_text(encoding="utf-8"))
    assert trace["question"] == QUESTION
    tools = [s for s in trace["spans"] if s["name"] == "execute_tool stockout_risk"]
    assert tools and json.loads(tools[0]["attributes"]["gen_ai.tool.call.arguments"]) == {
        "horizon_days": 10
    }
    screenshot(page, "history")
