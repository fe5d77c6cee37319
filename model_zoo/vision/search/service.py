"""Image-text search service: query a gallery by text, by image or by both. With galleries
(names, info, removal), indexing (adding images) and zero_shot (labels) beside it in
model_zoo.vision.search, whose package face lists them all, it is everything the Search tab
and its endpoints do; no gradio here.

The engine (model_zoo.vision.engine) is CLIP where its weights are, else the label bridge. A
gallery keeps the space it was built in and is always searched in it. Label-bridge
galleries hold a second, visual index (the classifier's features): image queries and
"more like this" search it, so they find look-alikes; image + text fuses the visual
similarity with the text similarity (standardised, weighted). Text queries also match the
text written in the images (read at indexing): the engine's similarity plus a boost for the
words the query wants written (`a sign that says bakery`, `"bakery"`, `bakery`); see
model_zoo.vision.search.text_match for the rule and why plain photos keep their scores.

Inputs are validated before any model loads (k, labels, the image itself, an empty
gallery), so a bad request gets its own error even where the CLIP weights are missing.
Imports faiss (via model_zoo.vision.search.gallery) lazily: importing this module stays cheap."""
from __future__ import annotations

import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

import numpy as np

from model_zoo.vision import engine as vision
# by its path: `from model_zoo.vision.search import text_match` would run the package, which imports this module
import model_zoo.vision.search.text_match as text_match
from model_zoo.core.errors import InputError
from model_zoo.vision.images import load_image
from model_zoo.core.manager import ModelManager
from model_zoo.vision.search.galleries import GalleryRegistry, open_gallery

if TYPE_CHECKING:
    from model_zoo.vision.search.gallery import Gallery

CLIP_KEY = vision.CLIP_KEY
MAX_K = 100


@dataclass
class SearchResult:
    results: list[dict]  # [{id, name, score, caption}] best first
    model: str
    gallery: str
    mode: str  # text | image | image+text | similar
    timing: dict  # {encode_ms, search_ms}
    engine: str = "clip"  # clip | labels
    note: str = ""


def check_k(k: int) -> int:
    if isinstance(k, bool) or not isinstance(k, (int, float)) or int(k) != k or not 1 <= k <= MAX_K:
        raise InputError(f"k (the number of results) must be a whole number from 1 to {MAX_K}; got {k!r}.")
    return int(k)


def compose_query(
    image_vector: np.ndarray | None, text_vector: np.ndarray | None, text_weight: float = 1.0
) -> np.ndarray:
    """The query vector: image, text, or the image vector plus the weighted text vector
    (an edit: 'this photo, but at night'), renormalised onto the unit sphere."""
    if image_vector is None and text_vector is None:
        raise InputError("Type a text query, upload a query image, or both.")
    if image_vector is None:
        vector = np.asarray(text_vector, np.float32)
    elif text_vector is None:
        vector = np.asarray(image_vector, np.float32)
    else:
        vector = np.asarray(image_vector, np.float32) + float(text_weight) * np.asarray(text_vector, np.float32)
    norm = float(np.linalg.norm(vector))
    if norm < 1e-8:
        raise InputError("The text and image cancel each other out at this weight; change the text weight.")
    return vector / norm


def search(
    manager: ModelManager,
    folder: Path,
    query: str = "",
    image_file: str | Path | None = None,
    k: int = 8,
    text_weight: float = 1.0,
    galleries: GalleryRegistry | None = None,
) -> SearchResult:
    """The gallery's top k for a text query, a query image, or both. `galleries`: the
    process's open galleries (StudioContext.galleries; without it the gallery is read from
    disk for this call alone)."""
    k = check_k(k)
    query = (query or "").strip()
    if not query and not image_file:
        raise InputError("Type a text query, upload a query image, or both.")
    if not 0 <= text_weight <= 10:
        raise InputError(f"The text weight must be between 0 and 10; got {text_weight}.")
    image = load_image(image_file) if image_file else None
    gallery = _nonempty(folder, galleries)
    mode = "image+text" if image is not None and query else ("image" if image is not None else "text")
    started = time.perf_counter()
    with vision.open_engine(manager, vision.space_engine(gallery.model)) as engine:
        gallery.check_model(engine.name, engine.dim)
        text_vector = engine.embed_texts([query])[0] if query else None
        image_vector = visual_vector = None
        if image is not None and engine.kind == "labels":
            reading = engine.read([image])
            image_vector, visual_vector = reading.semantic[0], reading.visual[0]
        elif image is not None:
            image_vector = engine.embed_images([image])[0]
        model_name, kind = engine.name, engine.kind
    encoded = time.perf_counter()
    with gallery.reading():
        if visual_vector is not None and gallery.has_visual:
            hits = _visual_hits(gallery, visual_vector, text_vector, text_weight, k)
        elif mode == "text":
            hits = _text_hits(gallery, compose_query(None, text_vector), query, k)
        else:
            hits = gallery.search(compose_query(image_vector, text_vector, text_weight), k)
    timing = {
        "encode_ms": round((encoded - started) * 1e3, 2),
        "search_ms": round((time.perf_counter() - encoded) * 1e3, 2),
    }
    note = _search_note(kind, mode)
    if any(hit.text and text_match.match(text_match.wanted_words(query), hit.text) for hit in hits if mode == "text"):
        note = (note + " " if note else "") + "Images whose written text holds the query's words come first."
    return SearchResult([asdict(hit) for hit in hits], model_name, gallery.name, mode, timing, kind, note)


