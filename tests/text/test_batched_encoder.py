"""Micro-batched sentence encoders give each caller what it gets alone: tiny random MiniLM
and MPNet (tuned top layers too) through the real loading path; below fp32 calls run alone."""
from __future__ import annotations

import numpy as np
import pytest

from model_zoo.core.loading import BatchPolicy
from model_zoo.core.manager import ManagerConfig, ModelManager
from tests.concurrent_calls import run_together

# Varied lengths: padded beside each other in one pass.
TEXTS = ["good movie", "a bad plot", "fun", "the film was not fun at all", "dull", "lovely", "great plot",
         "awful and boring", "the movie is good and the plot is great", "not bad"]


def batched_manager(tmp_path, key: str, folder, max_batch: int = 16, window_ms: float = 60_000.0) -> ModelManager:
    policy = BatchPolicy(max_batch, window_ms)  # by default a window nobody alone may wait
    return ModelManager(ManagerConfig(device="cpu", cache_dir=tmp_path, offline=True, overrides={key: str(folder)},
                                      batching={key: policy}))


def test_batched_sentences_equal_single_calls(tmp_path, tiny_text_encoder_dir, precision="fp32"):
    manager = batched_manager(tmp_path, "minilm", tiny_text_encoder_dir, max_batch=len(TEXTS) + 2)
    with manager.use("minilm") as encoder:
        batcher, encoder.batcher = encoder.batcher, None
        alone = [encoder.embed_texts([t], precision=precision)[0] for t in TEXTS]
        pair = encoder.embed_texts(TEXTS[:3], precision=precision)  # a call of several texts, alone
        encoder.batcher = batcher
        calls = [lambda t=t: encoder.embed_texts([t], precision=precision)[0] for t in TEXTS]
        calls.append(lambda: encoder.embed_texts(TEXTS[:3], precision=precision))
        together = run_together(batcher, calls, items_behind=len(TEXTS) - 1 + 3)
    assert max(batcher.stats.sizes) == len(TEXTS) + 2  # all but the first call ran as one batch
    for got, want in zip(together, [*alone, pair]):
        assert np.abs(got - want).max() < 1e-4
    assert batcher.stats.windows == 0  # a full batch waits for no one


def test_a_lone_caller_is_not_held_by_the_window(tmp_path, tiny_text_encoder_dir):
    manager = batched_manager(tmp_path, "minilm", tiny_text_encoder_dir)
    with manager.use("minilm") as encoder:
        encoder.embed_texts(["good movie"])
        encoder.embed_texts(["a bad plot", "dull"])
        assert encoder.batcher.stats.sizes == [1, 2] and encoder.batcher.stats.windows == 0
        encoder.embed_texts(TEXTS * 2)  # a bulk call batches itself: it never queues
        assert encoder.batcher.stats.batches == 2


@pytest.mark.parametrize("precision", ["bf16", "int8"])
def test_below_fp32_calls_run_alone(tmp_path, tiny_text_encoder_dir, precision):
    """bf16 rows move by 1e-3 when padded beside longer ones; int8 scales activations over the batch."""
    manager = batched_manager(tmp_path, "minilm", tiny_text_encoder_dir)
    with manager.use("minilm") as encoder:
        encoder.embed_texts(["good movie"], precision=precision)
        assert encoder.batcher.stats.batches == 0


def test_tuned_top_layers_batch_with_their_own_kind(tmp_path):
    import torch

    from model_zoo.fusion.heads import top_layer_copies
    from model_zoo.testing.text_encoder import save_tiny_mpnet_encoder

    manager = batched_manager(tmp_path, "mpnet", save_tiny_mpnet_encoder(tmp_path / "tiny-mpnet"), window_ms=0.0)
    with manager.use("mpnet") as encoder:
        torch.manual_seed(0)
        tops = [top_layer_copies(encoder, 1)]
        with torch.no_grad():
            for p in tops[0].parameters():
                p.add_(0.1 * torch.randn_like(p))
        batcher, encoder.batcher = encoder.batcher, None
        tuned = [encoder.embed_texts_branches([t], tops)[0][0] for t in TEXTS[:4]]
        plain = [encoder.embed_texts([t])[0] for t in TEXTS[:4]]
        encoder.batcher = batcher
        calls = [lambda t=t: encoder.embed_texts_branches([t], tops)[0][0] for t in TEXTS[:4]]
        calls += [lambda t=t: encoder.embed_texts([t])[0] for t in TEXTS[:4]]
        together = run_together(batcher, calls, items_behind=3)  # the tuned calls queue; plain ones lead their own
    for got, want in zip(together, tuned + plain):
        assert np.abs(got - want).max() < 1e-4
    assert 3 in batcher.stats.sizes and len(batcher.stats.sizes) >= 3  # tuned and plain calls never share a pass
