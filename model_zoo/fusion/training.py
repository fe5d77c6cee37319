"""Training a head: splits, the fit loop (accelerate, AdamW, class weights, early
stopping on validation macro-F1), metrics (scikit-learn) and checkpoints
(safetensors + a JSON card, written atomically; never pickle).

The loop is model-agnostic: a model maps a batch of inputs to logits, and a `collate`
callable turns a list of row indices into (inputs, labels). The Training tab uses it
over cached frozen embeddings; scripts/sentiment/train_default_head.py also tunes the text
encoder's top layers with it. Runs unchanged under `accelerate launch` (multi-GPU).
"""
from __future__ import annotations

import copy
import json
import math
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from model_zoo.core import storage
from model_zoo.core.errors import InputError
from model_zoo.core.ownership import Unlimited

FUSIONS = ("early", "late", "gated", "attention")  # see model_zoo.fusion.modules
HEAD_WEIGHTS = "head.safetensors"
HEAD_CARD = "card.json"
PARTS_DIR = "parts"  # a blend's parts: parts/<name>/, each a whole head
# Intensity targets are mean human ratings on -4..+4 (the VADER data's scale; a dataset's
# numeric `score` column is read on the same scale); heads regress rating / INTENSITY_SCALE.
INTENSITY_SCALE = 4.0


@dataclass
class TrainConfig:
    epochs: int = 30
    batch_size: int = 32
    lr: float = 2e-3  # the fusion head
    encoder_lr: float = 3e-5  # tuned encoder layers, if any
    weight_decay: float = 0.01
    patience: int = 5  # epochs without a better validation macro-F1 before stopping
    seed: int = 0
    class_weights: bool = True
    warmup_fraction: float = 0.06
    intensity_weight: float = 0.0  # weight of the intensity loss (Huber) beside cross-entropy; 0: none
    huber_delta: float = 0.25  # in rating / INTENSITY_SCALE units (one rating point)


@dataclass
class EpochLog:
    epoch: int
    train_loss: float
    val_loss: float
    val_f1: float
    val_accuracy: float
    seconds: float
    val_mse: float | None = None  # intensity, in rating units squared (heads with an intensity output)


@dataclass
class Metrics:
    accuracy: float
    precision: float  # macro
    recall: float  # macro
    f1: float  # macro
    n: int
    per_class: dict[str, dict[str, float]]
    confusion: list[list[int]]
    labels: list[str]
    roc_auc: float | None = None  # binary tasks only


@dataclass
class IntensityMetrics:
    """A regression output against the mean human rating, on the -4..4 scale."""

    mse: float
    mae: float
    pearson: float
    n: int


@dataclass
class Targets:
    """What `collate` may return instead of a bare label tensor: labels (class indices or
    probabilities), the rating / INTENSITY_SCALE (NaN where a row has none), and a weight
    per row (e.g. to balance domains); None for what a dataset lacks."""

    labels: Any
    intensity: Any = None
    weight: Any = None


@dataclass
class FitResult:
    history: list[EpochLog]
    best_epoch: int
    best_val_f1: float
    stopped_early: bool


# -- data splits ---------------------------------------------------------------------
def stratified_split(y: Sequence[int], fractions: Sequence[float], seed: int) -> list[np.ndarray]:
    """Index arrays for train + one per fraction (e.g. val, test), stratified by label.
    Every class with enough rows appears in every part."""
    from sklearn.model_selection import train_test_split

    y = np.asarray(y)
    rest = np.arange(len(y))
    parts: list[np.ndarray] = []
    remaining = 1.0
    for fraction in fractions:
        share = fraction / remaining
        n_take = max(int(round(share * len(rest))), len(np.unique(y[rest])))
        counts = np.bincount(y[rest])
        stratify = y[rest] if counts[counts > 0].min() >= 2 and n_take < len(rest) else None
        rest, taken = train_test_split(rest, test_size=n_take, random_state=seed, stratify=stratify)
        parts.append(np.sort(taken))
        remaining -= fraction
    return [np.sort(rest), *parts]


