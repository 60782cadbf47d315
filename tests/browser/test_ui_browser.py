"""The app in headless Chromium with the fake assistant (keyword rules on the test data, and a
slow streamed answer on request): the briefing, answers that keep their evidence, exports,
Stop, id links, charts, the alerts workflow, the supplier desk, the Data tab. Tests that show a
tab save its screenshot under docs/screenshots/."""

from __future__ import annotations

import re

import pandas as pd
import pytest

pytestmark = pytest.mark.browser

ANSWER_TIMEOUT = 60_000  # ms; the rules model answers in about a second, the machine is shared
PLOT = ".js-plotly-plot"


def open_tab(page, name: str) -> None:
    page.get_by_role("tab", name=name).click()


def ask(page, question: str) -> None:
    box = page.locator("#question textarea")
    from playwright.sync_api import expect

    expect(box).to_be_enabled(timeout=ANSWER_TIMEOUT)
    box.fill(question)
    box.press("Enter")


def file_listed(page, name: str) -> None:
    """Wait until the upload box lists `name`.

    Gradio renders the stem and the extension in two spans, so the box's text
    is "products.csv" or "products .csv" depending on layout; match either.
    """
    from playwright.sync_api import expect

    stem, dot, ext = name.rpartition(".")
    pattern = re.compile(re.escape(stem) + r"\s*" + re.escape(dot + ext))
    expect(page.locator("#import-files")).to_contain_text(pattern)


def answered(page, n: int) -> None:
    """Wait until the evidence panel shows answer ``n`` (the answer is final)."""
    from playwright.sync_api import expect

    expect(page.locator("#evidence-title")).to_contain_text(f"Answer {n}", timeout=ANSWER_TIMEOUT)
    expect(page.locator("#question textarea")).to_be_enabled(timeout=ANSWER_TIMEOUT)


def test_home_shows_the_morning_briefing(page, screenshot):
    from playwright.sync_api import expect

    expect(page.get_by_role("tab", name="Home")).to_have_attribute("aria-selected", "true")
    briefing = page.locator("#briefing")
    expect(briefing).to_contain_text("Morning briefing")
    expect(briefing).not_to_contain_text("Loading", timeout=ANSWER_TIMEOUT)
    expect(page.locator("#header")).to_have_text("Stockpilot")  # no developer text
    expect(briefing).to_contain_text(re.compile(r"data as of \d{4}-\d{2}-\d{2}"))
    for section in ("Top actions", "Stock-outs in the next 7 days", "Late purchase orders"):
        expect(briefing).to_contain_text(section)
    expect(page.locator("#briefing-table")).to_contain_text("stock-out")
    screenshot(page, "home")
    # each item is one click from its explanation, chart or draft
    link = briefing.locator('a[href*="#open/sku/"]').first
    sku = link.inner_text().strip()
    link.click()
    expect(page.get_by_role("tab", name="Charts")).to_have_attribute("aria-selected", "true")
    expect(page.locator("#projection-plot")).to_contain_text(sku, timeout=ANSWER_TIMEOUT)
    open_tab(page, "Home")
    briefing.get_by_role("link", name="open drafts").click()
    expect(page.locator("#all-drafts textarea")).to_have_value(
        re.compile("Subject:"), timeout=ANSWER_TIMEOUT
    )


def test_an_answer_keeps_its_table_and_chart_after_the_next_question(page, screenshot):
    from playwright.sync_api import expect

    open_tab(page, "Chat")
    ask(page, "Forecast demand for SKU-00001 over the next 4 weeks")
    answered(page, 1)
    chat = page.locator("#chatbot")
    expect(chat.locator(PLOT)).to_have_count(1)  # the chart stays in the chat, under its answer
    table = page.locator("#result-table")
    expect(table).to_contain_text("Week starting")  # asked in weeks: weekly rows
    expect(table).to_contain_text("Forecast (units)")
    ask(page, "Which SKUs will stock out next week?")
    answered(page, 2)
    expect(table).to_contain_text("Stock-out probability (%)")
    expect(chat.locator(PLOT)).to_have_count(1)  # the first answer's chart is still there
    # the first answer's own table and chart come back when it is picked
    page.locator("#evidence-pick input").click()
    page.get_by_role("option", name=re.compile(r"^1\. Forecast demand")).click()
    expect(page.locator("#evidence-title")).to_contain_text("Answer 1")
    expect(table).to_contain_text("Week starting")
    expect(page.locator(f"#answer-chart {PLOT}")).to_be_visible()
    # and from the link under the answer
    chat.get_by_role("link", name=re.compile("Table of answer 2")).click()
    expect(page.locator("#evidence-title")).to_contain_text("Answer 2")
    screenshot(page, "chat")


