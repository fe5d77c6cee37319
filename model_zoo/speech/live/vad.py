"""Speech and silence in the live window: Silero VAD spans (faster-whisper's bundled model)
and where to cut the window (inside a pause, not mid-word)."""
from __future__ import annotations

import threading

import numpy as np

from model_zoo.speech.audio import SAMPLE_RATE

PAD = SAMPLE_RATE // 5  # 200 ms kept after the last speech when decoding up to a pause


def snap_to_silence(at: int, speech: list[tuple[int, int]], reach: int = int(0.5 * SAMPLE_RATE)) -> int:
    """Whisper's segment times are approximate: cut the window inside the VAD pause next
    to `at` (just before the next speech starts) rather than mid-word."""
    for (_, end), (nxt, _) in zip(speech, speech[1:]):
        if end - reach <= at <= nxt + reach:
            return max(end, nxt - PAD // 2)
    return at


_VAD_LOCK = threading.Lock()


def silero_speech(audio: np.ndarray, threshold: float = 0.5) -> list[tuple[int, int]]:
    """Speech spans (sample indices) by faster-whisper's bundled Silero VAD, tuned for
    live use: short pauses count (300 ms), little padding."""
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    options = VadOptions(threshold=threshold, min_silence_duration_ms=300, speech_pad_ms=100,
                         min_speech_duration_ms=150)
    with _VAD_LOCK:  # one ONNX session is shared by every caller
        spans = get_speech_timestamps(audio, options)
    return [(int(s["start"]), int(s["end"])) for s in spans]
