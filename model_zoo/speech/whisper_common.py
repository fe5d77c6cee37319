"""The one interface both Whisper backends implement (Whisper-WebUI style): the speech
service talks to a `SpeechRecognizer` and never to faster-whisper or openai-whisper
directly. Plain dataclasses, no heavy imports, so the service can name these types."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Protocol, Sequence

import numpy as np

SAMPLE_RATE = 16_000
TASKS = ("transcribe", "translate")

# progress(fraction 0..1, what is happening)
ProgressFn = Callable[[float, str], None]


@dataclass(frozen=True)
class DecodeOptions:
    """Decoding settings shared by both backends. The defaults are Whisper's own
    guards against decoding loops and hallucinated text on silence."""

    beam_size: int = 5
    best_of: int = 5  # candidates sampled when falling back to temperature > 0
    temperatures: tuple[float, ...] = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)  # fallback ladder
    compression_ratio_threshold: float = 2.4  # gzip ratio above this = repetition loop: retry hotter
    log_prob_threshold: float = -1.0  # mean log-prob below this = unsure: retry hotter
    no_speech_threshold: float = 0.6  # P(no speech) above this (and unsure) = skip the window
    max_new_tokens: int = 200  # cap per 30 s window; Whisper's context is 448 incl. the prompt
    condition_on_previous_text: bool = True
    vad_filter: bool = True  # long audio: skip silence with faster-whisper's bundled Silero VAD
    # Shortest encoder window for a clip that fits one window (seconds). Whisper pads
    # every clip to 30 s; encoding only the clip plus a margin removes most of the fixed
    # cost on short clips. 30 restores the stock behaviour.
    min_window_s: float = 10.0
    window_margin_s: float = 2.0
    # openai-whisper: per-word times from its cross-attention alignment heads (DTW), for
    # subtitle cues of readable length and the tab's timeline. faster-whisper ignores it.
    word_timestamps: bool = True


@dataclass(frozen=True)
class Word:
    word: str
    start: float
    end: float


@dataclass(frozen=True)
class Segment:
    start: float
    end: float
    text: str
    words: tuple[Word, ...] = ()  # empty when the backend gives no word times


@dataclass
class Recognition:
    """What a backend returns: the language and, per task run, its segments."""

    language: str
    language_probability: float
    segments: dict[str, list[Segment]] = field(default_factory=dict)
    encoder_window_s: float = 30.0  # the window actually encoded for the first 30 s


class SpeechRecognizer(Protocol):
    name: str  # shown in results, e.g. "faster-whisper base (int8, cpu)"

    @property
    def nbytes(self) -> int: ...

    @property
    def multilingual(self) -> bool: ...

    def recognize(
        self,
        audio: np.ndarray,
        tasks: Sequence[str],
        language: str | None,
        options: DecodeOptions,
        progress: ProgressFn | None = None,
    ) -> Recognition:
        """Detect the language (when `language` is None) and run each task on 16 kHz
        mono float32 `audio`."""
        ...


def clean_text(text: str) -> str:
    return " ".join(text.split())


def join_segments(segments: Sequence[Segment]) -> str:
    return " ".join(s.text for s in segments if s.text).strip()


def tasks_after_detection(tasks: Sequence[str], language: str) -> tuple[str, ...]:
    """English speech: Whisper's translation is its transcript, so decode it once
    (the service reads the transcript as the translation)."""
    if language == "en":
        return ("transcribe",)
    return tuple(tasks)
