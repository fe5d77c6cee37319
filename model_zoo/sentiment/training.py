"""Training a sentiment head on a user's dataset: every row's features (text through the
small sentence encoder + VADER, the image engine's vectors, voice clips' transcripts),
a fusion head fit on a seeded 70/15/15 split, and the saved head with its card. A dataset
with a `score` column also gets an intensity (regression) output beside the classifier."""
from __future__ import annotations

import logging
import math
import queue
import threading
import time
from dataclasses import asdict, replace
from typing import Generator, Iterator

import numpy as np

from model_zoo.fusion import training
from model_zoo.vision import engine as vision
from model_zoo.speech.audio import decode_audio
from model_zoo.fusion.datasets import Dataset
from model_zoo.core.errors import InputError
from model_zoo.vision.images import load_image
from model_zoo.sentiment.inputs import SentimentInputs, embed_images_cached, file_bytes, image_record
from model_zoo.sentiment.results import TRAINING_TEXT_ENCODER, TrainReport, TrainUpdate

logger = logging.getLogger(__name__)  # `log` names an epoch's log in this module

LEXICON_DIM = 4
INTENSITY_WEIGHT = 0.5  # the intensity (Huber) loss beside cross-entropy, for datasets with scores


def _row_error(row: int, column: str, fn, *args):
    try:
        return fn(*args)
    except InputError as exc:
        raise InputError(f"Row {row + 1}, column '{column}': {exc}") from None


def _filled(n: int, rows: list[int], values: np.ndarray) -> np.ndarray:
    full = np.zeros((n, values.shape[1]), np.float32)
    full[rows] = values
    return full


def dataset_features(inputs: SentimentInputs, data: Dataset) -> tuple[dict[str, np.ndarray], np.ndarray, dict]:
    """(features by modality (n, d), mask (n, M), encoder descriptions) for a dataset.
    Media are all decoded (and errors reported by row) before any model loads."""
    from model_zoo.fusion.heads import lexicon_scores

    n = len(data)
    pictures: list = [None] * n
    for row, image in enumerate(data.images):
        if image is not None:
            pictures[row] = _row_error(row, "image", load_image, image)
    for row, audio in enumerate(data.audios):
        if audio is not None:
            _row_error(row, "audio", decode_audio, audio)
    features: dict[str, np.ndarray] = {}
    masks: list[np.ndarray] = []
    encoders: dict[str, dict] = {}
    if "text" in data.modalities:
        rows = [i for i, t in enumerate(data.texts) if t]
        sentences = [inputs.clean_text(data.texts[i], []) for i in rows]
        emb = inputs.text_embeddings(sentences, None, frozen=True)
        features["text"] = _filled(n, rows, emb)
        features["lexicon"] = _filled(n, rows, lexicon_scores(sentences))
        masks += [np.isin(np.arange(n), rows)] * 2
        encoders["text"] = {"model": TRAINING_TEXT_ENCODER, "source": inputs.manager.spec(TRAINING_TEXT_ENCODER).source,
                            "dim": emb.shape[1]}
        encoders["lexicon"] = {"model": "vaderSentiment==3.3.2", "dim": LEXICON_DIM}
    if "image" in data.modalities:
        rows = [i for i, p in enumerate(pictures) if p is not None]
        with vision.open_engine(inputs.manager) as engine:  # CLIP, or offline the label bridge
            emb = embed_images_cached(inputs.cache, engine, [pictures[i] for i in rows],
                                      [file_bytes(data.images[i]) for i in rows])
            encoders["image"] = image_record(engine)
        features["image"] = _filled(n, rows, emb)
        masks.append(np.isin(np.arange(n), rows))
    if "audio" in data.modalities:
        features["audio"], mask, encoders["audio"] = _audio_features(inputs, data)
        masks.append(mask)
    return features, np.stack(masks, axis=1), encoders


