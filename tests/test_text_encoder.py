"""The sentence encoder backend, through the manager: tiny random model and real MiniLM."""
import numpy as np
import pytest

from model_zoo.errors import WeightsUnavailable
from model_zoo.manager import ManagerConfig, ModelManager


def test_tiny_encoder_loads_through_the_same_path(tiny_text_encoder_dir, tmp_path):
    manager = ModelManager(ManagerConfig(device="cpu", cache_dir=tmp_path, offline=True,
                                         overrides={"minilm": str(tiny_text_encoder_dir)}))
    with manager.use("minilm") as encoder:
        vectors = encoder.embed_texts(["good movie", "a bad plot", "fun"], batch_size=2)
    assert vectors.shape == (3, 32)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    with manager.use("minilm") as encoder:  # order independent of batching
        again = encoder.embed_texts(["fun", "good movie"], batch_size=1)
    assert np.allclose(again[1], vectors[0], atol=1e-5)


def test_missing_hub_weights_offline_say_how_to_fix(tmp_path):
    manager = ModelManager(ManagerConfig(device="cpu", cache_dir=tmp_path, offline=True,
                                         overrides={"minilm": "someone/not-cached-anywhere"}))
    with pytest.raises(WeightsUnavailable, match="MMS_MODEL_MINILM"):
        with manager.use("minilm"):
            pass


@pytest.mark.slow
def test_real_minilm_from_the_pack(real_manager):
    with real_manager.use("minilm") as encoder:
        a, b, c = encoder.embed_texts(["A wonderful, moving film.", "A beautiful and touching movie.",
                                       "The invoice is due on Tuesday."])
    assert encoder.dim == 384
    assert a @ b > a @ c + 0.2
