"""The real page in headless Chromium over the shipped corpus: a streamed cited answer, the sources panel
with the supporting sentence highlighted, [n] links, feedback, export, and no request leaving the machine."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from urllib.parse import urlparse

import pytest
from conftest import free_port

os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"

from assistant.ui import build_ui, launch_options  # noqa: E402

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
RESULTS = Path(__file__).resolve().parent.parent / "test-results"
QUESTION = "According to the article, which country became the 44th signatory of the Artemis Accords?"
TIMEOUT = 60_000  # ms; the first question also warms up retrieval


@pytest.fixture(scope="module")
def chromium():
    if not CHROMIUM.exists():
        pytest.skip("/usr/bin/chromium is missing (apt-get install -y chromium); browser tests need it")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def app_url(chromium, corpus_assistant):
    demo = build_ui(corpus_assistant)
    demo.launch(prevent_thread_lock=True, server_name="127.0.0.1", server_port=free_port(), quiet=True,
                **launch_options())
    yield demo.local_url
    demo.close()


@pytest.fixture
def page(chromium, app_url):
    context = chromium.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
    page = context.new_page()
    page.outside = []  # requests to anything but the local app
    page.on("request", lambda r: page.outside.append(r.url)
            if urlparse(r.url).hostname not in (None, "127.0.0.1", "localhost") and r.url.startswith("http") else None)
    page.goto(app_url)
    yield page
    context.close()


def ask(page, question: str) -> None:
    """Type a question and send it. Gradio ignores a submit while the last answer is still being sent (its events
    run once at a time), and the box then keeps the text: send again until the box is cleared, which the answer's
    first update does."""
    from playwright.sync_api import expect

    box = page.locator("#question textarea")
    box.fill(question)
    for _ in range(TIMEOUT // 2000):
        box.press("Enter")
        try:
            expect(box).to_have_value("", timeout=2000)
            return
        except AssertionError:
            continue
    expect(box).to_have_value("")


def test_cited_answer_with_sources_panel(page):
    from playwright.sync_api import expect

    expect(page.locator("#sga-header")).to_contain_text("documents", timeout=TIMEOUT)
    ask(page, QUESTION)
    marker = page.locator("#chat a", has_text="[1]").first
    expect(marker).to_be_visible(timeout=TIMEOUT)
    answer = page.locator("#chat [data-testid='bot']").last
    expect(answer).to_contain_text("44th signatory")
    expect(answer).to_contain_text("Dominican Republic")
    assert marker.get_attribute("href") == "#src-0-1"

    card = page.locator("#sources #src-0-1")
    expect(card).to_be_visible(timeout=TIMEOUT)
    title = card.locator(".sga-title").inner_text()
    assert title and marker.get_attribute("title").startswith(title)
    expect(card.locator("mark")).to_contain_text("44th signatory")
    expect(card.locator(".sga-badge")).to_have_text(re.compile(r"official text|summary|article", re.IGNORECASE))
    expect(card.locator(".sga-meta")).to_contain_text(re.compile(r"\d{4}|undated"))
    assert card.locator("mark").inner_text() in card.locator(".sga-text").inner_text()

    marker.click()  # the marker jumps to its card
    expect(page).to_have_url(re.compile(r"#src-0-1$"))
    expect(card).to_be_in_viewport()

    RESULTS.mkdir(exist_ok=True)
    page.screenshot(path=str(RESULTS / "ui.png"), full_page=True)
    assert page.outside == []


def test_follow_up_feedback_export_and_new_chat(page, corpus_assistant):
    from playwright.sync_api import expect

    ask(page, "Which treaty bans national appropriation of celestial bodies?")
    expect(page.locator("#chat a", has_text="[1]").first).to_be_visible(timeout=TIMEOUT)
    ask(page, "What does Article IV add?")
    expect(page.locator("#sources #src-1-1")).to_be_visible(timeout=TIMEOUT)
    expect(page.locator("#chat [data-testid='bot']").last).to_contain_text("Article IV")
    expect(page.locator("#sources details[open] .sga-title").first).to_have_text("Outer Space Treaty")

    feedback = corpus_assistant.settings.data_dir / "feedback.jsonl"
    before = len(feedback.read_text().splitlines()) if feedback.exists() else 0
    page.locator("#chat button[aria-label='Like']").last.click()
    expect(page.get_by_text("Thanks for the feedback.")).to_be_visible(timeout=TIMEOUT)
    record = json.loads(feedback.read_text().splitlines()[before])
    assert record["vote"] == "up" and record["question"] == "What does Article IV add?"

    with page.expect_download() as download:
        page.get_by_role("button", name="Export (Markdown)").click()
    text = Path(download.value.path()).read_text()
    assert "## Q2. What does Article IV add?" in text and "Supporting sentence" in text

    page.get_by_role("button", name="New chat").click()
    expect(page.locator("#chat .sga-placeholder")).to_be_visible()
    expect(page.locator("#sources")).to_contain_text("Sources appear here")
    assert page.outside == []


def test_provisions_tab_lists_instruments_with_articles_and_citations(page):
    from playwright.sync_api import expect

    page.get_by_role("tab", name="Provisions").click()
    box = page.locator("#provisions-topic textarea")
    box.fill("who pays for damage caused by a satellite")
    box.press("Enter")
    view = page.locator("#provisions-view")
    expect(view.locator("table.sga-instrument").first).to_be_visible(timeout=TIMEOUT)
    captions = view.locator("table.sga-instrument caption").all_inner_texts()
    assert len(captions) >= 3 and {"Outer Space Treaty", "Liability Convention"} <= set(captions)
    liability = view.locator("table.sga-instrument", has=page.locator("caption", has_text="Liability Convention"))
    row = liability.locator("tr.sga-provision", has_text="Article II").first
    expect(row.locator(".sga-cite")).to_contain_text("961 UNTS 187")
    treaty_rows = view.locator("table.sga-instrument", has=page.locator("caption", has_text="Outer Space Treaty"))
    expect(treaty_rows.locator(".sga-cite").first).to_contain_text("610 UNTS 205")
    row.locator("summary").click()  # a row opens its passage, the relevant sentence marked
    expect(row.locator("blockquote.sga-text mark")).to_be_visible()
    expect(row.locator("blockquote.sga-text")).to_contain_text("absolute")
    RESULTS.mkdir(exist_ok=True)
    page.screenshot(path=str(RESULTS / "ui-provisions.png"), full_page=True)
    assert page.outside == []
