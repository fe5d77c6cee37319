"""Zero-shot labels: score an image against comma-separated labels with prompt
ensembling (each label's text vector is the mean over templates, as in the CLIP paper)."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np

from model_zoo.vision import engine as vision
from model_zoo.core.errors import InputError
from model_zoo.vision.images import load_image
from model_zoo.core.manager import ModelManager

MAX_LABELS = 64
# Prompt ensembling as in the CLIP paper: each label's text vector is the mean over templates.
DEFAULT_TEMPLATES = (
    "a photo of a {}.",
    "a close-up photo of a {}.",
    "a photo of the {}.",
    "a blurry photo of a {}.",
    "a black and white photo of a {}.",
    "a painting of a {}.",
)


@dataclass
class ClassifyResult:
    scores: dict[str, float]  # label -> probability, best first
    model: str
    templates: list[str]
    engine: str = "clip"  # clip | labels
    seen: list[dict] = field(default_factory=list)  # labels engine: the classifier's top ImageNet labels [{label, p}]
    certainty: str = ""  # labels engine: how sure the classifier is of the main object (seen.Seen)
    objects: list[dict] = field(default_factory=list)  # labels engine: seen.SeenObject dicts, main first
    described: str = ""  # labels engine: what the classifier sees, in words


def parse_labels(labels: str) -> list[str]:
    parsed = list(dict.fromkeys(part.strip() for part in (labels or "").split(",") if part.strip()))
    if len(parsed) < 2:
        raise InputError("Give at least two comma-separated labels, e.g. 'cat, dog, rocket'.")
    if len(parsed) > MAX_LABELS:
        raise InputError(f"Up to {MAX_LABELS} labels at a time; got {len(parsed)}.")
    return parsed


def parse_templates(templates: str | Sequence[str] | None, default: Sequence[str] = DEFAULT_TEMPLATES) -> list[str]:
    """Prompt templates, one per line, each with a '{}' where the label goes; empty -> `default`."""
    if isinstance(templates, str):
        templates = templates.splitlines()
    parsed = [t.strip() for t in (templates or ()) if t.strip()] or list(default)
    bad = [t for t in parsed if t.count("{}") != 1]
    if bad:
        raise InputError(f"Each prompt template needs exactly one '{{}}' for the label: {bad[0]!r}.")
    return parsed


def default_templates(manager: ModelManager) -> tuple[str, ...]:
    """The prompt templates the current engine reads labels best with: CLIP's ensemble, or
    the label bridge's own class-name templates (its labels live in a sentence space)."""
    return DEFAULT_TEMPLATES if vision.mode(manager) == "clip" else vision.RECIPE.templates


def classify(manager: ModelManager, image_file: str | Path, labels: str,
             templates: str | Sequence[str] | None = None) -> ClassifyResult:
    """Zero-shot: with CLIP, a softmax over the image's similarity to each label's
    prompt-ensembled text vector; with the label bridge, the classifier's class
    probabilities carried over to the labels (LabelBridge.label_probabilities)."""
    names = parse_labels(labels)
    image = load_image(image_file)
    seen: list[dict] = []
    reading_of = None
    with vision.open_engine(manager) as engine:
        prompts = parse_templates(templates, DEFAULT_TEMPLATES if engine.kind == "clip" else engine.recipe.templates)
        text = engine.embed_texts([t.format(name) for name in names for t in prompts])
        label_vectors = vision.unit_rows(text.reshape(len(names), len(prompts), -1).mean(axis=1))
        if engine.kind == "labels":
            reading = engine.read([image])
            probabilities = engine.label_probabilities(reading.probabilities[0], label_vectors, names)
            seen = [{"label": label, "p": round(p, 4)} for label, p in reading.top_labels[0]]
            reading_of = engine.seen(reading)
        else:
            logits = engine.logit_scale * (label_vectors @ engine.embed_images([image])[0])
            probabilities = np.exp(logits - logits.max())
            probabilities /= probabilities.sum()
        model_name, kind = engine.name, engine.kind
    order = np.argsort(-probabilities)
    scores = {names[i]: round(float(probabilities[i]), 6) for i in order}
    if reading_of is None:
        return ClassifyResult(scores, model_name, prompts, kind, seen)
    return ClassifyResult(scores, model_name, prompts, kind, seen, reading_of.certainty,
                          reading_of.object_dicts(), reading_of.caption)


# -- engines and re-indexing -------------------------------------------------------------
