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
from .common.i18n import i18n, language_of, t
from .common.layout import how_it_works, intro
from .context import StudioContext
from .common.heads import service

TITLE = "Train a head"  # the English tab name (tests select the tab by it); the page shows TITLE_KEY's
TITLE_KEY = "training.title"
FUSION_KEYS = {"early": "training.fusion.early", "late": "training.fusion.late", "gated": "training.fusion.gated",
               "attention": "training.fusion.attention"}
REPO_ASSETS = Path(__file__).resolve().parent.parent / "assets" / "datasets"


def default_name(dataset_path: str) -> str:
    stem = "".join(c if c.isalnum() or c in "-_" else "-" for c in Path(dataset_path).stem)[:30].strip("-_")
    return f"{stem or 'head'}-{time.strftime('%Y%m%d-%H%M%S')}"


def run_training(ctx: StudioContext, dataset, fusion: str = "gated", epochs: int = 30, lr: float = 2e-3,
                 hidden: int = 128, batch_size: int = 32, seed: int = 0, name: str = "",
                 labels: str = "", owner: Owner = OPERATOR) -> Iterator[TrainUpdate]:
    """Validate, encode, train and save into `owner`'s heads; yields TrainUpdate (the last
    one has the report)."""
    path = upload_path(ctx, dataset, "upload.dataset")
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


def curves(history: list, lang: str | None = None) -> tuple:
    """Two long-format frames for the live plots: losses and validation F1/accuracy."""
    import pandas as pd

    names = {key: t(key, lang) for key in ("training.train_loss", "training.val_loss", "training.val_f1",
                                           "training.val_accuracy")}
    rows = [dict(epoch=h.epoch, value=v, curve=names[c]) for h in history
            for c, v in (("training.train_loss", h.train_loss), ("training.val_loss", h.val_loss))]
    scores = [dict(epoch=h.epoch, value=v, curve=names[c]) for h in history
              for c, v in (("training.val_f1", h.val_f1), ("training.val_accuracy", h.val_accuracy))]
    # Typed even when empty: an untyped first frame makes the plot treat values as
    # categories for the rest of the run.
    types = {"epoch": "int64", "value": "float64", "curve": "str"}
    return (pd.DataFrame(rows, columns=list(types)).astype(types),
            pd.DataFrame(scores, columns=list(types)).astype(types))


def intensity_curve(history: list, lang: str | None = None):
    """The intensity's validation MSE per epoch (a frame for its own plot: it is in rating
    units squared, not on the 0..1 scale of F1), or None for a head without intensity."""
    import pandas as pd

    name = t("training.val_mse", lang)
    points = [dict(epoch=h.epoch, value=h.val_mse, curve=name) for h in history if h.val_mse is not None]
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
    # no words in the figure: the plot's label (training.confusion) says what the axes are, in the visitor's language
    peak = max(max(row) for row in matrix) or 1
    for i, row in enumerate(matrix):
        for j, count in enumerate(row):
            ax.text(j, i, str(count), ha="center", va="center", color="white" if count > peak / 2 else "black")
    fig.colorbar(image, ax=ax, fraction=0.046)
    fig.tight_layout()
    plt.close(fig)
    return fig


def metrics_markdown(report: TrainReport, lang: str | None = None) -> str:
    m = report.metrics
    auc = t("training.auc", lang, auc=f"{m['roc_auc']:.3f}") if m.get("roc_auc") is not None else ""
    lines = [t("training.saved", lang, head=report.head, best=report.best_epoch, epochs=report.epochs_run,
               seconds=f"{report.seconds:.0f}", train=report.sizes["train"], val=report.sizes["val"],
               test=report.sizes["test"]),
             t("training.test_scores", lang, accuracy=f"{m['accuracy']:.3f}", precision=f"{m['precision']:.3f}",
               recall=f"{m['recall']:.3f}", f1=f"{m['f1']:.3f}", auc=auc), "",
             t("training.per_class", lang), "| --- | --- | --- | --- | --- |"]
    for label, row in m["per_class"].items():
        lines.append(f"| {label} | {row['precision']:.3f} | {row['recall']:.3f} | {row['f1-score']:.3f} | "
                     f"{int(row['support'])} |")
    if m.get("intensity"):
        lines += ["", intensity_line(m["intensity"], lang)]
    if report.note:  # files of the dataset zip the upload reader refused (model_zoo: in English)
        lines += ["", f"> {report.note} " + " ".join(r["reason"] for r in report.rejected[:5])]
    return "\n".join(lines)


def intensity_line(found: dict, lang: str | None = None) -> str:
    """The intensity output's test figures (ratings on -4..+4), as one Markdown line."""
    def shown(key: str) -> str:
        return t("training.n_a", lang) if found.get(key) is None else f"{found[key]:.3f}"

    return t("training.intensity", lang, mse=shown("mse"), mae=shown("mae"), pearson=shown("pearson"), n=found["n"])


