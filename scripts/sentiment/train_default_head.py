"""Train the heads the project ships (assets/heads): one reproducible command each.

    HF_HUB_OFFLINE=1 python -m scripts.sentiment.train_default_head              # default (MPNet), full recipe
    HF_HUB_OFFLINE=1 python -m scripts.sentiment.train_default_head --members 1 --epochs 1 \
        --init-from <movie-only default>                                # default as shipped (README)
    HF_HUB_OFFLINE=1 python -m scripts.sentiment.train_default_head --encoder minilm --tune-layers 4 --epochs 4 \
        --encoder-lr 1e-4 --soft-labels 0 --members 1 --blend-minilm 0 --out assets/heads/fast

Data (scripts/sentiment/vader_data.py): the VADER ICWSM-2014 sentences, each with the mean rating
of ~20 people on -4..+4, inside the source distribution of vaderSentiment==3.3.2; fetched
once with `pip download` and cached under the data dir (sha256 recorded). Four domains
(--domains): movie-review snippets, tweets, Amazon review snippets, NYT editorial snippets;
each split by the same seeded stratified rule (15% test, 10% validation), repeats kept once.

Labels: positive if the mean rating > 0, negative if < 0 (exact zeros are dropped).
Training targets may mix in the share of raters who read a movie snippet as positive
(--soft-labels): how sure people were. Accuracy is reported per domain on its test split
twice: over every non-zero row (plain sign threshold) and over the "clear" rows whose
|mean rating| >= 1, beside VADER. --mix-alpha weighs the domains in the loss (chosen by
scripts.sentiment.choose_mix on validation). --intensity-weight adds a regression output for the mean
rating itself (Huber loss at that weight); its MSE, MAE and Pearson r on each test split are
reported beside VADER's compound score rescaled by a line fit on the training split.

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
"""
from __future__ import annotations

import argparse
import functools
import json
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from scripts.sentiment.vader_data import DOMAINS, INNER, SDIST, Corpus, fetch_icwsm, load_corpus

REPO = Path(__file__).resolve().parents[2]
LABELS = ["negative", "positive"]
CLEAR_BAND = 1.0
# Weight of the MiniLM head blended into the default: what blend_grid picks on validation
# for the train-only heads (`--fit-on train` prints the grid and stores it in the card).
BLEND_MINILM = 0.1
BLEND_GRID = (0.0, 0.1, 0.2, 0.25, 1 / 3, 0.5)
# The domain mix and the weight of the intensity loss: what scripts.sentiment.choose_mix picks on
# validation (its grid and rule are in its docstring and in the card's training notes).
MIX_ALPHA = 0.0
INTENSITY_WEIGHT = 1.0


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
    parser.add_argument("--domains", default=",".join(DOMAINS),
                        help="comma-separated VADER domains to train on (movie first); each is split the same "
                             "way and its test split reported")
    parser.add_argument("--mix-alpha", type=float, default=MIX_ALPHA,
                        help="domain weighting: domain d's share of the training loss ~ n_d ** alpha (1: the "
                             "natural mix, 0: every domain alike); chosen on validation by "
                             "scripts.sentiment.choose_mix")
    parser.add_argument("--intensity-weight", type=float, default=INTENSITY_WEIGHT,
                        help="weight of the intensity (mean rating) regression loss; 0: no intensity output")
    parser.add_argument("--init-from", type=Path, default=None,
                        help="a saved head of the same encoder and tuned layers (e.g. the shipped default) whose "
                             "member k starts member k here (its text_top and fusion weights; a new intensity "
                             "output starts fresh): a warm start, so one epoch on new data can do")
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
    from model_zoo.fusion.heads import blend_into, lexicon_scores
    from model_zoo.core.manager import ModelManager
    from model_zoo.fusion.training import update_card

    settings = load_settings([], environ={**__import__("os").environ})
    cache = (args.data_dir or settings.data_dir) / "datasets" / "vader_icwsm2014"
    folder, data_sha = fetch_icwsm(cache)
    corpus = load_corpus(folder, tuple(args.domains.split(",")), args.split_seed)
    train, val, test = (corpus.rows(part) for part in ("train", "val", "test"))
    fit_rows = np.concatenate([train, val]) if args.fit_on == "train+val" else train
    print(f"sentences: {len(corpus.texts)} in {', '.join(corpus.domains)}; train {len(train)} val {len(val)} "
          f"test {len(test)}", flush=True)

    manager = ModelManager(settings.manager_config())
    blend_part = build_minilm_part(args, cache) if args.blend_minilm else None
    with manager.use(args.encoder) as encoder:
        encoder.model.requires_grad_(False)

        @functools.cache
        def training_data() -> TrainingData:  # only if some member still has to be trained
            n_lower = encoder.num_layers - args.tune_layers
            t0 = time.perf_counter()
            lower = cache_lower_hidden(encoder, corpus.texts, n_lower, args.max_length)
            print(f"cached layer-{n_lower} states for {len(corpus.texts)} sentences in "
                  f"{time.perf_counter() - t0:.0f}s", flush=True)
            return TrainingData(corpus=corpus, lower=lower, lexicon=torch.tensor(lexicon_scores(corpus.texts)),
                                train=train, val=val, weights=corpus.row_weights(args.mix_alpha, fit_rows))

        runs = cache / "member_runs" / _recipe_id(args, data_sha)
        members = [train_member(encoder, training_data, args, args.seed + k, runs) for k in range(args.members)]
        save_shipped_head(args, encoder, manager, members, data_sha, corpus)
    if blend_part is not None:
        blend_into(args.out, {"minilm": (blend_part, args.blend_minilm)})
    # Measure what was written, as the app loads it.
    metrics = report_all(corpus, functools.partial(parts_outputs, manager, args.out))
    if blend_part is not None and args.fit_on == "train":  # validation is held out: how to weigh the parts
        parts = parts_outputs(manager, args.out, [corpus.texts[i] for i in val])
        metrics["blend_validation"] = blend_grid([(w, p) for w, p, _ in parts], corpus.y[val])
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
    out = cache / "blend_parts" / f"minilm-{args.fit_on}-split{args.split_seed}-{_recipe_id(args, '')[:8]}"
    main(
        [
            "--encoder",
            "minilm",
            "--tune-layers",
            "4",
            "--epochs",
            "4",
            "--encoder-lr",
            "1e-4",
            "--soft-labels",
            "0",
            "--members",
            "1",
            "--seed",
            str(args.seed),
            "--split-seed",
            str(args.split_seed),
            "--fit-on",
            args.fit_on,
            "--domains",
            args.domains,
            "--mix-alpha",
            str(args.mix_alpha),
            "--intensity-weight",
            str(args.intensity_weight),
            "--blend-minilm",
            "0",
            "--out",
            str(out),
        ]
        + (["--data-dir", str(args.data_dir)] if args.data_dir else [])
    )
    return out


