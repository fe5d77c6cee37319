"""Training a head on a table with a `score` column (a mean rating per row on -4..+4): the
column's validation, the intensity output trained beside the classifier (validation MSE
per epoch, MSE/MAE/Pearson r on the test split, the card), predictions through the
Sentiment service, /train_head, and a table without scores training as before."""
from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from model_zoo.fusion.datasets import load_dataset
from model_zoo.core.errors import InputError
from model_zoo.core.manager import ManagerConfig, ModelManager

# Phrases with VADER-rated words of graded strength; each row's score is its phrase's
# rating plus noise, so intensity is something the (tiny) model can see in the text and
# in VADER's lexicon scores, and it varies within each label.
PHRASES = {"utterly amazing, wonderful": 3.5, "superb and brilliant": 3.0, "really good": 2.0, "nice enough": 1.0,
           "a bit dull": -1.0, "bad": -2.0, "terrible and ugly": -3.0, "utterly awful, horrible": -3.5}
NOUNS = ["film", "movie", "story", "plot", "show", "book"]


@pytest.fixture(scope="module")
def tiny_manager(tiny_text_encoder_dir, tmp_path_factory) -> ModelManager:
    return ModelManager(ManagerConfig(device="cpu", cache_dir=tmp_path_factory.mktemp("cache"), offline=True,
                                      overrides={"minilm": str(tiny_text_encoder_dir)}))


@pytest.fixture
def ctx(tiny_manager, tmp_path):
    """A fresh context: its own sentiment service (heads under this test's data dir)."""
    from app.settings import load_settings
    from components.context import StudioContext

    return StudioContext(tiny_manager, load_settings(["--data-dir", str(tmp_path / "data")], environ={}))


def rated_table(path: Path, n: int = 240, seed: int = 0, blank_every: int = 0) -> Path:
    """n rows of text, label (the score's sign) and score; every `blank_every`-th score left blank."""
    rng = np.random.default_rng(seed)
    phrases = list(PHRASES)
    rows = []
    for i in range(n):
        phrase = phrases[i % len(phrases)]
        score = float(np.clip(PHRASES[phrase] + rng.normal(0, 0.2), -4, 4))
        rows.append({"text": f"The {rng.choice(NOUNS)} was {phrase}.", "label": "positive" if score > 0 else "negative",
                     "score": "" if blank_every and i % blank_every == 0 else f"{score:.2f}"})
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


