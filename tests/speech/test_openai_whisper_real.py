"""openai-whisper on real weights with no base.pt: Whisper base converted from the offline
CTranslate2 pack. On real speech it agrees with stock faster-whisper running the same pack
in float32 (same weights, same precision: what differs is only the runtime and our
conversion), and through /speech_translate of an app started with `--whisper-backend
openai-whisper` it reads a held-out LibriVox clip word for word."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from model_zoo.speech import service as speech
from tests.conftest import start_app, stop_app
from tests.speech_clips import LIBRIVOX_TEXT, word_error_rate

pytestmark = pytest.mark.slow
ASSETS = Path(__file__).resolve().parents[2] / "assets" / "audio"


@pytest.fixture(scope="module")
def no_base_pt(tmp_path_factory):
    """No openai-whisper checkpoint anywhere this test looks (real_manager looks in an empty
    folder; an app started here reads XDG_CACHE_HOME, as openai-whisper does)."""
    old = os.environ.get("XDG_CACHE_HOME")
    os.environ["XDG_CACHE_HOME"] = str(tmp_path_factory.mktemp("xdg-empty"))
    yield
    if old is None:
        os.environ.pop("XDG_CACHE_HOME", None)
    else:
        os.environ["XDG_CACHE_HOME"] = old


@pytest.fixture(scope="module")
def stock_float32(real_manager):
    """The stock library call on the pack itself, in float32 (the app runs int8 on CPU)."""
    from faster_whisper import WhisperModel

    from model_zoo.core import packs

    folder = packs.pack_dir("whisper-base", real_manager.config.cache_dir)
    return WhisperModel(str(folder), device="cpu", compute_type="float32", cpu_threads=2, local_files_only=True)


@pytest.mark.parametrize("clip", sorted(p.name for p in ASSETS.glob("*.ogg")))
def test_converted_model_agrees_with_faster_whisper(real_manager, stock_float32, no_base_pt, clip):
    ours = speech.speech_translate(real_manager, ASSETS / clip, task="transcribe", beam_size=1,
                                   backend="openai-whisper")
    assert "converted from the CTranslate2 pack" in ours.model
    pieces, info = stock_float32.transcribe(str(ASSETS / clip), task="transcribe", beam_size=1, temperature=0.0)
    reference = " ".join(p.text.strip() for p in pieces)
    assert ours.language == info.language
    assert word_error_rate(reference, ours.transcript) <= 0.05, (reference, ours.transcript)
    assert ours.segments and all(s["words"] for s in ours.segments)  # word times from the alignment heads
    words = [w for s in ours.segments for w in s["words"]]
    assert [w["start"] for w in words] == sorted(w["start"] for w in words)
    assert words[-1]["end"] <= ours.duration_s + 0.5


def test_librivox_through_the_live_endpoint(real_manager, tmp_path_factory, no_base_pt):
    """A live app on the openai-whisper backend, its cache seeded by hard links to this
    session's (tests.conftest.seed_packs: the pack is not joined and converted twice; the app
    re-checks both)."""
    from gradio_client import Client, handle_file

    data = tmp_path_factory.mktemp("openai-whisper-app")
    server, url = start_app(data, "--whisper-backend", "openai-whisper")
    try:
        client = Client(url, verbose=False)
        result = client.predict(handle_file(str(ASSETS / "librivox_sense_and_sensibility.ogg")), "translate",
                                "auto", 1, api_name="/speech_translate")
    finally:
        stop_app(server)
    assert "openai-whisper" in result["model"] and "converted from the CTranslate2 pack" in result["model"]
    assert result["language"] == "en"
    assert word_error_rate(LIBRIVOX_TEXT, result["translation"].replace("Mr.", "mister")) <= 0.05, result
    words = [w for segment in result["segments"] for w in segment["words"]]
    assert words and [w["start"] for w in words] == sorted(w["start"] for w in words)  # word times, in order
