"""The image-text engine (model_zoo.vision.engine): the ConSE arithmetic of the label bridge,
class vectors computed once and cached on disk, which engine answers (auto/clip/labels),
and the label bridge end to end on a random EfficientNet and a tiny text encoder.
Slow: with the packaged real weights, text finds the right sample photo."""
from __future__ import annotations

import hashlib
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from model_zoo.vision import engine as vision
from model_zoo.core.errors import WeightsUnavailable
from model_zoo.core.manager import ManagerConfig, ModelManager
from model_zoo.core.manager import Memo
from model_zoo.vision.engine import conse, unit_rows

GALLERY = Path(__file__).resolve().parents[2] / "assets" / "gallery"
LITE0 = "efficientnet-lite0"


# -- ConSE ------------------------------------------------------------------------------------
def basis(classes: int, dim: int) -> np.ndarray:
    return np.eye(classes, dim, dtype=np.float32)


def test_top_one_is_the_top_class_vector():
    vectors = unit_rows(np.random.default_rng(0).normal(size=(5, 8)))
    probabilities = np.array([[0.1, 0.6, 0.1, 0.1, 0.1], [0.05, 0.05, 0.05, 0.05, 0.8]])
    out = conse(probabilities, vectors, top_t=1, temperature=1.0)
    assert np.allclose(out, vectors[[1, 4]], atol=1e-6)


def test_weights_are_renormalised_over_the_top_t():
    probabilities = np.array([[0.6, 0.3, 0.1]])
    out = conse(probabilities, basis(3, 4), top_t=2, temperature=1.0)
    expected = np.array([0.6, 0.3, 0, 0]) / np.linalg.norm([0.6, 0.3])
    assert np.allclose(out[0], expected, atol=1e-6)
    assert out[0, 2] == 0  # the third class is outside the top 2
    sharpened = conse(probabilities, basis(3, 4), top_t=2, temperature=0.5)  # p ** 2
    assert np.allclose(sharpened[0], np.array([0.36, 0.09, 0, 0]) / np.linalg.norm([0.36, 0.09]), atol=1e-6)


def test_lower_temperature_is_closer_to_the_top_class():
    rng = np.random.default_rng(1)
    vectors = np.linalg.qr(rng.normal(size=(16, 10)))[0].T  # orthonormal classes: cosine = w_top / |w|
    probabilities = rng.dirichlet(np.ones(10), size=4)
    top = vectors[np.argmax(probabilities, axis=1)]
    similarity = [np.sum(conse(probabilities, vectors, 10, t) * top, axis=1) for t in (4.0, 1.0, 0.5, 0.2, 0.1)]
    assert all(np.all(a < b) for a, b in zip(similarity, similarity[1:]))
    assert np.all(similarity[-1] > 0.95)  # almost only the top class
    flat = conse(probabilities, vectors, 10, 1e6)  # very hot: the plain mean of the top T
    assert np.allclose(flat, unit_rows(np.repeat(vectors.mean(axis=0, keepdims=True), 4, axis=0)), atol=1e-4)


@pytest.mark.parametrize("temperature", [0.05, 0.01])
def test_very_low_temperature_is_the_top_class_not_zero(temperature):
    """Sharpening by p ** (1 / T) underflows for small T; the result must still be the
    (unit) top-class vector, never a zero row that matches nothing."""
    rng = np.random.default_rng(1)
    vectors = unit_rows(rng.normal(size=(1000, 16)))
    probabilities = rng.dirichlet(np.ones(1000), size=3)  # an unsure classifier: top p about 0.01
    probabilities[0] = 0
    probabilities[0, [7, 8]] = [0.6, 0.4]  # a sure one
    out = conse(probabilities, vectors, 10, temperature)
    assert np.allclose(np.linalg.norm(out, axis=1), 1, atol=1e-5)
    assert np.all(np.sum(out * vectors[np.argmax(probabilities, axis=1)], axis=1) > 0.9)


def test_rows_are_unit_norm_and_finite():
    rng = np.random.default_rng(2)
    vectors = unit_rows(rng.normal(size=(50, 12)))
    probabilities = rng.dirichlet(np.ones(50) * 0.3, size=7)
    for top_t in (1, 3, 10, 50):
        out = conse(probabilities, vectors, top_t, 1.0)
        assert out.shape == (7, 12) and out.dtype == np.float32
        assert np.allclose(np.linalg.norm(out, axis=1), 1, atol=1e-5)


