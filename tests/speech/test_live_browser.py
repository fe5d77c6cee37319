"""Live captions as a person meets them, in headless Chromium: a real LibriVox reading is
played as the microphone (Chromium's fake capture device reads a WAV file), the Speech
tab's Live mode streams it to the app, and the transcript grows on the page while the
clip plays. Stop saves subtitles. Screenshot: speech-live.png."""
from __future__ import annotations

import re
import time
import wave
from pathlib import Path

import numpy as np
import pytest

from tests.speech_clips import LIBRIVOX_TEXT, word_recall
from tests.test_browser import CHROMIUM, FLAGS, SHOTS, expect, open_tab

pytestmark = [pytest.mark.browser, pytest.mark.slow]
ASSETS = Path(__file__).resolve().parents[2] / "assets" / "audio"


def reading_wav(dest: Path) -> Path:
    """The LibriVox clip at 48 kHz 16-bit mono (what a microphone delivers), with silence
    around it: Chromium loops the file, the silence keeps the loops apart."""
    from model_zoo.speech.audio import decode_audio

    speech = decode_audio(ASSETS / "librivox_sense_and_sensibility.ogg").samples
    samples = np.concatenate([np.zeros(8_000, np.float32), speech, np.zeros(16_000 * 6, np.float32)])
    at_48k = np.interp(np.arange(len(samples) * 3) / 3, np.arange(len(samples)), samples)
    with wave.open(str(dest), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(48_000)
        out.writeframes((np.clip(at_48k, -1, 1) * 32767).astype("<i2").tobytes())
    return dest


def start_recording(page, live) -> None:
    """Press Record. Gradio loads its WAV recorder module in the background after the page
    renders; a click before it arrives fails in the page ('... is not a constructor'), so
    on that error stop and press again."""
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    for _ in range(5):
        errors.clear()
        live.get_by_role("button", name=re.compile("^Record", re.I)).first.click()
        page.wait_for_timeout(2_000)
        if not any("constructor" in e for e in errors):
            return
        live.get_by_role("button", name=re.compile("^Stop$", re.I)).first.click()
        page.wait_for_timeout(2_000)
    pytest.fail(f"the microphone never started recording: {errors}")


def test_live_captions_grow_while_the_clip_plays(live_app, tmp_path):
    from playwright.sync_api import sync_playwright

    wav = reading_wav(tmp_path / "reading.wav")
    args = FLAGS + ["--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
                    f"--use-file-for-fake-audio-capture={wav}"]
    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=args)
        context = browser.new_context(viewport={"width": 1366, "height": 1300}, permissions=["microphone"])
        page = context.new_page()
        page.goto(live_app, wait_until="load")  # not networkidle: streaming keeps a heartbeat open
        open_tab(page, "Speech")
        live = page.locator("#speech-live")
        live.scroll_into_view_if_needed()
        start_recording(page, live)
        transcript = page.locator("#speech-live-text .live-transcript")
        # text appears while the clip is still playing (it lasts ~7 s), then keeps growing
        # first use on a fresh cache: the Whisper pack is joined and loaded first (a minute here)
        expect(transcript).to_have_text(re.compile(r"\w+"), timeout=240_000)
        seen = [transcript.inner_text()]
        # the reading keeps coming in (any words of it: what Whisper hears differs by machine and load)
        assert heard_on(page, transcript, 0.3, 90), seen
        seen.append(transcript.inner_text())
        assert heard_on(page, transcript, 0.7, 120), seen  # most of the sentence, to its end
        committed = page.locator("#speech-live-text .live-transcript").evaluate(
            "el => Array.from(el.childNodes).filter(n => n.nodeType === 3).map(n => n.textContent).join('')")
        seen.append(transcript.inner_text())
        assert len(seen[-1]) > len(seen[0]), seen  # it grew on screen
        assert word_recall(LIBRIVOX_TEXT, committed) >= 0.3, committed  # and words were committed, not just guessed
        page.screenshot(path=str(SHOTS / "speech-live.png"), full_page=True)
        page.locator("#speech-live-stop").click()
        expect(page.locator("#speech-live-text .live-captions")).to_have_attribute("data-state", "final",
                                                                                   timeout=120_000)
        expect(live.get_by_text(re.compile(r"live-.*\.srt"))).to_be_visible(timeout=60_000)
        browser.close()


def heard_on(page, transcript, share: float, timeout_s: float) -> bool:
    """Waits until the transcript on screen holds `share` of the reading's words."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if word_recall(LIBRIVOX_TEXT, transcript.inner_text()) >= share:
            return True
        page.wait_for_timeout(250)
    return False