def parts_outputs(manager, folder: Path, sentences: list[str]) -> list[tuple[float, np.ndarray, np.ndarray | None]]:
    """(weight, (n, 2) probabilities, (n,) intensity or None) per part of the saved head in
    `folder` (one part unless it is a blend), at fp32; the head answers their weighted sum."""
    from model_zoo.fusion.heads import load_head
    from model_zoo.sentiment.service import HeadStore, text_encoder_of

    out = []
    for part in HeadStore(folder.parent, folder.parent).parts(folder.name):
        with manager.use(text_encoder_of(part.card)) as encoder:
            card, model = load_head(part.folder, encoder)
            out.append((part.weight, *head_outputs(encoder, model, card, sentences)))
    return out


@dataclass
class TrainingData:
    """What every member trains on: the corpus (labels, the raters' shares, ratings), the
    cached lower-layer states and VADER's scores per sentence, the rows to fit and to
    validate on, and each row's weight in the loss (the domain mix)."""

    corpus: Corpus
    lower: list
    lexicon: object  # torch.Tensor (n, 4)
    train: np.ndarray
    val: np.ndarray
    weights: np.ndarray


@dataclass
class Member:
    seed: int
    tensors: dict  # fusion.* and text_top.* (tuned layers in fp16)
    training: dict  # best epoch, validation F1, history


