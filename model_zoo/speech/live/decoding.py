"""How the live captioner decodes its window: the WindowDecoder it calls, the one over
either Whisper backend's recognizer, and the decoding options made for many small decodes."""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Protocol

import numpy as np

from model_zoo.speech.audio import SAMPLE_RATE
from model_zoo.speech.whisper_common import DecodeOptions, Segment


# -- what a decoder is --------------------------------------------------------------------
class WindowDecoder(Protocol):
    def __call__(self, audio: np.ndarray, task: str, language: str | None) -> tuple[str, list[Segment]]:
        """(language, segments with window-relative times) of 16 kHz mono `audio`."""
        ...


@dataclass
class RecognizerDecoder:
    """A WindowDecoder over either Whisper backend's SpeechRecognizer.recognize()."""

    recognizer: object
    options: DecodeOptions

    def __call__(self, audio: np.ndarray, task: str, language: str | None) -> tuple[str, list[Segment]]:
        # a token budget for the window's length: a repetition loop ("Had he married?" x 30
        # on a 1 s window) stops early instead of costing a full 200-token decode
        budget = min(self.options.max_new_tokens, int(16 + 8 * len(audio) / SAMPLE_RATE))
        options = replace(self.options, max_new_tokens=budget)
        recognition = self.recognizer.recognize(audio, (task,), language, options)
        segments = recognition.segments.get(task)
        if segments is None:  # English "translated": the backends transcribe it once
            segments = next(iter(recognition.segments.values()), [])
        return recognition.language, list(segments)


# -- options for many small decodes ----------------------------------------------------------
LIVE_MIN_WINDOW_S = 3.0  # a 1 s window encodes over 3 s, not the upload path's 10 s minimum


def live_decode_options(base: DecodeOptions) -> DecodeOptions:
    """The tab's decoding options made for many small decodes: greedy, no temperature
    fallback (a retry would double a step's time), and a short encoder window."""
    extra = {"word_timestamps": False} if hasattr(base, "word_timestamps") else {}  # openai-whisper's DTW
    return replace(base, beam_size=1, best_of=1, temperatures=(0.0,),
                   min_window_s=min(base.min_window_s, LIVE_MIN_WINDOW_S), **extra)
