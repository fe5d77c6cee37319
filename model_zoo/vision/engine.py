"""The image-text engine every image feature runs on: CLIP where its weights are, else
the label bridge on weights that ship in pip packages.

Both engines have one surface (`embed_images`, `embed_texts`, `logit_scale`, `name`,
`dim`, `kind`), so search, zero-shot labels, caption reranking and the image modality of
sentiment are written once.

The label bridge is ConSE (Norouzi et al., "Zero-Shot Learning by Convex Combination of
Semantic Embeddings", ICLR 2014): an EfficientNet-Lite ImageNet classifier reads the
image; its top-T classes, weighted by their (temperature-sharpened) probabilities, are
averaged in a sentence encoder's space, where each class is the mean embedding of a few
prompts ("a photo of a tabby cat."). A text query is embedded by the same sentence
encoder, so any wording lands in the same space. Image-to-image search uses the
classifier's own pooled features instead (`read(...).visual`): look-alikes, not just
same-label images.

`--vision auto|clip|labels` (ManagerConfig.vision): auto is CLIP where its weights are
present (or downloadable), the label bridge otherwise. Importing this module is cheap."""
from __future__ import annotations

import hashlib
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator, Sequence

import numpy as np

from model_zoo.core.errors import WeightsUnavailable
from model_zoo.core.manager import ModelManager
from model_zoo.core.manager import Memo

VISION_MODES = ("auto", "clip", "labels")
CLIP_KEY = "clip"
CLASSIFIER_KEY = "efficientnet-lite0"
BRIDGE_TEXT_KEY = "mpnet"  # the sentence encoder whose space the labels are averaged in
BRIDGE_VERSION = 2  # bump when the recipe below changes: galleries record the space's name


@dataclass(frozen=True)
class BridgeRecipe:
    """How the label bridge turns class probabilities into a vector. Chosen on our own
    validation photos (scripts/vision/tune_label_bridge.py), never on a test set."""

    top_t: int = 20  # classes averaged per image
    temperature: float = 2.0  # probabilities ** (1 / temperature), renormalised over the top T
    templates: tuple[str, ...] = ("a photo of a {}.",)
    logit_scale: float = 20.0  # softmax scale over caption candidates the bridge reranks (labels: LABEL_SHARPNESS)

    def key(self) -> str:
        return hashlib.sha256(repr(self).encode()).hexdigest()[:12]


RECIPE = BridgeRecipe()
# How sharply a typed zero-shot label maps onto the ImageNet classes (LabelBridge.label_probabilities).
# Validation top-1 at 10/20/30/50/100: 0.62/0.66/0.70/0.68/0.66 (scripts/vision/evaluate_vision.py's photos).
LABEL_SHARPNESS = 30.0


KINDS_IN_LABELS = True  # LabelBridge.label_probabilities reads kind names through WordNet
KIND_CLASS_FLOOR = 0.02  # a kind's classes count where the image makes them this likely


def with_kinds(q: np.ndarray, names: Sequence[str], seen: np.ndarray) -> np.ndarray:
    """Each label's class weights, raised to the label's best weight on the classes of the
    WordNet kind(s) it names (model_zoo/vision/recognition/wordnet.py) that the image makes plausible
    (`seen`): the faint tail of 59 bird classes must not add up to "bird" on a blurry photo."""
    from model_zoo.vision.recognition.wordnet import shipped_hierarchy

    hierarchy = shipped_hierarchy()
    if hierarchy is None:
        return q
    q = q.copy()
    for row, name in enumerate(names):
        classes = sorted({c for kind in hierarchy.kinds_named(name) for c in kind.classes if seen[c]})
        if classes:
            q[row, classes] = np.maximum(q[row, classes], q[row].max())
    return q


@dataclass
class ImageReading:
    """What the label bridge sees in each image, from one forward pass."""

    semantic: np.ndarray  # (n, d) unit-norm ConSE vectors in the sentence encoder's space
    visual: np.ndarray  # (n, 1280) unit-norm pooled classifier features
    top_labels: list[list[tuple[str, float]]]  # per image: [(class name, probability)] best first
    probabilities: np.ndarray | None = None  # (n, 1000) the classifier's class probabilities
    regions: np.ndarray | None = None  # (n, 4, 1000) the same for four corner windows (seen.describe)


