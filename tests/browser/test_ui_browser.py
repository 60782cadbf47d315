"""The app in headless Chromium with the rules model: chat with a visible tool step, charts,
alerts inbox with Explain, supplier desk draft, invalid upload. Each test saves a screenshot of
its tab under docs/screenshots/."""

from __future__ import annotations

import re

import pytest

pytestmark = pytest.mark.browser

ANSWER_TIMEOUT = 60_000  # ms; the rules model answers in about a second, the machine is shared


def open_tab(page, name: str) -> None:
    page.get_by_role("tab", name=name).click()


def test_chat_answers_with_a_visible_tool_step_and_a_downloadable_table(page, screenshot):
    from playwright.sync_api import expect

    page.locator("#question textarea").fill("Which SKUs will stock out next week?")
    page.locator("#question textarea").press("Enter")
    chat = page.locator("#chatbot")
    expect(chat).to_contain_text("Tool: stockout_risk(horizon_days=7)", timeout=ANSWER_TIMEOUT)
    expect(chat.locator('[data-testid="bot"]').last).to_contain_text(
        "Stock-out risk", timeout=ANSWER_TIMEOUT
    )
    expect(page.get_by_text("Result table: stockout_risk")).to_be_visible()
    expect(page.locator("#result-table")).to_contain_text("SKU-")
    with page.expect_download() as download:
        page.locator("#download-csv").click()
    assert download.value.suggested_filename.startswith("stockout_risk-")
    assert download.value.suggested_filename.endswith(".csv")
    # open the step to show its table; it may already be open when the browser rendered it
    # while still pending (pending steps start open, finished ones closed)
    step_table = chat.locator("table").first
    page.wait_for_timeout(1000)
    if not step_table.is_visible():
        chat.get_by_text("Tool: stockout_risk(horizon_days=7)").click()
    expect(step_table).to_be_visible()
    page.wait_for_timeout(800)  # the accordion slides open
    expect(chat).to_contain_text("Evidence: from")
    screenshot(page, "chat")


def test_chat_shows_a_forecast_chart_for_a_forecast_question(page):
    from playwright.sync_api import expect

    page.locator("#question textarea").fill("Forecast demand for SKU-00001 over the next 14 days")
    page.locator("#question textarea").press("Enter")
    expect(page.locator("#chatbot")).to_contain_text(
        "Tool: forecast_demand(", timeout=ANSWER_TIMEOUT
    )
    expect(page.locator("#answer-chart img")).to_be_visible(timeout=ANSWER_TIMEOUT)


def test_charts_tab_draws_forecast_projection_and_route_map(page, screenshot):
    from playwright.sync_api import expect

    open_tab(page, "Charts")
    expect(page.locator("#chart-sku input")).to_have_value(re.compile("SKU-"))
    page.locator("#show-forecast").click()
    expect(page.locator("#forecast-plot img")).to_be_visible(timeout=ANSWER_TIMEOUT)
    page.locator("#show-projection").click()
    expect(page.locator("#projection-plot img")).to_be_visible(timeout=ANSWER_TIMEOUT)
    page.locator("#plan-routes").click()
    expect(page.locator("#route-plot img")).to_be_visible(timeout=ANSWER_TIMEOUT)
    screenshot(page, "charts")


def test_alerts_inbox_lists_alerts_and_explains_one(page, screenshot):
    from playwright.sync_api import expect

    open_tab(page, "Alerts")
    table = page.locator("#alerts-table")
    expect(table).to_contain_text("A-", timeout=ANSWER_TIMEOUT)
    first_id = table.get_by_text(re.compile(r"^A-\d+$")).filter(visible=True).first
    alert_id = first_id.inner_text().strip()
    first_id.click()
    expect(page.locator("#alert-header")).to_contain_text(alert_id)
    page.locator("#explain").click()
    explanation = page.locator("#alert-explanation")
    expect(explanation).to_contain_text("explain_alert", timeout=ANSWER_TIMEOUT)
    expect(explanation).to_contain_text(alert_id)
    screenshot(page, "alerts")


def test_supplier_desk_drafts_an_email_naming_the_late_po(page, screenshot):
    from playwright.sync_api import expect

    open_tab(page, "Supplier desk")
    picker = page.locator("#late-po input")
    expect(picker).to_have_value(re.compile(r"PO-\d+"), timeout=ANSWER_TIMEOUT)
    po_number = re.search(r"PO-\d+", picker.input_value()).group(0)
    page.locator("#draft-po").click()
    draft = page.locator("#email-draft textarea")
    expect(draft).to_have_value(re.compile(po_number), timeout=ANSWER_TIMEOUT)
    assert "Subject:" in draft.input_value()
    screenshot(page, "supplier-desk")


def test_invalid_upload_lists_its_errors_and_imports_nothing(page, screenshot, tmp_path):
    from playwright.sync_api import expect

    bad = tmp_path / "products.csv"
    bad.write_text(
        "sku,name,category,unit_cost,price,case_pack,shelf_life_days,supplier_id,launch_date\n"
        "SKU-90001,Test kettle,Kitchen,4.0,-3.5,1,,SUP-001,2026-01-01\n"
        "SKU-90002,,Kitchen,4.0,9.0,1,,SUP-001,2026-01-01\n"
    )
    open_tab(page, "Data")
    overview = page.locator("#data-overview")
    expect(overview).to_contain_text("products 40")
    page.locator("#import-files input[type=file]").set_input_files(str(bad))
    expect(page.locator("#import-files")).to_contain_text("products.csv")
    page.locator("#import").click()
    expect(page.locator("#import-status")).to_contain_text(
        "Nothing imported", timeout=ANSWER_TIMEOUT
    )
    problems = page.locator("#import-problems")
    expect(problems).to_contain_text("products.csv")
    expect(problems).to_contain_text("price")
    expect(overview).to_contain_text("products 40")  # unchanged
    screenshot(page, "data")


def test_a_batch_job_writes_and_the_chat_keeps_answering(page):
    from playwright.sync_api import expect

    open_tab(page, "Data")
    page.locator("#scan-alerts").click()
    expect(page.locator("#job-status")).to_contain_text(
        "scan_anomalies done", timeout=ANSWER_TIMEOUT
    )
    open_tab(page, "Chat")
    page.locator("#question textarea").fill("Show open alerts")
    page.locator("#question textarea").press("Enter")
    expect(page.locator("#chatbot")).to_contain_text("Tool: list_alerts()", timeout=ANSWER_TIMEOUT)
    expect(page.locator("#result-table")).to_contain_text("A-1", timeout=ANSWER_TIMEOUT)


def test_a_starter_question_cites_sop_passages_and_reset_clears_the_chat(page):
    from playwright.sync_api import expect

    page.get_by_role("button", name="What is the procedure for cycle counts?").click()
    chat = page.locator("#chatbot")
    expect(chat).to_contain_text("Tool: search_sops(", timeout=ANSWER_TIMEOUT)
    expect(chat).to_contain_text("Sources: SOP-", timeout=ANSWER_TIMEOUT)
    page.locator("#sources").get_by_text("SOP sources").click()
    first = page.locator("#sources details").first
    expect(first).to_contain_text("SOP-")
    first.locator("summary").click()  # the passage opens on click
    expect(first).to_have_attribute("open", "")
    page.locator("#reset").click()
    expect(chat.locator('[data-testid="user"]')).to_have_count(0)
