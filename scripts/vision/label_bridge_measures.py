"""The label bridge sweeps' shared measures (scripts/vision/tune_label_bridge.py, scripts/vision/tune_second_step.py,
scripts/vision/evaluate_vision.py): the swept levels, the caption match written before any result was
seen, class prompts, cached prompt embeddings and classifier outputs, and the three scores."""
from __future__ import annotations

import itertools
import re
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

VARIANTS = ("efficientnet-lite0", "efficientnet-lite1", "efficientnet-lite2")
ENCODERS = ("mpnet", "minilm")
CROPS = (0.875, 1.0)
NORMS = ("tf", "imagenet")
TOP_TS = (1, 3, 5, 10, 20, 50)
TEMPERATURES = (0.5, 1.0, 2.0, 3.0)
QUERY = "a photo of a {}"  # the held-out test's query wording
CLIP6 = ("a photo of a {}.", "a close-up photo of a {}.", "a photo of the {}.", "a blurry photo of a {}.",
         "a black and white photo of a {}.", "a painting of a {}.")  # = model_zoo.vision.search.DEFAULT_TEMPLATES
CLASS_TEMPLATES = {
    "photo": ("a photo of a {}.",),
    "bare": ("{}",),
    "photo+bare": ("a photo of a {}.", "{}"),
    "photo3": ("a photo of a {}.", "a close-up photo of a {}.", "a photo of the {}."),
    "picture3": ("a photo of a {}.", "a picture of a {}.", "an image of a {}."),
    "clip6": CLIP6,
}
ZS_TEMPLATES = dict(CLASS_TEMPLATES, query=("a photo of a {}",))
NAME_SETS = ("clip", "clip+lemmas", "lemmas", "clip+gloss")
BASE = dict(variant="efficientnet-lite0", norm="tf", crop=0.875, encoder="mpnet", names="clip",
            templates="photo", top_t=10, temperature=1.0)  # the recipe as first written

# Caption matching, written down before looking at any result: beside a content word of the
# name, these ImageNet labels (open_clip names) count as naming the object.
_DOGS = range(151, 269)  # ImageNet's dog breeds
_BIRDS = (*range(7, 25), *range(80, 101), *range(127, 147))
_FRUIT = range(948, 958)  # Granny Smith .. pomegranate
_BUILDINGS = ("palace", "monastery", "prison", "library", "cinema", "restaurant", "church", "mosque", "castle",
              "boathouse", "barn", "dome", "planetarium", "greenhouse", "triumphal arch", "stupa", "bell tower")
_SHOPS = ("bakery", "barbershop", "bookstore", "butcher shop", "candy store", "shoe store", "tobacco shop",
          "toy store", "grocery store", "restaurant")
CAPTION_SYNONYMS: dict[str, tuple] = {
    "cat": ("egyptian mau",),
    "coffee cup": ("espresso",),
    "dog": _DOGS,
    "bird": _BIRDS,
    "butterfly": ("red admiral", "ringlet butterfly", "admiral", "ringlet"),
    "flower": ("daisy", "yellow lady's slipper"),
    "baboon": ("mandrill",),
    "fruit": _FRUIT,
    "apple": ("granny smith",),
    "potted plant": ("pot", "flowerpot", "vase"),
    "rocket": ("missile", "projectile", "space shuttle"),
    "motorcycle": ("moped", "motor scooter"),
    "temple": ("palace", "monastery", "stupa", "mosque", "church", "castle"),
    "palace": ("monastery", "stupa", "mosque", "church", "castle", "bell tower"),
    "building": _BUILDINGS,
    "house": _BUILDINGS,
    "shop": _SHOPS,
    "woman": ("military uniform",),
    "notebook": ("binder",),
    "lake": ("lakeshore", "lakeside"),
    "flag": ("flagpole",),
    "car": ("station wagon", "minivan", "convertible", "taxicab", "cab", "jeep", "limousine", "beach wagon", "grille"),
}
_STOP = {"a", "an", "the", "of"}
# Found after the first run: some synonyms above are WordNet names that open_clip spells
# differently ("binder" is "ring binder", "mandrill" is not a name there); a synonym therefore
# matches when all its words are in the label (the rule for the name's own words, for phrases).


