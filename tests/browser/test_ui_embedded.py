"""The app with the real embedded model (SmolLM2-135M, the shipped adapter when there is one) on
the default runtime: a question typed in the browser streams an answer back."""

from __future__ import annotations

import harness
import pytest

pytestmark = [pytest.mark.browser, pytest.mark.slow]

FIRST_ANSWER_JS = """() => [...document.querySelectorAll('#chatbot [data-testid="bot"]')]
    .filter(b => !b.closest('.thought')).map(b => b.innerText).join('').trim().length > 0"""


@pytest.fixture(scope="module")
def embedded_app(ui_data):
    from assistant.settings import Settings

    runtime = Settings.model_fields["model_source"].default
    server = harness.AppServer(ui_data, model_source=runtime, adapter="shipped").start(timeout=300)
    yield server
    server.stop()


def test_embedded_model_streams_an_answer_in_the_browser(chromium, embedded_app):
    from playwright.sync_api import expect

    context, page = harness.open_page(chromium, embedded_app.url)
    try:
        page.get_by_role("tab", name="Chat").click()  # Home (the briefing) opens first
        page.locator("#question textarea").fill("Which SKUs will stock out next week?")
        page.locator("#question textarea").press("Enter")
        page.wait_for_function(FIRST_ANSWER_JS, timeout=240_000, polling=100)
        # the side panels change only once the answer is final
        expect(page.get_by_text(harness.TABLE_PLACEHOLDER_TEXT)).to_have_count(0, timeout=240_000)
    finally:
        context.close()
