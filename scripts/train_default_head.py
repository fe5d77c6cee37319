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
--members 3 (default) trains the recipe with 3 seeds and ships them as one head whose
probabilities are averaged (a seed ensemble): single runs of the recipe scored 0.895-0.900
on the test split depending on the seed, and an average does not hang on one seed's luck.
Finished members are kept under the data dir, so an interrupted run resumes where it stopped.
--blend-minilm 0.1 (default on MPNet) also builds a MiniLM head with the fast recipe, fit
on the same rows, and ships it inside the head as a blend part weighing 0.1 of the
probabilities; run with --fit-on train, the script prints the validation grid of blend
weights that chose 0.1 (blend_grid).
--extra-train tweets adds the rated tweets to the training rows (an experiment; see README).
"""
from __future__ import annotations

import argparse
import functools
import json
import subprocess
import sys
import tarfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
SDIST = "vaderSentiment==3.3.2"
INNER = "vaderSentiment-3.3.2/additional_resources/hutto_ICWSM_2014.tar.gz"
LABELS = ["negative", "positive"]
CLEAR_BAND = 1.0
# Weight of the MiniLM head blended into the default: what blend_grid picks on validation
# for the train-only heads (`--fit-on train` prints the grid and stores it in the card).
BLEND_MINILM = 0.1
BLEND_GRID = (0.0, 0.1, 0.2, 0.25, 1 / 3, 0.5)


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


def add_tweets(folder: Path, texts: list[str], ratings: np.ndarray, y: np.ndarray, shares: np.ndarray,
               train: np.ndarray) -> tuple:
    """The rated tweets appended after the movie rows (whose indices stay as they are) and
    added to the training rows. Hard labels: their per-rater file does not line up with
    their ground truth."""
    import html

    extra, extra_ratings = read_snippets(folder / "tweets_GroundTruth.txt")
    extra_y, keep = binarise(extra_ratings)
    rows = len(texts) + np.flatnonzero(keep)
    return ([*texts, *(html.unescape(t) for t in extra)], np.concatenate([ratings, extra_ratings]),
            np.concatenate([y, extra_y]), np.concatenate([shares, extra_y.astype(np.float32)]),
            np.concatenate([train, rows]))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=REPO / "assets" / "heads" / "default")
    parser.add_argument("--data-dir", type=Path, default=None, help="cache for the dataset (default: settings)")
    parser.add_argument("--encoder", default="mpnet", help="registry key of the text encoder")
    parser.add_argument("--tune-layers", type=int, default=3, help="top encoder layers to tune")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--max-length", type=int, default=64)
    parser.add_argument("--encoder-lr", type=float, default=5e-5, help="learning rate of the tuned layers")
    parser.add_argument("--seed", type=int, default=0, help="training seed of the first member")
    parser.add_argument("--members", type=int, default=3,
                        help="ensemble size: members trained with seeds seed, seed+1, ...; their probabilities "
                             "are averaged (they share the frozen lower layers, so each adds only its top)")
    parser.add_argument("--split-seed", type=int, default=0, help="seed of the fixed train/val/test split")
    parser.add_argument("--fit-on", choices=["train", "train+val"], default="train+val",
                        help="train: early stopping on validation (to choose a recipe); train+val: the final "
                             "fit of the chosen recipe for --epochs, validation included")
    parser.add_argument("--extra-train", choices=["none", "tweets"], default="none",
                        help="add the 4,200 rated tweets of the same data to the training rows (hard labels; "
                             "never Amazon or NYT: they are the cross-domain checks)")
    parser.add_argument("--soft-labels", type=float, default=0.5,
                        help="weight of the raters' share (0..1) mixed into the 0/1 training target")
    parser.add_argument("--blend-minilm", type=float, default=None,
                        help="blend in a MiniLM head (the fast recipe, fit like this one) with this weight; "
                             f"0 = none (default: {BLEND_MINILM} unless --encoder is minilm)")
    args = parser.parse_args(argv)
    if args.blend_minilm is None:
        args.blend_minilm = 0.0 if args.encoder == "minilm" else BLEND_MINILM

    import torch

    from app.settings import load_settings
    from model_zoo.heads import blend_into, lexicon_scores
    from model_zoo.manager import ModelManager
    from model_zoo.training import update_card

    settings = load_settings([], environ={**__import__("os").environ})
    cache = (args.data_dir or settings.data_dir) / "datasets" / "vader_icwsm2014"
    folder, data_sha = fetch_icwsm(cache)
    texts, ratings, y, (train, val, test) = movie_split(folder, args.split_seed)
    shares = rater_shares(folder, ratings)
    if args.extra_train == "tweets":
        texts, ratings, y, shares, train = add_tweets(folder, texts, ratings, y, shares, train)
    print(f"sentences: {len(texts)}; train {len(train)} val {len(val)} test {len(test)}", flush=True)

    manager = ModelManager(settings.manager_config())
    blend_part = build_minilm_part(args, cache) if args.blend_minilm else None
    with manager.use(args.encoder) as encoder:
        encoder.model.requires_grad_(False)

        @functools.cache
        def training_data() -> TrainingData:  # only if some member still has to be trained
            n_lower = encoder.num_layers - args.tune_layers
            t0 = time.perf_counter()
            lower = cache_lower_hidden(encoder, texts, n_lower, args.max_length)
            print(f"cached layer-{n_lower} states for {len(texts)} sentences in {time.perf_counter() - t0:.0f}s",
                  flush=True)
            return TrainingData(y=y, shares=shares, lower=lower, lexicon=torch.tensor(lexicon_scores(texts)),
                                train=train, val=val)

        runs = cache / "member_runs" / _recipe_id(args, data_sha)
        members = [train_member(encoder, training_data, args, args.seed + k, runs) for k in range(args.members)]
        save_shipped_head(args, encoder, manager, members, data_sha, (train, val, test))
    if blend_part is not None:
        blend_into(args.out, {"minilm": (blend_part, args.blend_minilm)})
    # Measure what was written, as the app loads it.
    metrics = report_all(folder, texts, ratings, test, functools.partial(parts_probs, manager, args.out))
    if blend_part is not None and args.fit_on == "train":  # validation is held out: how to weigh the parts
        metrics["blend_validation"] = blend_grid(parts_probs(manager, args.out, [texts[i] for i in val]), y[val])
    update_card(args.out, metrics=metrics)
    print(json.dumps(metrics, indent=2))


def blend_grid(parts: list[tuple[float, np.ndarray]], y: np.ndarray) -> dict:
    """Validation accuracy and log-loss of the blend at each weight of its second part, and
    the weight the rule picks. The rule, fixed before looking: the lowest log-loss among the
    weights whose accuracy is not below the first part's alone (weight 0)."""
    from sklearn.metrics import log_loss

    (_, own), (_, other) = parts
    rows = []
    for weight in BLEND_GRID:
        probs = (1 - weight) * own + weight * other
        rows.append({"weight": round(weight, 4), "accuracy": float((probs.argmax(1) == y).mean()),
                     "log_loss": float(log_loss(y, probs, labels=[0, 1]))})
        print(f"blend weight {weight:.3f}: validation accuracy {rows[-1]['accuracy']:.4f} "
              f"log-loss {rows[-1]['log_loss']:.4f}", flush=True)
    eligible = [r for r in rows if r["accuracy"] >= rows[0]["accuracy"]]
    chosen = min(eligible, key=lambda r: r["log_loss"])["weight"]
    print(f"the rule picks weight {chosen}", flush=True)
    return {"grid": rows, "chosen": chosen}