def test_full_table_exports_with_headers(page, tmp_path):
    from playwright.sync_api import expect

    open_tab(page, "Chat")
    ask(page, "Which SKUs will stock out next week?")
    answered(page, 1)
    rows = int(re.search(r"\((\d+) rows", page.locator("#evidence-title").inner_text()).group(1))
    assert rows > 10  # every series, not the answer's top 10
    with page.expect_download() as download:
        page.locator("#download-csv").click()
    csv = tmp_path / "table.csv"
    download.value.save_as(csv)
    frame = pd.read_csv(csv)
    assert len(frame) == rows
    assert {"SKU", "Location", "Stock-out probability (%)"} <= set(frame.columns)
    with page.expect_download() as download:
        page.locator("#download-xlsx").click()
    xlsx = tmp_path / "table.xlsx"
    download.value.save_as(xlsx)
    assert len(pd.read_excel(xlsx)) == rows
    copied = page.locator("#table-tsv textarea").input_value().splitlines()
    assert copied[0].split("\t")[0] == "SKU" and len(copied) == rows + 1
    expect(page.locator("#copy-table")).to_be_visible()


def test_stop_cancels_a_streaming_answer_and_no_second_send_gets_in(page, screenshot):
    from playwright.sync_api import expect

    open_tab(page, "Chat")
    ask(page, "Tell me slowly about the stock")
    chat = page.locator("#chatbot")
    expect(chat).to_contain_text("streams slowly", timeout=ANSWER_TIMEOUT)
    box, send, stop = (
        page.locator("#question textarea"),
        page.locator("#send"),
        page.locator("#stop"),
    )
    expect(stop).to_be_visible()
    expect(box).to_be_disabled()
    expect(send).to_be_disabled()
    stop.click()
    expect(chat).to_contain_text("Stopped.")
    expect(box).to_be_enabled()
    expect(stop).to_be_hidden()
    screenshot(page, "chat-stopped")
    words = chat.inner_text().count("word")
    page.wait_for_timeout(1000)
    assert chat.inner_text().count("word") == words  # the stream really stopped
    ask(page, "Show open alerts")
    answered(page, 1)
    expect(chat).to_contain_text("streams slowly")  # the stopped answer's text stays


def test_a_sku_link_opens_its_chart(page):
    from playwright.sync_api import expect

    open_tab(page, "Chat")
    ask(page, "Which SKUs will stock out next week?")
    answered(page, 1)
    link = page.locator('#chatbot a[href*="#open/sku/"]').first
    sku = link.inner_text().strip()
    link.click()
    expect(page.get_by_role("tab", name="Charts")).to_have_attribute("aria-selected", "true")
    expect(page.locator("#chart-sku input")).to_have_value(re.compile(sku))
    expect(page.locator(f"#forecast-plot {PLOT}")).to_be_visible(timeout=ANSWER_TIMEOUT)
    expect(page.locator("#forecast-plot")).to_contain_text(sku)
    expect(page.locator("#projection-plot")).to_contain_text(sku)


