"""Imagine tab: type a scene, get an image, then caption it, search with it or add it to a
gallery, so the tabs make one loop (imagine -> caption -> search). A few-step diffusers
pipeline (model_zoo.imagine.service) draws it; every result shows the settings that make it again.
Endpoint: /generate_image (see docs/design.md)."""
from __future__ import annotations

import threading
from dataclasses import asdict
from pathlib import Path

import gradio as gr
from gradio import FileData

from model_zoo.imagine import service as imagine
from model_zoo.vision import search as search_service
from model_zoo.core.errors import InputError
from model_zoo.imagine.service import ImagineRequest, ImagineResult
from model_zoo.core.ownership import Owner
from model_zoo.core.registry import is_overridden

from . import visitor
from .common import bind, mcp_tool, upload_path, user_facing
from .common.i18n import i18n, language_of, t
from .common.layout import how_it_works, intro, notice, notice_update
from .context import SHARED_CAPTION_IMAGE, SHARED_TABS, StudioContext
from .common.galleries import gallery_choices, gallery_for
from .common.outputs import output_folder

TITLE = "Imagine"  # the English tab name (tests select the tab by it); the page shows TITLE_KEY's
TITLE_KEY = "imagine.title"
DEFAULT_GALLERY = "imagined"
CAPTIONING_TAB = "captioning"  # the Captioning tab's id (its module name, see app/blocks.py)
EXAMPLES = ["an astronaut riding a horse on the moon, digital art", "a red fox in a snowy forest at dawn, photo",
            "a cup of coffee on a wooden table, morning light", "a lighthouse on a cliff in a storm, oil painting"]


# -- plain handlers (no browser needed) --------------------------------------------------
def output_dir() -> Path:
    """Where one generation writes its PNGs; earlier generations' folders go after an hour."""
    return output_folder("imagine")


def model_key(ctx: StudioContext, requested: str = "") -> str:
    keys = imagine.model_keys(ctx.manager)
    key = requested or imagine.KEY
    if key not in keys:
        raise InputError(t("imagine.unknown", key=key, keys=", ".join(keys)))
    return key


def generate(ctx: StudioContext, request: ImagineRequest, key: str = "", on_step=None,
             cancelled=None) -> ImagineResult:
    if request.init_image:
        request.init_image = upload_path(ctx, request.init_image, "upload.start_image")
    return imagine.generate(ctx.manager, request, output_dir(), model_key(ctx, key), on_step, cancelled)


def add_to_gallery(ctx: StudioContext, files: list[str], prompts: list[str], gallery: str, owner: Owner) -> dict:
    """Generated images into `owner`'s search gallery `gallery`, each with its prompt as its
    caption, through the search service's own indexing function (the Search tab's). The one
    place this tab touches galleries."""
    with gallery_for(ctx, owner, gallery, "add") as folder:
        return asdict(search_service.add_files(ctx.manager, folder, files, dict(zip(files, prompts)),
                                               quota=ctx.space.quota(owner), galleries=ctx.galleries))


def api_result(result: ImagineResult) -> dict:
    """The /generate_image answer: the first image as a file the client downloads, and the
    settings that make it again."""
    out = {k: v for k, v in result.to_dict().items() if k != "files"}
    out["image"] = FileData(path=str(result.files[0]), orig_name=result.files[0].name).model_dump()
    return out


def settings_markdown(result: ImagineResult, lang: str | None = None) -> str:
    seeds = (t("imagine.one_seed", lang, seed=result.seed) if len(result.seeds) == 1
             else t("imagine.seeds", lang, first=result.seeds[0], last=result.seeds[-1]))
    steps = t("imagine.one_step" if result.steps == 1 else "imagine.many_steps", lang, steps=result.steps)
    start = t("imagine.from_image", lang, strength=f"{result.strength:g}") if result.mode == "image" else ""
    timing = result.timing
    lines = [
        t("imagine.settings", lang, seeds=seeds, steps=steps, guidance=f"{result.guidance:g}", width=result.width,
          height=result.height, start=start, model=result.model, device=result.device,
          total=f"{timing['total_s']:.1f}", per_step=f"{timing['per_step_s']:.2f}"),
        t("imagine.same_settings", lang),
    ]
    if result.note:
        lines.append(f"> {result.note}")
    return "\n\n".join(lines)


def weights_banner(ctx: StudioContext, key: str, lang: str | None = None) -> str:
    """Cheap, at build time (no model loads): what is missing and how to get it (How it works)."""
    missing = imagine.missing_weights(ctx.manager, key)
    if missing is None:
        return ""
    return t("imagine.how.no_weights", lang, key=key, description=ctx.manager.spec(key).description,
             detail=missing.detail, fix=missing.how_to_fix)


def notice_key(ctx: StudioContext, key: str) -> str | None:
    return "imagine.notice.no_weights" if imagine.missing_weights(ctx.manager, key) is not None else None


