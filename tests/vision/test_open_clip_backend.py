"""The open_clip backend: tiny random checkpoint through the real loading path; clear
errors when the real weights are absent offline."""
import numpy as np
import pytest
from PIL import Image

from model_zoo.vision.open_clip_backend import model_args
from model_zoo.core.errors import WeightsUnavailable
from model_zoo.core.manager import ManagerConfig, ModelManager


def test_tiny_clip_embeds_images_and_texts(tiny_clip_manager):
    images = [Image.new("RGB", (40, 30), color) for color in ("red", "green", "blue")]
    with tiny_clip_manager.use("clip") as clip:
        image_vectors = clip.embed_images(images, batch_size=2)
        text_vectors = clip.embed_texts(["a red square", "a green square"])
    assert image_vectors.shape == (3, 16) and text_vectors.shape == (2, 16) and clip.dim == 16
    assert np.allclose(np.linalg.norm(image_vectors, axis=1), 1, atol=1e-5)
    assert not np.allclose(image_vectors[0], image_vectors[1])  # the pixels matter


def test_missing_real_weights_offline_say_what_and_how(tmp_path):
    manager = ModelManager(ManagerConfig(device="cpu", cache_dir=tmp_path, offline=True))
    with pytest.raises(WeightsUnavailable) as info:
        with manager.use("clip"):
            pass
    message = str(info.value)
    assert "laion/CLIP-ViT-B-32-laion2B-s34B-b79K" in message and "MMS_MODEL_CLIP" in message


@pytest.mark.parametrize("source, expected", [
    ("ViT-B-32:laion2b_s34b_b79k", ("ViT-B-32", "laion2b_s34b_b79k")),
    ("ViT-B-32:/ckpt/model.safetensors", ("ViT-B-32", "/ckpt/model.safetensors")),
    ("hf-hub:org/repo", ("hf-hub:org/repo", None)),
])
def test_source_strings(source, expected):
    assert model_args(source) == expected