def test_charts_redraw_for_the_selected_inputs_and_routes_are_readable(page, screenshot):
    from playwright.sync_api import expect

    open_tab(page, "Charts")
    forecast = page.locator("#forecast-plot")
    expect(forecast).to_contain_text("28 days", timeout=ANSWER_TIMEOUT)
    number = page.locator("#horizon input[type=number]")
    number.fill("56")
    number.press("Enter")
    expect(forecast).to_contain_text("56 days", timeout=ANSWER_TIMEOUT)
    expect(page.locator("#projection-plot")).to_contain_text("56 days", timeout=ANSWER_TIMEOUT)
    page.locator("#plan-routes").click()
    routes = page.locator("#route-plot")
    expect(routes.locator(PLOT)).to_be_visible(timeout=ANSWER_TIMEOUT)
    expect(routes).to_contain_text(re.compile(r"Van 1: \d+ stops, [\d.]+ km, [\d.]+ kg"))
    expect(page.locator("#route-stops")).to_contain_text("Stop")
    screenshot(page, "charts")


def select_alert(page, alert_id: str) -> None:
    from playwright.sync_api import expect

    table = page.locator("#alerts-table")
    expect(table).to_contain_text(alert_id, timeout=ANSWER_TIMEOUT)
    table.get_by_text(re.compile(rf"^{alert_id}$")).filter(visible=True).first.click()
    expect(page.locator("#alert-header")).to_contain_text(alert_id)


def test_alert_actions_persist_across_a_reload_and_a_rescan(page, screenshot, rules_app):
    from playwright.sync_api import expect

    open_tab(page, "Alerts")
    table = page.locator("#alerts-table")
    expect(table).to_contain_text("A-", timeout=ANSWER_TIMEOUT)
    ids = table.get_by_text(re.compile(r"^A-\d+$")).filter(visible=True)
    alert_id = ids.nth(ids.count() - 1).inner_text().strip()  # the last: other tests use the first
    select_alert(page, alert_id)
    expect(page.locator("#alert-evidence")).to_contain_text("Field")  # labelled, not JSON
    expect(page.locator("#alert-explanation")).to_contain_text("Likely causes")
    page.locator("#alert-actor textarea, #alert-actor input").first.fill("Ana")
    page.locator("#alert-ack").click()
    header = page.locator("#alert-header")
    expect(header).to_contain_text("acknowledged")
    page.locator("#alert-assignee textarea, #alert-assignee input").first.fill("Ben")
    page.locator("#alert-assign").click()
    expect(header).to_contain_text("assigned to Ben")

    page.reload(wait_until="load")
    open_tab(page, "Alerts")
    select_alert(page, alert_id)
    expect(header).to_contain_text("assigned to Ben")
    history = page.locator("#alert-history")
    expect(history).to_contain_text("acknowledge")
    expect(history).to_contain_text("Ana")

    open_tab(page, "Data")
    page.locator("#scan-alerts").click()
    expect(page.locator("#job-status")).to_contain_text(
        "scan_anomalies done", timeout=ANSWER_TIMEOUT
    )
    open_tab(page, "Alerts")
    page.get_by_role("button", name="Refresh").first.click()
    select_alert(page, alert_id)
    expect(header).to_contain_text("assigned to Ben")
    page.locator("#alert-note textarea, #alert-note input").first.fill("checked with the store")
    page.locator("#alert-close").click()
    expect(page.locator("#alert-action-status")).to_contain_text("Recorded: close by Ana")
    expect(header).to_contain_text("closed")
    expect(page.locator("#alert-history")).to_contain_text("checked with the store")
    expect(table.get_by_text(re.compile(rf"^{alert_id}$"))).to_have_count(0)  # off the inbox
    page.locator("#alert-all input").check()
    expect(table).to_contain_text(alert_id)
    screenshot(page, "alerts")