def _words(text: str) -> set[str]:
    return {w[:-1] if w.endswith("s") and len(w) > 3 else w for w in re.findall(r"[a-z]+", text.lower())}


def caption_hit(name: str, label_index: int, labels: list[str]) -> bool:
    label = labels[label_index]
    if (_words(name) - _STOP) & _words(label):
        return True
    for synonym in CAPTION_SYNONYMS.get(name, ()):
        if synonym == label_index or (isinstance(synonym, str) and _words(synonym) <= _words(label)):
            return True  # a class index, or all words of a synonym phrase in the label
    return False


# -- class names ---------------------------------------------------------------------------------
def class_prompts(names: str, templates: tuple[str, ...], clip: list[str], lemmas: list[list[str]],
                  glosses: list[str]) -> list[list[str]]:
    """Per ImageNet class, the prompts whose embeddings are averaged into its vector."""
    out = []
    for index, name in enumerate(clip):
        if names == "clip":
            words = [name]
        elif names == "lemmas":
            words = lemmas[index]
        elif names == "clip+lemmas":
            words = list({w.lower(): w for w in reversed([name] + lemmas[index])}.values())[::-1]
        elif names == "clip+gloss":
            words = [name]
        else:
            raise ValueError(names)
        prompts = [t.format(w) for w in words for t in templates]
        if names == "clip+gloss":
            prompts.append(f"{name}: {glosses[index]}.")
        out.append(prompts)
    return out


def wordnet(clip_count: int = 1000) -> tuple[list[list[str]], list[str]]:
    """(lemmas per class, gloss per class) in ImageNet class order, from timm's offline files."""
    import timm

    info = Path(timm.__file__).parent / "data" / "_info"
    synsets = (info / "imagenet_synsets.txt").read_text().split()
    lemma = dict(line.split("\t", 1) for line in (info / "imagenet_synset_to_lemma.txt").read_text().splitlines())
    gloss = dict(line.split("\t", 1) for line in (info / "imagenet_synset_to_definition.txt").read_text().splitlines())
    assert len(synsets) == clip_count
    return (
        [[w.strip() for w in lemma[s].split(",") if w.strip()] for s in synsets],
        [gloss[s].strip() for s in synsets],
    )


# -- embeddings, cached per prompt ---------------------------------------------------------------
class PromptCache:
    """Unit-norm embeddings of prompt strings for one encoder, kept in an .npz."""

    def __init__(self, encoder, path: Path):
        self.encoder, self.path, self.vectors = encoder, path, {}
        if path.is_file():
            data = np.load(path, allow_pickle=False)
            self.vectors = dict(zip(data["prompts"].tolist(), data["vectors"]))
        self.seconds, self.embedded = 0.0, 0

    def get(self, prompts: list[str]) -> np.ndarray:
        missing = sorted({p for p in prompts if p not in self.vectors})
        if missing:
            started = time.perf_counter()
            vectors = self.encoder.embed_texts(missing, batch_size=64)
            self.seconds += time.perf_counter() - started
            self.embedded += len(missing)
            self.vectors.update(zip(missing, vectors))
            self.path.parent.mkdir(parents=True, exist_ok=True)
            keys = list(self.vectors)
            np.savez(self.path, prompts=np.array(keys), vectors=np.stack([self.vectors[k] for k in keys]))
        return np.stack([self.vectors[p] for p in prompts])


def unit(matrix: np.ndarray) -> np.ndarray:
    return matrix / np.maximum(np.linalg.norm(matrix, axis=-1, keepdims=True), 1e-12)


