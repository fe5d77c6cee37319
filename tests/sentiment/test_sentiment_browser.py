"""The Sentiment tab as a person uses it, in headless Chromium: type a sentence, press
the button, read the label, the intensity bar, the highlighted words and the modality bars
(screenshot kept for the README)."""
from __future__ import annotations

import pytest

from tests.test_browser import CHROMIUM, FLAGS, SHOTS, open_tab

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_sentiment_tab_reads_a_sentence(live_app):
    from playwright.sync_api import sync_playwright

    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        page = browser.new_page(viewport={"width": 1366, "height": 1100})
        page.goto(live_app, wait_until="load")
        open_tab(page, "Sentiment")
        page.get_by_label("Text", exact=True).fill("An utterly charming, heartfelt story that stays with you.")
        page.get_by_role("button", name="Read sentiment").click()
        page.get_by_text("the decision leaned most on").wait_for(timeout=120_000)
        assert page.get_by_text("positive").count() >= 1
        page.get_by_text("charming,", exact=True).wait_for(timeout=10_000)  # the words, highlighted
        strength = page.locator("#sentiment-intensity")
        strength.get_by_text("positive").last.wait_for(timeout=10_000)  # "Intensity +2.9 on -4..+4: strongly positive"
        assert "Intensity +" in strength.inner_text()
        page.wait_for_timeout(2_000)  # let the modality bars draw before the screenshot
        page.screenshot(path=str(SHOTS / "sentiment.png"), full_page=True)
        browser.close()
