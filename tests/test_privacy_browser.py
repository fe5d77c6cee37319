"""Two visitors in two browser contexts (each its own localStorage, so its own visitor id)
on one private app: each adds a photo to a gallery of their own and sees only that
gallery; a reload keeps it; the other's gallery name is "no such gallery". Headless
Chromium (Debian's) through Playwright; CLIP is the tiny random model (same loader)."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.conftest import serve_in_process
from tests.test_browser import CHROMIUM, FLAGS, expect

pytestmark = [pytest.mark.browser, pytest.mark.slow]
SAMPLES = Path(__file__).resolve().parent.parent / "assets" / "gallery"


@pytest.fixture(scope="module")
def browser(tiny_clip_manager, tmp_path_factory):
    if not Path(CHROMIUM).exists():
        pytest.fail("Chromium is missing: apt-get install -y chromium chromium-driver (see packages-test.txt)")
    from playwright.sync_api import sync_playwright

    with serve_in_process(tmp_path_factory.mktemp("privacy-browser"), tiny_clip_manager) as url:
        with sync_playwright() as playwright:
            chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
            yield chromium, url
            chromium.close()


def open_search(page, url: str):
    # not "networkidle": a page with a gr.State keeps a heartbeat connection open
    page.goto(url, wait_until="load")
    page.get_by_role("tab", name="Search", exact=True).click(timeout=120_000)
    panel = page.get_by_role("tabpanel").filter(has_text="Load the sample gallery").first
    panel.get_by_label("Gallery", exact=True).wait_for()
    # the server-issued visitor id, kept (encrypted) in this browser's localStorage
    page.wait_for_function("() => localStorage.getItem('mms-visitor') !== null", timeout=60_000)
    return panel


def choose_gallery(panel, name: str) -> None:
    box = panel.get_by_label("Gallery", exact=True)
    box.fill(name)
    box.press("Enter")
    box.blur()


def gallery_choices(page, panel, expected: str, timeout_s: float = 60) -> set[str]:
    """The dropdown's choices once `expected` is among them (the page lists the visitor's
    own galleries when its load events have run: the visitor id, then the list)."""
    import time

    deadline = time.monotonic() + timeout_s
    while True:
        panel.get_by_label("Gallery", exact=True).click()
        options = page.get_by_role("option")
        options.first.wait_for()
        names = {text.strip() for text in options.all_inner_texts()}
        page.keyboard.press("Escape")
        if expected in names or time.monotonic() > deadline:
            return names
        page.wait_for_timeout(500)


def add_photo(page, panel, gallery: str, photo: Path) -> None:
    choose_gallery(panel, gallery)
    panel.get_by_role("tab", name="Add or remove images", exact=True).click()
    panel.locator("input[type=file][multiple]").first.set_input_files(str(photo))  # the uploads box (many files)
    page.wait_for_timeout(500)
    panel.get_by_role("button", name="Add to gallery", exact=True).click()
    expect(panel.get_by_text(re.compile(rf"gallery {gallery} now holds 1 images")).first).to_be_visible(timeout=120_000)


def test_two_browsers_each_see_only_their_own_gallery(browser):
    chromium, url = browser
    ann_context, bob_context = chromium.new_context(), chromium.new_context()
    ann, bob = ann_context.new_page(), bob_context.new_page()
    try:
        ann_panel, bob_panel = open_search(ann, url), open_search(bob, url)
        add_photo(ann, ann_panel, "ann-cats", SAMPLES / "cat.jpg")
        add_photo(bob, bob_panel, "bob-rockets", SAMPLES / "rocket.jpg")

        # A reload keeps each visitor's own gallery (the id lives in the browser) and no one else's.
        ann_panel, bob_panel = open_search(ann, url), open_search(bob, url)
        ann_sees, bob_sees = gallery_choices(ann, ann_panel, "ann-cats"), gallery_choices(bob, bob_panel, "bob-rockets")
        assert "ann-cats" in ann_sees and "bob-rockets" not in ann_sees
        assert "bob-rockets" in bob_sees and "ann-cats" not in bob_sees

        # Naming the other's gallery: as if it did not exist.
        choose_gallery(bob_panel, "ann-cats")
        bob_panel.get_by_label("Text query").fill("a cat")
        bob_panel.get_by_role("button", name="Search", exact=True).click()
        expect(bob.get_by_text(re.compile("No such gallery 'ann-cats'")).first).to_be_visible(timeout=60_000)
        choose_gallery(ann_panel, "ann-cats")
        ann_panel.get_by_label("Text query").fill("a cat")
        ann_panel.get_by_role("button", name="Search", exact=True).click()
        expect(ann_panel.get_by_text(re.compile(r"1 results · text query")).first).to_be_visible(timeout=60_000)
    finally:
        ann_context.close()
        bob_context.close()