def _audio_features(inputs: SentimentInputs, data: Dataset) -> tuple[np.ndarray, np.ndarray, dict]:
    """Each clip's transcript through the small encoder; silence counts as absent."""
    n = len(data)
    rows = [i for i, a in enumerate(data.audios) if a is not None]
    transcripts = [inputs.transcript(str(data.audios[i])) or "" for i in rows]
    rows = [i for i, t in zip(rows, transcripts) if t]
    if not rows:
        raise InputError("No speech was recognised in any of the dataset's audio clips.")
    emb = inputs.text_embeddings([t for t in transcripts if t], None, frozen=True)
    encoder = {"model": f"speech transcript -> {TRAINING_TEXT_ENCODER}", "dim": emb.shape[1]}
    return _filled(n, rows, emb), np.isin(np.arange(n), rows), encoder


def check_request(store, data: Dataset, name: str, fusion: str, epochs: int) -> str:
    """The head's name, once the request is known to be sound; else an InputError."""
    if fusion not in training.FUSIONS:
        raise InputError(f"Unknown fusion '{fusion}'; choose one of {', '.join(training.FUSIONS)}.")
    if not 1 <= int(epochs) <= 500:
        raise InputError("Epochs must be between 1 and 500.")
    name = store.check_new_name(name)
    if len(data) < 10:
        raise InputError(f"'{data.name}' has {len(data)} rows; at least 10 are needed to train and test a head.")
    return name


def fit_streaming(module, train_rows, val_rows, y, collate, cfg: training.TrainConfig,
                  ratings: np.ndarray | None = None) -> Generator[training.EpochLog, None, object]:
    """training.fit on a thread, yielding each epoch's log as it ends (so a generator can
    pass it on to the browser); returns fit's result."""
    updates: queue.Queue = queue.Queue()
    outcome: dict = {}

    def run() -> None:
        try:
            outcome["fit"] = training.fit(module, train_rows, val_rows, y, collate, cfg, on_epoch=updates.put,
                                          ratings=ratings)
        except BaseException as exc:  # reaches the caller below
            outcome["error"] = exc
        finally:
            updates.put(None)

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    while (log := updates.get()) is not None:
        yield log
    worker.join()
    if "error" in outcome:
        raise outcome["error"]
    return outcome["fit"]


def _epoch_updates(logs: Generator, history: list, epochs: int) -> Generator[TrainUpdate, None, object]:
    """A TrainUpdate per epoch log (kept in `history`); returns what `logs` returns."""
    while True:
        try:
            log = next(logs)
        except StopIteration as stop:
            return stop.value
        if log.val_mse is not None and math.isnan(log.val_mse):  # no scored row in validation
            log = replace(log, val_mse=None)
        history.append(log)
        logger.info("training a head: epoch %d/%d done", log.epoch, epochs)
        yield TrainUpdate(f"Epoch {log.epoch}/{epochs}", 0.05 + 0.9 * log.epoch / epochs, history=list(history))


