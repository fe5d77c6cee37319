"""A person's visit, in headless Chromium (Debian's, driven by Playwright): open the
page, visit every tab, use the main tabs, and keep screenshots for the README."""
from __future__ import annotations

import os
import re
import tempfile
from contextlib import contextmanager
from pathlib import Path

import pytest

from app.blocks import TABS
from tests.speech_clips import GERMAN_MEANING, meaning_recall

pytestmark = [pytest.mark.browser, pytest.mark.slow]
CHROMIUM = "/usr/bin/chromium"
# The README's pictures: `MMS_SCREENSHOT_DIR=docs/screenshots python -m pytest -m browser`.
SHOTS = Path(os.environ.get("MMS_SCREENSHOT_DIR", Path(tempfile.gettempdir()) / "multimodal-studio-screenshots"))
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run"]


@contextmanager
def studio_page(url: str, height: int = 1000):
    """Headless Chromium on the app at `url`, rendered and ready; closed on exit."""
    if not Path(CHROMIUM).exists():
        pytest.fail("Chromium is missing: apt-get install -y chromium chromium-driver (see packages-test.txt)")
    from playwright.sync_api import sync_playwright

    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        page = browser.new_page(viewport={"width": 1366, "height": height})
        page.goto(url, wait_until="load")  # never "networkidle": a page with streams or State keeps a heartbeat open
        page.locator("#studio-header").wait_for(timeout=60_000)  # the app renders a moment after "load"
        yield page
        browser.close()


@pytest.fixture(scope="module")
def page(live_app):
    with studio_page(live_app) as opened:
        yield opened


def expect(locator):
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect(locator)


def open_tab(page, title: str) -> None:
    """Select the tab and wait until it is selected and its panel shows a control (no sleep)."""
    tab = page.get_by_role("tab", name=title, exact=True).first  # the page's tab, before a tab's own tabs
    tab.click()
    expect(tab).to_have_attribute("aria-selected", "true")
    panel = page.get_by_role("tabpanel").filter(visible=True).first
    panel.locator("button:visible, input:visible, textarea:visible").first.wait_for(timeout=30_000)


def test_every_tab_opens(page):
    for tab in TABS:
        open_tab(page, tab.TITLE)
        panel = page.get_by_role("tabpanel").filter(visible=True).first
        expect(panel).to_be_visible()
        assert panel.locator("button:visible, input:visible, textarea:visible").count() > 0, tab.TITLE  # controls
        page.screenshot(path=str(SHOTS / f"{tab.__name__.rsplit('.', 1)[-1]}.png"), full_page=True)


def test_system_tab_lists_models(page):
    open_tab(page, "System")
    table = page.locator("table:visible").first  # other tabs hold tables too, hidden here
    table.wait_for()
    for key in ("whisper-base", "minilm", "clip", "captioner"):
        assert page.get_by_text(key, exact=True).count() >= 1
    # this browser is on the server's own machine (no auth): the operator, with Unload
    expect(page.get_by_role("button", name="Unload", exact=True)).to_be_visible()


def test_speech_tab_translates_an_example_clip(page):
    open_tab(page, "Speech")
    speech_tab = page.get_by_role("tabpanel").filter(has_text="Transcribe and translate")
    speech_tab.get_by_text("german_water_bread.ogg").first.click()  # the clickable example
    # On a busy machine the example's audio takes a while to load: run only once the player
    # shows the clip's length (4.3 s), or the click finds no audio and the run never starts.
    expect(speech_tab.get_by_text("0:04", exact=True).first).to_be_visible(timeout=60_000)
    speech_tab.get_by_role("button", name="Transcribe and translate").click()
    translation = page.locator("#speech-translation textarea")
    expect(translation).to_have_value(re.compile(r"\w+ \w+ \w+"), timeout=180_000)  # a sentence, however worded
    assert meaning_recall(GERMAN_MEANING, translation.input_value()) >= 0.6, translation.input_value()
    expect(speech_tab.get_by_text("German").first).to_be_visible()  # detected language shown
    page.screenshot(path=str(SHOTS / "speech.png"), full_page=True)