@dataclass
class LabelBridge:
    """The offline image-text engine (see the module docstring)."""

    classifier: Any  # backends.efficientnet_backend.ImageClassifier
    encoder: Any  # backends.text_encoder.SentenceEncoder
    class_vectors: np.ndarray  # (1000, d) unit-norm, one per ImageNet class
    recipe: BridgeRecipe = RECIPE
    kind: str = field(default="labels", init=False)

    @property
    def name(self) -> str:
        """The embedding space's identity (stored with galleries and heads)."""
        return f"labels:{self.classifier.name}>{self.encoder_name}:v{BRIDGE_VERSION}-{self.recipe.key()}"

    @property
    def encoder_name(self) -> str:
        return getattr(self.encoder, "name", None) or BRIDGE_TEXT_KEY

    @property
    def dim(self) -> int:
        return int(self.class_vectors.shape[1])

    @property
    def logit_scale(self) -> float:
        return self.recipe.logit_scale

    @property
    def labels(self) -> list[str]:
        return self.classifier.labels

    def read(self, images: Sequence[Any], top_k: int = 5) -> ImageReading:
        prediction = self.classifier.predict(list(images))
        probabilities = prediction.probabilities
        semantic = conse(probabilities, self.class_vectors, self.recipe.top_t, self.recipe.temperature)
        top = np.argsort(-probabilities, axis=1)[:, :top_k]
        labels = [[(self.labels[i], float(row[i])) for i in idx] for row, idx in zip(probabilities, top)]
        return ImageReading(semantic, unit_rows(prediction.features), labels, probabilities, prediction.regions)

    def seen(self, reading: ImageReading, index: int = 0) -> Any:
        """What image `index` of a reading shows, in words, with how sure (seen.Seen)."""
        from model_zoo.vision.recognition.seen import describe

        regions = None if reading.regions is None else reading.regions[index]
        return describe(reading.probabilities[index], regions, self.labels,
                        getattr(self.classifier, "region_names", ()))

    def label_probabilities(self, probabilities: np.ndarray, label_vectors: np.ndarray,
                            names: Sequence[str] = ()) -> np.ndarray:
        """Zero-shot labels for one image: P(label) proportional to sum over classes c of
        p(c | image) a(c | label). a is each typed label's softmax over the ImageNet classes
        by text similarity (at LABEL_SHARPNESS), so "hammer" reads as ImageNet's hammer-like
        classes; where a name is a WordNet kind above classes ("lizard", "dog"), each class
        of that kind gets at least the label's best similarity weight, so "lizard" covers
        the agama and the chameleon alike without outweighing a specific name. On our
        validation photos the softmax put the right name first for 0.70 against 0.62 for the
        ConSE cosine; the kinds' figures are in the README."""
        similarity = LABEL_SHARPNESS * (np.asarray(label_vectors, np.float64) @ self.class_vectors.T)
        q = np.exp(similarity - similarity.max(axis=1, keepdims=True))
        q /= q.sum(axis=1, keepdims=True)
        probabilities = np.asarray(probabilities, np.float64)
        if KINDS_IN_LABELS and len(names) == len(q) and len(self.labels) == 1000:
            q = with_kinds(q, names, probabilities >= KIND_CLASS_FLOOR)
        scores = q @ probabilities
        return scores / max(float(scores.sum()), 1e-300)

    def embed_images(self, images: Sequence[Any], batch_size: int = 32) -> np.ndarray:
        return self.read(images).semantic

    def embed_texts(self, texts: Sequence[str], batch_size: int = 64) -> np.ndarray:
        return self.encoder.embed_texts(list(texts), batch_size=batch_size)


def unit_rows(matrix: np.ndarray) -> np.ndarray:
    matrix = np.asarray(matrix, np.float32)
    return matrix / np.maximum(np.linalg.norm(matrix, axis=1, keepdims=True), 1e-12)


def conse(probabilities: np.ndarray, class_vectors: np.ndarray, top_t: int, temperature: float) -> np.ndarray:
    """(n, d) unit-norm convex combinations of each row's top-T class vectors, weighted by
    its probabilities sharpened by 1/temperature and renormalised over those T."""
    if temperature <= 0:
        raise ValueError(f"temperature must be positive, got {temperature}")
    probabilities = np.asarray(probabilities, np.float64)
    top_t = max(1, min(int(top_t), probabilities.shape[1]))
    top = np.argpartition(-probabilities, top_t - 1, axis=1)[:, :top_t]
    # p ** (1/T) renormalised, in log space: small temperatures would underflow to zero rows
    logits = np.log(np.maximum(np.take_along_axis(probabilities, top, axis=1), 1e-300)) / temperature
    weights = np.exp(logits - logits.max(axis=1, keepdims=True)) if len(logits) else logits
    weights /= np.maximum(weights.sum(axis=1, keepdims=True), 1e-12)
    vectors = np.einsum("nt,ntd->nd", weights, class_vectors[top])
    return unit_rows(vectors)


# -- class vectors: computed once per (encoder, names, templates), cached on disk -------------
# The default recipe's vectors ship with the app (scripts/vision/ship_class_vectors.py writes
# them; a test recomputes rows and compares): on CPU, embedding 1,000 prompts with MPNet
# takes tens of seconds that a first search should not pay.
SHIPPED_VECTORS = Path(__file__).resolve().parents[2] / "assets" / "vision"
def class_vectors_file(encoder_name: str, names: Sequence[str], templates: Sequence[str]) -> str:
    digest = hashlib.sha256(repr((encoder_name, tuple(names), tuple(templates))).encode()).hexdigest()[:16]
    return f"classes-{digest}.npy"