def train_head(inputs: SentimentInputs, store, data: Dataset, name: str, fusion: str = "gated", epochs: int = 30,
               lr: float = 2e-3, hidden: int = 128, batch_size: int = 32, seed: int = 0, patience: int = 5,
               quota=None) -> Iterator[TrainUpdate]:
    """Train a head on a dataset and save it into the store's trained heads; yields
    TrainUpdate as it goes (the last one carries the report). Nothing is written unless
    training finishes (and, with the owner's `quota`, unless the saved head fits in it)."""
    import torch

    from model_zoo.fusion.modules import HeadConfig
    from model_zoo.fusion.heads import SentimentModel

    name = check_request(store, data, name, fusion, epochs)
    started = time.perf_counter()
    yield TrainUpdate("Encoding the dataset", 0.0)
    features, mask, encoders = dataset_features(inputs, data)
    y = np.array(data.y)
    split = training.stratified_split(y, [0.15, 0.15], int(seed))  # 70/15/15: train, val, test rows
    scores = data.scores  # mean ratings (NaN: none) or None: then no intensity output, as before
    cfg = HeadConfig(modalities={m: int(v.shape[1]) for m, v in features.items()}, labels=data.label_names,
                     fusion=fusion, hidden=int(hidden), dropout=0.1, intensity=scores is not None)
    model = SentimentModel(cfg)
    feats_t, mask_t = {m: torch.from_numpy(v) for m, v in features.items()}, torch.from_numpy(mask)

    class Trainable(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.inner = model

        def forward(self, batch):
            logits, intensity = self.inner.fusion.outputs(batch["features"], batch["mask"])
            return logits if intensity is None else (logits, intensity)

    # the regression target: rating / INTENSITY_SCALE (NaN rows are left out of its loss)
    target = None if scores is None else torch.from_numpy((scores / training.INTENSITY_SCALE).astype(np.float32))

    def collate(idx: np.ndarray):
        idx_t = torch.as_tensor(idx)
        labels = torch.as_tensor(y[idx])
        return ({"features": {m: v[idx_t] for m, v in feats_t.items()}, "mask": mask_t[idx_t]},
                labels if target is None else training.Targets(labels, target[idx_t]))

    train_cfg = training.TrainConfig(epochs=int(epochs), batch_size=int(batch_size), lr=float(lr), seed=int(seed),
                                     patience=int(patience),
                                     intensity_weight=INTENSITY_WEIGHT if cfg.intensity else 0.0)
    history: list[training.EpochLog] = []
    yield TrainUpdate("Training", 0.05, history=[])
    fit_result = yield from _epoch_updates(
        fit_streaming(Trainable(), split[0], split[1], y, collate, train_cfg, ratings=scores), history, int(epochs))
    probs, predicted = training.predict_outputs(Trainable(), split[2], collate)
    metrics = asdict(training.evaluate(y[split[2]], probs, data.label_names))
    if scores is not None:
        metrics["intensity"] = _intensity_metrics(scores[split[2]], predicted)
    sizes = {"train": len(split[0]), "val": len(split[1]), "test": len(split[2])}
    card = training.Card(
        name=name, labels=data.label_names, fusion=fusion, modalities=dict(cfg.modalities), encoders=encoders,
        hidden=cfg.hidden, dropout=cfg.dropout, metrics=metrics,
        data={"source": data.name, "sha256": data.sha256, "rows": len(data), "sizes": sizes},
        training={"config": asdict(train_cfg), "best_epoch": fit_result.best_epoch,
                  "best_val_f1": fit_result.best_val_f1, "stopped_early": fit_result.stopped_early,
                  "history": [asdict(h) for h in history], "seconds": time.perf_counter() - started},
        intensity=_intensity_card(scores, train_cfg.intensity_weight),
    )
    training.save_head(store.trained_root / name, model.tensors(), card.to_dict(), quota=quota)
    report = TrainReport(head=name, metrics=metrics, best_epoch=fit_result.best_epoch,
                         epochs_run=len(history), history=[asdict(h) for h in history],
                         sizes=sizes, seconds=round(time.perf_counter() - started, 2), rejected=list(data.rejected),
                         note=data.note)
    yield TrainUpdate("Saved", 1.0, history=list(history), report=report)


def _intensity_metrics(ratings: np.ndarray, predicted: np.ndarray) -> dict:
    """MSE, MAE, Pearson r and n on the test rows that have a score; NaN (too few rows, or
    a constant score) as None, so the card and the API stay valid JSON."""
    found = asdict(training.evaluate_intensity(ratings, predicted))
    return {k: None if isinstance(v, float) and math.isnan(v) else v for k, v in found.items()}


def _intensity_card(scores: np.ndarray | None, weight: float) -> dict:
    """The card's record of the intensity output (build_from_card reads its presence); {}: none."""
    if scores is None:
        return {}
    scale = training.INTENSITY_SCALE
    return {"scale": scale, "range": [-scale, scale], "loss": "huber", "loss_weight": weight,
            "target": f"the dataset's 'score' column (mean rating, {-scale:g}..+{scale:g})",
            "rows": int(np.sum(~np.isnan(scores)))}