def examples() -> list[list]:
    return [[str(p)] for p in sorted(REPO_ASSETS.glob("*.csv"))]


# -- handlers: plain functions (the event and the endpoint call these; visitor.for_caller gives
# each the owner whose heads it trains into) ---------------------------------------------------
@user_facing
@visitor.for_caller
def on_train(ctx: StudioContext, dataset_v, fusion_v, epochs_v, lr_v, hidden_v, batch_v, seed_v, name_v, labels_v,
             progress=gr.Progress(), *, owner: Owner):
    lang = language_of()
    for update in run_training(ctx, dataset_v, fusion_v, epochs_v, lr_v, hidden_v, batch_v, seed_v,
                               name_v, labels_v, owner=owner):
        progress(update.fraction, desc=update.stage)
        # No empty frames: the plot fixes its colour legend from the first frame it gets.
        losses, scores = curves(update.history, lang) if update.history else (gr.skip(), gr.skip())
        mse = intensity_curve(update.history, lang)
        # Hidden until a run logs an MSE (a new run starts hidden: no stale curve from the last one).
        mse = gr.update(value=mse, visible=True) if mse is not None else (
            gr.skip() if update.history else gr.update(visible=False))
        if update.report is None:
            yield f"⏳ {update.stage}", losses, scores, mse, gr.skip(), gr.skip()
        else:
            yield (t("training.done", lang), losses, scores, mse, metrics_markdown(update.report, lang),
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
        raise InputError(t("training.no_result"))
    return asdict(report)


# -- layout and wiring -----------------------------------------------------------------------
def build(ctx: StudioContext) -> None:
    intro("training.intro")
    with gr.Row():
        with gr.Column(scale=2):
            dataset = gr.File(label=i18n("training.dataset"),
                              file_types=[".csv", ".jsonl", ".json", ".parquet", ".zip"])
            gr.Examples(examples=examples(), inputs=[dataset], label=i18n("training.example"))
            name = gr.Textbox(label=i18n("training.name"), placeholder=i18n("training.name_placeholder"))
            labels = gr.Textbox(label=i18n("training.labels"), placeholder=i18n("training.labels_placeholder"),
                                info=i18n("training.labels_info"))
        with gr.Column(scale=2):
            fusion = gr.Dropdown(choices=[(i18n(FUSION_KEYS[f]), f) for f in FUSIONS], value="gated",
                                 label=i18n("training.fusion"), info=i18n("training.fusion_info"))
            epochs = gr.Slider(1, 200, value=30, step=1, label=i18n("training.epochs"))
            with gr.Row():
                lr = gr.Number(value=2e-3, label=i18n("training.lr"), minimum=1e-6, maximum=1.0)
                hidden = gr.Slider(16, 512, value=128, step=16, label=i18n("training.hidden"))
            with gr.Row():
                batch_size = gr.Slider(4, 256, value=32, step=4, label=i18n("training.batch_size"))
                seed = gr.Number(value=0, precision=0, label=i18n("training.seed"))
    train = gr.Button(i18n("training.run"), variant="primary")
    status = gr.Markdown()
    plot = dict(x="epoch", y="value", color="curve", height=260, x_title=i18n("training.epoch"),
                y_title=i18n("training.value"), color_title=i18n("training.curve"))
    with gr.Row():
        loss_plot = gr.LinePlot(title=i18n("training.loss"), **plot)
        f1_plot = gr.LinePlot(title=i18n("training.validation"), y_lim=[0, 1], **plot)
        mse_plot = gr.LinePlot(title=i18n("training.mse_plot"), visible=False, **plot)  # datasets with a score column
    with gr.Row():
        metrics_view = gr.Markdown()
        confusion = gr.Plot(label=i18n("training.confusion"))
    with how_it_works("training"):
        how = gr.Markdown(how_markdown(ctx, "en"))
    visitor.on_page_load(ctx, bind(ctx, on_page_load), [], [how])

    inputs = [dataset, fusion, epochs, lr, hidden, batch_size, seed, name, labels]
    train.click(bind(ctx, on_train), [*inputs, *visitor.inputs(ctx)],
                [status, loss_plot, f1_plot, mse_plot, metrics_view, confusion],
                api_visibility="private", **ctx.queue_slot("training", limit=1))
    gr.api(bind(ctx, train_head), api_name="train_head", **ctx.queue_slot("training", limit=1))


def how_markdown(ctx: StudioContext, lang: str | None = None) -> str:
    return t("training.how", lang) + "\n\n" + t("studio.images_read_by", lang, reader=image_reader(ctx.manager))


def on_page_load(ctx: StudioContext) -> str:
    """How it works in the visitor's language (it names what reads images on this machine)."""
    return how_markdown(ctx, language_of())
