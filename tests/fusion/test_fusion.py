"""Fusion head: each strategy learns a small synthetic multimodal task, masking works,
contributions make sense, checkpoints round-trip."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from model_zoo.fusion.modules import FUSIONS, FusionHead, HeadConfig
from model_zoo.fusion.training import TrainConfig, evaluate, fit, load_head_files, predict_probs, save_head

DIMS = {"text": 12, "image": 8, "audio": 6}


def synthetic_task(n: int = 600, seed: int = 0):
    """Label = sign of a signal split across text and image; audio is pure noise.
    Neither text nor image alone is enough for a perfect score; together they are."""
    rng = np.random.default_rng(seed)
    a, b = rng.normal(size=n), rng.normal(size=n)
    y = ((a + b) > 0).astype(np.int64)
    feats = {m: rng.normal(scale=0.5, size=(n, d)).astype(np.float32) for m, d in DIMS.items()}
    feats["text"][:, 0] += 2 * a
    feats["image"][:, 0] += 2 * b
    return {m: torch.from_numpy(v) for m, v in feats.items()}, y


def train(fusion: str, feats, y, epochs: int = 30):
    torch.manual_seed(0)
    head = FusionHead(HeadConfig(modalities=DIMS, labels=["neg", "pos"], fusion=fusion, hidden=32))
    mask = torch.ones(len(y), len(DIMS), dtype=torch.bool)

    def collate(idx):
        idx = torch.as_tensor(idx)
        return ({m: v[idx] for m, v in feats.items()}, mask[idx]), torch.as_tensor(y[idx])

    class Wrapped(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.head = head

        def forward(self, batch):
            return self.head(*batch)

    rows = np.arange(len(y))
    model = Wrapped()
    result = fit(model, rows[:400], rows[400:500], y, collate, TrainConfig(epochs=epochs, lr=5e-3, patience=10))
    probs = predict_probs(model, rows[500:], collate)
    return head, evaluate(y[500:], probs, ["neg", "pos"]), result


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """Tiny models: one thread is faster than two fighting over a shared 2-core box."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def task():
    return synthetic_task()


@pytest.mark.parametrize("fusion", FUSIONS)
def test_each_fusion_learns_the_task_and_masks(fusion, task):
    feats, y = task
    head, metrics, result = train(fusion, feats, y)
    assert metrics.accuracy >= 0.8, (fusion, metrics.accuracy)  # chance is 0.5
    assert result.best_val_f1 >= 0.8
    head.eval()
    sample = {m: v[500:] for m, v in feats.items()}
    # Masking: zeroing what is masked changes nothing, whatever its values were.
    text_only = torch.tensor([[True, False, False]]).expand(len(y) - 500, -1)
    scrambled = {**sample, "image": torch.randn_like(sample["image"]) * 100, "audio": torch.randn_like(sample["audio"])}
    with torch.no_grad():
        assert torch.allclose(head(sample, text_only), head(scrambled, text_only), atol=1e-5)
        # A missing key is the same as a masked one: a text-only input works on a 3-modality head.
        assert torch.allclose(head({"text": sample["text"]}), head(sample, text_only), atol=1e-5)
    probs, contributions, _ = head.explain(sample)
    assert torch.allclose(contributions.sum(1), torch.ones(len(probs)), atol=1e-4)
    # The informative modalities carry more of the decision than the noise modality.
    mean = contributions.mean(0)
    assert mean[0] + mean[1] > mean[2], (fusion, mean)
    _, only_text, _ = head.explain(sample, text_only)
    assert torch.all(only_text[:, 1:] == 0)


def test_text_alone_beats_chance_but_both_do_better(task):
    feats, y = task
    head, _, _ = train("gated", feats, y, epochs=30)
    sample = {m: v[500:] for m, v in feats.items()}
    n = len(y) - 500
    with torch.no_grad():
        both = (head(sample).argmax(1).numpy() == y[500:]).mean()
        text = (head(sample, torch.tensor([[True, False, False]]).expand(n, -1)).argmax(1).numpy() == y[500:]).mean()
    assert both > text > 0.55