def test_edge_cases_top_t_and_ties():
    vectors = unit_rows(np.random.default_rng(3).normal(size=(3, 6)))
    probabilities = np.array([[0.5, 0.3, 0.2]])
    everything = conse(probabilities, vectors, 3, 1.0)
    assert np.allclose(conse(probabilities, vectors, 100, 1.0), everything)  # capped at the class count
    assert np.allclose(conse(probabilities, vectors, 0, 1.0), vectors[[0]], atol=1e-6)  # at least one
    tie = np.array([[0.45, 0.45, 0.1]])
    one = conse(tie, vectors, 1, 1.0)
    assert np.allclose(one, vectors[[0]], atol=1e-6) or np.allclose(one, vectors[[1]], atol=1e-6)
    both = conse(tie, vectors, 2, 1.0)
    assert np.allclose(both[0], unit_rows(vectors[[0]] + vectors[[1]])[0], atol=1e-6)
    assert conse(np.zeros((0, 3)), vectors, 2, 1.0).shape == (0, 6)
    dead = conse(np.zeros((1, 3)), vectors, 2, 1.0)  # no probability mass at all: finite, not NaN
    assert np.isfinite(dead).all()


# -- class vectors: once, on disk --------------------------------------------------------------
class CountingEncoder:
    """Deterministic fake sentence encoder: a fixed random vector per prompt."""

    def __init__(self, dim: int = 6, delay: float = 0.0) -> None:
        self.dim, self.delay, self.calls, self.prompts = dim, delay, 0, []

    def vector(self, text: str) -> np.ndarray:
        seed = int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "little")
        return np.random.default_rng(seed).normal(size=self.dim).astype(np.float32)

    def embed_texts(self, texts, batch_size: int = 64) -> np.ndarray:
        self.calls += 1
        self.prompts.append(list(texts))
        time.sleep(self.delay)
        return unit_rows(np.stack([self.vector(t) for t in texts]))


class RefusingEncoder:
    def embed_texts(self, texts, batch_size: int = 64):
        raise AssertionError("the cached class vectors should have been used")


NAMES = ("tabby cat", "espresso", "rocket")
TEMPLATES = ("a photo of a {}.", "a {}.")


@pytest.fixture
def fresh_memory() -> Memo:
    """As a new app would start: no class vectors in memory."""
    return Memo()


def cache_files(cache: Path) -> list[Path]:
    folder = cache / "label-bridge"
    return sorted(folder.iterdir()) if folder.is_dir() else []


def test_class_vectors_are_computed_once_and_cached(tmp_path, fresh_memory, monkeypatch):
    from model_zoo.core import storage

    writes = []
    real_write = storage.atomic_write_bytes
    monkeypatch.setattr(storage, "atomic_write_bytes", lambda path, data, *a, **k: (writes.append(Path(path)),
                                                                                    real_write(path, data, *a, **k)))
    encoder = CountingEncoder()
    vectors = vision.class_vectors(encoder, "fake-encoder", NAMES, TEMPLATES, tmp_path, fresh_memory)
    assert vectors.shape == (3, 6) and np.allclose(np.linalg.norm(vectors, axis=1), 1, atol=1e-6)
    assert encoder.calls == 1 and encoder.prompts[0] == [t.format(n) for n in NAMES for t in TEMPLATES]
    per_template = unit_rows(np.stack([encoder.vector(t.format("espresso")) for t in TEMPLATES]))
    assert np.allclose(vectors[1], unit_rows(per_template.mean(axis=0, keepdims=True))[0], atol=1e-6)

    assert vision.class_vectors(encoder, "fake-encoder", NAMES, TEMPLATES, tmp_path, fresh_memory) is vectors
    assert encoder.calls == 1  # memory
    files = cache_files(tmp_path)
    assert len(files) == 1 and files[0].suffix == ".npy" and files[0].name.startswith("classes-")
    assert writes == files  # through the atomic writer, to its final name; no temp file left
    on_disk = np.load(files[0], allow_pickle=False)
    assert on_disk.dtype == np.float32 and np.allclose(on_disk, vectors)

    again = vision.class_vectors(RefusingEncoder(), "fake-encoder", NAMES, TEMPLATES, tmp_path,
                                 Memo())  # a new app: read back, no encoder
    assert np.allclose(again, vectors)