def test_training_tab_trains_the_example_dataset(page):
    open_tab(page, "Train a head")
    panel = page.get_by_role("tabpanel").filter(has_text="labelled examples")  # the tab's one-line intro
    panel.get_by_text("amazon_reviews_300.csv").first.click()  # the clickable example dataset
    # Train only once the file has landed in the upload box (which then shows its size).
    expect(panel.get_by_text(re.compile(r"\d\s*KB")).first).to_be_visible(timeout=60_000)
    panel.get_by_role("button", name="Train", exact=True).click()
    panel.get_by_text("Done.").wait_for(timeout=180_000)
    assert panel.get_by_text("Saved head").count() >= 1
    page.screenshot(path=str(SHOTS / "training.png"), full_page=True)


def test_search_tab_loads_the_sample_gallery_and_finds_the_cat_offline(page):
    open_tab(page, "Search")
    panel = page.get_by_role("tabpanel").filter(has_text="Load the sample gallery")
    expect(panel.get_by_text("label bridge").first).to_be_visible()  # which engine answers, offline
    panel.get_by_role("button", name=re.compile("Load the sample gallery")).click()
    expect(panel.get_by_text(re.compile(r": 16 images")).first).to_be_visible(
        timeout=600_000
    )  # first use: MPNet unpacks
    panel.get_by_label("Text query").fill("a photo of a cat")
    panel.get_by_role("button", name="Search", exact=True).click()
    expect(panel.get_by_text(re.compile(r"text query")).first).to_be_visible(timeout=120_000)
    first = panel.locator("[data-testid='gallery'] button, .gallery-item, .thumbnail-item").first
    first.click()
    expect(panel.get_by_label("Picked image id")).not_to_have_value("", timeout=30_000)
    panel.get_by_role("button", name=re.compile("Why")).click()
    expect(panel.get_by_text(re.compile("Where the classifier looked for")).first).to_be_visible(timeout=120_000)
    page.screenshot(path=str(SHOTS / "search.png"), full_page=True)
    panel.get_by_role("tab", name="Classify", exact=True).click()
    page.get_by_text("cat, dog, rocket, cup of coffee", exact=True).last.click()  # the example row with the cat
    page.wait_for_function("document.querySelectorAll(\"img[src*='cat.jpg']\").length >= 2")  # loaded into the input
    page.get_by_role("button", name="Classify", exact=True).click()
    expect(page.get_by_text(re.compile("The classifier sees")).first).to_be_visible(
        timeout=120_000
    )  # what it is sure of
    expect(page.locator("[data-testid='label-output-value']:visible").first).to_have_text(re.compile("cat"))


def test_video_tab_indexes_the_example_and_a_hit_jumps_the_player(page):
    open_tab(page, "Video")
    panel = page.get_by_role("tabpanel").filter(has_text="Use the example clip")
    panel.get_by_role("button", name="Use the example clip").click()
    expect(panel.locator("#studio-video-player video")).to_have_count(1, timeout=30_000)
    panel.get_by_role("button", name="Index the video").click()
    expect(panel.get_by_text(re.compile(r"Indexed in")).first).to_be_visible(timeout=300_000)
    expect(panel.get_by_label("Transcript")).to_have_value(re.compile("mission budget"))
    panel.get_by_label("Search inside the video").fill("where the budget is mentioned")
    panel.get_by_role("button", name="Search", exact=True).click()
    first = page.locator("#studio-video-hits [role=gridcell]:visible").first  # the visible grid, not its sizer table
    expect(first).to_have_text(re.compile(r"0:1[0-4]"), timeout=120_000)  # the rocket's slot, 10-15 s
    first.click()
    page.wait_for_function("() => { const v = document.querySelector('#studio-video-player video');"
                           " return v && v.currentTime >= 9.9; }", timeout=30_000)
    page.screenshot(path=str(SHOTS / "video.png"), full_page=True)