def grouped_vectors(cache: PromptCache, groups: list[list[str]]) -> np.ndarray:
    flat = [p for g in groups for p in g]
    vectors = cache.get(flat)
    out, start = [], 0
    for group in groups:
        out.append(vectors[start:start + len(group)].mean(axis=0))
        start += len(group)
    return unit(np.stack(out)).astype(np.float32)


# -- classifier outputs --------------------------------------------------------------------------
def norm_constants(norm: str):
    import torch

    if norm == "tf":
        return 127.0, 128.0
    mean = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1) * 255
    std = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1) * 255
    return mean, std


def classifier_outputs(manager, images, cache_file: Path) -> tuple[dict, list[str]]:
    """{(variant, norm, crop): probabilities (n, 1000)} and the class names. Kept in
    `cache_file` (keyed by the validation set's content), so a rerun skips the forward passes."""
    from model_zoo.vision import efficientnet_backend as backend

    labels = backend.imagenet_labels()
    if cache_file.is_file():
        data = np.load(cache_file, allow_pickle=False)
        return {(v, n, float(c)): data[f"{v}|{n}|{c}"] for v, n, c in itertools.product(VARIANTS, NORMS, CROPS)}, labels
    saved = backend.PIXEL_MEAN, backend.PIXEL_STD, backend.CROP_FRACTION
    probabilities = {}
    try:
        for variant in VARIANTS:
            with manager.use(variant) as classifier:
                for norm, crop in itertools.product(NORMS, CROPS):
                    backend.PIXEL_MEAN, backend.PIXEL_STD = norm_constants(norm)
                    backend.CROP_FRACTION = crop
                    probabilities[variant, norm, crop] = classifier.predict(images).probabilities
            manager.unload(variant)
    finally:
        backend.PIXEL_MEAN, backend.PIXEL_STD, backend.CROP_FRACTION = saved
    cache_file.parent.mkdir(parents=True, exist_ok=True)
    np.savez(cache_file, **{f"{v}|{n}|{c}": p for (v, n, c), p in probabilities.items()})
    return probabilities, labels


def forward_times(manager, images, repeats: int) -> dict[str, float]:
    """Median seconds per image of classifier.predict for each variant; the variants take
    turns (one warm-up round), so load from other processes hits them alike."""
    classifiers = {}
    import contextlib

    with contextlib.ExitStack() as stack:
        for variant in VARIANTS:
            classifiers[variant] = stack.enter_context(manager.use(variant))
        samples: dict[str, list[float]] = {v: [] for v in VARIANTS}
        for round_number in range(repeats + 1):
            for variant, classifier in classifiers.items():
                started = time.perf_counter()
                classifier.predict(images)
                if round_number:
                    samples[variant].append((time.perf_counter() - started) / len(images))
    return {v: float(np.median(x)) for v, x in samples.items()}


# -- metrics -------------------------------------------------------------------------------------
@dataclass
class Scores:
    r1: np.ndarray  # per item 0/1
    r5: np.ndarray
    zs: np.ndarray

    def objective(self) -> np.ndarray:
        return (self.r1 + self.r5 + self.zs) / 3


def evaluate(image_vectors: np.ndarray, query_vectors: np.ndarray, name_vectors: np.ndarray,
             name_index: np.ndarray) -> Scores:
    """query_vectors / name_vectors: one row per distinct name; name_index: each item's name row."""
    sims = query_vectors @ image_vectors.T  # (names, items)
    order = np.argsort(-sims, axis=1)
    relevant = name_index[order] == np.arange(len(query_vectors))[:, None]  # (names, items) by rank
    first = relevant.argmax(axis=1)
    r1 = (first[name_index] < 1).astype(float)
    r5 = (first[name_index] < 5).astype(float)
    zs = ((image_vectors @ name_vectors.T).argmax(axis=1) == name_index).astype(float)
    return Scores(r1, r5, zs)