def save_shipped_head(args, encoder, manager, members: list[Member], data_sha: str, corpus: Corpus) -> None:
    """The members as one head (tensors members.<k>.*; a single member is stored bare)."""
    from model_zoo.fusion.heads import LEXICON_DIM
    from model_zoo.fusion.training import INTENSITY_SCALE, Card, save_head

    if len(members) == 1:
        tensors = members[0].tensors
    else:
        tensors = {f"members.{k}.{name}": t for k, m in enumerate(members) for name, t in m.tensors.items()}
    sizes = {d: {part: len(rows) for part, rows in zip(("train", "val", "test"), corpus.splits[d])}
             for d in corpus.domains}
    intensity = {}
    if args.intensity_weight:
        intensity = {"scale": INTENSITY_SCALE, "range": [-INTENSITY_SCALE, INTENSITY_SCALE],
                     "loss": "huber", "loss_weight": args.intensity_weight,
                     "target": "the mean human rating of the sentence (-4..+4)"}
    card = Card(
        name=args.out.name, labels=LABELS, fusion="gated", modalities={"text": encoder.dim, "lexicon": LEXICON_DIM},
        encoders={"text": {"model": args.encoder, "source": manager.spec(args.encoder).source, "dim": encoder.dim,
                           "tuned_top_layers": args.tune_layers, "max_length": args.max_length},
                  "lexicon": {"model": "vaderSentiment==3.3.2", "dim": LEXICON_DIM,
                              "features": ["neg", "neu", "pos", "compound"]}},
        hidden=128, dropout=0.1, metrics={},
        data={"source": f"{SDIST} sdist: {INNER}", "domains": list(corpus.domains),
              "sha256": data_sha, "threshold": "positive if mean rating > 0, negative if < 0; exact zeros dropped",
              "clear_band": f"|mean rating| >= {CLEAR_BAND}", "split_seed": args.split_seed,
              "split": "per domain, seeded and stratified: 10% validation, 15% test",
              "dropped_duplicates": corpus.dropped_duplicates, "mix_alpha": args.mix_alpha,
              "sizes": sizes,
              "fit_on": args.fit_on + (" (validation figures are not held out)" if args.fit_on == "train+val" else "")},
        training={"members": [{"seed": m.seed, **m.training} for m in members],
                  "command": (f"python -m scripts.sentiment.train_default_head --encoder {args.encoder} "
                              f"--tune-layers {args.tune_layers} --epochs {args.epochs} --encoder-lr {args.encoder_lr} "
                              f"--max-length {args.max_length} --seed {args.seed} --members {args.members} "
                              f"--split-seed {args.split_seed} --soft-labels {args.soft_labels} "
                              f"--fit-on {args.fit_on} --domains {args.domains} --mix-alpha {args.mix_alpha} "
                              f"--intensity-weight {args.intensity_weight} --blend-minilm {args.blend_minilm} "
                              + (f"--init-from {_shown(args.init_from)} " if args.init_from else "")
                              + f"--out {_shown(args.out)}"),
                  "init_from": None if args.init_from is None else {
                      "head": _shown(args.init_from), "weights_sha256": _weights_id(args.init_from)}},
        text_top_layers=args.tune_layers,
        members=len(members) if len(members) > 1 else 0,
        intensity=intensity,
    )
    save_head(args.out, tensors, card.to_dict())


def head_outputs(encoder, model, card: dict, sentences: list[str]) -> tuple[np.ndarray, np.ndarray | None]:
    """(n, 2) probabilities and (n,) intensity (or None) of a saved head (every member,
    averaged) at fp32."""
    from model_zoo.fusion.heads import lexicon_scores, mean_text_outputs

    tops = [m.text_top for m in model.members]
    blocks = encoder.embed_texts_branches(sentences, tops, max_length=card["encoders"]["text"]["max_length"])
    return mean_text_outputs(model.members, blocks, lexicon_scores(sentences))


def _recipe_id(args, data_sha: str) -> str:
    """A folder name per recipe: members already trained with it are reused (resume)."""
    import hashlib

    keys = ("encoder", "tune_layers", "epochs", "max_length", "encoder_lr", "split_seed", "fit_on", "soft_labels",
            "domains", "mix_alpha", "intensity_weight")
    recipe = {k: getattr(args, k) for k in keys} | {"data": data_sha}
    if args.init_from is not None:  # (absent otherwise: cold-start members keep their folder)
        recipe["init_from"] = _weights_id(args.init_from)
    recipe = json.dumps(recipe, sort_keys=True)
    return hashlib.sha256(recipe.encode()).hexdigest()[:16]


