"""One module per model family, each with `load(request) -> model`. Imported lazily so
startup never pays for torch, transformers or CTranslate2 before first use.

A backend module may declare `FIRST_IMPORTS`: the libraries its load would otherwise import
for the first time inside `load` (lazy classes of transformers or diffusers, a library
imported inside a function). `loader_for` imports them with the module, which the manager
does under the import lock (model_zoo.core.imports), so that `load` itself (downloads, weight
reads) runs outside it.

A backend module may also declare `fetch(request)`: bring the weights onto the disk (a hub
download, a pack joined) without building a model. The manager runs it outside the build
lock (model_zoo.core.imports.building), so a download never holds up another model's build.
"""
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
    """The family's `load`, its module and declared FIRST_IMPORTS imported."""
    from model_zoo.core.imports import import_all

    try:
        module = importlib.import_module(LOADERS[family])
    except KeyError:
        raise KeyError(f"no backend for model family '{family}'") from None
    import_all(getattr(module, "FIRST_IMPORTS", ()))
    return module.load


def fetcher_for(family: str) -> Callable[[Any], None] | None:
    """The family's `fetch`, or None where its load has nothing to bring first."""
    return getattr(importlib.import_module(LOADERS[family]), "fetch", None) if family in LOADERS else None