def class_weights(y: Sequence[int], n_classes: int) -> np.ndarray:
    """Inverse-frequency weights ("balanced"), so a rare class counts as much as a common one."""
    counts = np.bincount(np.asarray(y), minlength=n_classes).astype(np.float64)
    return (counts.sum() / (n_classes * np.maximum(counts, 1))).astype(np.float32)


# -- metrics ---------------------------------------------------------------------------
def evaluate(y_true: Sequence[int], probs: np.ndarray, labels: list[str]) -> Metrics:
    from sklearn import metrics as skm

    y_true = np.asarray(y_true)
    y_pred = probs.argmax(1)
    ids = list(range(len(labels)))
    p, r, f, _ = skm.precision_recall_fscore_support(y_true, y_pred, labels=ids, average="macro", zero_division=0)
    report = skm.classification_report(y_true, y_pred, labels=ids, target_names=labels, output_dict=True,
                                       zero_division=0)
    per_class = {name: {k: float(v) for k, v in report[name].items()} for name in labels}
    auc = None
    if len(labels) == 2 and len(np.unique(y_true)) == 2:
        auc = float(skm.roc_auc_score(y_true, probs[:, 1]))
    return Metrics(
        accuracy=float(skm.accuracy_score(y_true, y_pred)), precision=float(p), recall=float(r), f1=float(f),
        n=int(len(y_true)), per_class=per_class,
        confusion=skm.confusion_matrix(y_true, y_pred, labels=ids).tolist(), labels=list(labels), roc_auc=auc,
    )


def evaluate_intensity(ratings: Sequence[float], predicted: Sequence[float]) -> IntensityMetrics:
    """MSE, MAE and Pearson r of predicted against true ratings (rows with a rating only)."""
    ratings, predicted = np.asarray(ratings, dtype=np.float64), np.asarray(predicted, dtype=np.float64)
    known = ~np.isnan(ratings)
    ratings, predicted = ratings[known], predicted[known]
    if len(ratings) == 0:
        return IntensityMetrics(float("nan"), float("nan"), float("nan"), 0)
    errors = predicted - ratings
    varied = len(ratings) > 1 and ratings.std() > 0 and predicted.std() > 0
    pearson = float(np.corrcoef(ratings, predicted)[0, 1]) if varied else float("nan")
    return IntensityMetrics(float(np.mean(errors ** 2)), float(np.mean(np.abs(errors))), pearson, int(len(ratings)))


# -- the loop --------------------------------------------------------------------------
def random_batches(rows: np.ndarray, batch_size: int, rng: np.random.Generator) -> list[np.ndarray]:
    order = rng.permutation(rows)
    return [order[i : i + batch_size] for i in range(0, len(order), batch_size)]


def length_bucketed_batches(lengths: np.ndarray, pool: int = 50) -> Callable:
    """Batches of similar length (little padding) in random order: shuffle, sort within
    pools of `pool` batches by length, cut, shuffle the batches."""

    def make(rows: np.ndarray, batch_size: int, rng: np.random.Generator) -> list[np.ndarray]:
        order = rng.permutation(rows)
        batches = []
        for start in range(0, len(order), batch_size * pool):
            chunk = order[start : start + batch_size * pool]
            chunk = chunk[np.argsort(lengths[chunk], kind="stable")]
            batches += [chunk[i : i + batch_size] for i in range(0, len(chunk), batch_size)]
        return [batches[i] for i in rng.permutation(len(batches))]

    return make


Collate = Callable[[np.ndarray], tuple[Any, Any]]


def predict_probs(model, rows: np.ndarray, collate: Collate, batch_size: int = 256) -> np.ndarray:
    return predict_outputs(model, rows, collate, batch_size)[0]