def how_markdown(ctx: StudioContext, key: str = imagine.KEY, lang: str | None = None) -> str:
    """How it works: who draws, the loop through the other tabs, and what is missing here."""
    spec = ctx.manager.spec(key)
    default = spec.description.split(":")[0]
    who = (f"**{spec.description}** (`{spec.source}`)" if not is_overridden(spec)
           else t("imagine.how.override", lang, source=spec.source, default=default))
    text = t("imagine.how", lang, who=who)
    return "\n\n".join(part for part in (text, weights_banner(ctx, key, lang)) if part)


# -- UI handlers (private events; visitor.for_caller gives each its owner or page) ------------
@user_facing
@visitor.for_caller
def on_generate(ctx: StudioContext, key, text, neg, n_steps, scale, use_random, seed_value, w, h, n, start, how_far,
                progress=gr.Progress(), *, page: str):
    flag = ctx.cancel_flags[page] = threading.Event()  # this page's Cancel sets it
    lang = language_of()
    progress(0, desc=t("imagine.loading", lang))

    def report(done: int, total: int) -> None:
        progress((done, max(total, 1)), desc=t("imagine.denoising", lang), unit=t("imagine.steps_unit", lang))

    req = ImagineRequest(text, neg or "", n_steps, scale, -1 if use_random else seed_value, w, h, n, start,
                         how_far)
    try:
        result = generate(ctx, req, key, on_step=report, cancelled=flag.is_set)
    finally:
        ctx.cancel_flags.pop(page, None)
    files = [str(f) for f in result.files]
    captions = [t("imagine.seed_caption", lang, seed=s) for s in result.seeds]
    return (list(zip(files, captions)), settings_markdown(result, lang), result.seed, api_result(result),
            {"files": files, "prompt": result.prompt}, 0, "")


@visitor.for_caller
def on_cancel(ctx: StudioContext, *, page: str) -> str:
    flag = ctx.cancel_flags.get(page)
    if flag is not None:
        flag.set()
    return t("imagine.cancelled")


def on_pick(evt: gr.SelectData) -> int:
    return int(evt.index or 0)


@user_facing
def on_caption_it(state: dict, index: int):
    return _picked_file(state, index), gr.Tabs(selected=CAPTIONING_TAB)


@user_facing
@visitor.for_caller
def on_add(ctx: StudioContext, state: dict, index: int, gallery: str, *, owner: Owner):
    chosen = _picked_file(state, index)
    report = add_to_gallery(ctx, [chosen], [state["prompt"]], gallery, owner)
    if report["added"]:
        note = t("imagine.added", gallery=report["gallery"], total=report["total"])
    else:
        note = t("imagine.already", gallery=report["gallery"])
    return note, gr.update(choices=gallery_choices(ctx, owner, DEFAULT_GALLERY))


# -- JSON endpoint (docs/design.md contract) ------------------------------------------------------
@user_facing
def generate_image(ctx: StudioContext, prompt: str, negative_prompt: str = "", steps: int = 0, guidance: float = -1,
                   seed: int = -1, width: int = 512, height: int = 512) -> dict:
    """Draw an image from a text description (text to image: LCM Dreamshaper v7, a few-step Stable Diffusion,
    or SDXL-Turbo on a GPU). Use it when a picture is wanted that does not exist yet. Works only where the
    server has the weights (the models tool shows the `diffusion` model); otherwise it says how to get them.
    The same seed and settings give the same image on the same device.
    Args:
        prompt: what to draw, in English (e.g. "a lighthouse on a cliff in a storm, oil painting").
        negative_prompt: what to keep out of the image (e.g. "blurry, text"); needs guidance above 1, so LCM and turbo models ignore it; default "".
        steps: denoising steps, 1 to 100; 0 (the default) for the model's own (LCM 4, turbo 1); more is slower.
        guidance: how strictly to follow the prompt, 0 to 30; -1 (the default) for the model's own (LCM 8, turbo 0).
        seed: a whole number to repeat an image; -1 (the default) for a random one (the seed used is returned).
        width: in pixels, 64 to 1024, a multiple of 8; default 512.
        height: in pixels, 64 to 1024, a multiple of 8; default 512.
    Returns:
        image (the PNG, as image content and as a URL), seed, steps, guidance, width, height, model, timing {total_s, per_step_s}
    """
    request = ImagineRequest(prompt, negative_prompt, steps, guidance, seed, width, height)
    return api_result(generate(ctx, request))


# -- layout and wiring -----------------------------------------------------------------------
def on_model(ctx: StudioContext, key: str):
    """Another model picked: its notice line and How it works."""
    return notice_update(notice_key(ctx, key)), how_markdown(ctx, key)


def on_page_load(ctx: StudioContext, key: str) -> str:
    """How it works in the visitor's language (the page cannot translate its model names and commands)."""
    return how_markdown(ctx, key, language_of())


