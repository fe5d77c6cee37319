"""Whisper through openai-whisper (the `whisper` package, PyTorch): fp16 on CUDA, fp32
elsewhere. Its weights, in order: a real `<size>.pt` (a local path, our cache or
openai-whisper's own), else the offline CTranslate2 pack converted once into
openai-whisper's model (ct2_whisper_convert, cached as safetensors), else (online) the
download openai-whisper does itself. torch and whisper are imported on load only."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from model_zoo.core import devices
from model_zoo.core import packs
from model_zoo.core.errors import WeightsUnavailable
from model_zoo.core.loading import LoadRequest
from model_zoo.core.registry import is_overridden
from model_zoo.core.weights import hub_offline
from model_zoo.core.checkpoints import CONVERTED_FOLDER, checkpoint_dirs, find_checkpoint
from model_zoo.speech.whisper_common import (
    DecodeOptions,
    ProgressFn,
    Recognition,
    Segment,
    Word,
    clean_text,
    tasks_after_detection,
)

# Imported first, under the import lock (model_zoo.core.backends): what `load` imports inside.
FIRST_IMPORTS = ("torch", "whisper", "whisper.model", "whisper.timing", "model_zoo.speech.ct2_whisper_convert")

__all__ = ["OpenAIWhisperRecognizer", "checkpoint_dirs", "find_checkpoint", "load"]


@dataclass
class OpenAIWhisperRecognizer:
    model: Any  # whisper.model.Whisper
    name: str
    device: str
    fp16: bool

    @property
    def nbytes(self) -> int:
        return devices.module_nbytes(self.model)

    @property
    def multilingual(self) -> bool:
        return bool(self.model.is_multilingual)

    def recognize(
        self,
        audio: np.ndarray,
        tasks: Sequence[str],
        language: str | None,
        options: DecodeOptions,
        progress: ProgressFn | None = None,
    ) -> Recognition:
        language, probability = self._language(audio, language)
        result = Recognition(language, probability)
        tasks = tasks_after_detection(tasks, language)
        for done, task in enumerate(tasks):
            if progress is not None:
                progress(done / len(tasks), f"{task} ({language})")
            result.segments[task] = self._run(audio, task, language, options)
        if progress is not None:
            progress(1.0, "done")
        return result

    def _language(self, audio: np.ndarray, language: str | None) -> tuple[str, float]:
        if language:
            return language, 1.0
        if not self.multilingual:
            return "en", 1.0
        import torch
        import whisper

        mel = whisper.log_mel_spectrogram(whisper.pad_or_trim(audio), self.model.dims.n_mels).to(self.device)
        with torch.inference_mode():
            _, probs = self.model.detect_language(mel.to(next(self.model.parameters()).dtype))
        code = max(probs, key=probs.get)
        return code, float(probs[code])

    def _run(self, audio: np.ndarray, task: str, language: str, options: DecodeOptions) -> list[Segment]:
        import whisper

        output = whisper.transcribe(
            self.model,
            audio,
            task=task,
            language=language,
            verbose=None,
            temperature=options.temperatures,
            compression_ratio_threshold=options.compression_ratio_threshold,
            logprob_threshold=options.log_prob_threshold,
            no_speech_threshold=options.no_speech_threshold,
            condition_on_previous_text=options.condition_on_previous_text,
            beam_size=options.beam_size if options.beam_size > 1 else None,
            best_of=options.best_of,
            sample_len=options.max_new_tokens,
            fp16=self.fp16,
            word_timestamps=options.word_timestamps and task == "transcribe",  # unreliable on translations
        )
        segments = []
        for item in output["segments"]:
            text = clean_text(item["text"])
            if text:
                words = tuple(Word(w["word"].strip(), round(float(w["start"]), 2), round(float(w["end"]), 2))
                              for w in item.get("words", ()) if w["word"].strip())
                segments.append(Segment(round(float(item["start"]), 2), round(float(item["end"]), 2), text, words))
        return segments


def load(request: LoadRequest) -> OpenAIWhisperRecognizer:
    spec = request.spec
    device = "cpu" if request.device.startswith("mps") else request.device  # sparse ops lack MPS kernels
    model, label = _weights(request, device)
    # whisper keeps fp32 weights and casts them per layer when decoding with fp16=True
    fp16 = device.startswith("cuda") and request.dtype == "float16"
    model.to(device).eval()
    _compile_word_timing()
    return OpenAIWhisperRecognizer(
        model=model, name=f"{spec.key} via openai-whisper ({label}, {'float16' if fp16 else 'float32'}, {device})",
        device=device, fp16=fp16,
    )


def _compile_word_timing() -> None:
    """numba compiles whisper's DTW (word timestamps) on first call, seconds on this CPU:
    pay that while the model loads, not inside a user's first request."""
    from whisper.timing import dtw_cpu

    dtw_cpu(np.zeros((2, 3), dtype=np.float64))  # whisper.timing.dtw hands it float64


def _weights(request: LoadRequest, device: str) -> tuple[Any, str]:
    """The model and a label saying where its weights came from."""
    spec = request.spec
    checkpoint = find_checkpoint(spec.source, request.cache_dir, request.whisper_dir)
    missing_pack = ""
    if checkpoint is None and spec.pack and not is_overridden(spec):
        try:
            return _converted(request), "converted from the CTranslate2 pack"
        except WeightsUnavailable as exc:
            missing_pack = f", the CTranslate2 pack it can be converted from is unusable: {exc.detail}"
    if checkpoint is None and hub_offline(request.offline):
        looked = ", ".join(
            str(folder / f"{spec.source}.pt") for folder in checkpoint_dirs(request.cache_dir, request.whisper_dir)
        )
        raise WeightsUnavailable(spec.key, f"no openai-whisper checkpoint was found (looked for {looked})"
                                 f"{missing_pack or '.'} And the app is offline.", spec.how_to_get)
    import whisper

    name = str(checkpoint) if checkpoint else spec.source  # online: whisper downloads and checks sha256
    model = whisper.load_model(name, device=device, download_root=str(Path(request.cache_dir) / "whisper"))
    return model, Path(spec.source).stem if checkpoint else spec.source


def _converted(request: LoadRequest) -> Any:
    """The pack's CTranslate2 Whisper as openai-whisper's model (converted once, cached)."""
    from model_zoo.speech.ct2_whisper_convert import load_or_explain

    spec = request.spec
    ct2_dir = packs.pack_dir(spec.pack, request.cache_dir)  # joined and sha256-checked once
    source_sha = packs.WHISPER_BASE_SHA256 if spec.pack == "whisper-base" else None
    return load_or_explain(ct2_dir, Path(request.cache_dir) / CONVERTED_FOLDER, spec.key, spec.how_to_get, source_sha)
