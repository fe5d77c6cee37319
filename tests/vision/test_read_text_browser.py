"""Captioning -> Read text as a visitor meets it on the app as shipped (offline, the
packaged PP-OCRv5): upload a photo with a sign on it, press Read text, and see the word
and its box drawn on the image (the screenshot in docs/screenshots/read-text.png)."""
from __future__ import annotations

import re

import pytest

from tests.test_browser import SHOTS, expect, open_tab, studio_page
from tests.vision.signs import render_sign

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_read_text_finds_the_sign_word_and_draws_its_box(live_app, tmp_path):
    photo = render_sign("BAKERY", "temple", tmp_path / "bakery.jpg")
    with studio_page(live_app) as page:
        open_tab(page, "Captioning")
        page.get_by_role("tab", name="Read text", exact=True).click()
        page.locator("#read-text-image input[type=file]").set_input_files(str(photo))
        expect(page.locator("#read-text-image img").first).to_be_visible(timeout=30_000)
        page.get_by_role("button", name="Read text", exact=True).click()
        expect(page.locator("#read-text textarea")).to_have_value(re.compile("BAKERY"), timeout=120_000)
        expect(page.locator("#read-text-boxes img").first).to_be_visible(timeout=30_000)
        page.wait_for_timeout(1_000)
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / "read-text.png"), full_page=False)