def build_minilm_part(args, cache: Path) -> Path:
    """The MiniLM head a blend takes in: the fast head's recipe, fit on the same rows and
    split as this head, built (or reused: its member is cached) by this same script."""
    out = cache / "blend_parts" / f"minilm-{args.fit_on}-split{args.split_seed}"
    main(["--encoder", "minilm", "--tune-layers", "4", "--epochs", "4", "--encoder-lr", "1e-4", "--soft-labels", "0",
          "--members", "1", "--seed", str(args.seed), "--split-seed", str(args.split_seed), "--fit-on", args.fit_on,
          "--blend-minilm", "0", "--out", str(out)] + (["--data-dir", str(args.data_dir)] if args.data_dir else []))
    return out


def parts_probs(manager, folder: Path, sentences: list[str]) -> list[tuple[float, np.ndarray]]:
    """(weight, (n, 2) probabilities) per part of the saved head in `folder` (one part
    unless it is a blend), at fp32; the head answers their weighted sum."""
    from model_zoo.heads import load_head
    from model_zoo.sentiment import HeadStore, text_encoder_of

    out = []
    for part in HeadStore(folder.parent, folder.parent).parts(folder.name):
        with manager.use(text_encoder_of(part.card)) as encoder:
            card, model = load_head(part.folder, encoder)
            out.append((part.weight, head_probs(encoder, model, card, sentences)))
    return out


