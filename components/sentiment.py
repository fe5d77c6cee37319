"""Sentiment tab: text (+ optional image, voice clip) -> label, probabilities, and which
modality drove the decision; any saved head; batch mode over a CSV."""
from __future__ import annotations

import time
from pathlib import Path

import gradio as gr
from gradio import FileData

from model_zoo import storage
from model_zoo.errors import InputError
from model_zoo.sentiment import (DEFAULT_HEAD, FAST_HEAD, SentimentResult, SentimentService, image_reader,
                                 service_for, unavailable_modalities)

from .common import file_path, user_facing
from .context import StudioContext

TITLE = "Sentiment"
MAX_BATCH_ROWS = 20_000
ASSETS = Path(__file__).resolve().parent.parent / "assets"

EXAMPLES = [
    "A gorgeous, witty, seductive movie.",
    "The plot is paper-thin and the jokes land with a thud.",
    "It's not a bad film, but it never quite finds its feet.",
    "An utterly charming, heartfelt story that stays with you long after the credits.",
]


def service(ctx: StudioContext) -> SentimentService:
    return service_for(ctx.manager, ctx.data_path("heads"), ctx.settings.sentiment_max_chars,
                       precision=ctx.settings.sentiment_precision)


def predict(ctx: StudioContext, text: str, image, audio, head: str) -> SentimentResult:
    return service(ctx).predict(text, file_path(image, "image", required=False),
                                file_path(audio, "voice clip", required=False), head or DEFAULT_HEAD)


def contributions_frame(result: SentimentResult):
    import pandas as pd

    return pd.DataFrame({"modality": list(result.contributions), "share": list(result.contributions.values())})


def explanation(result: SentimentResult) -> str:
    top = max(result.contributions, key=result.contributions.get) if result.contributions else "-"
    lines = [f"**{result.label}** from {', '.join(result.modalities)} (head `{result.head}`); "
             f"the decision leaned most on **{top}**."]
    lines += [f"- {note}" for note in result.notes]
    return "\n".join(lines)


def batch_predict(ctx: StudioContext, upload, column: str, head: str, progress=None) -> tuple[str, list[str], "object"]:
    """(CSV path with predictions, the notes, a preview frame) for an uploaded CSV."""
    import pandas as pd

    path = Path(file_path(upload, "CSV file"))
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InputError(f"'{path.name}' could not be read as CSV: {exc}") from None
    column = (column or "text").strip()
    if column not in frame.columns:
        raise InputError(f"'{path.name}' has no column '{column}' (columns: {', '.join(map(str, frame.columns))}).")
    if len(frame) == 0:
        raise InputError(f"'{path.name}' has no rows.")
    if len(frame) > MAX_BATCH_ROWS:
        raise InputError(f"'{path.name}' has {len(frame):,} rows; batch mode takes up to {MAX_BATCH_ROWS:,}.")
    results = service(ctx).predict_texts(frame[column].tolist(), head or DEFAULT_HEAD, progress)
    frame["predicted_label"] = [r.label for r in results]
    for label in results[0].scores:
        frame[f"p_{label}"] = [r.scores[label] for r in results]
    out = ctx.data_path("sentiment-batches") / f"{path.stem}-predictions-{time.strftime('%Y%m%d-%H%M%S')}.csv"
    storage.atomic_write_text(out, frame.to_csv(index=False))
    notes = sorted({n for r in results for n in r.notes})
    return str(out), notes, frame.head(50)


def banner(ctx: StudioContext) -> str:
    svc = service(ctx)
    lines = ["Reads the sentiment of a sentence (optionally with an image or a voice clip) with a small "
             "fusion head on pretrained encoders: a sentence encoder (text) + VADER lexicon scores, an image "
             "engine (CLIP, or offline the label bridge), Whisper transcripts (voice). Retrain the head on your "
             "own data in the *Train a head* tab; a head reads images only with the engine it was trained on.",
             f"Images are read here by {image_reader(ctx.manager)}."]
    shipped = [name for name in (DEFAULT_HEAD, FAST_HEAD) if name in svc.store.names()]
    if not shipped:
        lines.append(f"⚠️ The shipped heads are missing from {svc.store.shipped_root}; run "
                     "`python -m scripts.train_default_head` to rebuild them.")
    for name in shipped:
        problem = svc.head_problem(name)
        state = f" ⚠️ Unavailable here: {problem}" if problem else ""
        lines.append(f"Head {svc.store.info(name).summary()}.{state}")
    for modality, reason in unavailable_modalities(ctx.manager).items():
        lines.append(f"⚠️ {modality.capitalize()} input is unavailable here and is left out of predictions: {reason}")
    return "\n\n".join(lines)


