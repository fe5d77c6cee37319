"""Sentiment tab: text (+ optional image, voice clip) -> label, probabilities, and which
modality drove the decision; any saved head; batch mode over a CSV."""
from __future__ import annotations

import re
import time
from pathlib import Path

import gradio as gr
from gradio import FileData

from model_zoo.core import storage
from model_zoo.core.errors import InputError
from model_zoo.core.ownership import OPERATOR, Owner
from model_zoo.fusion.datasets import read_table
from model_zoo.sentiment.service import DEFAULT_HEAD, FAST_HEAD, SentimentResult, image_reader, unavailable_modalities

from . import visitor
from .common import bind, mcp_tool, upload_path, user_facing
from .common.i18n import i18n, language_of, t, text_or
from .common.layout import how_it_works, intro, notice
from .context import StudioContext
from .common.heads import head_names, owned_heads, service

TITLE = "Sentiment"  # the English tab name (tests select the tab by it); the page shows TITLE_KEY's
TITLE_KEY = "sentiment.title"
ASSETS = Path(__file__).resolve().parent.parent / "assets"

EXAMPLES = [
    "A gorgeous, witty, seductive movie.",
    "The plot is paper-thin and the jokes land with a thud.",
    "It's not a bad film, but it never quite finds its feet.",
    "An utterly charming, heartfelt story that stays with you long after the credits.",
    "Flight delayed three hours and nobody at the gate told us anything. Thanks a lot.",
    "The battery died after two days. Total waste of money.",
    "Best coffee in town, and the staff are lovely!",
]


def predict(ctx: StudioContext, text: str, image, audio, head: str, owner: Owner = OPERATOR) -> SentimentResult:
    with owned_heads(ctx, owner, head) as svc:
        return svc.predict(text, upload_path(ctx, image, "upload.image", required=False),
                           upload_path(ctx, audio, "upload.voice", required=False), head or DEFAULT_HEAD,
                           attribute=True)


def modality_name(modality: str, lang: str | None = None) -> str:
    return text_or(f"sentiment.modality.{modality}", modality, lang)


def label_name(label: str, lang: str | None = None) -> str:
    """A head's label in words: the shipped heads' labels translated, any other as it is."""
    return text_or(f"sentiment.label.{label}", label, lang)


def contributions_frame(result: SentimentResult, lang: str | None = None):
    import pandas as pd

    return pd.DataFrame({"modality": [modality_name(m, lang) for m in result.contributions],
                         "share": list(result.contributions.values())})


def highlighted(result: SentimentResult) -> list[tuple[str, float]]:
    """The text's words for gr.HighlightedText, each with its weight for the label scaled
    to -1..1 (red: toward the label, purple: against it)."""
    scale = max((abs(w.weight) for w in result.attributions), default=0.0) or 1.0
    gap = "" if result.language == "zh" else " "  # Chinese words are written without spaces
    return [(f"{w.token}{gap}", round(w.weight / scale, 3)) for w in result.attributions]


INTENSITY_WORDS = ((0.5, "barely"), (1.5, "mildly"), (2.5, "clearly"), (float("inf"), "strongly"))
FEELINGS = {  # (word, mood) -> its key
    ("barely", "positive"): "sentiment.barely_positive", ("mildly", "positive"): "sentiment.mildly_positive",
    ("clearly", "positive"): "sentiment.clearly_positive", ("strongly", "positive"): "sentiment.strongly_positive",
    ("barely", "negative"): "sentiment.barely_negative", ("mildly", "negative"): "sentiment.mildly_negative",
    ("clearly", "negative"): "sentiment.clearly_negative", ("strongly", "negative"): "sentiment.strongly_negative",
}


