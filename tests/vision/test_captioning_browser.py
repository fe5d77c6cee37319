"""The Captioning tab as a visitor meets it on a machine without captioner weights (the
app as shipped, offline): one line says captions are label-based, and its link opens How it
works, which says how to get a captioner, before anyone clicks; an example photo can be
picked, and Caption answers with a label-based caption and Grad-CAM beside it, while the
server keeps serving."""
from __future__ import annotations

import re

import pytest

from tests.test_browser import CHROMIUM, FLAGS, SHOTS, expect, open_tab

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_offline_the_tab_captions_from_labels_and_shows_where_the_model_looked(live_app):
    from pathlib import Path

    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail("Chromium is missing: apt-get install -y chromium chromium-driver (see packages-test.txt)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        page = browser.new_page(viewport={"width": 1366, "height": 1100})
        page.goto(live_app, wait_until="load")
        open_tab(page, "Captioning")
        page.get_by_text("Captions are label-based on this machine").wait_for()  # the one-line notice
        page.get_by_role("link", name="what a captioner would add").click()  # opens How it works below
        expect(page.locator("#captioning-how").get_by_text("What a captioner would add").first).to_be_visible()
        assert page.get_by_text("MMS_MODEL_CAPTIONER").first.is_visible()
        page.get_by_text("Try an example").scroll_into_view_if_needed()
        page.locator("button.gallery-item:visible").first.click()  # the coffee photo
        # the example thumbnail is one coffee image; the image input shows a second once loaded
        page.wait_for_function("document.querySelectorAll(\"img[src*='coffee']\").length >= 2")
        page.get_by_role("button", name="Caption", exact=True).click()
        caption = page.locator("#caption-text textarea")
        expect(caption).to_have_value(re.compile(r"^a photo of an? .*(espresso|coffee|cup)", re.I), timeout=120_000)
        expect(page.get_by_text(re.compile(r"Why: where the model looked for '")).first).to_be_visible(timeout=30_000)
        expect(page.locator("#caption-why img").first).to_be_visible()
        assert page.get_by_text("Label-based caption").count() >= 1  # the note under the candidates
        assert page.locator(".toast-body").count() == 0  # no error, no traceback
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / "captioning.png"), full_page=True)
        page.reload(wait_until="load")  # still serving
        page.get_by_role("tab", name="Captioning", exact=True).wait_for(timeout=60_000)
        browser.close()
