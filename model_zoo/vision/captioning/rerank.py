"""Reranking a captioner's candidates by the image engine (model_zoo.vision.engine: CLIP
where its weights are, else the label bridge): each candidate scored against the image,
the best match first. Where no engine can run, or reranking is off, the candidates keep
the captioner's own order (its confidence) and the note says why."""
from __future__ import annotations

from typing import Protocol, Sequence

import numpy as np
from PIL import Image

from model_zoo.vision import engine as vision
from model_zoo.vision.captioning.results import Candidate
from model_zoo.core.errors import WeightsUnavailable
from model_zoo.core.manager import ModelManager

CLIP_KEY = vision.CLIP_KEY
CLASSIFIER_KEY = vision.CLASSIFIER_KEY  # the label bridge's ImageNet classifier


class Draft(Protocol):
    """A caption as the captioner proposes it (backends.captioner.Generated)."""

    text: str
    confidence: float


def rerank(generated: Sequence[Draft], image_vector: np.ndarray, text_vectors: np.ndarray,
           logit_scale: float, kind: str = "clip") -> list[Candidate]:
    """Candidates ordered by the engine: cosine of unit-norm image and text embeddings,
    plus the softmax over candidates at its logit scale (how it would pick among them).
    The clip_* fields are filled only when the engine is CLIP."""
    similarities = text_vectors @ image_vector
    logits = logit_scale * similarities
    probabilities = np.exp(logits - logits.max())
    probabilities /= probabilities.sum()
    is_clip = kind == "clip"
    candidates = [
        Candidate(text=g.text, score=round(float(s), 4), confidence=round(float(g.confidence), 4),
                  clip_similarity=round(float(s), 4) if is_clip else None,
                  clip_probability=round(float(p), 4) if is_clip else None,
                  similarity=round(float(s), 4), probability=round(float(p), 4))
        for g, s, p in zip(generated, similarities, probabilities)
    ]
    return sorted(candidates, key=lambda c: c.score, reverse=True)


def by_confidence(generated: Sequence[Draft]) -> list[Candidate]:
    candidates = [Candidate(text=g.text, score=round(float(g.confidence), 4), confidence=round(float(g.confidence), 4))
                  for g in generated]
    return sorted(candidates, key=lambda c: c.score, reverse=True)


def score_candidates(
    manager: ModelManager, images: Sequence[Image.Image], groups: Sequence[Sequence[Draft]], use_clip: bool = True,
) -> tuple[list[list[Candidate]], str, str]:
    """(candidates per image, scored_by, note). The image engine (vision.open_engine: CLIP,
    else the label bridge) reranks when asked and able; otherwise the captioner's
    confidence orders them and the note says why. scored_by is the engine's kind
    ("clip" | "labels") or "captioner"."""
    if not use_clip:
        note = "Reranking is off: candidates keep the captioner's order."
        return [by_confidence(g) for g in groups], "captioner", note
    try:
        with vision.open_engine(manager) as engine:
            kind = getattr(engine, "kind", "clip")
            image_vectors = engine.embed_images(list(images))
            texts = [g.text for group in groups for g in group]
            text_vectors = engine.embed_texts(texts) if texts else np.zeros((0, engine.dim), np.float32)
            scale = float(engine.logit_scale)
    except WeightsUnavailable as exc:
        note = (f"Not reranked, so candidates keep the captioner's own order: the image engine cannot run on this "
                f"machine: {exc.detail} To rerank: {exc.how_to_fix}")
        return [by_confidence(g) for g in groups], "captioner", note
    reranked, start = [], 0
    for image_vector, group in zip(image_vectors, groups):
        reranked.append(rerank(group, image_vector, text_vectors[start : start + len(group)], scale, kind))
        start += len(group)
    return reranked, kind, (bridge_note(manager) if kind == "labels" else "")


def bridge_note(manager: ModelManager) -> str:
    """Why the label bridge reranked, what CLIP would do better, how to get CLIP."""
    clip_missing = manager.weights_problem(CLIP_KEY)
    why = ("CLIP weights are not on this machine" if clip_missing is not None
           else "the app runs with --vision labels")
    fix = (f" To use CLIP: {clip_missing.how_to_fix}" if clip_missing is not None
           else " Start with --vision auto (or clip) to use CLIP.")
    classifier = manager.spec(CLASSIFIER_KEY).description.split(" (")[0]
    return (f"Reranked by the label bridge (the ImageNet labels of the {classifier}, placed in a sentence space) "
            f"because {why}: it compares each candidate with the objects it "
            "recognises, not with the whole scene as CLIP would." + fix)
