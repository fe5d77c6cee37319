"""Real Whisper base (the offline CTranslate2 pack) on real and synthetic speech, and
/speech_translate end to end through gradio_client."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from model_zoo.speech import service as speech
from model_zoo.speech.whisper_common import DecodeOptions
from tests.conftest import serve_in_process
from tests.speech_clips import ENGLISH, GERMAN, GERMAN_MEANING, LIBRIVOX_TEXT, espeak, meaning_recall, word_error_rate

pytestmark = pytest.mark.slow
ASSETS = Path(__file__).resolve().parents[2] / "assets" / "audio"


@pytest.fixture(scope="module")
def clips(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("speech-clips")
    # en-us: espeak-ng's default British voice makes "The weather is nice" a near-tie for
    # Whisper base ("But when there is ice": WER 0 to 0.23 by window and beam on one CPU).
    return {"en": espeak(ENGLISH, "en-us", folder / "en.wav"), "de": espeak(GERMAN, "de", folder / "de.wav")}


def test_english_espeak_has_a_low_word_error_rate(real_manager, clips):
    result = speech.speech_translate(real_manager, clips["en"], task="transcribe", beam_size=5)
    assert result.language == "en" and result.language_probability > 0.8
    assert word_error_rate(ENGLISH, result.transcript) <= 0.15, result.transcript
    assert result.segments and result.segments[-1]["end"] <= result.duration_s + 0.5
    assert result.timing["encoder_window_s"] < 30  # the short-window fast path ran


def test_german_is_detected_and_translated(real_manager, clips):
    result = speech.speech_translate(real_manager, clips["de"], task="both", beam_size=5)
    assert result.language == "de", result
    assert word_error_rate(GERMAN, result.transcript) <= 0.25, result.transcript
    assert meaning_recall(GERMAN_MEANING, result.translation) >= 0.6, result.translation


def test_librivox_reading_word_for_word(real_manager):
    result = speech.speech_translate(real_manager, ASSETS / "librivox_sense_and_sensibility.ogg", beam_size=5)
    assert result.language == "en"
    assert word_error_rate(LIBRIVOX_TEXT, result.translation.replace("Mr.", "mister")) <= 0.05, result.translation


def test_short_window_matches_the_stock_30s_window(real_manager, clips):
    """The fast path must not cost accuracy: same words as Whisper's padded 30 s window."""
    fast = speech.speech_translate(real_manager, clips["de"], task="both", beam_size=1)
    stock = speech.speech_translate(real_manager, clips["de"], task="both", beam_size=1,
                                    options=DecodeOptions(min_window_s=30))
    assert stock.timing["encoder_window_s"] == 30 and fast.timing["encoder_window_s"] == 10
    assert fast.language == stock.language == "de"
    assert word_error_rate(stock.transcript, fast.transcript) <= 0.1
    assert word_error_rate(stock.translation, fast.translation) <= 0.25


def test_long_audio_goes_through_vad_with_progress(real_manager, clips, tmp_path):
    """Over 30 s: the stock windows with Silero VAD; the silence in between is skipped
    and the segment times still point into the original audio."""
    from tests.speech.test_speech import write_wav

    english = speech.load_clip(clips["en"], max_minutes=1)
    gap = np.zeros(16_000 * 30, dtype=np.float32)
    long_clip = write_wav(tmp_path / "long.wav", np.concatenate([english, gap, english]))
    seen: list[float] = []
    result = speech.speech_translate(real_manager, long_clip, task="transcribe", language="en", beam_size=1,
                                     progress=lambda fraction, what: seen.append(fraction))
    assert result.duration_s > 40 and result.timing["encoder_window_s"] == 30
    assert result.segments[0]["start"] < 2 and result.segments[-1]["start"] > 30  # real positions
    # both readings heard, however VAD groups them into segments
    assert word_error_rate(f"{ENGLISH} {ENGLISH}", result.transcript) <= 0.2, result.transcript
    assert seen == sorted(seen) and seen[-1] == pytest.approx(1.0)


def test_endpoint_through_gradio_client(tmp_path_factory, clips):
    """One client session: a bad file gets its message, then the server still serves."""
    from gradio_client import Client, handle_file

    data = tmp_path_factory.mktemp("speech-app")
    with serve_in_process(data) as url:
        client = Client(url, verbose=False)
        empty = data / "empty.wav"
        empty.write_bytes(b"")
        with pytest.raises(Exception, match="is empty"):
            client.predict(handle_file(str(empty)), "translate", "auto", 5, api_name="/speech_translate")
        result = client.predict(handle_file(str(clips["de"])), "both", "auto", 5, api_name="/speech_translate")
    assert result["language"] == "de" and 0.5 < result["language_probability"] <= 1
    assert meaning_recall(GERMAN_MEANING, result["translation"]) >= 0.6, result["translation"]
    assert result["segments"] and set(result["segments"][0]) == {"start", "end", "text"}
    assert result["timing"]["rtf"] > 0 and result["duration_s"] > 3 and "faster-whisper" in result["model"]
