"""Whisper through openai-whisper (the `whisper` package, PyTorch): fp16 on CUDA, fp32
elsewhere. It needs its own `<size>.pt` checkpoint, which no pip package ships: offline
without one, loading says where it looked and how to get it. torch and whisper are
imported on load, so `find_checkpoint` stays cheap for the tab's banner."""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from .. import devices
from ..errors import WeightsUnavailable
from ..manager import LoadRequest
from ..weights import hub_offline
from .whisper_common import DecodeOptions, ProgressFn, Recognition, Segment, clean_text, tasks_after_detection


def checkpoint_dirs(cache_dir: Path) -> list[Path]:
    """Where a `<size>.pt` may be: our cache, then openai-whisper's own default."""
    default = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "whisper"
    return [Path(cache_dir) / "whisper", default]


def find_checkpoint(source: str, cache_dir: Path) -> Path | None:
    """A local checkpoint for `source` (a .pt path or a size name like "base")."""
    path = Path(source).expanduser()
    if path.is_file():
        return path
    for folder in checkpoint_dirs(cache_dir):
        if (folder / f"{source}.pt").is_file():
            return folder / f"{source}.pt"
    return None


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
        )
        segments = []
        for item in output["segments"]:
            text = clean_text(item["text"])
            if text:
                segments.append(Segment(round(float(item["start"]), 2), round(float(item["end"]), 2), text))
        return segments


def load(request: LoadRequest) -> OpenAIWhisperRecognizer:
    spec = request.spec
    checkpoint = find_checkpoint(spec.source, request.cache_dir)
    if checkpoint is None and hub_offline(request.offline):
        looked = ", ".join(str(folder / f"{spec.source}.pt") for folder in checkpoint_dirs(request.cache_dir))
        raise WeightsUnavailable(
            spec.key, f"no openai-whisper checkpoint was found (looked for {looked}) and the app is offline.", spec.how_to_get
        )
    import whisper

    device = "cpu" if request.device.startswith("mps") else request.device  # sparse ops lack MPS kernels
    name = str(checkpoint) if checkpoint else spec.source  # online: whisper downloads and checks sha256
    model = whisper.load_model(name, device=device, download_root=str(Path(request.cache_dir) / "whisper"))
    # whisper keeps fp32 weights and casts them per layer when decoding with fp16=True
    fp16 = device.startswith("cuda") and request.dtype == "float16"
    model.eval()
    label = Path(spec.source).stem if checkpoint else spec.source
    return OpenAIWhisperRecognizer(
        model=model, name=f"{spec.key} via openai-whisper ({label}, {'float16' if fp16 else 'float32'}, {device})",
        device=device, fp16=fp16,
    )