def predict_outputs(model, rows: np.ndarray, collate: Collate, batch_size: int = 256
                    ) -> tuple[np.ndarray, np.ndarray | None]:
    """(probabilities, intensity on the rating scale or None) of a model over rows. A
    model returns logits, or (logits, intensity) when it has an intensity output."""
    import torch

    model.eval()
    probs, intensity = [], []
    with torch.no_grad():
        for start in range(0, len(rows), batch_size):
            inputs, _ = collate(rows[start : start + batch_size])
            logits, predicted = _split_outputs(model(_on_device_of(model, inputs)))
            probs.append(torch.softmax(logits.float(), -1).cpu().numpy())
            if predicted is not None:
                intensity.append((predicted.float().clamp(-1, 1) * INTENSITY_SCALE).cpu().numpy())
    if not probs:
        return np.zeros((0, 0), dtype=np.float32), None
    return np.concatenate(probs), np.concatenate(intensity) if intensity else None


def _on_device_of(model, inputs):
    """`inputs` (tensors, or dicts / lists of them) moved to the device of `model`'s
    weights: collate builds batches on the CPU, and on a GPU accelerate has moved the model."""
    from accelerate.utils import send_to_device

    weights = next(iter(model.parameters()), None)
    return inputs if weights is None else send_to_device(inputs, weights.device)


def _split_outputs(outputs) -> tuple[Any, Any]:
    return outputs if isinstance(outputs, tuple) else (outputs, None)


def _loss(outputs, targets, class_weight, cfg: TrainConfig, device):
    """Cross-entropy (weighted by class, and by row when targets carry weights) plus
    cfg.intensity_weight x Huber on rows that have a rating."""
    import torch
    import torch.nn.functional as F

    logits, predicted = _split_outputs(outputs)
    if not isinstance(targets, Targets):
        targets = Targets(targets)
    per_row = F.cross_entropy(logits, targets.labels.to(device), weight=class_weight, reduction="none")
    row_weight = torch.ones_like(per_row) if targets.weight is None else targets.weight.to(device).float()
    loss = (per_row * row_weight).sum() / row_weight.sum().clamp(min=1e-9)
    if cfg.intensity_weight and predicted is not None and targets.intensity is not None:
        truth = targets.intensity.to(device).float()
        known = ~torch.isnan(truth)
        if known.any():
            huber = F.huber_loss(predicted.float()[known], truth[known], delta=cfg.huber_delta, reduction="none")
            w = row_weight[known]
            loss = loss + cfg.intensity_weight * (huber * w).sum() / w.sum().clamp(min=1e-9)
    return loss


