"""Train the heads the project ships (assets/heads): one reproducible command each.

    HF_HUB_OFFLINE=1 python -m scripts.train_default_head              # default (MPNet)
    HF_HUB_OFFLINE=1 python -m scripts.train_default_head --encoder minilm --tune-layers 4 \
        --epochs 4 --encoder-lr 1e-4 --soft-labels 0 --fit-on train --out assets/heads/fast

Data: the VADER ICWSM-2014 movie-review snippets (10,605 sentences, each with the mean
rating of ~20 people on -4..+4), inside the source distribution of vaderSentiment==3.3.2;
fetched once with `pip download` and cached under the data dir (sha256 recorded).

Labels: positive if the mean rating > 0, negative if < 0 (the 37 exact zeros are
dropped). A fixed seeded stratified split holds out 15% as the test set and 10% for
validation. Training targets may mix in the share of raters who read a sentence as
positive (--soft-labels): how sure people were. Accuracy is reported twice on the test
set: over every non-zero row (plain sign threshold) and over the "clear" rows whose
|mean rating| >= 1. Cross-domain checks: the Amazon and NYT snippets, beside VADER.

Protocol: recipes are compared with --fit-on train (early stopping on validation); the
chosen one is then fit on train+validation for its number of epochs (--fit-on train+val).

Model: the sentence encoder stays frozen except for copies of its top layers, tuned
with a gated fusion head over two text views (the embedding + VADER's 4 scores). The
lower layers' outputs are computed once and cached, so epochs only run the top.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tarfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
SDIST = "vaderSentiment==3.3.2"
INNER = "vaderSentiment-3.3.2/additional_resources/hutto_ICWSM_2014.tar.gz"
LABELS = ["negative", "positive"]
CLEAR_BAND = 1.0


def fetch_icwsm(cache: Path) -> tuple[Path, str]:
    """The extracted hutto_ICWSM_2014 folder and the sha256 of its tarball."""
    from model_zoo import storage

    folder = cache / "hutto_ICWSM_2014"
    tarball = cache / "hutto_ICWSM_2014.tar.gz"
    if not tarball.is_file():
        cache.mkdir(parents=True, exist_ok=True)
        subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:", SDIST,
                        "-d", str(cache), "-q"], check=True)
        sdist = next(cache.glob("vaderSentiment-3.3.2.tar.*"))
        with tarfile.open(sdist) as outer:
            storage.atomic_write_bytes(tarball, outer.extractfile(INNER).read())
    if not (folder / "movieReviewSnippets_GroundTruth.txt").is_file():
        with tarfile.open(tarball) as inner:
            inner.extractall(cache, filter="data")
    return folder, storage.sha256_file(tarball)


def read_snippets(path: Path) -> tuple[list[str], np.ndarray]:
    """(texts, mean ratings) from a *_GroundTruth.txt file: id <tab> rating <tab> text."""
    texts, ratings = [], []
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        parts = line.split("\t", 2)
        if len(parts) == 3 and parts[2].strip():
            ratings.append(float(parts[1]))
            texts.append(parts[2].strip())
    return texts, np.array(ratings, dtype=np.float32)


def rater_shares(folder: Path, ratings: np.ndarray) -> np.ndarray:
    """Per movie snippet, the share of its raters who read it as positive (a 0 counts
    half): a soft label that keeps how sure people were. Rows align with read_snippets."""
    shares, means = [], []
    for line in (folder / "movieReviewSnippets_anonDataRatings.txt").read_text(errors="replace").splitlines():
        parts = line.split("\t")
        if len(parts) == 4:
            votes = np.array(json.loads(parts[3]), dtype=np.float32)
            shares.append(((votes > 0).sum() + 0.5 * (votes == 0).sum()) / len(votes))
            means.append(float(parts[1]))
    if len(shares) != len(ratings) or not np.allclose(means, ratings, atol=1e-4):
        raise ValueError("the per-rater ratings do not line up with the ground-truth file")
    return np.array(shares, dtype=np.float32)


def binarise(ratings: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(labels, keep): 1 = positive (> 0), 0 = negative (< 0); exact zeros dropped."""
    return (ratings > 0).astype(np.int64), ratings != 0