def intensity_bar(result: SentimentResult, lang: str | None = None) -> str:
    """A signed bar from -4 to +4 for the head's intensity (HTML), or a line saying the head
    has no intensity output (heads trained without a score column)."""
    value = result.intensity
    if value is None and result.language == "zh":
        return f"<p class='mms-intensity-none'>{t('sentiment.zh_no_intensity', lang)}</p>"
    if value is None:
        return f"<p class='mms-intensity-none'>{t('sentiment.no_intensity', lang)}</p>"
    word = next(w for limit, w in INTENSITY_WORDS if abs(value) < limit)
    mood = "positive" if value > 0 else "negative"
    width = min(abs(value), 4.0) / 8 * 100  # half the bar is 0..4
    left = 50 if value >= 0 else 50 - width
    colour = "#16a34a" if value >= 0 else "#dc2626"
    return (f"<div class='mms-intensity' title='{t('sentiment.scale_hint', lang)}'>"
            f"<div style='display:flex;justify-content:space-between;font-size:0.85em'>"
            f"<span>{t('sentiment.very_negative', lang)}</span><span>0</span>"
            f"<span>{t('sentiment.very_positive', lang)}</span></div>"
            f"<div style='position:relative;height:14px;background:#e5e7eb;border-radius:7px'>"
            f"<div style='position:absolute;left:{left:.1f}%;width:{width:.1f}%;height:100%;background:{colour};"
            f"border-radius:7px'></div><div style='position:absolute;left:50%;width:2px;height:100%;"
            f"background:#374151'></div></div>"
            f"<p style='margin:4px 0 0'>"
            f"{t('sentiment.intensity', lang, value=f'{value:+.2f}', feeling=t(FEELINGS[word, mood], lang))}</p></div>")


def explanation(result: SentimentResult, lang: str | None = None) -> str:
    top = max(result.contributions, key=result.contributions.get) if result.contributions else "-"
    language = text_or(f"sentiment.language.{result.language}", result.language, lang)
    read_as = t("sentiment.read_as", lang, language=language)
    if result.declined:  # the studio does not vouch for it: say so before anything else
        lines = [t("sentiment.declined", lang, read_as=read_as, label=label_name(result.label, lang),
                   head=result.head)]
    else:
        lines = [t("sentiment.explanation", lang, label=label_name(result.label, lang), head=result.head,
                   modalities=t("studio.list_separator", lang).join(modality_name(m, lang) for m in result.modalities),
                   top=modality_name(top, lang), read_as=read_as)]
    lines += [f"- {note}" for note in result.notes]
    return "\n".join(lines)


def batch_predict(ctx: StudioContext, upload, column: str, head: str, progress=None,
                  owner: Owner = OPERATOR) -> tuple[str, list[str], "object"]:
    """(CSV path with predictions, the notes, a preview frame) for an uploaded CSV; the CSV
    goes to the owner's results folder (which expires: it is there to be downloaded)."""
    path = Path(upload_path(ctx, upload, "upload.csv"))
    if path.suffix.lower() != ".csv":
        raise InputError(t("sentiment.csv_not_csv", name=path.name))
    frame = read_table(path)
    column = (column or "text").strip()
    if list(frame.columns).count(column) > 1:
        raise InputError(t("sentiment.csv_duplicate_column", name=path.name, column=column))
    if column not in frame.columns:
        raise InputError(t("sentiment.csv_no_column", name=path.name, column=column,
                           columns=", ".join(map(str, frame.columns))))
    if len(frame) == 0:
        raise InputError(t("sentiment.csv_no_rows", name=path.name))
    if len(frame) > (most := ctx.settings.sentiment_max_rows):
        raise InputError(t("sentiment.csv_too_long", name=path.name, rows=f"{len(frame):,}", most=f"{most:,}"))
    with owned_heads(ctx, owner, head) as svc:
        results = svc.predict_texts(frame[column].tolist(), head or DEFAULT_HEAD, progress)
    frame["predicted_label"] = [r.label for r in results]
    frame["language"] = [r.language for r in results]
    frame["declined"] = [r.declined for r in results]  # the label is only a leaning there
    for label in results[0].scores:
        frame[f"p_{label}"] = [r.scores[label] for r in results]
    if results[0].intensity is not None:
        frame["intensity"] = [r.intensity for r in results]
    stem = re.sub(r"[^A-Za-z0-9_-]+", "-", path.stem)[:40].strip("-_") or "batch"  # a safe file name
    name = f"{stem}-predictions-{time.strftime('%Y%m%d-%H%M%S')}.csv"
    csv = frame.to_csv(index=False).encode("utf-8")
    with ctx.space.using(owner, "batches", name) as out, ctx.space.quota(owner).reserve(len(csv)):
        storage.atomic_write_bytes(out, csv)
    notes = sorted({n for r in results for n in r.notes})
    return str(out), notes, frame.head(50)


