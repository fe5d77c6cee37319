"""The Imagine tab as a visitor meets it, in headless Chromium: type a scene, generate
with the tiny random pipeline (loaded through the real loader), see the image with the
seed that made it, then "Caption it" hands the image to the Captioning tab, which opens
and captions it (label-based offline). The screenshot is the README's imagine.png."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.conftest import start_app, stop_app
from tests.test_browser import CHROMIUM, FLAGS, SHOTS, expect, open_tab
from model_zoo.testing.diffusion import save_tiny_diffusion

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture(scope="module")
def imagine_app(tmp_path_factory):
    pipeline = save_tiny_diffusion(tmp_path_factory.mktemp("tiny-diffusion-browser"))
    server, url = start_app(tmp_path_factory.mktemp("imagine-data"), "--models", f"diffusion={pipeline}")
    yield url
    stop_app(server)


def _set_slider(page, elem_id: str, value: int) -> None:
    box = page.locator(f"#{elem_id} input[type=number]")
    box.fill(str(value))
    box.press("Tab")


def test_generate_then_caption_it(imagine_app):
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail("Chromium is missing: apt-get install -y chromium chromium-driver (see packages-test.txt)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        page = browser.new_page(viewport={"width": 1366, "height": 1100})
        page.goto(imagine_app, wait_until="load", timeout=120_000)
        page.get_by_role("tab", name="Imagine", exact=True).wait_for(timeout=120_000)  # the app is drawn
        open_tab(page, "Imagine")
        assert page.get_by_text("No text-to-image weights").count() == 0  # the tiny pipeline is there
        page.locator("#imagine-prompt textarea").fill("an astronaut riding a horse on the moon")
        _set_slider(page, "imagine-width", 256)
        _set_slider(page, "imagine-height", 256)
        page.locator("#imagine-generate").click()
        expect(page.locator("#imagine-result img").first).to_be_visible(timeout=120_000)
        settings = page.locator("#imagine-settings")
        expect(settings).to_contain_text(re.compile(r"seed \d+ · 1 step · guidance 0"), timeout=30_000)
        seed_used = re.search(r"seed (\d+)", settings.inner_text()).group(1)
        assert page.locator("#imagine-seed input").input_value() == seed_used  # the seed used is shown
        assert page.locator(".toast-body").count() == 0
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / "imagine.png"), full_page=True)

        page.locator("#imagine-caption-it").click()
        captioning = page.get_by_role("tab", name="Captioning", exact=True)
        expect(captioning).to_have_attribute("aria-selected", "true", timeout=30_000)
        page.wait_for_function("document.querySelectorAll(\"img[src*='an-astronaut-riding']\").length >= 1",
                               timeout=30_000)  # the generated PNG, now the Captioning tab's input
        page.get_by_role("button", name="Caption", exact=True).click()
        expect(page.locator("#caption-text textarea")).to_have_value(
            re.compile(r"^(a photo of|an unclear picture)", re.I), timeout=120_000
        )
        assert page.locator(".toast-body").count() == 0
        browser.close()