def fit(
    model,
    train_rows: np.ndarray,
    val_rows: np.ndarray,
    y: np.ndarray,
    collate: Collate,
    cfg: TrainConfig,
    param_groups: list[dict] | None = None,
    on_epoch: Callable[[EpochLog], None] | None = None,
    on_step: Callable[[int, int], None] | None = None,
    make_batches: Callable[[np.ndarray, int, np.random.Generator], list[np.ndarray]] | None = None,
    ratings: np.ndarray | None = None,
) -> FitResult:
    """Train `model` in place with AdamW and a linear warm-up/decay schedule; keep the
    weights of the epoch with the best validation macro-F1 (early stopping). `ratings`
    (the -4..4 mean rating per row, NaN if none): the validation MSE of a model with an
    intensity output is logged each epoch."""
    import torch
    from accelerate import Accelerator
    from accelerate.utils import send_to_device, set_seed
    from sklearn.metrics import f1_score

    set_seed(cfg.seed)
    accelerator = Accelerator(cpu=not torch.cuda.is_available())
    n_classes = int(y.max()) + 1
    weight = torch.tensor(class_weights(y[train_rows], n_classes)) if cfg.class_weights else None
    groups = param_groups or [{"params": [p for p in model.parameters() if p.requires_grad], "lr": cfg.lr}]
    optimizer = torch.optim.AdamW(groups, lr=cfg.lr, weight_decay=cfg.weight_decay)
    steps_per_epoch = math.ceil(len(train_rows) / cfg.batch_size)
    total = max(1, steps_per_epoch * cfg.epochs)
    warmup = int(cfg.warmup_fraction * total)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: min((s + 1) / max(1, warmup), max(0.0, (total - s) / max(1, total - warmup)))
    )
    model, optimizer, schedule = accelerator.prepare(model, optimizer, schedule)
    class_weight = weight.to(accelerator.device) if weight is not None else None
    rng = np.random.default_rng(cfg.seed)
    history: list[EpochLog] = []
    best_f1, best_mse, best_epoch, best_state, stale = -1.0, math.inf, 0, None, 0
    for epoch in range(1, cfg.epochs + 1):
        started = time.perf_counter()
        model.train()
        batches = (make_batches or random_batches)(train_rows, cfg.batch_size, rng)
        losses = []
        for step, rows in enumerate(batches):
            inputs, targets = collate(rows)
            loss = _loss(model(send_to_device(inputs, accelerator.device)), targets, class_weight, cfg,
                         accelerator.device)
            model.zero_grad(set_to_none=True)
            accelerator.backward(loss)
            accelerator.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            schedule.step()
            losses.append(float(loss.detach()))
            if on_step:
                on_step((epoch - 1) * steps_per_epoch + step + 1, total)
        probs, intensity = predict_outputs(model, val_rows, collate)
        val_y = y[val_rows]
        picked = probs[np.arange(len(val_y)), val_y] if len(val_y) else np.ones(1)
        val_loss = float(-np.log(np.clip(picked, 1e-9, None)).mean())
        val_f1 = float(f1_score(val_y, probs.argmax(1), average="macro", zero_division=0))
        val_mse = None
        if intensity is not None and ratings is not None and len(val_rows):
            val_mse = evaluate_intensity(ratings[val_rows], intensity).mse
        log = EpochLog(epoch, float(np.mean(losses)), val_loss, val_f1,
                       float((probs.argmax(1) == val_y).mean()), time.perf_counter() - started, val_mse)
        history.append(log)
        if on_epoch:
            on_epoch(log)
        # Macro-F1 first; on a tie (F1 often plateaus, e.g. at 1.0 on an easy table), a lower
        # intensity MSE counts as better, so the regressor is not frozen at an early epoch.
        if val_f1 > best_f1 or (val_f1 == best_f1 and val_mse is not None and val_mse < best_mse):
            best_f1, best_epoch, stale = val_f1, epoch, 0
            best_mse = val_mse if val_mse is not None else math.inf
            best_state = copy.deepcopy(accelerator.unwrap_model(model).state_dict())
        else:
            stale += 1
            if stale >= cfg.patience:
                break
    unwrapped = accelerator.unwrap_model(model)
    if best_state is not None:
        unwrapped.load_state_dict(best_state)
    return FitResult(history, best_epoch, best_f1, stopped_early=len(history) < cfg.epochs)


# -- checkpoints -----------------------------------------------------------------------
def save_head(folder: Path, tensors: dict[str, Any], card: dict, shard_mb: int = 64,
              parts: dict[str, Path] | None = None, quota: Unlimited | None = None) -> Path:
    """Write the weights + card.json as one unit: a folder built aside and renamed into
    place, so a kill leaves the old head or the new one, never a mix. Weights over
    `shard_mb` are split into head-00001-of-0000N.safetensors files (each listed with its
    sha256 in the card), so no file nears the 100 MB that git hosts refuse. `parts`: saved
    heads copied into `parts/<name>/` within the same unit (a blend's parts; see
    HeadStore.parts). `quota`: the owner's (model_zoo.core.ownership), which admits the
    whole unit, measured, before it is put in place."""
    from safetensors.torch import save

    card = {k: v for k, v in card.items() if k not in ("weights_sha256", "weights_files")}  # stale on a re-save
    blobs = [save(shard) for shard in _shards({n: t.detach().cpu().contiguous() for n, t in tensors.items()},
                                               shard_mb << 20)]
    if len(blobs) == 1:
        files = {HEAD_WEIGHTS: blobs[0]}
        card = {**card, "weights_sha256": storage.sha256_bytes(blobs[0])}
    else:
        files = {f"head-{i:05d}-of-{len(blobs):05d}.safetensors": b for i, b in enumerate(blobs, start=1)}
        shas = {name: storage.sha256_bytes(blob) for name, blob in files.items()}
        card = {**card, "weights_files": shas,
                "weights_sha256": storage.sha256_bytes(json.dumps(shas, sort_keys=True).encode())}
    with storage.atomic_directory(folder, admit=quota.admit if quota is not None else None) as staging:
        for name, blob in files.items():
            storage.atomic_write_bytes(staging / name, blob)
        storage.atomic_write_text(staging / HEAD_CARD, json.dumps(card, indent=2, default=_jsonable))
        for name, source in (parts or {}).items():
            for file in sorted(Path(source).rglob("*")):
                if file.is_file():  # copied with fsync, like the rest of the unit
                    storage.atomic_write_bytes(staging / PARTS_DIR / name / file.relative_to(source), file.read_bytes())
    return folder


