"""The web page in a real headless Chromium (Debian's), against the real server and index."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from rag.config import PROJECT_ROOT

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SCREENSHOT = PROJECT_ROOT / "eval" / "reports" / "web-answer.png"
pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail("Chromium is not installed: `make test` installs it (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync"],
        )
        yield b
        b.close()


@pytest.fixture()
def page(browser, live_server):
    context = browser.new_context(viewport={"width": 1100, "height": 900})
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server)
    pg = context.new_page()
    pg.goto(live_server + "/")
    yield pg
    context.close()


def ask(page, question: str) -> None:
    page.get_by_label("Question", exact=True).fill(question)
    page.get_by_label("Question", exact=True).press("Enter")
    page.wait_for_selector("#passages li.passage")


def test_question_shows_the_expected_passage_and_its_footnote(page):
    ask(page, "How many children did Tajikistan bring back from Iraq?")
    passages = page.locator("#passages li.passage")
    top3 = [passages.nth(i).inner_text() for i in range(3)]
    assert any("84 children" in t for t in top3)
    hit = passages.filter(has_text="84 children").first
    assert "Tajikistan's Repatriates" in hit.locator(".crumbs").inner_text()
    marker = hit.get_by_role("button", name="Footnote 70")
    marker.click()
    popover = page.locator("#popover")
    popover.wait_for(state="visible")
    assert "Raychev" in popover.inner_text()
    assert "Operations for Repatriation" in popover.inner_text()
    page.screenshot(path=str(SCREENSHOT), full_page=False)


def test_an_answer_in_parts_shows_each_excerpt_with_a_link_to_its_passage(page):
    ask(page, "How many children did Tajikistan bring back in April 2019, and how many did Kyrgyzstan bring back in March 2021?")
    excerpts = page.locator("#answer-text .excerpt")
    assert excerpts.count() == 2
    assert "84 children" in excerpts.nth(0).inner_text() and "79 children" in excerpts.nth(1).inner_text()
    link = excerpts.nth(1).get_by_role("link")
    target = page.locator(link.get_attribute("href"))
    assert "79 children" in target.inner_text()
    excerpts.nth(0).get_by_role("button", name="Footnote 70").click()
    assert "Raychev" in page.locator("#popover").inner_text()



def test_a_question_naming_a_footnote_says_it_is_a_look_up(page):
    ask(page, "What does footnote 47 say?")
    assert "Footnote look-up" in page.locator("#answer-text .lookup").inner_text()
    assert page.locator("#answer-text .excerpt").first.get_by_role("button", name="Footnote 47").count() == 1
    assert "could be released" in page.locator("#passages li.passage").first.inner_text()

def test_who_wrote_the_report_is_answered_from_its_credits(page):
    ask(page, "Who wrote this report?")
    assert "About the report itself" in page.locator("#answer-text .lookup").inner_text()
    assert "Cholpon Orozobekova" in page.locator("#answer-text .excerpt").first.inner_text()


def test_a_question_naming_table_cells_says_it_is_a_look_up(page):
    ask(page, "How many children did Tajikistan and Kyrgyzstan repatriate?")
    assert "Table look-up" in page.locator("#answer-text .lookup").inner_text()
    excerpts = page.locator("#answer-text .excerpt")
    assert excerpts.count() == 2 and "Tajikistan: children 84." in excerpts.nth(0).inner_text()


def test_a_question_asking_who_someone_is_says_it_is_a_look_up(page):
    ask(page, "Who is Christine Jaulmes?")
    assert "Name look-up" in page.locator("#answer-text .lookup").inner_text()
    assert "Christine Jaulmes, the UNICEF Representative" in page.locator("#answer-text .excerpt").first.inner_text()


def test_empty_question_says_what_happened(page):
    page.get_by_role("button", name="Ask").click()
    status = page.locator("#status")
    assert "type a question" in status.inner_text().lower()
    assert "error" in (status.get_attribute("class") or "")


def test_server_error_is_shown(page, live_server):
    page.route("**/query", lambda route: route.fulfill(status=500, content_type="application/json", body='{"error": "boom"}'))
    ask_no_wait = page.get_by_label("Question", exact=True)
    ask_no_wait.fill("anything")
    ask_no_wait.press("Enter")
    page.wait_for_function("document.querySelector('#status').textContent.includes('Server error')")
    assert "boom" in page.locator("#status").inner_text()


def test_example_questions_and_passage_count(page):
    page.get_by_label("Number of passages").select_option("3")
    page.get_by_role("button", name="What was Operation Meerim?").click()
    page.wait_for_selector("#passages li.passage")
    assert page.locator("#passages li.passage").count() == 3


def test_keyboard_only(page):
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "question"
    page.keyboard.type("What was Operation Mehr?")
    page.keyboard.press("Enter")
    page.wait_for_selector("#passages li.passage")
    page.locator(".marker").first.focus()
    page.keyboard.press("Enter")
    assert page.locator("#popover").is_visible()
    page.keyboard.press("Escape")
    assert page.locator("#popover").is_hidden()


def test_copy_passage_with_citations(page):
    ask(page, "How many children did Tajikistan bring back from Iraq?")
    hit = page.locator("#passages li.passage").filter(has_text="84 children").first
    hit.get_by_role("button", name="Copy").click()
    copied = page.evaluate("navigator.clipboard.readText()")
    assert "84 children" in copied and "[70] Raychev." in copied


def test_phone_width_has_no_horizontal_scroll(browser, live_server):
    context = browser.new_context(viewport={"width": 375, "height": 740}, is_mobile=True)
    pg = context.new_page()
    pg.goto(live_server + "/")
    ask(pg, "What was Operation Meerim?")
    assert pg.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    context.close()


def test_controls_have_accessible_names(page):
    for name in ("Question", "Number of passages"):
        assert page.get_by_label(name, exact=True).count() == 1
    assert page.get_by_role("button", name="Ask").count() == 1


def test_footnote_view_shows_the_note_its_source_and_citing_passages(page, live_server):
    page.goto(live_server + "/footnotes/central-asia-repatriation-2021/47")
    page.wait_for_selector("#footnote-passages li.passage")
    assert page.locator("#footnote-title").inner_text().startswith("Footnote 47")
    assert "ibid" in page.locator("#footnote-text").inner_text().lower()
    sources = page.locator("#footnote-sources").inner_text()
    assert "Yavor Raychev" in sources and "47 → 46 → 45 → 44" in sources
    assert "[47]" in page.locator("#footnote-passages").inner_text()


def test_popover_names_the_resolved_source_of_an_ibid(page):
    ask(page, "How many children did Tajikistan bring back from Iraq?")
    hit = page.locator("#passages li.passage").filter(has_text="84 children").first
    hit.get_by_role("button", name="Footnote 71").click()
    popover = page.locator("#popover")
    popover.wait_for(state="visible")
    assert "Ibid." in popover.inner_text() and "Yavor Raychev" in popover.inner_text()
    sources = page.locator("#sources").inner_text()
    assert "Yavor Raychev" in sources and "70" in sources
