"""Train a head tab: upload a dataset, pick a fusion and hyperparameters, watch loss and
F1 curves live (and the intensity's validation MSE when the table has a `score` column),
read the test metrics and confusion matrix; the head is saved under the data dir and the
Sentiment tab can use it at once."""
from __future__ import annotations

import time
from dataclasses import asdict
from pathlib import Path
from typing import Iterator

import gradio as gr
from gradio import FileData

from model_zoo.fusion.datasets import load_dataset
from model_zoo.core.errors import InputError
from model_zoo.core.ownership import OPERATOR, Owner
from model_zoo.sentiment.service import TrainReport, TrainUpdate, image_reader
from model_zoo.fusion.training import FUSIONS

from . import visitor
from .common import bind, upload_path, user_facing
from .context import StudioContext
from .common.heads import service

TITLE = "Train a head"
REPO_ASSETS = Path(__file__).resolve().parent.parent / "assets" / "datasets"


def default_name(dataset_path: str) -> str:
    stem = "".join(c if c.isalnum() or c in "-_" else "-" for c in Path(dataset_path).stem)[:30].strip("-_")
    return f"{stem or 'head'}-{time.strftime('%Y%m%d-%H%M%S')}"


def run_training(ctx: StudioContext, dataset, fusion: str = "gated", epochs: int = 30, lr: float = 2e-3,
                 hidden: int = 128, batch_size: int = 32, seed: int = 0, name: str = "",
                 labels: str = "", owner: Owner = OPERATOR) -> Iterator[TrainUpdate]:
    """Validate, encode, train and save into `owner`'s heads; yields TrainUpdate (the last
    one has the report)."""
    path = upload_path(ctx, dataset, "dataset (CSV, JSONL, Parquet or zip)")
    expected = [part.strip() for part in (labels or "").split(",") if part.strip()] or None
    svc = service(ctx)
    folder = ctx.space.folder(owner, "heads")
    with svc.store.scoped(folder):
        name = svc.store.check_new_name(name.strip() if name and name.strip() else default_name(path))
    ctx.space.check_quota(owner)
    with ctx.space.using(owner, "heads", name):  # pinned from the first step to the saved head
        data = load_dataset(path, workdir=ctx.data_path("uploads"), expected_labels=expected, limits=ctx.upload_limits)
        try:
            steps = svc.train(data, name=name, fusion=fusion, epochs=int(epochs), lr=float(lr), hidden=int(hidden),
                              batch_size=int(batch_size), seed=int(seed), quota=ctx.space.quota(owner))
            yield from svc.store.iterate(folder, steps)  # each step sees (and saves into) the owner's heads
        finally:
            data.cleanup()  # unpacked media are only needed while encoding


def curves(history: list) -> tuple:
    """Two long-format frames for the live plots: losses and validation F1/accuracy."""
    import pandas as pd

    rows = [dict(epoch=h.epoch, value=v, curve=c) for h in history
            for c, v in (("train loss", h.train_loss), ("val loss", h.val_loss))]
    scores = [dict(epoch=h.epoch, value=v, curve=c) for h in history
              for c, v in (("val macro-F1", h.val_f1), ("val accuracy", h.val_accuracy))]
    # Typed even when empty: an untyped first frame makes the plot treat values as
    # categories for the rest of the run.
    types = {"epoch": "int64", "value": "float64", "curve": "str"}
    return (pd.DataFrame(rows, columns=list(types)).astype(types),
            pd.DataFrame(scores, columns=list(types)).astype(types))


def intensity_curve(history: list):
    """The intensity's validation MSE per epoch (a frame for its own plot: it is in rating
    units squared, not on the 0..1 scale of F1), or None for a head without intensity."""
    import pandas as pd

    points = [dict(epoch=h.epoch, value=h.val_mse, curve="val intensity MSE") for h in history
              if h.val_mse is not None]
    if not points:
        return None
    return pd.DataFrame(points).astype({"epoch": "int64", "value": "float64", "curve": "str"})