def train_member(encoder, training_data, args, seed: int, runs: Path) -> Member:
    """One member: copies of the top layers and a gated fusion head, fitted with `seed`.
    Written atomically under `runs` when done, so a rerun (or a killed run) resumes.
    `training_data()` gives the cached states; it is only called if training is needed."""
    import torch
    from safetensors.torch import load_file, save

    from model_zoo.core import storage
    from model_zoo.text.sentence_encoder import mean_pool
    from model_zoo.fusion.modules import HeadConfig
    from model_zoo.fusion.heads import LEXICON_DIM, SentimentModel, top_layer_copies
    from model_zoo.fusion.training import INTENSITY_SCALE, Targets, TrainConfig, fit, length_bucketed_batches

    done, log_file = runs / f"seed-{seed}.safetensors", runs / f"seed-{seed}.json"
    if done.is_file() and log_file.is_file():
        print(f"member seed {seed}: reusing {done}", flush=True)
        return Member(seed, load_file(done), json.loads(log_file.read_text()))
    data: TrainingData = training_data()
    corpus = data.corpus
    refit = args.fit_on == "train+val"
    torch.manual_seed(seed)
    cfg = HeadConfig(modalities={"text": encoder.dim, "lexicon": LEXICON_DIM}, labels=LABELS, fusion="gated",
                     hidden=128, dropout=0.1, intensity=bool(args.intensity_weight))
    model = SentimentModel(cfg, top_layer_copies(encoder, args.tune_layers))
    if args.init_from is not None:
        warm_start(model, args.init_from, seed - args.seed)

    class Trainable(torch.nn.Module):
        """Batch of row ids -> logits through the tuned top layers and the fusion head."""

        def __init__(self) -> None:
            super().__init__()
            self.inner = model

        def forward(self, batch: dict):
            hidden = encoder.run_layers(self.inner.text_top, batch["hidden"], batch["mask"])
            logits, intensity = self.inner.fusion.outputs({"text": mean_pool(hidden, batch["mask"]),
                                                           "lexicon": batch["lexicon"]})
            return logits if intensity is None else (logits, intensity)

    def collate(idx: np.ndarray) -> tuple[dict, Targets]:
        states = [data.lower[i] for i in idx]
        length = max(s.shape[0] for s in states)
        hidden = torch.zeros(len(idx), length, encoder.dim)
        mask = torch.zeros(len(idx), length, dtype=torch.long)
        for j, s in enumerate(states):
            hidden[j, : s.shape[0]] = s.float()
            mask[j, : s.shape[0]] = 1
        target = (1 - args.soft_labels) * corpus.y[idx] + args.soft_labels * corpus.shares[idx]
        labels = torch.tensor(np.stack([1 - target, target], axis=1), dtype=torch.float32)
        return {"hidden": hidden, "mask": mask, "lexicon": data.lexicon[idx]}, Targets(
            labels, torch.from_numpy(corpus.ratings[idx] / INTENSITY_SCALE), torch.from_numpy(data.weights[idx]))

    train_cfg = TrainConfig(epochs=args.epochs, batch_size=32, lr=1e-3, encoder_lr=args.encoder_lr,
                            patience=args.epochs if refit else 2, seed=seed, intensity_weight=args.intensity_weight)
    groups = [{"params": list(model.fusion.parameters()), "lr": train_cfg.lr},
              {"params": list(model.text_top.parameters()), "lr": train_cfg.encoder_lr}]

    def on_epoch(log) -> None:
        mse = "" if log.val_mse is None else f" val MSE {log.val_mse:.3f}"
        print(f"seed {seed} epoch {log.epoch}: train loss {log.train_loss:.4f} val loss {log.val_loss:.4f} "
              f"val F1 {log.val_f1:.4f} val acc {log.val_accuracy:.4f}{mse} ({log.seconds:.0f}s)", flush=True)

    def on_step(step: int, total: int) -> None:
        if step % 100 == 0:
            print(f"  seed {seed} step {step}/{total}", flush=True)

    lengths = np.array([s.shape[0] for s in data.lower])
    fit_rows = np.concatenate([data.train, data.val]) if refit else data.train
    result = fit(Trainable(), fit_rows, data.val, corpus.y, collate, train_cfg, param_groups=groups,
                 on_epoch=on_epoch, on_step=on_step, make_batches=length_bucketed_batches(lengths),
                 ratings=corpus.ratings)
    # The tuned layers ship in fp16: half the size, and the app runs them at fp32/bf16.
    tensors = {k: (v.half() if k.startswith("text_top.") else v).contiguous() for k, v in model.tensors().items()}
    training = {"config": train_cfg.__dict__, "best_epoch": result.best_epoch, "best_val_f1": result.best_val_f1,
                "history": [h.__dict__ for h in result.history]}
    runs.mkdir(parents=True, exist_ok=True)
    storage.atomic_write_bytes(done, save(tensors))
    storage.atomic_write_text(log_file, json.dumps(training))
    return Member(seed, tensors, training)