def movie_split(folder: Path, seed: int = 0) -> tuple[list[str], np.ndarray, np.ndarray, tuple]:
    """(texts, ratings, labels, (train, val, test) row indices): the fixed seeded
    stratified split (10% validation, 15% test) of the non-zero movie snippets."""
    from model_zoo.training import stratified_split

    texts, ratings = read_snippets(folder / "movieReviewSnippets_GroundTruth.txt")
    y, keep = binarise(ratings)
    rows = np.flatnonzero(keep)
    parts = tuple(rows[p] for p in stratified_split(y[rows], [0.10, 0.15], seed=seed))
    return texts, ratings, y, parts


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=REPO / "assets" / "heads" / "default")
    parser.add_argument("--data-dir", type=Path, default=None, help="cache for the dataset (default: settings)")
    parser.add_argument("--encoder", default="mpnet", help="registry key of the text encoder")
    parser.add_argument("--tune-layers", type=int, default=3, help="top encoder layers to tune")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--max-length", type=int, default=64)
    parser.add_argument("--encoder-lr", type=float, default=5e-5, help="learning rate of the tuned layers")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--fit-on", choices=["train", "train+val"], default="train+val",
                        help="train: early stopping on validation (to choose a recipe); train+val: the final "
                             "fit of the chosen recipe for --epochs, validation included")
    parser.add_argument("--soft-labels", type=float, default=0.5,
                        help="weight of the raters' share (0..1) mixed into the 0/1 training target")
    args = parser.parse_args(argv)
    refit = args.fit_on == "train+val"

    import torch

    from app.settings import load_settings
    from model_zoo.backends.text_encoder import mean_pool
    from model_zoo.fusion import HeadConfig
    from model_zoo.heads import LEXICON_DIM, SentimentModel, lexicon_scores, load_head, top_layer_copies
    from model_zoo.manager import ModelManager
    from model_zoo.training import Card, TrainConfig, fit, length_bucketed_batches, save_head

    torch.manual_seed(args.seed)
    settings = load_settings([], environ={**__import__("os").environ})
    cache = (args.data_dir or settings.data_dir) / "datasets" / "vader_icwsm2014"
    folder, data_sha = fetch_icwsm(cache)
    texts, ratings, y, (train, val, test) = movie_split(folder, args.seed)
    shares = rater_shares(folder, ratings)
    print(f"movie snippets: {len(texts)}; train {len(train)} val {len(val)} test {len(test)}", flush=True)

    manager = ModelManager(settings.manager_config())
    with manager.use(args.encoder) as encoder:
        encoder.model.requires_grad_(False)
        n_lower = encoder.num_layers - args.tune_layers
        t0 = time.perf_counter()
        lower = cache_lower_hidden(encoder, texts, n_lower, args.max_length)
        lex = torch.tensor(lexicon_scores(texts))
        print(f"cached layer-{n_lower} states for {len(texts)} sentences in {time.perf_counter() - t0:.0f}s", flush=True)

        cfg = HeadConfig(modalities={"text": encoder.dim, "lexicon": LEXICON_DIM}, labels=LABELS, fusion="gated",
                         hidden=128, dropout=0.1)
        model = SentimentModel(cfg, top_layer_copies(encoder, args.tune_layers))

        class Trainable(torch.nn.Module):
            """Batch of row ids -> logits through the tuned top layers and the fusion head."""

            def __init__(self) -> None:
                super().__init__()
                self.inner = model

            def forward(self, batch: dict) -> torch.Tensor:
                hidden = encoder.run_layers(self.inner.text_top, batch["hidden"], batch["mask"])
                return self.inner.fusion({"text": mean_pool(hidden, batch["mask"]), "lexicon": batch["lexicon"]})

        def collate(idx: np.ndarray) -> tuple[dict, torch.Tensor]:
            states = [lower[i] for i in idx]
            length = max(s.shape[0] for s in states)
            hidden = torch.zeros(len(idx), length, encoder.dim)
            mask = torch.zeros(len(idx), length, dtype=torch.long)
            for j, s in enumerate(states):
                hidden[j, : s.shape[0]] = s.float()
                mask[j, : s.shape[0]] = 1
            target = (1 - args.soft_labels) * y[idx] + args.soft_labels * shares[idx]
            return {"hidden": hidden, "mask": mask, "lexicon": lex[idx]}, torch.tensor(
                np.stack([1 - target, target], axis=1), dtype=torch.float32)

        trainable = Trainable()
        train_cfg = TrainConfig(epochs=args.epochs, batch_size=32, lr=1e-3, encoder_lr=args.encoder_lr,
                                patience=args.epochs if refit else 2,
                                seed=args.seed)
        groups = [{"params": list(model.fusion.parameters()), "lr": train_cfg.lr},
                  {"params": list(model.text_top.parameters()), "lr": train_cfg.encoder_lr}]

        def on_epoch(log) -> None:
            print(f"epoch {log.epoch}: train loss {log.train_loss:.4f} val loss {log.val_loss:.4f} "
                  f"val F1 {log.val_f1:.4f} val acc {log.val_accuracy:.4f} ({log.seconds:.0f}s)", flush=True)

        def on_step(step: int, total: int) -> None:
            if step % 50 == 0:
                print(f"  step {step}/{total}", flush=True)

        lengths = np.array([s.shape[0] for s in lower])
        fit_rows = np.concatenate([train, val]) if refit else train
        result = fit(trainable, fit_rows, val, y, collate, train_cfg, param_groups=groups, on_epoch=on_epoch,
                     on_step=on_step, make_batches=length_bucketed_batches(lengths))

        # Ship the tuned layers in fp16 (half the size); everything below is measured on
        # the head as reloaded from disk, through the same path the app uses.
        tensors = {k: (v.half() if k.startswith("text_top.") else v) for k, v in model.tensors().items()}
        card = Card(
            name="default", labels=LABELS, fusion="gated", modalities=dict(cfg.modalities),
            encoders={"text": {"model": args.encoder, "source": manager.spec(args.encoder).source, "dim": encoder.dim,
                               "tuned_top_layers": args.tune_layers, "max_length": args.max_length},
                      "lexicon": {"model": "vaderSentiment==3.3.2", "dim": LEXICON_DIM,
                                  "features": ["neg", "neu", "pos", "compound"]}},
            hidden=cfg.hidden, dropout=cfg.dropout, metrics={},
            data={"source": f"{SDIST} sdist: {INNER}", "file": "movieReviewSnippets_GroundTruth.txt",
                  "sha256": data_sha, "threshold": "positive if mean rating > 0, negative if < 0; exact zeros dropped",
                  "clear_band": f"|mean rating| >= {CLEAR_BAND}", "split_seed": args.seed,
                  "sizes": {"train": len(train), "val": len(val), "test": len(test)},
                  "fit_on": args.fit_on + (" (validation figures are not held out)" if refit else "")},
            training={"config": train_cfg.__dict__, "best_epoch": result.best_epoch,
                      "best_val_f1": result.best_val_f1, "history": [h.__dict__ for h in result.history],
                      "command": (f"python -m scripts.train_default_head --encoder {args.encoder} --tune-layers {args.tune_layers} "
                                  f"--epochs {args.epochs} --encoder-lr {args.encoder_lr} "
                                  f"--max-length {args.max_length} --seed {args.seed} --soft-labels {args.soft_labels} "
                                  f"--fit-on {args.fit_on} "
                                  f"--out {_shown(args.out)}")},
            text_top_layers=args.tune_layers,
        )
        save_head(args.out, tensors, card.to_dict())
        card_dict, reloaded = load_head(args.out, encoder)

        def head_probs(sentences: list[str]) -> np.ndarray:
            emb = torch.tensor(encoder.embed_texts(sentences, top_layers=reloaded.text_top, max_length=args.max_length))
            with torch.no_grad():
                logits = reloaded.fusion({"text": emb, "lexicon": torch.tensor(lexicon_scores(sentences))})
            return torch.softmax(logits, -1).numpy()

        metrics = report_all(folder, texts, ratings, test, head_probs)
    card_dict["metrics"] = metrics
    save_head(args.out, tensors, {k: v for k, v in card_dict.items() if k != "weights_sha256"})
    print(json.dumps(metrics, indent=2))