def class_vectors(encoder: Any, encoder_name: str, names: Sequence[str], templates: Sequence[str],
                  cache_dir: Path, memo: Memo, shipped_dir: Path = SHIPPED_VECTORS) -> np.ndarray:
    """(len(names), d) unit-norm: each name's mean embedding over the templates. Kept in
    `memo` (the manager's: once per app), shipped in assets/vision for the default recipe,
    else computed once into `cache_dir/label-bridge/` (atomic .npy)."""
    filename = class_vectors_file(encoder_name, names, templates)

    def build() -> np.ndarray:
        path = Path(cache_dir) / "label-bridge" / filename
        vectors = _read_npy(Path(shipped_dir) / filename, len(names))
        if vectors is None:
            vectors = _read_npy(path, len(names))
        if vectors is None:
            prompts = [template.format(name) for name in names for template in templates]
            embedded = encoder.embed_texts(prompts).reshape(len(names), len(templates), -1).mean(axis=1)
            vectors = unit_rows(embedded)
            write_npy(path, vectors)
        return vectors

    return memo.get(f"class-vectors/{filename}", build)


def _read_npy(path: Path, rows: int) -> np.ndarray | None:
    try:
        vectors = np.load(path, allow_pickle=False)
    except (OSError, ValueError, EOFError):
        return None
    return vectors if vectors.ndim == 2 and len(vectors) == rows and np.isfinite(vectors).all() else None


def write_npy(path: Path, vectors: np.ndarray) -> None:
    import io

    from model_zoo.core.storage import atomic_write_bytes

    buffer = io.BytesIO()
    np.save(buffer, vectors.astype(np.float32), allow_pickle=False)
    atomic_write_bytes(path, buffer.getvalue())


# -- which engine answers --------------------------------------------------------------------
def mode(manager: ModelManager) -> str:
    """'clip' or 'labels': the engine this manager's requests use now."""
    wanted = (getattr(manager.config, "vision", "auto") or "auto").lower()
    if wanted not in VISION_MODES:
        raise ValueError(f"unknown vision mode '{wanted}': one of {', '.join(VISION_MODES)}")
    if wanted != "auto":
        return wanted
    return "clip" if manager.weights_problem(CLIP_KEY) is None else "labels"


def engine_keys(manager: ModelManager, which: str | None = None) -> tuple[str, ...]:
    """Registry keys the engine loads."""
    return (CLIP_KEY,) if (which or mode(manager)) == "clip" else (CLASSIFIER_KEY, BRIDGE_TEXT_KEY)


@contextmanager
def open_engine(manager: ModelManager, which: str | None = None) -> Iterator[Any]:
    """The engine for this request, its models pinned for the block. `which` forces one
    (a gallery built in one space is searched in that space)."""
    which = which or mode(manager)
    if which == "clip":
        with manager.use(CLIP_KEY) as clip:
            yield clip
        return
    with ExitStack() as stack:
        classifier = stack.enter_context(manager.use(CLASSIFIER_KEY))
        encoder = stack.enter_context(manager.use(BRIDGE_TEXT_KEY))
        vectors = class_vectors(encoder, manager.spec(BRIDGE_TEXT_KEY).source, classifier.labels,
                                RECIPE.templates, Path(manager.config.cache_dir), manager.memo)
        yield LabelBridge(classifier, _Named(encoder, manager.spec(BRIDGE_TEXT_KEY).source), vectors)


@dataclass
class _Named:
    """A sentence encoder with the source it came from (part of the bridge's space name)."""

    inner: Any
    name: str

    def embed_texts(self, texts: Sequence[str], batch_size: int = 64) -> np.ndarray:
        return self.inner.embed_texts(texts, batch_size=batch_size)


def space_engine(space: str | None) -> str | None:
    """Which engine built a space name stored with a gallery or head (None: unknown/empty)."""
    if not space:
        return None
    return "labels" if space.startswith("labels:") else "clip"


def problem(manager: ModelManager, which: str | None = None) -> WeightsUnavailable | None:
    """Cheaply: why the engine cannot run here, or None."""
    for key in engine_keys(manager, which):
        found = manager.weights_problem(key)
        if found is not None:
            return found
    return None


def describe(manager: ModelManager, which: str | None = None) -> str:
    """One line for a tab: which engine answers and what CLIP would add."""
    which = which or mode(manager)
    if which == "clip":
        return f"Image engine: **CLIP** ({manager.spec(CLIP_KEY).source})."
    return (f"Image engine: **label bridge** ({manager.spec(CLASSIFIER_KEY).description.split(' (')[0]} "
            f"reads ImageNet labels, {BRIDGE_TEXT_KEY} places them in a text space). It knows the 1,000 "
            "ImageNet classes; CLIP would add open-vocabulary understanding (scenes, styles, text in "
            "images, things outside ImageNet).")