def test_another_encoder_names_or_templates_is_another_entry(tmp_path, fresh_memory):
    encoder = CountingEncoder()
    vision.class_vectors(encoder, "fake-encoder", NAMES, TEMPLATES, tmp_path, fresh_memory)
    vision.class_vectors(encoder, "other-encoder", NAMES, TEMPLATES, tmp_path, fresh_memory)
    vision.class_vectors(encoder, "fake-encoder", NAMES[:2], TEMPLATES, tmp_path, fresh_memory)
    vision.class_vectors(encoder, "fake-encoder", NAMES, TEMPLATES[:1], tmp_path, fresh_memory)
    assert encoder.calls == 4 and len(cache_files(tmp_path)) == 4


def _corrupt(kind: str, path: Path) -> None:
    if kind == "garbage":
        path.write_bytes(b"\x00garbage" * 100)
    elif kind == "empty":
        path.write_bytes(b"")
    elif kind == "truncated":
        path.write_bytes(path.read_bytes()[:-20])
    elif kind == "wrong-rows":
        np.save(path, np.ones((2, 6), np.float32))
    elif kind == "nan":
        np.save(path, np.full((3, 6), np.nan, np.float32))
    elif kind == "one-dimensional":
        np.save(path, np.ones(18, np.float32))
    elif kind == "pickled-objects":
        np.save(path, np.array([{"a": 1}, None, 3], dtype=object), allow_pickle=True)
    else:
        raise AssertionError(kind)


@pytest.mark.parametrize("kind", ["garbage", "empty", "truncated", "wrong-rows", "nan", "one-dimensional",
                                  "pickled-objects"])
def test_a_corrupt_cache_file_is_ignored_and_rewritten(kind, tmp_path, fresh_memory):
    first = vision.class_vectors(CountingEncoder(), "fake-encoder", NAMES, TEMPLATES, tmp_path, Memo())
    (path,) = cache_files(tmp_path)
    _corrupt(kind, path)
    encoder = CountingEncoder()
    vectors = vision.class_vectors(encoder, "fake-encoder", NAMES, TEMPLATES, tmp_path, fresh_memory)
    assert encoder.calls == 1 and np.allclose(vectors, first, atol=1e-6)
    assert np.allclose(np.load(path, allow_pickle=False), first, atol=1e-6)  # rewritten whole


def test_concurrent_first_uses_embed_once(tmp_path, fresh_memory):
    encoder = CountingEncoder(delay=0.2)
    results = []
    threads = [threading.Thread(target=lambda: results.append(
        vision.class_vectors(encoder, "fake-encoder", NAMES, TEMPLATES, tmp_path, fresh_memory))) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert encoder.calls == 1 and len(results) == 4 and all(r is results[0] for r in results)


# -- which engine answers ----------------------------------------------------------------------
@pytest.fixture
def no_clip_anywhere(tmp_path, monkeypatch):
    """No CLIP in the hub cache or the environment, whatever this machine holds."""
    import huggingface_hub.constants

    hub = tmp_path / "hub"
    hub.mkdir()
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(hub))
    monkeypatch.delenv("MMS_MODEL_CLIP", raising=False)
    return hub


def manager(tmp_path: Path, vision_mode: str = "auto", offline: bool = True, **overrides) -> ModelManager:
    return ModelManager(ManagerConfig(device="cpu", cache_dir=tmp_path / "cache", offline=offline,
                                      overrides=overrides, vision=vision_mode))


def test_mode_follows_the_setting(tmp_path, no_clip_anywhere):
    assert vision.mode(manager(tmp_path, "labels")) == "labels"
    assert vision.mode(manager(tmp_path, "clip")) == "clip"  # forced, even with no weights
    assert vision.mode(manager(tmp_path, "")) == vision.mode(manager(tmp_path, "auto"))
    with pytest.raises(ValueError, match="unknown vision mode 'dalle'"):
        vision.mode(manager(tmp_path, "dalle"))