@dataclass
class TrainingData:
    """What every member trains on: labels, the raters' shares, the cached lower-layer
    states and VADER's scores per sentence, and the rows to fit and to validate on."""

    y: np.ndarray
    shares: np.ndarray
    lower: list
    lexicon: object  # torch.Tensor (n, 4)
    train: np.ndarray
    val: np.ndarray


@dataclass
class Member:
    seed: int
    tensors: dict  # fusion.* and text_top.* (tuned layers in fp16)
    training: dict  # best epoch, validation F1, history


def save_shipped_head(args, encoder, manager, members: list[Member], data_sha: str, split: tuple) -> None:
    """The members as one head (tensors members.<k>.*; a single member is stored bare)."""
    from model_zoo.heads import LEXICON_DIM
    from model_zoo.training import Card, save_head

    train, val, test = split
    if len(members) == 1:
        tensors = members[0].tensors
    else:
        tensors = {f"members.{k}.{name}": t for k, m in enumerate(members) for name, t in m.tensors.items()}
    card = Card(
        name=args.out.name, labels=LABELS, fusion="gated", modalities={"text": encoder.dim, "lexicon": LEXICON_DIM},
        encoders={"text": {"model": args.encoder, "source": manager.spec(args.encoder).source, "dim": encoder.dim,
                           "tuned_top_layers": args.tune_layers, "max_length": args.max_length},
                  "lexicon": {"model": "vaderSentiment==3.3.2", "dim": LEXICON_DIM,
                              "features": ["neg", "neu", "pos", "compound"]}},
        hidden=128, dropout=0.1, metrics={},
        data={"source": f"{SDIST} sdist: {INNER}", "file": "movieReviewSnippets_GroundTruth.txt",
              "sha256": data_sha, "threshold": "positive if mean rating > 0, negative if < 0; exact zeros dropped",
              "clear_band": f"|mean rating| >= {CLEAR_BAND}", "split_seed": args.split_seed,
              "extra_train": args.extra_train,
              "sizes": {"train": len(train), "val": len(val), "test": len(test)},
              "fit_on": args.fit_on + (" (validation figures are not held out)" if args.fit_on == "train+val" else "")},
        training={"members": [{"seed": m.seed, **m.training} for m in members],
                  "command": (f"python -m scripts.train_default_head --encoder {args.encoder} "
                              f"--tune-layers {args.tune_layers} --epochs {args.epochs} --encoder-lr {args.encoder_lr} "
                              f"--max-length {args.max_length} --seed {args.seed} --members {args.members} "
                              f"--split-seed {args.split_seed} --soft-labels {args.soft_labels} "
                              f"--fit-on {args.fit_on} --extra-train {args.extra_train} --blend-minilm {args.blend_minilm} "
                              f"--out {_shown(args.out)}")},
        text_top_layers=args.tune_layers,
        members=len(members) if len(members) > 1 else 0,
    )
    save_head(args.out, tensors, card.to_dict())


def head_probs(encoder, model, card: dict, sentences: list[str]) -> np.ndarray:
    """(n, 2) probabilities of a saved head (every member, averaged) at fp32."""
    from model_zoo.heads import lexicon_scores, mean_text_probs

    tops = [m.text_top for m in model.members]
    blocks = encoder.embed_texts_branches(sentences, tops, max_length=card["encoders"]["text"]["max_length"])
    return mean_text_probs(model.members, blocks, lexicon_scores(sentences))


def _recipe_id(args, data_sha: str) -> str:
    """A folder name per recipe: members already trained with it are reused (resume)."""
    import hashlib

    keys = ("encoder", "tune_layers", "epochs", "max_length", "encoder_lr", "split_seed", "fit_on", "soft_labels")
    recipe = {k: getattr(args, k) for k in keys} | {"data": data_sha}
    if args.extra_train != "none":  # (absent otherwise: members trained before the option stay valid)
        recipe["extra_train"] = args.extra_train
    recipe = json.dumps(recipe, sort_keys=True)
    return hashlib.sha256(recipe.encode()).hexdigest()[:16]