def build(ctx: StudioContext) -> None:
    keys = imagine.model_keys(ctx.manager)
    intro("imagine.intro")
    banner = notice(notice_key(ctx, imagine.KEY), elem_id="imagine-banner")
    with gr.Row():
        with gr.Column():
            model = gr.Dropdown(keys, value=imagine.KEY, label=i18n("studio.model"), visible=len(keys) > 1)
            prompt = gr.Textbox(label=i18n("imagine.prompt"), lines=2, placeholder=i18n("imagine.prompt_placeholder"),
                                elem_id="imagine-prompt")
            negative = gr.Textbox(label=i18n("imagine.negative"), placeholder=i18n("imagine.negative_placeholder"),
                                  info=i18n("imagine.negative_info"))
            steps, guidance, random_seed, seed, width, height, count = _settings()
            with gr.Accordion(i18n("imagine.start"), open=False):
                init_image = gr.Image(type="filepath", label=i18n("imagine.start_image"), height=220)
                strength = gr.Slider(0.05, 1.0, value=0.6, step=0.05, label=i18n("imagine.strength"),
                                     info=i18n("imagine.strength_info"))
            with gr.Row():
                run = gr.Button(i18n("imagine.run"), variant="primary", elem_id="imagine-generate")
                stop = gr.Button(i18n("imagine.cancel"), variant="stop")
            gr.Examples([[e] for e in EXAMPLES], inputs=[prompt], label=i18n("studio.try"))
        with gr.Column():
            images = gr.Gallery(label=i18n("imagine.result"), columns=2, height=420, object_fit="contain",
                                interactive=False, elem_id="imagine-result")
            settings = gr.Markdown(elem_id="imagine-settings")
            with gr.Row():
                caption_it = gr.Button(i18n("imagine.caption_it"), visible=ctx.shared(SHARED_CAPTION_IMAGE) is not None,
                                       elem_id="imagine-caption-it")
                gallery_name = gr.Dropdown(
                    gallery_choices(ctx, visitor.page_owner(ctx), DEFAULT_GALLERY),
                    value=DEFAULT_GALLERY,
                    allow_custom_value=True,
                    label=i18n("studio.gallery"),
                    info=i18n("studio.gallery_info"),
                    scale=2,
                )
                to_gallery = gr.Button(i18n("studio.add_to_gallery"))
            status = gr.Markdown()
            with gr.Accordion(i18n("imagine.raw"), open=False):
                raw = gr.JSON()
    with how_it_works("imagine"):
        how = gr.Markdown(how_markdown(ctx, imagine.KEY, "en"))
    visitor.on_page_load(ctx, bind(ctx, on_page_load), [model], [how])
    last = gr.State({})  # {"files": [...], "prompt": str}
    picked = gr.State(0)  # index of the image the buttons act on

    inputs = [model, prompt, negative, steps, guidance, random_seed, seed, width, height, count, init_image, strength]
    outputs = [images, settings, seed, raw, last, picked, status]
    slot = ctx.queue_slot(imagine.KEY, limit=1)
    event = run.click(bind(ctx, on_generate), inputs=inputs, outputs=outputs, api_visibility="private", **slot)
    submitted = prompt.submit(bind(ctx, on_generate), inputs=inputs, outputs=outputs, api_visibility="private",
                              **slot)
    stop.click(bind(ctx, on_cancel), outputs=status, cancels=[event, submitted], queue=False,
               api_visibility="private")
    images.select(on_pick, outputs=picked, api_visibility="private", queue=False)
    model.change(bind(ctx, on_model), inputs=model, outputs=[banner, how], api_visibility="private")
    to_gallery.click(bind(ctx, on_add), inputs=[last, picked, gallery_name, *visitor.inputs(ctx)],
                     outputs=[status, gallery_name], api_visibility="private")
    target, tabs = ctx.shared(SHARED_CAPTION_IMAGE), ctx.shared(SHARED_TABS)
    if target is not None and tabs is not None:
        caption_it.click(on_caption_it, inputs=[last, picked], outputs=[target, tabs], api_visibility="private")
    gr.api(mcp_tool(bind(ctx, generate_image)), api_name="generate_image", **ctx.queue_slot(imagine.KEY, limit=1))


def _settings() -> tuple:
    """Steps, guidance, the seed, the size and how many."""
    with gr.Row():
        steps = gr.Slider(0, 50, value=0, step=1, label=i18n("imagine.steps"), info=i18n("imagine.steps_info"))
        guidance = gr.Slider(-1, 20, value=-1, step=0.5, label=i18n("imagine.guidance"),
                             info=i18n("imagine.guidance_info"))
    with gr.Row():
        random_seed = gr.Checkbox(True, label=i18n("imagine.random_seed"))
        seed = gr.Number(-1, precision=0, label=i18n("imagine.seed"), info=i18n("imagine.seed_info"),
                         elem_id="imagine-seed")
    with gr.Row():
        width = gr.Slider(imagine.MIN_SIDE, imagine.MAX_SIDE, value=512, step=8, label=i18n("imagine.width"),
                          elem_id="imagine-width")
        height = gr.Slider(imagine.MIN_SIDE, imagine.MAX_SIDE, value=512, step=8, label=i18n("imagine.height"),
                           elem_id="imagine-height")
        count = gr.Slider(1, imagine.MAX_IMAGES, value=1, step=1, label=i18n("imagine.count"))
    return steps, guidance, random_seed, seed, width, height, count


def _picked_file(state: dict, index: int) -> str:
    files = (state or {}).get("files") or []
    if not files:
        raise InputError(t("imagine.generate_first"))
    return files[min(max(int(index or 0), 0), len(files) - 1)]