def table(path: Path, scores: list) -> Path:
    n = len(scores)
    pd.DataFrame({"text": [f"row {i}" for i in range(n)], "label": ["a", "b"] * (n // 2),
                  "score": scores}).to_csv(path, index=False)
    return path


# -- the score column ---------------------------------------------------------------------------
def test_score_column_is_read_with_blank_cells_as_nan(tmp_path):
    data = load_dataset(table(tmp_path / "d.csv", ["1.5", "-4", "", "4", "0", "-0.25", "", "2", "3", "-3", "1", "-1"]))
    assert data.scores.dtype == np.float64 and len(data.scores) == 12
    assert np.isnan(data.scores[[2, 6]]).all()
    assert data.scores[[0, 1, 3, 5]].tolist() == [1.5, -4.0, 4.0, -0.25]
    assert load_dataset(write(tmp_path / "plain.csv", text=list("wxyz"), label=list("abab"))).scores is None


def test_score_column_from_jsonl_numbers_and_nulls(tmp_path):
    rows = [{"text": f"t{i}", "label": "ab"[i % 2], "score": (None if i == 3 else i / 4 - 1)} for i in range(12)]
    pd.DataFrame(rows).to_json(tmp_path / "d.jsonl", orient="records", lines=True)
    scores = load_dataset(tmp_path / "d.jsonl").scores
    assert np.isnan(scores[3]) and scores[4] == 0.0 and scores[11] == pytest.approx(1.75)


@pytest.mark.parametrize("scores, message", [
    (["1", "2", "lots", *["0"] * 9], r"Row 3: the 'score' column holds 'lots', not a number"),
    (["1", "-2", "0", "4.5", *["0"] * 8], r"Row 4: score 4.5 is outside -4\.\.\+4.*mean human ratings"),
    (["-7", *["0"] * 11], r"Row 1: score -7 is outside -4\.\.\+4"),
    (["inf", *["0"] * 11], r"Row 1: score inf is outside"),
    (["1", "2", "3", "", "", "", "", "", "", "", "", ""], r"only 3 number\(s\); at least 10 rows need a score"),
    ([""] * 12, r"only 0 number\(s\).*or remove the column"),
])
def test_bad_scores_name_the_row_and_the_scale(tmp_path, scores, message):
    with pytest.raises(InputError, match=message):
        load_dataset(table(tmp_path / "d.csv", scores))


def write(path: Path, **columns) -> Path:
    pd.DataFrame(columns).to_csv(path, index=False)
    return path


# -- training with scores, end to end through the tab's handler -----------------------------------
def train_rated(ctx, tmp_path, name: str = "rated", seed: int = 0) -> list:
    from components.training import run_training

    path = rated_table(tmp_path / "rated.csv", blank_every=7)
    return list(run_training(ctx, {"path": str(path)}, "gated", epochs=25, lr=5e-3, hidden=32, batch_size=16,
                             seed=seed, name=name))


def test_a_rated_table_trains_an_intensity_output(ctx, tmp_path):
    from components.common.heads import service
    from components.training import curves, intensity_curve, metrics_markdown

    updates = train_rated(ctx, tmp_path)
    path = tmp_path / "rated.csv"
    report = updates[-1].report
    found = report.metrics["intensity"]
    assert set(found) == {"mse", "mae", "pearson", "n"} and found["mse"] >= 0 and found["mae"] >= 0
    assert 0 < found["n"] < report.sizes["test"]  # blank scores are left out of the figures
    history = report.history
    assert all(isinstance(h["val_mse"], float) and h["val_mse"] >= 0 for h in history)
    # The loop learns intensity: validation MSE (in ratings²) falls from about 5 to about 0.3
    # (seeds 0-4: epoch 1 at 4.4-5.8, best 0.19-0.33); with the intensity loss switched off
    # (TrainConfig.intensity_weight=0) it never drops below 3.4.
    best = min(h["val_mse"] for h in history)
    assert best < 1.0 and best < history[0]["val_mse"] / 4, [h["val_mse"] for h in history]

    card = json.loads((ctx.settings.data_dir / "heads" / "rated" / "card.json").read_text())
    assert card["intensity"]["scale"] == 4.0 and card["intensity"]["loss_weight"] == 0.5
    assert card["intensity"]["rows"] == int(np.sum(~np.isnan(load_dataset(path).scores)))
    assert card["metrics"]["intensity"] == found and card["training"]["config"]["intensity_weight"] == 0.5

    # The Sentiment service reads the card and predicts intensity with the saved head.
    for phrase in ("utterly amazing, wonderful", "a bit dull", "utterly awful, horrible"):
        result = service(ctx).predict(f"The story was {phrase}.", head="rated")
        assert result.head == "rated" and isinstance(result.intensity, float) and -4 <= result.intensity <= 4

    # What the tab shows: the MSE curve beside the others, and the test figures.
    losses, scores = curves(updates[-1].history)
    mse = intensity_curve(updates[-1].history)
    assert len(mse) == report.epochs_run and set(mse.curve) == {"val intensity MSE"}
    assert mse.value.tolist() == pytest.approx([h["val_mse"] for h in history])
    shown = metrics_markdown(report)
    assert f"Pearson r **{found['pearson']:.3f}**" in shown and f"MSE **{found['mse']:.3f}**" in shown


def test_the_saved_head_has_learned_intensity(ctx, tmp_path):
    from components.common.heads import service

    found = train_rated(ctx, tmp_path).pop().report.metrics["intensity"]
    assert found["mse"] < 1.0 and found["mae"] < 0.8 and found["pearson"] > 0.9, found
    # Graded within a label, not just by sign (intensity-loss weight 0: no such order).
    strong, mild, awful = (service(ctx).predict(f"The story was {p}.", head="rated").intensity
                           for p in ("utterly amazing, wonderful", "nice enough", "utterly awful, horrible"))
    assert strong > mild + 0.5 and mild > 0.5 and awful < -2, (strong, mild, awful)


def test_a_table_without_scores_trains_as_before(ctx, tmp_path):
    from components.common.heads import service
    from components.training import intensity_curve, metrics_markdown, run_training

    rated = pd.read_csv(rated_table(tmp_path / "rated.csv", n=60))
    path = write(tmp_path / "plain.csv", text=rated.text, label=rated.label)
    updates = list(run_training(ctx, {"path": str(path)}, "late", epochs=3, hidden=16, name="plain"))
    report = updates[-1].report
    assert "intensity" not in report.metrics and all(h["val_mse"] is None for h in report.history)
    assert intensity_curve(updates[-1].history) is None and "Intensity" not in metrics_markdown(report)
    card = json.loads((ctx.settings.data_dir / "heads" / "plain" / "card.json").read_text())
    assert card["intensity"] == {} and card["training"]["config"]["intensity_weight"] == 0.0
    assert service(ctx).predict("The plot was bad.", head="plain").intensity is None


def test_train_head_endpoint_returns_the_intensity_figures(ctx, tmp_path):
    from gradio_client import Client, handle_file

    from tests.conftest import serve_in_process

    path = rated_table(tmp_path / "rated.csv", n=80)
    with serve_in_process(ctx.settings.data_dir, ctx.manager, environ={"MMS_DATA_MODE": "shared"}) as url:
        result = Client(url, verbose=False).predict(handle_file(str(path)), "attention", 3, 0.005, 32, 16, 0,
                                                    "rated-api", "", api_name="/train_head")
    found = result["metrics"]["intensity"]
    assert set(found) == {"mse", "mae", "pearson", "n"} and found["n"] == 12  # 15% of 80, all scored
    assert found["mse"] >= 0 and found["mae"] >= 0 and (found["pearson"] is None or -1 <= found["pearson"] <= 1)
    assert len(result["history"]) == result["epochs_run"] and all(h["val_mse"] >= 0 for h in result["history"])
    assert json.loads((ctx.settings.data_dir / "heads" / "rated-api" / "card.json").read_text())["intensity"]
    assert not math.isnan(found["mse"])


def test_the_loss_weighs_rows_and_skips_unrated_rows():
    """Row weights (the domain mix) scale each row's share of both losses; a row without a
    rating (NaN) adds nothing to the intensity part."""
    import torch
    import torch.nn.functional as F

    from model_zoo.fusion.training import Targets, TrainConfig, _loss

    logits = torch.tensor([[2.0, -1.0], [0.5, 0.5], [-1.0, 1.0]])
    predicted = torch.tensor([0.5, -0.2, 0.9])
    labels = torch.tensor([0, 1, 1])
    cfg = TrainConfig(intensity_weight=2.0, huber_delta=0.25)
    only_first = _loss((logits, predicted), Targets(labels, torch.tensor([0.0, float("nan"), 0.5]),
                                                    torch.tensor([3.0, 0.0, 0.0])), None, cfg, "cpu")
    expected = F.cross_entropy(logits[:1], labels[:1]) + 2.0 * F.huber_loss(predicted[:1], torch.zeros(1), delta=0.25)
    assert float(only_first) == pytest.approx(float(expected), rel=1e-6)
    unrated = _loss((logits, predicted), Targets(labels, torch.full((3,), float("nan"))), None, cfg, "cpu")
    assert float(unrated) == pytest.approx(float(F.cross_entropy(logits, labels)), rel=1e-6)