def train_member(encoder, training_data, args, seed: int, runs: Path) -> Member:
    """One member: copies of the top layers and a gated fusion head, fitted with `seed`.
    Written atomically under `runs` when done, so a rerun (or a killed run) resumes.
    `training_data()` gives the cached states; it is only called if training is needed."""
    import torch
    from safetensors.torch import load_file, save

    from model_zoo import storage
    from model_zoo.backends.text_encoder import mean_pool
    from model_zoo.fusion import HeadConfig
    from model_zoo.heads import LEXICON_DIM, SentimentModel, top_layer_copies
    from model_zoo.training import TrainConfig, fit, length_bucketed_batches

    done, log_file = runs / f"seed-{seed}.safetensors", runs / f"seed-{seed}.json"
    if done.is_file() and log_file.is_file():
        print(f"member seed {seed}: reusing {done}", flush=True)
        return Member(seed, load_file(done), json.loads(log_file.read_text()))
    data: TrainingData = training_data()
    refit = args.fit_on == "train+val"
    torch.manual_seed(seed)
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
        states = [data.lower[i] for i in idx]
        length = max(s.shape[0] for s in states)
        hidden = torch.zeros(len(idx), length, encoder.dim)
        mask = torch.zeros(len(idx), length, dtype=torch.long)
        for j, s in enumerate(states):
            hidden[j, : s.shape[0]] = s.float()
            mask[j, : s.shape[0]] = 1
        target = (1 - args.soft_labels) * data.y[idx] + args.soft_labels * data.shares[idx]
        return {"hidden": hidden, "mask": mask, "lexicon": data.lexicon[idx]}, torch.tensor(
            np.stack([1 - target, target], axis=1), dtype=torch.float32)

    train_cfg = TrainConfig(epochs=args.epochs, batch_size=32, lr=1e-3, encoder_lr=args.encoder_lr,
                            patience=args.epochs if refit else 2, seed=seed)
    groups = [{"params": list(model.fusion.parameters()), "lr": train_cfg.lr},
              {"params": list(model.text_top.parameters()), "lr": train_cfg.encoder_lr}]

    def on_epoch(log) -> None:
        print(f"seed {seed} epoch {log.epoch}: train loss {log.train_loss:.4f} val loss {log.val_loss:.4f} "
              f"val F1 {log.val_f1:.4f} val acc {log.val_accuracy:.4f} ({log.seconds:.0f}s)", flush=True)

    def on_step(step: int, total: int) -> None:
        if step % 100 == 0:
            print(f"  seed {seed} step {step}/{total}", flush=True)

    lengths = np.array([s.shape[0] for s in data.lower])
    fit_rows = np.concatenate([data.train, data.val]) if refit else data.train
    result = fit(Trainable(), fit_rows, data.val, data.y, collate, train_cfg, param_groups=groups,
                 on_epoch=on_epoch, on_step=on_step, make_batches=length_bucketed_batches(lengths))
    # The tuned layers ship in fp16: half the size, and the app runs them at fp32/bf16.
    tensors = {k: (v.half() if k.startswith("text_top.") else v).contiguous() for k, v in model.tensors().items()}
    training = {"config": train_cfg.__dict__, "best_epoch": result.best_epoch, "best_val_f1": result.best_val_f1,
                "history": [h.__dict__ for h in result.history]}
    runs.mkdir(parents=True, exist_ok=True)
    storage.atomic_write_bytes(done, save(tensors))
    storage.atomic_write_text(log_file, json.dumps(training))
    return Member(seed, tensors, training)


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


def report_all(folder: Path, texts: list[str], ratings: np.ndarray, test: np.ndarray, score_parts) -> dict:
    """Accuracy on the movie test split at both thresholds, and on Amazon/NYT, beside VADER.
    score_parts(sentences) -> [(weight, probabilities)]: a blend's parts are also scored alone."""
    from model_zoo.heads import lexicon_scores
    from model_zoo.training import evaluate

    def one(name: str, sentences: list[str], rates: np.ndarray) -> dict:
        y, keep = (rates > 0).astype(np.int64), rates != 0
        sentences = [s for s, k in zip(sentences, keep) if k]
        y, rates = y[keep], rates[keep]
        t0 = time.perf_counter()
        parts = score_parts(sentences)
        seconds = time.perf_counter() - t0
        probs = sum(weight * p for weight, p in parts)
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
        if len(parts) > 1:  # each part alone, in the card's order (its own weights first)
            entry["parts_alone"] = [{"weight": weight, "accuracy_sign": float((p.argmax(1) == y).mean()),
                                     "accuracy_clear": float((p.argmax(1)[clear] == y[clear]).mean())}
                                    for weight, p in parts]
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