def test_auto_is_labels_when_clip_is_missing_offline(tmp_path, no_clip_anywhere):
    assert vision.mode(manager(tmp_path)) == "labels"
    missing = f"ViT-B-32:{tmp_path / 'nope' / 'open_clip_model.safetensors'}"
    assert vision.mode(manager(tmp_path, clip=missing)) == "labels"


def test_auto_is_clip_where_its_weights_are(tmp_path, no_clip_anywhere, tiny_clip_dir):
    assert vision.mode(manager(tmp_path, clip=str(tiny_clip_dir))) == "clip"
    (no_clip_anywhere / "models--laion--CLIP-ViT-B-32-laion2B-s34B-b79K").mkdir()  # cached in the hub
    assert vision.mode(manager(tmp_path)) == "clip"


def test_auto_is_clip_online(tmp_path, no_clip_anywhere, monkeypatch):
    for name in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"):
        monkeypatch.delenv(name, raising=False)
    assert vision.mode(manager(tmp_path, offline=False)) == "clip"  # first use downloads it


def test_engine_keys(tmp_path, no_clip_anywhere):
    labels = manager(tmp_path, "labels")
    assert vision.engine_keys(labels) == (LITE0, "mpnet")
    assert vision.engine_keys(labels, "clip") == ("clip",)
    assert vision.engine_keys(manager(tmp_path, "clip")) == ("clip",)
    assert vision.engine_keys(manager(tmp_path)) == (LITE0, "mpnet")  # auto, no CLIP here


def test_space_engine():
    assert vision.space_engine(None) is None and vision.space_engine("") is None
    assert vision.space_engine("labels:efficientnet-lite0>mpnet:v1-abc") == "labels"
    assert vision.space_engine("ViT-B-32:laion2b_s34b_b79k") == "clip"
    assert vision.space_engine("/models/tiny-clip") == "clip"


def test_describe(tmp_path, no_clip_anywhere, tiny_clip_dir):
    text = vision.describe(manager(tmp_path, "labels"))
    assert "label bridge" in text and "EfficientNet-Lite0 ImageNet-1k classifier" in text
    assert "mpnet" in text and "CLIP would add" in text
    clip = vision.describe(manager(tmp_path, clip=str(tiny_clip_dir)))
    assert "**CLIP**" in clip and str(tiny_clip_dir) in clip
    assert "label bridge" in vision.describe(manager(tmp_path, clip=str(tiny_clip_dir)), "labels")


def test_problem_names_what_the_engine_lacks(tmp_path, no_clip_anywhere):
    assert vision.problem(manager(tmp_path, "labels")) is None  # the packs are installed here
    missing = tmp_path / "nope.safetensors"
    found = vision.problem(manager(tmp_path, "labels", **{LITE0: f"{LITE0}:{missing}"}))
    assert isinstance(found, WeightsUnavailable) and str(missing) in str(found)
    clip = vision.problem(manager(tmp_path, "clip"))
    assert isinstance(clip, WeightsUnavailable) and clip.model_key == "clip"


# -- the label bridge end to end, on tiny random models ----------------------------------------
@pytest.fixture(scope="module")
def random_lite0(tmp_path_factory) -> Path:
    from model_zoo.testing.efficientnet import save_random_efficientnet

    return save_random_efficientnet(tmp_path_factory.mktemp("random-lite0"))


