"""One module per model family, each with `load(request) -> model`. Imported lazily so
startup never pays for torch, transformers or CTranslate2 before first use."""
from __future__ import annotations

import importlib
from typing import Any, Callable

LOADERS: dict[str, str] = {
    "faster_whisper": "model_zoo.speech.faster_whisper_backend",
    "openai_whisper": "model_zoo.speech.openai_whisper_backend",
    "sentence_encoder": "model_zoo.text.sentence_encoder",
    "open_clip": "model_zoo.vision.open_clip_backend",
    "efficientnet_lite": "model_zoo.vision.efficientnet_backend",
    "captioner": "model_zoo.vision.captioning.backend",
    "text_translator": "model_zoo.text.translator",
    "diffusion": "model_zoo.imagine.diffusion_backend",
    "ocr": "model_zoo.vision.ocr.backend",
    "zh_sentiment": "model_zoo.sentiment.chinese",
}


def loader_for(family: str) -> Callable[[Any], Any]:
    try:
        module = importlib.import_module(LOADERS[family])
    except KeyError:
        raise KeyError(f"no backend for model family '{family}'") from None
    return module.load