def confusion_figure(metrics: dict):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels, matrix = metrics["labels"], metrics["confusion"]
    size = 1.2 + 0.6 * len(labels)
    fig, ax = plt.subplots(figsize=(size + 1, size))
    image = ax.imshow(matrix, cmap="Blues")
    ax.set_xticks(range(len(labels)), labels, rotation=45, ha="right")
    ax.set_yticks(range(len(labels)), labels)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    peak = max(max(row) for row in matrix) or 1
    for i, row in enumerate(matrix):
        for j, count in enumerate(row):
            ax.text(j, i, str(count), ha="center", va="center", color="white" if count > peak / 2 else "black")
    ax.set_title("Confusion matrix (test split)")
    fig.colorbar(image, ax=ax, fraction=0.046)
    fig.tight_layout()
    plt.close(fig)
    return fig


def metrics_markdown(report: TrainReport) -> str:
    m = report.metrics
    auc = f" · ROC-AUC **{m['roc_auc']:.3f}**" if m.get("roc_auc") is not None else ""
    lines = [f"Saved head **`{report.head}`** (best epoch {report.best_epoch} of {report.epochs_run}, "
             f"{report.seconds:.0f} s; train/val/test = {report.sizes['train']}/{report.sizes['val']}/"
             f"{report.sizes['test']} rows). It is now in the Sentiment tab's head list.",
             f"Test split: accuracy **{m['accuracy']:.3f}** · macro precision **{m['precision']:.3f}** · "
             f"macro recall **{m['recall']:.3f}** · macro-F1 **{m['f1']:.3f}**{auc}", "",
             "| class | precision | recall | F1 | support |", "| --- | --- | --- | --- | --- |"]
    for label, row in m["per_class"].items():
        lines.append(f"| {label} | {row['precision']:.3f} | {row['recall']:.3f} | {row['f1-score']:.3f} | "
                     f"{int(row['support'])} |")
    if m.get("intensity"):
        lines += ["", intensity_line(m["intensity"])]
    if report.note:  # files of the dataset zip the upload reader refused
        lines += ["", f"> {report.note} " + " ".join(r["reason"] for r in report.rejected[:5])]
    return "\n".join(lines)


def intensity_line(found: dict) -> str:
    """The intensity output's test figures (ratings on -4..+4), as one Markdown line."""
    def shown(key: str) -> str:
        return "n/a" if found.get(key) is None else f"{found[key]:.3f}"

    return (f"Intensity (the `score` column, -4..+4), test split: MSE **{shown('mse')}** · MAE **{shown('mae')}** · "
            f"Pearson r **{shown('pearson')}** over {found['n']} rows with a score.")


def examples() -> list[list]:
    return [[str(p)] for p in sorted(REPO_ASSETS.glob("*.csv"))]


# -- handlers: plain functions (the event and the endpoint call these; visitor.for_caller gives
# each the owner whose heads it trains into) ---------------------------------------------------
@user_facing
@visitor.for_caller
def on_train(ctx: StudioContext, dataset_v, fusion_v, epochs_v, lr_v, hidden_v, batch_v, seed_v, name_v, labels_v,
             progress=gr.Progress(), *, owner: Owner):
    for update in run_training(ctx, dataset_v, fusion_v, epochs_v, lr_v, hidden_v, batch_v, seed_v,
                               name_v, labels_v, owner=owner):
        progress(update.fraction, desc=update.stage)
        # No empty frames: the plot fixes its colour legend from the first frame it gets.
        losses, scores = curves(update.history) if update.history else (gr.skip(), gr.skip())
        mse = intensity_curve(update.history)
        # Hidden until a run logs an MSE (a new run starts hidden: no stale curve from the last one).
        mse = gr.update(value=mse, visible=True) if mse is not None else (
            gr.skip() if update.history else gr.update(visible=False))
        if update.report is None:
            yield f"⏳ {update.stage}", losses, scores, mse, gr.skip(), gr.skip()
        else:
            yield ("✅ Done.", losses, scores, mse, metrics_markdown(update.report),
                   confusion_figure(update.report.metrics))


