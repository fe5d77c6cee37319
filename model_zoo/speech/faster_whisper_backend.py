"""Whisper through faster-whisper (CTranslate2): int8 on CPU, float16 on CUDA.

Clips that fit one Whisper window take a fast path: the log-mel features are encoded
once, over the clip plus a margin instead of a fixed 30 s window (CTranslate2's
encoder accepts any even frame count), and that one encoder output serves language
detection and every task. The stock `transcribe()` encodes a padded 30 s window for
language detection and again for each task: about 1.3 s each on 2 CPU cores, most of
the time for a 5 s clip. Longer audio goes through `transcribe()` with its Silero VAD."""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np
from faster_whisper import WhisperModel
from faster_whisper.audio import pad_or_trim
from faster_whisper.tokenizer import Tokenizer
from faster_whisper.transcribe import TranscriptionOptions, get_suppressed_tokens

from model_zoo.core.loading import LoadRequest
from model_zoo.core.weights import fetch_weights as fetch  # noqa: F401 (the manager calls it)
from model_zoo.core.weights import locate
from model_zoo.speech.whisper_common import (
    SAMPLE_RATE,
    DecodeOptions,
    ProgressFn,
    Recognition,
    Segment,
    clean_text,
    tasks_after_detection,
)

FULL_WINDOW_FRAMES = 3000  # 30 s of 10 ms mel frames: Whisper's native window


def encoder_window_frames(content_frames: int, options: DecodeOptions) -> int:
    """Frames to encode for a clip of `content_frames`: clip + margin, at least
    min_window_s, at most 30 s, even (the encoder's first conv has stride 2)."""
    wanted = max(content_frames + round(options.window_margin_s * 100), round(options.min_window_s * 100))
    wanted = min(FULL_WINDOW_FRAMES, wanted)
    return wanted + (wanted % 2)


@dataclass
class FasterWhisperRecognizer:
    model: WhisperModel
    name: str
    model_file: Path
    compute_type: str

    @property
    def nbytes(self) -> int:
        # CTranslate2 does not report its memory; the weights dominate. The file holds
        # float16 weights, int8 quantisation halves them once loaded.
        size = self.model_file.stat().st_size if self.model_file.is_file() else 0
        return size // 2 if self.compute_type.startswith("int8") else size

    @property
    def multilingual(self) -> bool:
        return bool(self.model.model.is_multilingual)

    def recognize(
        self,
        audio: np.ndarray,
        tasks: Sequence[str],
        language: str | None,
        options: DecodeOptions,
        progress: ProgressFn | None = None,
    ) -> Recognition:
        features = self.model.feature_extractor(audio)
        content_frames = features.shape[-1] - 1
        if content_frames + round(options.window_margin_s * 100) <= FULL_WINDOW_FRAMES:
            return self._one_window(features, content_frames, tasks, language, options, progress)
        return self._long(audio, tasks, language, options, progress)

    # -- a clip that fits one window: encode once, reuse for everything ----------------
    def _one_window(self, features, content_frames, tasks, language, options, progress) -> Recognition:
        window = encoder_window_frames(content_frames, options)
        encoder_output = self.model.encode(pad_or_trim(features[:, :content_frames], window))
        language, probability = self._language(encoder_output, language)
        result = Recognition(language, probability, encoder_window_s=window / 100)
        tasks = tasks_after_detection(tasks, language)
        for done, task in enumerate(tasks):
            _report(progress, done / len(tasks), f"{task} ({language})")
            tokenizer = Tokenizer(self.model.hf_tokenizer, self.multilingual, task=task, language=language)
            # generate_segments reuses encoder_output for the first window; if decoding
            # stops short of the end it encodes the rest with the stock 30 s padding.
            raw = self.model.generate_segments(
                features, tokenizer, transcription_options(tokenizer, options), False, encoder_output
            )
            result.segments[task] = _segments(raw)
        _report(progress, 1.0, "done")
        return result

    def _language(self, encoder_output, language: str | None) -> tuple[str, float]:
        if language:
            return language, 1.0
        if not self.multilingual:
            return "en", 1.0
        token, probability = self.model.model.detect_language(encoder_output)[0][0]
        return token[2:-2], float(probability)  # "<|de|>" -> "de"

    # -- long audio: stock windows, VAD, progress per segment --------------------------
    def _long(self, audio, tasks, language, options, progress) -> Recognition:
        duration = len(audio) / SAMPLE_RATE
        result: Recognition | None = None
        for done, task in enumerate(tasks):
            if result is not None and task not in tasks_after_detection(tasks, result.language):
                break
            segments, info = self.model.transcribe(
                audio,
                task=task,
                language=language,
                beam_size=options.beam_size,
                best_of=options.best_of,
                temperature=list(options.temperatures),
                compression_ratio_threshold=options.compression_ratio_threshold,
                log_prob_threshold=options.log_prob_threshold,
                no_speech_threshold=options.no_speech_threshold,
                condition_on_previous_text=options.condition_on_previous_text,
                max_new_tokens=options.max_new_tokens,
                vad_filter=options.vad_filter,
            )
            language = info.language  # detected once, reused by the next task
            if result is None:
                result = Recognition(info.language, float(info.language_probability))
            collected = []
            for segment in segments:  # a generator: decoding happens as we iterate
                collected.append(segment)
                share = min(1.0, segment.end / duration) if duration else 1.0
                _report(progress, (done + share) / len(tasks), f"{task}: {segment.end:.0f} s of {duration:.0f} s")
            result.segments[task] = _segments(collected)
        _report(progress, 1.0, "done")
        assert result is not None  # tasks is never empty
        return result


