"""Choose the domain mix and the weight of the intensity loss for the shipped heads, on
validation only (test splits are never read here):

    HF_HUB_OFFLINE=1 python -m scripts.sentiment.choose_mix            # prints the grid and the choice

A full head takes an hour or more of CPU per recipe, so the choice is made on a proxy that
learns from the same rows with the same loss: the frozen MiniLM sentence embedding (the
fast head's encoder; embedding all 23,000 sentences with MPNet alone took over 10 minutes
on 2 shared cores) + VADER's scores through the same gated fusion head with an intensity
output (no tuned layers).

Rule, fixed before looking:
1. alpha in {0, 0.5, 1} (domain d weighs n_d ** alpha in the loss) at intensity weight 0.5:
   the highest worst-domain validation accuracy (every domain should do well), ties to the
   higher mean.
2. intensity weight in {0.25, 0.5, 1} at that alpha: the lowest validation MAE of the
   intensity among the weights whose mean domain accuracy is within 0.5 point of the best.
The result is written to <data dir>/datasets/vader_icwsm2014/choose_mix.json.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from scripts.sentiment.vader_data import DOMAINS, fetch_icwsm, load_corpus

ALPHAS = (0.0, 0.5, 1.0)
INTENSITY_WEIGHTS = (0.25, 0.5, 1.0)
FIRST_STAGE_WEIGHT = 0.5


def embed(corpus, cache: Path, encoder_key: str = "minilm") -> tuple[np.ndarray, np.ndarray]:
    """(sentence embeddings, VADER scores) of every row, cached beside the data."""
    from app.settings import load_settings
    from model_zoo.core import storage
    from model_zoo.fusion.heads import lexicon_scores
    from model_zoo.core.manager import ModelManager

    path = cache / f"proxy-{encoder_key}-{len(corpus.texts)}.npy"
    if path.is_file():
        text = np.load(path)
    else:
        settings = load_settings([], environ={**__import__("os").environ})
        with ModelManager(settings.manager_config()).use(encoder_key) as encoder:
            text = encoder.embed_texts(corpus.texts, max_length=64)
        import io

        buffer = io.BytesIO()
        np.save(buffer, text)
        storage.atomic_write_bytes(path, buffer.getvalue())
    return text, lexicon_scores(corpus.texts)


def run(corpus, text: np.ndarray, lexicon: np.ndarray, alpha: float, weight: float, seed: int = 0) -> dict:
    """Fit the proxy head on the training rows; its validation figures per domain."""
    import torch

    from model_zoo.fusion.modules import HeadConfig
    from model_zoo.fusion.heads import SentimentModel
    from model_zoo.fusion.training import (
        INTENSITY_SCALE,
        Targets,
        TrainConfig,
        evaluate_intensity,
        fit,
        predict_outputs,
    )

    train, val = corpus.rows("train"), corpus.rows("val")
    row_weights = torch.from_numpy(corpus.row_weights(alpha, train))
    feats = {"text": torch.from_numpy(text), "lexicon": torch.from_numpy(lexicon)}
    torch.manual_seed(seed)
    model = SentimentModel(HeadConfig({"text": text.shape[1], "lexicon": lexicon.shape[1]}, ["negative", "positive"],
                                      "gated", 128, 0.1, intensity=True))

    class Proxy(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.inner = model

        def forward(self, batch):
            return self.inner.fusion.outputs(batch)

    def collate(idx):
        idx_t = torch.as_tensor(idx)
        return {k: v[idx_t] for k, v in feats.items()}, Targets(
            torch.as_tensor(corpus.y[idx]), torch.from_numpy(corpus.ratings[idx] / INTENSITY_SCALE), row_weights[idx_t])

    cfg = TrainConfig(epochs=20, batch_size=64, lr=2e-3, patience=4, seed=seed, intensity_weight=weight)
    result = fit(Proxy(), train, val, corpus.y, collate, cfg, ratings=corpus.ratings)
    probs, intensity = predict_outputs(Proxy(), val, collate)
    out = {"alpha": alpha, "intensity_weight": weight, "best_epoch": result.best_epoch, "domains": {}}
    for d, name in enumerate(corpus.domains):
        mine = corpus.domain[val] == d
        out["domains"][name] = {"accuracy": float((probs.argmax(1)[mine] == corpus.y[val][mine]).mean()),
                                "mae": evaluate_intensity(corpus.ratings[val][mine], intensity[mine]).mae}
    accs = [v["accuracy"] for v in out["domains"].values()]
    out.update(worst=min(accs), mean=float(np.mean(accs)),
               mae=evaluate_intensity(corpus.ratings[val], intensity).mae)
    print(json.dumps({k: (round(v, 4) if isinstance(v, float) else v) for k, v in out.items() if k != "domains"}),
          {n: round(v["accuracy"], 4) for n, v in out["domains"].items()}, flush=True)
    return out


def main(argv: list[str] | None = None) -> dict:
    from app.settings import load_settings
    from model_zoo.core import storage

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", type=Path, default=None)
    args = parser.parse_args(argv)
    settings = load_settings([], environ={**__import__("os").environ})
    cache = (args.data_dir or settings.data_dir) / "datasets" / "vader_icwsm2014"
    folder, _ = fetch_icwsm(cache)
    corpus = load_corpus(folder, DOMAINS, seed=0)
    text, lexicon = embed(corpus, cache)
    first = [run(corpus, text, lexicon, alpha, FIRST_STAGE_WEIGHT) for alpha in ALPHAS]
    alpha = max(first, key=lambda r: (round(r["worst"], 4), r["mean"]))["alpha"]
    second = [r for r in first if r["alpha"] == alpha]
    second += [run(corpus, text, lexicon, alpha, w) for w in INTENSITY_WEIGHTS if w != FIRST_STAGE_WEIGHT]
    best_mean = max(r["mean"] for r in second)
    weight = min((r for r in second if r["mean"] >= best_mean - 0.005), key=lambda r: r["mae"])["intensity_weight"]
    choice = {"alpha": alpha, "intensity_weight": weight, "stage_1": first, "stage_2": second,
              "proxy": "frozen minilm + VADER -> gated fusion head with intensity output; validation only"}
    storage.atomic_write_text(cache / "choose_mix.json", json.dumps(choice, indent=2))
    print(f"chosen: --mix-alpha {alpha} --intensity-weight {weight}", flush=True)
    return choice


if __name__ == "__main__":
    main()