def banner(ctx: StudioContext, lang: str | None = None) -> str:
    """How it works here: the heads, what reads images, and what is unavailable on this machine."""
    svc = service(ctx)
    lines = [t("sentiment.how", lang), t("studio.images_read_by", lang, reader=image_reader(ctx.manager))]
    shipped = [name for name in (DEFAULT_HEAD, FAST_HEAD) if name in svc.store.names()]
    if not shipped:
        lines.append(t("sentiment.how.no_heads", lang, folder=svc.store.shipped_root))
    for name in shipped:
        lines.append(t("sentiment.how.head", lang, summary=svc.store.info(name).summary()))
        if problem := svc.head_problem(name):
            lines.append(t("sentiment.how.head_problem", lang, name=name, problem=problem))
    for modality, reason in unavailable_modalities(ctx.manager).items():
        lines.append(t("sentiment.how.no_modality", lang, modality=modality_name(modality, lang).capitalize(),
                       reason=reason))
    return "\n\n".join(lines)


def notice_key(ctx: StudioContext) -> str | None:
    """The one line above the controls: what cannot run here (details in How it works)."""
    svc = service(ctx)
    shipped = [name for name in (DEFAULT_HEAD, FAST_HEAD) if name in svc.store.names()]
    if not shipped:
        return "sentiment.notice.no_heads"
    if unavailable_modalities(ctx.manager) or any(svc.head_problem(name) for name in shipped):
        return "sentiment.notice.partial"
    return None


# -- handlers: plain functions (the events and the endpoints call these; visitor.for_caller
# gives each the owner it acts for) -----------------------------------------------------------
@user_facing
@visitor.for_caller
def on_run(ctx: StudioContext, text_value: str, image_value, audio_value, head_value: str, *, owner: Owner):
    result = predict(ctx, text_value, image_value, audio_value, head_value, owner=owner)
    lang = language_of()
    # no confident-looking label for a declined text
    scores = None if result.declined else {label_name(label, lang): p for label, p in result.scores.items()}
    return (scores, intensity_bar(result, lang), highlighted(result), explanation(result, lang),
            contributions_frame(result, lang))


@user_facing
@visitor.for_caller
def on_batch(ctx: StudioContext, upload_value, column_value: str, head_value: str, progress=gr.Progress(), *,
             owner: Owner):
    out, notes, frame = batch_predict(ctx, upload_value, column_value, head_value,
                                      lambda f: progress(f, desc=t("sentiment.predicting")), owner=owner)
    return out, "\n".join(f"- {n}" for n in notes[:10]), frame


@visitor.for_caller
def refresh_heads(ctx: StudioContext, current: str, *, owner: Owner) -> gr.Dropdown:
    return gr.Dropdown(choices=head_names(ctx, owner), value=current)


@user_facing
@visitor.for_caller(api=True, item="head")
def sentiment(ctx: StudioContext, text: str, image: FileData | None = None, audio: FileData | None = None,
              head: str = DEFAULT_HEAD, *, owner: Owner) -> dict:
    """Read the sentiment of a text (positive or negative), optionally with an image or a voice clip beside it,
    and explain it: which words pushed the label and how strong the feeling is. Use it for reviews, comments,
    messages, posts; English reads best.
    Args:
        text: the text to read, up to 20,000 characters (the rest is cut off, and a note says so); may be "" when an image or voice clip is given.
        image: optional picture that goes with the text: an http(s) URL or a data URI (data:image/jpeg;base64,...); omit or null for none.
        audio: optional voice clip, transcribed and read with the text: an http(s) URL or a data URI (data:audio/ogg;base64,...); omit or null for none.
        head: the classifier: "default" (accurate, the default), "fast" (about ten times quicker), or a head you trained, by name or by its handle (name@key).
    Returns:
        label, scores {label: probability}, attributions [{token, weight}]: each word in order with how much the label's probability falls without it (positive: it pushed toward the label), intensity (how strong the feeling is, -4..+4 like mean human ratings; null for heads trained without ratings), modalities used, contributions {modality: share}, head, notes
    """
    return predict(ctx, text, image, audio, head, owner=owner).to_dict()


@user_facing
@visitor.for_caller(api=True)
def heads_api(ctx: StudioContext, *, owner: Owner) -> dict:
    """The heads the caller can use: its own and the shipped ones. Returns heads [name]."""
    return {"heads": head_names(ctx, owner)}