def test_label_bridge_end_to_end_on_tiny_models(tmp_path, fresh_memory, random_lite0, tiny_text_encoder_dir):
    tiny = manager(tmp_path, "auto", mpnet=str(tiny_text_encoder_dir), **{LITE0: f"{LITE0}:{random_lite0}"})
    assert vision.mode(tiny) == "labels" and vision.problem(tiny) is None
    images = [Image.new("RGB", (64, 48), colour) for colour in ("red", "green", "blue")]
    with vision.open_engine(tiny) as engine:
        in_use = {s.key: s.in_use for s in tiny.status()}
        assert in_use[LITE0] == 1 and in_use["mpnet"] == 1  # both pinned for the block
        assert engine.kind == "labels" and engine.name.startswith("labels:")
        assert f"{LITE0}:{random_lite0}" in engine.name and str(tiny_text_encoder_dir) in engine.name
        assert vision.space_engine(engine.name) == "labels"
        assert engine.dim == 32 and engine.logit_scale == vision.RECIPE.logit_scale
        image_vectors = engine.embed_images(images)
        text_vectors = engine.embed_texts(["a photo of a cat", "good movie"])
        reading = engine.read(images, top_k=3)
        visual = engine.read(images).visual
        vectors = engine.class_vectors
    assert {s.key: s.in_use for s in tiny.status()}[LITE0] == 0
    assert image_vectors.shape == (3, 32) and text_vectors.shape == (2, 32)
    for matrix in (image_vectors, text_vectors, reading.semantic, reading.visual):
        assert np.allclose(np.linalg.norm(matrix, axis=1), 1, atol=1e-5)
    assert np.allclose(reading.semantic, image_vectors, atol=1e-6) and np.allclose(reading.visual, visual)
    assert reading.visual.shape == (3, 1280) and len(reading.top_labels) == 3
    for labels in reading.top_labels:
        assert len(labels) == 3 and all(isinstance(name, str) and 0 <= p <= 1 for name, p in labels)
        assert [p for _, p in labels] == sorted((p for _, p in labels), reverse=True)
    assert vectors.shape == (1000, 32) and len(cache_files(tmp_path / "cache")) == 1
    with vision.open_engine(tiny, "labels") as again:  # same space, class vectors reused
        assert again.name == engine.name and again.class_vectors is vectors


# -- real packaged weights ---------------------------------------------------------------------
@pytest.mark.slow
def test_text_finds_the_right_sample_photo(real_manager):
    files = sorted(GALLERY.glob("*.jpg"))
    assert len(files) == 16
    with vision.open_engine(real_manager, "labels") as engine:
        assert engine.kind == "labels" and engine.dim == 768
        images = engine.embed_images([Image.open(f) for f in files])
        texts = engine.embed_texts(["a photo of a cat", "a cup of coffee"])
    ranked = [[files[i].name for i in np.argsort(-row)] for row in texts @ images.T]
    assert ranked[0][0] == "cat.jpg", ranked[0][:3]
    assert ranked[1][0] == "coffee.jpg", ranked[1][:3]


@pytest.mark.slow
def test_the_shipped_class_vectors_are_what_the_packaged_mpnet_computes(real_manager):
    """assets/vision holds the default recipe's class vectors (scripts/vision/ship_class_vectors.py):
    the file for today's names, templates and encoder exists, and its rows are MPNet's."""
    from model_zoo.vision.efficientnet_backend import imagenet_labels

    names, templates = imagenet_labels(), vision.RECIPE.templates
    source = real_manager.spec(vision.BRIDGE_TEXT_KEY).source
    shipped = np.load(vision.SHIPPED_VECTORS / vision.class_vectors_file(source, names, templates))
    assert shipped.shape == (1000, 768) and np.allclose(np.linalg.norm(shipped, axis=1), 1, atol=1e-4)
    rows = np.random.default_rng(0).choice(1000, 12, replace=False)
    with real_manager.use(vision.BRIDGE_TEXT_KEY) as encoder:
        fresh = encoder.embed_texts([t.format(names[i]) for i in rows for t in templates])
    fresh = vision.unit_rows(fresh.reshape(len(rows), len(templates), -1).mean(axis=1))
    assert np.allclose(fresh, shipped[rows], atol=2e-3)


def test_zero_shot_labels_carry_the_class_probabilities_over_to_the_labels():
    classes = vision.unit_rows(np.eye(4, 3)[[0, 1, 2, 2]] + 0.01)  # 4 classes; the last two read alike
    bridge = vision.LabelBridge(classifier=None, encoder=None, class_vectors=classes)
    labels = vision.unit_rows(np.array([[1.0, 0, 0], [0, 1.0, 0], [0, 0, 1.0]]))  # like class 0, 1, and 2-or-3
    split = bridge.label_probabilities(np.array([0.1, 0.1, 0.35, 0.45]), labels)
    assert split.argmax() == 2 and split.sum() == pytest.approx(1)
    assert split[2] == pytest.approx(0.4 / 0.6, abs=1e-3)  # a label read as two classes: their mean probability
    assert bridge.label_probabilities(np.array([0.9, 0.1, 0, 0]), labels).argmax() == 0