@user_facing
@visitor.for_caller(api=True)
def train_head(ctx: StudioContext, dataset: FileData, fusion: str = "gated", epochs: int = 30, lr: float = 0.002,
               hidden: int = 128, batch_size: int = 32, seed: int = 0, name: str = "",
               labels: str = "", *, owner: Owner) -> dict:
    """Train and save a head on a dataset (CSV/JSONL/Parquet/zip with a label column,
    optionally a numeric score column: mean rating -4..+4). Returns head (its name),
    metrics {accuracy, precision, recall, f1, per_class, confusion, labels, roc_auc,
    and with scores intensity {mse, mae, pearson, n}}, best_epoch, epochs_run, history
    (per epoch; val_mse with scores), sizes, seconds."""
    report = None
    for update in run_training(ctx, dataset, fusion, epochs, lr, hidden, batch_size, seed, name, labels,
                               owner=owner):
        report = update.report or report
    if report is None:
        raise InputError("Training ended without a result.")
    return asdict(report)


# -- layout and wiring -----------------------------------------------------------------------
def build(ctx: StudioContext) -> None:
    gr.Markdown("Train your own sentiment (or any classification) head on frozen encoders: upload a table "
                "with a `label` column and any of `text`, `image`, `audio` (CSV, JSONL or Parquet; media go in a "
                "zip with the table, paths relative to it). An optional numeric `score` column (how strong the "
                "feeling is, a mean rating from -4 to +4; blank cells allowed) adds an intensity output, scored "
                "by MSE, MAE and Pearson r. Text is read by MiniLM + VADER, images by CLIP where "
                "its weights are, else offline by the label bridge (the head records which engine and reads images "
                "only with it), voice by Whisper. 70/15/15 stratified split, AdamW, class weights, early stopping "
                f"on validation macro-F1.\n\nImages are read here by {image_reader(ctx.manager)}.")
    with gr.Row():
        with gr.Column(scale=2):
            dataset = gr.File(label="Dataset", file_types=[".csv", ".jsonl", ".json", ".parquet", ".zip"])
            gr.Examples(examples=examples(), inputs=[dataset], label="Example dataset")
            name = gr.Textbox(label="Head name", placeholder="default: the file name and a time stamp")
            labels = gr.Textbox(label="Expected labels (optional)", placeholder="e.g. negative, positive",
                                info="rows with any other label are reported (catches typos)")
        with gr.Column(scale=2):
            fusion = gr.Dropdown(choices=list(FUSIONS), value="gated", label="Fusion",
                                 info="early: concat+MLP · late: per-modality classifiers · gated: GMU · "
                                      "attention: transformer over modality tokens")
            epochs = gr.Slider(1, 200, value=30, step=1, label="Max epochs (early stopping may end sooner)")
            with gr.Row():
                lr = gr.Number(value=2e-3, label="Learning rate", minimum=1e-6, maximum=1.0)
                hidden = gr.Slider(16, 512, value=128, step=16, label="Hidden size")
            with gr.Row():
                batch_size = gr.Slider(4, 256, value=32, step=4, label="Batch size")
                seed = gr.Number(value=0, precision=0, label="Seed")
    train = gr.Button("Train", variant="primary")
    status = gr.Markdown()
    with gr.Row():
        loss_plot = gr.LinePlot(x="epoch", y="value", color="curve", title="Loss", height=260)
        f1_plot = gr.LinePlot(x="epoch", y="value", color="curve", title="Validation", y_lim=[0, 1], height=260)
        mse_plot = gr.LinePlot(x="epoch", y="value", color="curve", title="Intensity: validation MSE (ratings²)",
                               height=260, visible=False)  # shown for datasets with a score column
    with gr.Row():
        metrics_view = gr.Markdown()
        confusion = gr.Plot(label="Confusion matrix")

    inputs = [dataset, fusion, epochs, lr, hidden, batch_size, seed, name, labels]
    train.click(bind(ctx, on_train), [*inputs, *visitor.inputs(ctx)],
                [status, loss_plot, f1_plot, mse_plot, metrics_view, confusion],
                api_visibility="private", **ctx.queue_slot("training", limit=1))
    gr.api(bind(ctx, train_head), api_name="train_head", **ctx.queue_slot("training", limit=1))