def test_supplier_desk_drafts_and_a_failed_draft_keeps_the_users_text(page, screenshot):
    from playwright.sync_api import expect

    open_tab(page, "Supplier desk")
    picker = page.locator("#late-po input")
    expect(picker).to_have_value(re.compile(r"PO-\d+"), timeout=ANSWER_TIMEOUT)
    expect(page.locator("#supplier input")).to_have_value(re.compile(r"\d+ late|at risk"))
    po_number = re.search(r"PO-\d+", picker.input_value()).group(0)
    page.locator("#draft-po").click()
    draft = page.locator("#email-draft textarea")
    expect(draft).to_have_value(re.compile(po_number), timeout=ANSWER_TIMEOUT)
    assert re.search(r"^(To|Cc): .*@", draft.input_value(), re.M)  # the supplier's contact
    screenshot(page, "supplier-desk")
    draft.fill("My own edited text")
    page.locator("#supplier input").click()
    calm = page.get_by_role("option", name=re.compile("nothing late"))
    if calm.count():
        calm.first.click()
        page.locator("#draft-supplier").click()
        expect(page.locator("#draft-answer")).to_contain_text("No draft", timeout=ANSWER_TIMEOUT)
        expect(draft).to_have_value("My own edited text")
    else:
        page.keyboard.press("Escape")
    page.locator("#all-drafts-box").get_by_text("Follow-ups for all suppliers").click()
    page.locator("#draft-all").click()
    every = page.locator("#all-drafts textarea")
    expect(every).to_have_value(re.compile("Subject:"), timeout=ANSWER_TIMEOUT)
    assert every.input_value().count("Subject:") >= 2
    expect(page.locator("#download-drafts")).to_be_visible()


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
    file_listed(page, "products.csv")
    page.locator("#import").click()
    expect(page.locator("#import-status")).to_contain_text(
        "Nothing imported", timeout=ANSWER_TIMEOUT
    )
    problems = page.locator("#import-problems")
    expect(problems).to_contain_text("products.csv")
    expect(problems).to_contain_text("price")
    expect(overview).to_contain_text("products 40")  # unchanged
    screenshot(page, "data")


def test_a_semicolon_export_with_capitalised_headers_imports_and_then_updates(page, tmp_path):
    from playwright.sync_api import expect

    export = tmp_path / "products.csv"
    header = "SKU;Name;Category;Unit Cost;Price;Case Pack;Shelf Life Days;Supplier ID;Launch Date\n"
    export.write_text(header + "SKU-90001;Kettle;Kitchen;4,50;9,95;1;;SUP-001;2026-01-01\n")
    open_tab(page, "Data")
    overview, status = page.locator("#data-overview"), page.locator("#import-status")
    expect(overview).to_contain_text("products 40")
    page.locator("#import-files input[type=file]").set_input_files(str(export))
    file_listed(page, "products.csv")
    page.locator("#import").click()
    expect(status).to_contain_text("imported 1 rows", timeout=ANSWER_TIMEOUT)
    expect(status).to_contain_text("semicolon")
    expect(page.locator("#rerun-after")).to_be_visible()  # forecasts and alerts are stale now
    expect(overview).to_contain_text("products 41")
    expect(status).not_to_contain_text("gradio")  # the file's name, not its upload path
    # the same key again is an update, only in update mode
    export.write_text(header + "SKU-90001;Kettle XL;Kitchen;4,50;12,50;1;;SUP-001;2026-01-01\n")
    page.reload(wait_until="load")
    open_tab(page, "Data")
    page.locator("#import-files input[type=file]").set_input_files(str(export))
    file_listed(page, "products.csv")
    page.locator("#import-update input").check()
    page.locator("#import").click()
    expect(status).to_contain_text("updated 1 existing rows", timeout=ANSWER_TIMEOUT)
    expect(overview).to_contain_text("products 41")
    page.locator("#columns").get_by_text("Expected columns and templates").click()
    expect(page.locator("#columns-list")).to_contain_text("Also accepted as")
    expect(page.locator("#template")).to_be_visible()


def test_a_starter_question_cites_sop_passages_and_reset_clears_the_chat(page):
    from playwright.sync_api import expect

    open_tab(page, "Chat")
    page.get_by_role("button", name="What is the procedure for cycle counts?").click()
    chat = page.locator("#chatbot")
    expect(chat).to_contain_text("Tool: search_sops(", timeout=ANSWER_TIMEOUT)
    expect(chat).to_contain_text("Sources: SOP-", timeout=ANSWER_TIMEOUT)
    answered(page, 1)
    page.locator("#sources").get_by_text("SOP sources").click()
    first = page.locator("#sources details").first
    expect(first).to_contain_text("SOP-")
    first.locator("summary").click()  # the passage opens on click
    expect(first).to_have_attribute("open", "")
    page.locator("#reset").click()
    expect(chat.locator('[data-testid="user"]')).to_have_count(0)