def test_checkpoint_round_trip(tmp_path, task):
    from model_zoo.fusion.heads import build_from_card

    feats, y = task
    head, metrics, _ = train("attention", feats, y, epochs=3)
    card = {"labels": ["neg", "pos"], "fusion": "attention", "modalities": DIMS, "hidden": 32, "dropout": 0.1,
            "metrics": {"accuracy": metrics.accuracy}}
    tensors = {f"fusion.{k}": v for k, v in head.state_dict().items()}
    folder = save_head(tmp_path / "heads" / "mine", tensors, card)
    assert sorted(p.name for p in folder.iterdir()) == ["card.json", "head.safetensors"]
    assert not [p for p in folder.parent.iterdir() if p.name.startswith(".")]  # nothing left aside
    loaded_card, loaded = load_head_files(folder)
    rebuilt = build_from_card(loaded_card, loaded)
    head.eval()
    sample = {m: v[:20] for m, v in feats.items()}
    with torch.no_grad():
        assert torch.allclose(rebuilt.fusion(sample), head(sample), atol=1e-6)
    # A damaged weights file is refused, not half-loaded.
    (folder / "head.safetensors").write_bytes(b"\0" * 64)
    with pytest.raises(Exception, match="damaged"):
        load_head_files(folder)


def test_big_heads_are_sharded_and_each_shard_is_checked(tmp_path):
    from model_zoo.fusion.modules import HeadConfig
    from model_zoo.fusion.heads import SentimentModel, build_from_card

    card = {"labels": ["neg", "pos"], "fusion": "early", "modalities": {"text": 256}, "hidden": 1024, "dropout": 0.1}
    model = SentimentModel(HeadConfig(modalities={"text": 256}, labels=["neg", "pos"], fusion="early", hidden=1024))
    folder = save_head(tmp_path / "big", model.tensors(), {**card, "weights_files": {"stale": "x"}}, shard_mb=1)
    shards = sorted(p.name for p in folder.glob("*.safetensors"))
    assert len(shards) > 1 and shards[0] == f"head-00001-of-{len(shards):05d}.safetensors"
    loaded_card, loaded = load_head_files(folder)
    assert sorted(loaded_card["weights_files"]) == shards
    rebuilt = build_from_card(loaded_card, loaded)
    sample = {"text": torch.randn(4, 256)}
    with torch.no_grad():
        assert torch.allclose(rebuilt.fusion(sample), model.eval().fusion(sample))
    # Resaved small, the card no longer lists shards.
    small = save_head(tmp_path / "big", dict(list(model.tensors().items())[:1]), loaded_card)
    assert [p.name for p in small.glob("*.safetensors")] == ["head.safetensors"]
    assert "weights_files" not in load_head_files(small)[0]
    save_head(tmp_path / "big", model.tensors(), card, shard_mb=1)  # sharded again: now damage it
    (folder / shards[0]).write_bytes(b"\0" * 64)
    with pytest.raises(Exception, match="damaged"):
        load_head_files(folder)
    (folder / shards[1]).unlink()
    with pytest.raises(Exception, match="incomplete.*" + shards[1]):
        load_head_files(folder)


def test_save_is_all_or_nothing(tmp_path, monkeypatch):
    from model_zoo.core import storage

    folder = tmp_path / "heads" / "h"
    save_head(folder, {"w": torch.zeros(2)}, {"v": 1})

    def boom(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(storage, "atomic_write_text", boom)
    with pytest.raises(OSError):
        save_head(folder, {"w": torch.ones(2)}, {"v": 2})
    card, tensors = load_head_files(folder)  # the old head, intact
    assert card["v"] == 1 and tensors["w"].sum() == 0
    assert [p.name for p in (tmp_path / "heads").iterdir()] == ["h"]
