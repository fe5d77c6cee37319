"""The Captioning tab as a visitor meets it on a machine without captioner weights: the
banner says what is missing before anyone clicks, an example image can be picked, and
Caption answers with the fix in an error toast while the server keeps serving."""
from __future__ import annotations

import pytest

from tests.test_browser import CHROMIUM, FLAGS, SHOTS, open_tab

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_missing_weights_are_explained_on_the_page_and_on_use(live_app):
    from pathlib import Path

    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail("Chromium is missing: apt-get install -y chromium chromium-driver (see packages-test.txt)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        page = browser.new_page(viewport={"width": 1366, "height": 1000})
        page.goto(live_app, wait_until="networkidle")
        open_tab(page, "Captioning")
        banner = page.get_by_text("has no weights on this machine")
        banner.wait_for()
        assert page.get_by_text("MMS_MODEL_CAPTIONER").first.is_visible()
        page.get_by_text("Try an example").scroll_into_view_if_needed()
        page.locator("button.gallery-item:visible").first.click()
        # the example thumbnail is one astronaut; the image input shows a second once loaded
        page.wait_for_function("document.querySelectorAll(\"img[src*='astronaut']\").length >= 2")
        page.get_by_role("button", name="Caption", exact=True).click()
        toast = page.locator(".toast-body").first
        toast.wait_for(timeout=60_000)
        assert "Salesforce/blip-image-captioning-base" in toast.inner_text()
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / "captioning-missing-weights.png"), full_page=True)
        page.reload(wait_until="networkidle")  # still serving
        assert page.get_by_role("tab", name="Captioning", exact=True).count() == 1
        browser.close()