def update_card(folder: Path, **fields: Any) -> dict:
    """Set fields of a saved head's card (e.g. its measured metrics); the weights stay."""
    card = json.loads((folder / HEAD_CARD).read_text()) | fields
    storage.atomic_write_text(folder / HEAD_CARD, json.dumps(card, indent=2, default=_jsonable))
    return card


def _shards(tensors: dict[str, Any], limit: int) -> list[dict[str, Any]]:
    """Tensors in name order, cut into groups of at most `limit` bytes (a bigger tensor alone)."""
    shards: list[dict[str, Any]] = [{}]
    size = 0
    for name in sorted(tensors):
        nbytes = tensors[name].numel() * tensors[name].element_size()
        if shards[-1] and size + nbytes > limit:
            shards.append({})
            size = 0
        shards[-1][name] = tensors[name]
        size += nbytes
    return shards


def load_head_files(folder: Path) -> tuple[dict, dict]:
    """(card, tensors) of a saved head; checks the weights against the card's hashes."""
    from safetensors.torch import load

    card_path = folder / HEAD_CARD
    card = json.loads(card_path.read_text()) if card_path.is_file() else {}
    expected = card.get("weights_files") or {HEAD_WEIGHTS: card.get("weights_sha256")}
    missing = [name for name in expected if not (folder / name).is_file()]
    if not card or missing:
        needs = ", ".join([HEAD_CARD] * (not card) + (missing or ([] if card else [HEAD_WEIGHTS])))
        raise InputError(f"The head in {folder.name} is incomplete (missing {needs}).")
    tensors: dict = {}
    for name, sha in expected.items():
        blob = (folder / name).read_bytes()
        if sha and storage.sha256_bytes(blob) != sha:
            raise InputError(f"The head '{folder.name}' is damaged: its weights do not match its card.")
        tensors.update(load(blob))
    return card, tensors


def _jsonable(value: Any) -> Any:
    if hasattr(value, "__dataclass_fields__"):
        return asdict(value)
    if isinstance(value, (np.floating, np.integer)):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"not JSON-serialisable: {type(value).__name__}")


@dataclass
class Card:
    """The JSON card written next to every head's weights."""

    name: str
    labels: list[str]
    fusion: str
    modalities: dict[str, int]
    encoders: dict[str, dict]  # modality -> {model, dim, ...}; image: {kind, space, dim} of its vision engine
    hidden: int
    dropout: float
    metrics: dict[str, Any]
    data: dict[str, Any]  # source, sha256 of the data, sizes of the splits, threshold...
    training: dict[str, Any]
    created: str = field(default_factory=lambda: time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))
    text_top_layers: int = 0  # tuned top layers of the text encoder shipped in the weights
    members: int = 0  # an ensemble of this many heads (tensors members.<k>.*), averaged; 0: one head
    # an intensity output: {"scale": INTENSITY_SCALE, "range": [-4, 4], "loss_weight": ..., "target": ...}; {}: none
    intensity: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return asdict(self)
