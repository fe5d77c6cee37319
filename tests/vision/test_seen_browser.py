"""Captioning as a visitor meets it on the app as shipped (offline, label-based captions):
the hesitant lizard is captioned with its kind and the classes hedged, the lemon and orange
photo with both fruits, and the table under the caption says which parts are sure (the
screenshots docs/screenshots/caption-hedged.png and caption-two-objects.png)."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.test_browser import SHOTS, expect, open_tab, studio_page

pytestmark = [pytest.mark.browser, pytest.mark.slow]
EXAMPLES = Path(__file__).resolve().parents[2] / "assets" / "vision" / "examples"


def caption_photo(page, photo: Path, expected: str, shot: str) -> None:
    page.locator("#caption-image input[type=file]").set_input_files(str(photo))
    expect(page.locator("#caption-image img").first).to_be_visible(timeout=30_000)
    page.get_by_role("button", name="Caption", exact=True).click()
    expect(page.locator("#caption-text textarea")).to_have_value(re.compile(expected), timeout=120_000)
    expect(page.locator("#caption-details").get_by_text("What the classifier is sure of")).to_be_visible()
    page.wait_for_timeout(1_000)  # Grad-CAM beside it
    page.evaluate("document.querySelector('#caption-image').scrollIntoView({block: 'start'})")
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / shot), full_page=False)


def test_a_hedged_caption_and_a_two_object_caption(live_app):
    with studio_page(live_app, height=1500) as page:
        open_tab(page, "Captioning")
        caption_photo(page, EXAMPLES / "lizard.jpg", r"^a photo of a lizard, probably an agama or a chameleon",
                      "caption-hedged.png")
        expect(page.locator("#caption-details").get_by_text("sure of the kind")).to_be_visible()
        page.reload(wait_until="load")  # a fresh page: the image input empty again
        page.locator("#studio-header").wait_for(timeout=60_000)
        open_tab(page, "Captioning")
        caption_photo(page, EXAMPLES / "fruits.jpg", r"^a photo of a lemon and (perhaps )?an orange",
                      "caption-two-objects.png")
        assert page.locator(".toast-body").count() == 0  # no error, no traceback


def test_search_classify_names_the_kind_and_shows_what_is_sure(live_app):
    with studio_page(live_app, height=1200) as page:
        open_tab(page, "Search")
        page.get_by_role("tab", name="Classify", exact=True).click()
        page.locator("#classify-image input[type=file]").set_input_files(str(EXAMPLES / "lizard.jpg"))
        expect(page.locator("#classify-image img").first).to_be_visible(timeout=30_000)
        page.get_by_label("Labels (comma-separated)").fill("frog, bird, lizard, dog, snake")
        page.get_by_role("button", name="Classify", exact=True).click()
        seen = page.locator("#classify-seen")
        expect(seen.get_by_text("a photo of a lizard, probably an agama or a chameleon")).to_be_visible(timeout=120_000)
        expect(seen.get_by_text("sure of the kind")).to_be_visible()
        page.evaluate("document.querySelector('#classify-image').scrollIntoView({block: 'start'})")
        page.screenshot(path=str(SHOTS / "search-classify-seen.png"), full_page=False)
        assert page.locator(".toast-body").count() == 0