def warm_start(model, folder: Path, member: int) -> None:
    """Load member `member` of the saved head in `folder` (or the head itself, if it is
    not an ensemble) into `model`; only an intensity output it lacks may stay fresh."""
    from model_zoo.fusion.training import load_head_files

    card, tensors = load_head_files(folder)
    if card.get("members"):
        prefix = f"members.{member % int(card['members'])}."
        tensors = {k[len(prefix):]: v for k, v in tensors.items() if k.startswith(prefix)}
    try:
        missing, unexpected = model.load_state_dict({k: v.float() for k, v in tensors.items()}, strict=False)
    except RuntimeError as exc:  # a tensor of another shape
        raise ValueError(f"{folder} does not fit this recipe: {exc}") from None
    if unexpected or any(not k.startswith("fusion.regressor.") for k in missing):
        raise ValueError(f"{folder} does not fit this recipe: missing {missing}, unexpected {unexpected}")
    print(f"warm start from {folder} (member {member}); fresh: {missing or 'nothing'}", flush=True)


def _weights_id(folder: Path) -> str:
    """What identifies a saved head's weights: its card's hash of them."""
    return json.loads((folder / "card.json").read_text())["weights_sha256"][:16]


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


def report_all(corpus: Corpus, score_parts) -> dict:
    """Per domain, on its test split: accuracy at both thresholds beside VADER's, and the
    intensity's MSE/MAE/Pearson r beside VADER's compound score rescaled to ratings by a
    least-squares line fit on the training split. score_parts(sentences) -> [(weight,
    probabilities, intensity)]: a blend's parts are also scored alone."""
    from model_zoo.fusion.heads import lexicon_scores
    from model_zoo.fusion.training import evaluate, evaluate_intensity

    train = corpus.rows("train")
    slope, intercept = np.polyfit(lexicon_scores([corpus.texts[i] for i in train])[:, 3], corpus.ratings[train], 1)

    def one(name: str, rows: np.ndarray) -> dict:
        sentences, y, rates = [corpus.texts[i] for i in rows], corpus.y[rows], corpus.ratings[rows]
        t0 = time.perf_counter()
        parts = score_parts(sentences)
        seconds = time.perf_counter() - t0
        probs = sum(weight * p for weight, p, _ in parts)
        compound = lexicon_scores(sentences)[:, 3]
        vader_pos = compound >= 0  # VADER's compound score, sign
        clear = np.abs(rates) >= CLEAR_BAND
        m = evaluate(y, probs, LABELS)
        entry = {
            "n": int(len(y)), "accuracy_sign": m.accuracy, "f1_sign": m.f1, "roc_auc_sign": m.roc_auc,
            "vader_accuracy_sign": float((vader_pos == y).mean()),
            "n_clear": int(clear.sum()), "accuracy_clear": float((probs.argmax(1)[clear] == y[clear]).mean()),
            "vader_accuracy_clear": float((vader_pos[clear] == y[clear]).mean()),
            "sentences_per_s": len(y) / seconds,
        }
        rated = [(weight, i) for weight, _, i in parts if i is not None]
        if rated:
            intensity = sum(weight * i for weight, i in rated) / sum(weight for weight, _ in rated)
            entry["intensity"] = evaluate_intensity(rates, intensity).__dict__
            entry["vader_intensity"] = evaluate_intensity(rates, slope * compound + intercept).__dict__
        if len(parts) > 1:  # each part alone, in the card's order (its own weights first)
            entry["parts_alone"] = [{"weight": weight, "accuracy_sign": float((p.argmax(1) == y).mean()),
                                     "accuracy_clear": float((p.argmax(1)[clear] == y[clear]).mean())}
                                    for weight, p, _ in parts]
        if name == "movie_test":
            entry.update(precision=m.precision, recall=m.recall, per_class=m.per_class, confusion=m.confusion)
        print(name, {k: (round(v, 4) if isinstance(v, float) else v) for k, v in entry.items()
                     if k not in ("per_class", "confusion")}, flush=True)
        return entry

    results = {"movie_test" if d == "movie" else d: one("movie_test" if d == "movie" else d, corpus.splits[d][2])
               for d in corpus.domains}
    results["accuracy"] = results["movie_test"]["accuracy_sign"]  # the headline: every movie test sentence
    results["accuracy_clear"] = results["movie_test"]["accuracy_clear"]
    results["vader_line"] = {"slope": float(slope), "intercept": float(intercept),
                             "fit_on": "training split: rating ~ slope * compound + intercept"}
    return results


if __name__ == "__main__":
    main()