def transcription_options(tokenizer: Tokenizer, options: DecodeOptions) -> TranscriptionOptions:
    """The same options WhisperModel.transcribe() builds, from our DecodeOptions."""
    return TranscriptionOptions(
        beam_size=options.beam_size,
        best_of=options.best_of,
        patience=1.0,
        length_penalty=1.0,
        repetition_penalty=1.0,
        no_repeat_ngram_size=0,
        log_prob_threshold=options.log_prob_threshold,
        no_speech_threshold=options.no_speech_threshold,
        compression_ratio_threshold=options.compression_ratio_threshold,
        condition_on_previous_text=options.condition_on_previous_text,
        prompt_reset_on_temperature=0.5,
        temperatures=list(options.temperatures),
        initial_prompt=None,
        prefix=None,
        suppress_blank=True,
        suppress_tokens=get_suppressed_tokens(tokenizer, [-1]),
        without_timestamps=False,
        max_initial_timestamp=1.0,
        word_timestamps=False,
        prepend_punctuations="\"'“¿([{-",
        append_punctuations="\"'.。,，!！?？:：”)]}、",
        multilingual=False,
        max_new_tokens=options.max_new_tokens,
        clip_timestamps="0",
        hallucination_silence_threshold=None,
        hotwords=None,
    )


def _segments(raw) -> list[Segment]:
    out = []
    for segment in raw:
        text = clean_text(segment.text)
        if text:
            out.append(Segment(round(float(segment.start), 2), round(float(segment.end), 2), text))
    return out


def _report(progress: ProgressFn | None, fraction: float, what: str) -> None:
    if progress is not None:
        progress(fraction, what)


def cpu_threads() -> int:
    """One thread per core this process may run on (CTranslate2's default of 4 oversubscribes
    small machines), or OMP_NUM_THREADS where it is set, as torch honours it."""
    asked = os.environ.get("OMP_NUM_THREADS", "")
    if asked.isdigit() and int(asked) > 0:
        return int(asked)
    return max(1, min(len(os.sched_getaffinity(0)), 8))


def load(request: LoadRequest) -> FasterWhisperRecognizer:
    folder = locate(request.spec, request.cache_dir, request.offline)
    device = "cuda" if request.device.startswith("cuda") else "cpu"  # CTranslate2 has no MPS
    index = int(request.device.split(":")[1]) if ":" in request.device else 0
    compute_type = request.dtype if device == "cuda" else "int8"
    model = WhisperModel(
        folder,
        device=device,
        device_index=index,
        compute_type=compute_type,
        cpu_threads=cpu_threads() if device == "cpu" else 0,
        download_root=str(request.cache_dir / "faster-whisper"),
        local_files_only=request.offline or Path(folder).is_dir(),
    )
    return FasterWhisperRecognizer(
        model=model,
        name=f"{request.spec.key} via faster-whisper ({compute_type}, {device})",
        model_file=Path(folder) / "model.bin",
        compute_type=compute_type,
    )
