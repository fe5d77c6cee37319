"""The sentence encoder backend, through the manager: tiny random model and real MiniLM."""
import numpy as np
import pytest

from model_zoo.core.errors import WeightsUnavailable
from model_zoo.core.manager import ManagerConfig, ModelManager


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
@pytest.mark.parametrize("key, dim", [("minilm", 384), ("mpnet", 768)])
def test_real_encoders_from_their_packs(real_manager, key, dim):
    with real_manager.use(key) as encoder:
        a, b, c = encoder.embed_texts(["A wonderful, moving film.", "A beautiful and touching movie.",
                                       "The invoice is due on Tuesday."])
    assert encoder.dim == dim
    assert a @ b > a @ c + 0.2


def test_mpnet_layers_run_with_their_position_bias(tmp_path):
    """A head's tuned copies of MPNet's top layers must reproduce the model exactly (they
    need the shared relative position bias), whatever the padding."""
    from model_zoo.fusion.heads import top_layer_copies
    from model_zoo.testing.text_encoder import save_tiny_mpnet_encoder

    folder = save_tiny_mpnet_encoder(tmp_path / "tiny-mpnet")
    manager = ModelManager(ManagerConfig(device="cpu", cache_dir=tmp_path, offline=True,
                                         overrides={"mpnet": str(folder)}))
    texts = ["good movie", "a bad plot was not fun at all", "dull"]
    with manager.use("mpnet") as encoder:
        whole = encoder.embed_texts(texts)
        through_copies = encoder.embed_texts(texts, top_layers=top_layer_copies(encoder, 1), batch_size=1)
    assert np.allclose(whole, through_copies, atol=1e-5)


def test_branches_share_the_lower_layers_and_match_one_at_a_time(tmp_path):
    """An ensemble's members (tuned tops of different depths) from one pass of the lower
    layers give what each gives alone."""
    import torch

    from model_zoo.fusion.heads import top_layer_copies
    from model_zoo.testing.text_encoder import save_tiny_mpnet_encoder

    manager = ModelManager(ManagerConfig(device="cpu", cache_dir=tmp_path, offline=True,
                                         overrides={"mpnet": str(save_tiny_mpnet_encoder(tmp_path / "tiny-mpnet"))}))
    texts = ["good movie", "a bad plot was not fun at all", "dull"]
    with manager.use("mpnet") as encoder:
        branches = [top_layer_copies(encoder, 1), top_layer_copies(encoder, 2)]
        with torch.no_grad():
            for k, branch in enumerate(branches):
                for p in branch.parameters():
                    p.add_(0.1 * (k + 1) * torch.randn_like(p))
        together = encoder.embed_texts_branches(texts, branches, batch_size=2)
        alone = [encoder.embed_texts(texts, top_layers=b) for b in branches]
        plain = encoder.embed_texts_branches(texts, None)
    assert len(together) == 2 and len(plain) == 1
    for a, b in zip(together, alone):
        assert np.allclose(a, b, atol=1e-5)
    assert not np.allclose(together[0], together[1], atol=1e-3)


def test_cpu_precision_follows_the_cpu_flags(tmp_path):
    from model_zoo.core import devices

    flags = tmp_path / "cpuinfo"
    flags.write_text("processor : 0\nflags : fpu sse2 avx2 avx512f\n")
    assert devices.cpu_has_native_bf16(str(flags), isa_cap="") is False
    flags.write_text("processor : 0\nflags : fpu avx512f avx512_bf16\n")
    assert devices.cpu_has_native_bf16(str(flags), isa_cap="") is True
    assert devices.cpu_has_native_bf16(str(flags), isa_cap="AVX512_CORE_BF16") is True
    assert devices.cpu_has_native_bf16(str(flags), isa_cap="avx2") is False  # oneDNN capped: bf16 is emulated
    assert devices.cpu_has_native_bf16(str(tmp_path / "absent"), isa_cap="") is False
    assert devices.resolve_cpu_precision("auto", "cuda:0") == "native"
    assert devices.resolve_cpu_precision("int8", "cpu") == "int8"
    assert devices.resolve_cpu_precision("auto", "cpu") in ("bf16", "fp32")
    with pytest.raises(ValueError, match="fp8"):
        devices.resolve_cpu_precision("fp8", "cpu")


@pytest.mark.parametrize("precision", ["bf16", "int8"])
def test_reduced_precision_copies_stay_close_and_leave_the_model_alone(tiny_text_encoder_dir, tmp_path, precision):
    manager = ModelManager(ManagerConfig(device="cpu", cache_dir=tmp_path, offline=True,
                                         overrides={"minilm": str(tiny_text_encoder_dir)}))
    texts = ["good movie", "a bad plot", "fun and not dull"]
    with manager.use("minilm") as encoder:
        full = encoder.embed_texts(texts)
        reduced = encoder.embed_texts(texts, precision=precision)
        assert encoder.variant(precision) is encoder.variant(precision)  # built once
        assert next(encoder.model.parameters()).dtype.is_floating_point
        assert encoder.embed_texts(texts).tobytes() == full.tobytes()
    assert reduced.dtype == np.float32
    assert (full * reduced).sum(1).min() > 0.98  # cosine to the fp32 embedding
