"""The micro-batched image classifier gives each caller what it gets alone (random
EfficientNet-Lite0 through the real loading path), and a bad input fails only its caller."""
from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from model_zoo.core.loading import BatchPolicy
from model_zoo.core.manager import ManagerConfig, ModelManager
from model_zoo.testing.efficientnet import save_random_efficientnet
from tests.concurrent_calls import run_together

KEY = "efficientnet-lite0"


def images() -> list[Image.Image]:
    rng = np.random.default_rng(0)
    sizes = [(64, 48), (40, 90), (32, 32), (100, 70), (50, 50)]
    return [Image.fromarray(rng.integers(0, 255, (h, w, 3), dtype=np.uint8)) for w, h in sizes]


@pytest.fixture(scope="module")
def classifier(tmp_path_factory):
    checkpoint = save_random_efficientnet(tmp_path_factory.mktemp("effnet"), fmt="safetensors")
    manager = ModelManager(ManagerConfig(device="cpu", cache_dir=tmp_path_factory.mktemp("cache"), offline=True,
                                         overrides={KEY: f"{KEY}:{checkpoint}"},
                                         batching={KEY: BatchPolicy(max_batch=8, max_wait_ms=0.0)}))
    with manager.use(KEY) as model:
        yield model


def test_batched_images_equal_single_calls(classifier):
    photos = images()
    batcher, classifier.batcher = classifier.batcher, None
    alone = [classifier.predict([photo]) for photo in photos]
    classifier.batcher = batcher
    together = run_together(batcher, [lambda p=p: classifier.predict([p]) for p in photos], items_behind=4)
    assert 4 in batcher.stats.sizes
    for got, want in zip(together, alone):
        for name in ("probabilities", "features", "regions"):
            assert np.abs(getattr(got, name) - getattr(want, name)).max() < 1e-4
        assert got.probabilities.argmax() == want.probabilities.argmax()


def test_an_unreadable_batch_fails_only_its_caller(classifier, monkeypatch):
    real = classifier._forward

    def fussy(pixels):  # stands in for an input the model cannot take: a blank image
        if any(float(p.abs().sum()) == 0 for p in pixels):
            raise ValueError("blank image")
        return real(pixels)

    monkeypatch.setattr(classifier, "_forward", fussy)
    grey = Image.new("RGB", (30, 30), (127, 127, 127))  # (127 - 127) / 128: all zeros
    photos = images()[:3]
    calls = [lambda: classifier.predict([photos[0]]), lambda: classifier.predict([grey]),
             lambda: classifier.predict([photos[1]]), lambda: classifier.predict([photos[2]])]
    with pytest.raises(ValueError, match="blank image"):
        run_together(classifier.batcher, calls, items_behind=3)
    good = run_together(classifier.batcher, [calls[0], calls[2], calls[3]], items_behind=2)
    assert all(p.probabilities.shape == (1, 1000) for p in good)