def build(ctx: StudioContext) -> None:
    store = service(ctx).store
    gr.Markdown(banner(ctx))
    with gr.Row():
        with gr.Column(scale=3):
            text = gr.Textbox(label="Text", lines=3, placeholder="Type a sentence, e.g. a line from a review")
            with gr.Row():
                image = gr.Image(label="Image (optional)", type="filepath", height=180)
                audio = gr.Audio(label="Voice clip (optional)", type="filepath")
            head = gr.Dropdown(choices=store.names(), value=service(ctx).default_head(), label="Head",
                               info="default: accurate; fast: about ten times quicker; heads you train appear here")
            run = gr.Button("Read sentiment", variant="primary")
        with gr.Column(scale=2):
            scores = gr.Label(label="Sentiment", num_top_classes=5)
            why = gr.Markdown()
            contributions = gr.BarPlot(x="modality", y="share", title="What the decision leaned on",
                                       y_lim=[0, 1], height=220)
    media_examples = [["What a view from up here!", str(ASSETS / "gallery" / "astronaut.jpg"), None],
                      ["", None, str(ASSETS / "audio" / "english_quick_fox.ogg")]]
    gr.Examples(examples=[[e, None, None] for e in EXAMPLES] + [m for m in media_examples if Path(m[1] or m[2]).is_file()],
                inputs=[text, image, audio], label="Try a sentence (the last two bring an image or a voice clip)")

    with gr.Accordion("Batch mode: a CSV in, the same CSV with predictions out", open=False):
        with gr.Row():
            upload = gr.File(label="CSV file", file_types=[".csv"])
            column = gr.Textbox(value="text", label="Text column")
        run_batch = gr.Button("Predict every row")
        download = gr.File(label="Predictions (CSV)")
        batch_notes = gr.Markdown()
        preview = gr.Dataframe(label="First rows", interactive=False, wrap=True)

    @user_facing
    def on_run(text_value: str, image_value, audio_value, head_value: str):
        result = predict(ctx, text_value, image_value, audio_value, head_value)
        return result.scores, explanation(result), contributions_frame(result)

    @user_facing
    def on_batch(upload_value, column_value: str, head_value: str, progress=gr.Progress()):
        out, notes, frame = batch_predict(ctx, upload_value, column_value, head_value,
                                          lambda f: progress(f, desc="Predicting"))
        return out, "\n".join(f"- {n}" for n in notes[:10]), frame

    run.click(on_run, [text, image, audio, head], [scores, why, contributions], api_visibility="private",
              **ctx.queue_slot("text-encoder"))
    text.submit(on_run, [text, image, audio, head], [scores, why, contributions], api_visibility="private",
                **ctx.queue_slot("text-encoder"))
    run_batch.click(on_batch, [upload, column, head], [download, batch_notes, preview], api_visibility="private",
                    **ctx.queue_slot("text-encoder"))
    head.focus(lambda: gr.Dropdown(choices=store.names()), outputs=head, api_visibility="private", queue=False)

    @user_facing
    def sentiment(text: str, image: FileData | None = None, audio: FileData | None = None,
                  head: str = DEFAULT_HEAD) -> dict:
        """Sentiment of a text (plus optional image / voice clip): label, scores {label: p},
        modalities used, contributions {modality: share}, head, notes."""
        return predict(ctx, text, image, audio, head).to_dict()

    gr.api(sentiment, api_name="sentiment", **ctx.queue_slot("text-encoder"))