def _text_hits(gallery: "Gallery", vector: np.ndarray, query: str, k: int) -> list:
    """A text query: the engine's top k, with the images whose text holds the query's words
    (text_match.matches) fused in: similarity + TEXT_BOOST x match. Only those images move;
    the others keep the engine's score and order."""
    found = text_match.matches(query, gallery.texts())
    if not found:
        return gallery.search(vector, k)
    hits = {hit.id: hit for hit in gallery.search(vector, min(len(gallery), k + len(found)))}
    for item_id in found:  # beyond the engine's top: its own similarity, from its stored vector
        if item_id not in hits:
            hits[item_id] = gallery.hit(item_id, float(np.dot(gallery.vector(item_id), vector)))
    fused = [replace(hit, score=text_match.fuse(hit.score, found[hit.id])) if hit.id in found else hit
             for hit in hits.values()]
    return sorted(fused, key=lambda hit: -hit.score)[:k]


def similar(manager: ModelManager, folder: Path, item_id: int, k: int = 8,
            galleries: GalleryRegistry | None = None) -> SearchResult:
    """"More like this": the gallery's own stored vector of one image as the query (the
    visual index where the gallery has one). No model loads. `galleries`: as for search."""
    k = check_k(k)
    gallery = _nonempty(folder, galleries)
    started = time.perf_counter()
    with gallery.reading():
        space = "visual" if gallery.has_visual else "main"
        hits = gallery.search(gallery.vector(int(item_id), space), k + 1, space)
    hits = [hit for hit in hits if hit.id != int(item_id)][:k]
    kind = vision.space_engine(gallery.model) or "clip"
    timing = {"encode_ms": 0.0, "search_ms": round((time.perf_counter() - started) * 1e3, 2)}
    return SearchResult([asdict(hit) for hit in hits], gallery.model or "", gallery.name, "similar", timing, kind,
                        _search_note(kind, "image"))


def _nonempty(folder: Path, galleries: GalleryRegistry | None) -> "Gallery":
    gallery = open_gallery(folder, galleries)
    if not len(gallery):
        raise InputError(f"Gallery '{gallery.name}' is empty: add images to it first (or load the sample gallery).")
    return gallery


def _visual_hits(gallery: "Gallery", visual_vector: np.ndarray, text_vector: np.ndarray | None,
                 text_weight: float, k: int) -> list:
    """Image query on a label-bridge gallery: look-alikes by the visual index; with text,
    the visual and the text similarities fused. Their cosines live on different scales,
    so each is standardised over the candidates (z-scores) and weighted: an image that
    stands out in one ranking (the query photo itself, the one photo of what the text
    names) is not drowned by images that are middling in both, as rank fusion would."""
    if text_vector is None or text_weight == 0:
        return gallery.search(visual_vector, k, "visual")
    depth = min(len(gallery), max(10 * k, 1000))
    by_image = {hit.id: hit for hit in gallery.search(visual_vector, depth, "visual")}
    by_text = {hit.id: hit for hit in gallery.search(text_vector, depth, "main")}
    hits = by_image | by_text
    candidates = list(hits)
    fused = (standardised([by_image[i].score if i in by_image else None for i in candidates])
             + float(text_weight) * standardised([by_text[i].score if i in by_text else None for i in candidates]))
    fused /= 1.0 + float(text_weight)
    best = np.argsort(-fused)[:k]
    return [replace(hits[candidates[n]], score=round(float(fused[n]), 4)) for n in best]


def standardised(scores: Sequence[float | None]) -> np.ndarray:
    """z-scores of a score list; a missing score (beyond the search depth) counts as the lowest seen."""
    known = [s for s in scores if s is not None]
    values = np.array([min(known) if s is None else s for s in scores], np.float64)
    spread = values.std()
    return (values - values.mean()) / spread if spread > 1e-12 else np.zeros_like(values)


def _search_note(kind: str, mode: str) -> str:
    if kind != "labels":
        return ""
    if mode == "text":
        return "Answered by the label bridge: your words are matched against the ImageNet labels seen in each photo."
    if mode == "image":
        return "Answered by the label bridge: look-alikes by the image classifier's visual features."
    return ("Answered by the label bridge: visual look-alikes and the text's label matches, "
            "each standardised, then weighed together.")


def engine_banner(manager: ModelManager) -> tuple[str, bool]:
    """(markdown, is_problem) for the tab: which engine answers and what CLIP would add,
    or, when no engine can run, what is missing and how to fix it. Cheap (no model loads)."""
    problem = vision.problem(manager)
    if problem is not None:
        return (f"**No image model can run here:** `{problem.model_key}`: {problem.detail} "
                f"How to fix: {problem.how_to_fix}"), True
    text = vision.describe(manager)
    if vision.mode(manager) == "labels":
        clip = manager.weights_problem(CLIP_KEY)
        if clip is not None:
            text += f" To use CLIP: {clip.how_to_fix}"
    return text, False