# -- layout and wiring -----------------------------------------------------------------------
def on_page_load(ctx: StudioContext):
    """What the page cannot translate itself: How it works, the examples' column names."""
    lang = language_of()
    headers = [t(key, lang) for key in ("sentiment.text", "sentiment.image", "sentiment.audio")]
    return banner(ctx, lang), gr.Dataset(headers=headers)


def build(ctx: StudioContext) -> None:
    intro("sentiment.intro")
    notice(notice_key(ctx))
    with gr.Row():
        with gr.Column(scale=3):
            text = gr.Textbox(label=i18n("sentiment.text"), lines=3, placeholder=i18n("sentiment.text_placeholder"))
            with gr.Row():
                image = gr.Image(label=i18n("sentiment.image"), type="filepath", height=180)
                audio = gr.Audio(label=i18n("sentiment.audio"), type="filepath")
            head = gr.Dropdown(choices=head_names(ctx, visitor.page_owner(ctx)), value=service(ctx).default_head(),
                               label=i18n("sentiment.head"), info=i18n("sentiment.head_info"))
            run = gr.Button(i18n("sentiment.run"), variant="primary")
        with gr.Column(scale=2):
            scores = gr.Label(label=i18n("sentiment.scores"), num_top_classes=5)
            strength = gr.HTML(label=i18n("sentiment.strength"), elem_id="sentiment-intensity")
            words = gr.HighlightedText(label=i18n("sentiment.words"), show_legend=False, show_inline_category=False)
            why = gr.Markdown()
            contributions = gr.BarPlot(x="modality", y="share", title=i18n("sentiment.leaned"),
                                       x_title=i18n("sentiment.input"), y_title=i18n("sentiment.share"),
                                       y_lim=[0, 1], height=220)
    media_examples = [["What a view from up here!", str(ASSETS / "gallery" / "astronaut.jpg"), None],
                      ["", None, str(ASSETS / "audio" / "english_quick_fox.ogg")]]
    examples = gr.Examples(
        examples=[[e, None, None] for e in EXAMPLES] + [m for m in media_examples if Path(m[1] or m[2]).is_file()],
        inputs=[text, image, audio],
        label=i18n("sentiment.examples"),
    )
    examples.dataset.headers = [t(key, "en") for key in ("sentiment.text", "sentiment.image", "sentiment.audio")]
    upload, column, run_batch, batch_outputs = _batch_mode()
    with how_it_works("sentiment"):
        how = gr.Markdown(banner(ctx, "en"))

    me = visitor.inputs(ctx)  # the browser's visitor id, where the page keeps one
    answers = [scores, strength, words, why, contributions]
    run.click(bind(ctx, on_run), [text, image, audio, head, *me], answers, api_visibility="private",
              **ctx.queue_slot("text-encoder"))
    text.submit(bind(ctx, on_run), [text, image, audio, head, *me], answers, api_visibility="private",
                **ctx.queue_slot("text-encoder"))
    run_batch.click(bind(ctx, on_batch), [upload, column, head, *me], batch_outputs,
                    api_visibility="private", **ctx.queue_slot("text-encoder"))
    head.focus(bind(ctx, refresh_heads), [head, *me], head, api_visibility="private", queue=False)
    visitor.on_page_load(ctx, bind(ctx, refresh_heads), [head, *me], [head])
    visitor.on_page_load(ctx, bind(ctx, on_page_load), [], [how, examples.dataset])

    gr.api(mcp_tool(bind(ctx, sentiment)), api_name="sentiment", **ctx.queue_slot("text-encoder"))
    gr.api(bind(ctx, heads_api), api_name="heads")


def _batch_mode() -> tuple:
    with gr.Accordion(i18n("sentiment.batch"), open=False):
        with gr.Row():
            upload = gr.File(label=i18n("sentiment.csv"), file_types=[".csv"])
            column = gr.Textbox(value="text", label=i18n("sentiment.column"))
        run_batch = gr.Button(i18n("sentiment.run_batch"))
        download = gr.File(label=i18n("sentiment.predictions"))
        batch_notes = gr.Markdown()
        preview = gr.Dataframe(label=i18n("sentiment.first_rows"), interactive=False, wrap=True)
    return upload, column, run_batch, [download, batch_notes, preview]