def _shown(path: Path) -> str:
    """A path as the command line would give it: relative to the repository when inside."""
    path = path.resolve()
    return str(path.relative_to(REPO)) if path.is_relative_to(REPO) else str(path)


def cache_lower_hidden(encoder, texts: list[str], n_lower: int, max_length: int, batch: int = 128) -> list:
    """Per sentence, the (tokens, dim) fp16 states after the frozen lower layers."""
    import torch

    out: list = [None] * len(texts)
    order = np.argsort([len(t) for t in texts])
    with torch.inference_mode():
        for start in range(0, len(order), batch):
            idx = order[start : start + batch]
            enc = encoder.tokenize([texts[i] for i in idx], max_length)
            hidden = encoder.lower_hidden(enc, n_lower)
            lengths = enc["attention_mask"].sum(1).tolist()
            for j, i in enumerate(idx):
                out[i] = hidden[j, : lengths[j]].half().clone()
    return out


def report_all(folder: Path, texts: list[str], ratings: np.ndarray, test: np.ndarray, head_probs) -> dict:
    """Accuracy on the movie test split at both thresholds, and on Amazon/NYT, beside VADER."""
    from model_zoo.heads import lexicon_scores
    from model_zoo.training import evaluate

    def one(name: str, sentences: list[str], rates: np.ndarray) -> dict:
        y, keep = (rates > 0).astype(np.int64), rates != 0
        sentences = [s for s, k in zip(sentences, keep) if k]
        y, rates = y[keep], rates[keep]
        t0 = time.perf_counter()
        probs = head_probs(sentences)
        seconds = time.perf_counter() - t0
        vader_pos = lexicon_scores(sentences)[:, 3] >= 0  # VADER's compound score, sign
        clear = np.abs(rates) >= CLEAR_BAND
        m = evaluate(y, probs, LABELS)
        entry = {
            "n": int(len(y)), "accuracy_sign": m.accuracy, "f1_sign": m.f1, "roc_auc_sign": m.roc_auc,
            "vader_accuracy_sign": float((vader_pos == y).mean()),
            "n_clear": int(clear.sum()), "accuracy_clear": float((probs.argmax(1)[clear] == y[clear]).mean()),
            "vader_accuracy_clear": float((vader_pos[clear] == y[clear]).mean()),
            "sentences_per_s": len(y) / seconds,
        }
        if name == "movie_test":
            entry.update(precision=m.precision, recall=m.recall, per_class=m.per_class, confusion=m.confusion)
        print(name, {k: (round(v, 4) if isinstance(v, float) else v) for k, v in entry.items()
                     if k not in ("per_class", "confusion")}, flush=True)
        return entry

    results = {"movie_test": one("movie_test", [texts[i] for i in test], ratings[test])}
    for name, file in (("amazon", "amazonReviewSnippets_GroundTruth.txt"), ("nyt", "nytEditorialSnippets_GroundTruth.txt")):
        sentences, rates = read_snippets(folder / file)
        results[name] = one(name, sentences, rates)
    results["accuracy"] = results["movie_test"]["accuracy_sign"]  # the headline: every test sentence
    results["accuracy_clear"] = results["movie_test"]["accuracy_clear"]
    return results


if __name__ == "__main__":
    main()
