"""Search tab: image-text search over named galleries and zero-shot classification, on
the image engine of model_zoo.vision.engine (OpenCLIP where its weights are, else the offline
label bridge). Endpoints /index_images, /search and /classify_image (see docs/design.md); the
logic lives in model_zoo.vision.search."""
from __future__ import annotations

import re
from dataclasses import asdict
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import gradio as gr
from gradio import FileData
from PIL import Image

from model_zoo.vision import engine as vision_engine
from model_zoo.vision import explain
from model_zoo.vision import search as service
from model_zoo.core.errors import InputError
from model_zoo.core.ownership import OPERATOR, Owner

from . import visitor
from .common import bind, file_path, mcp_tool, upload_path, user_facing
from .common.i18n import i18n, language_of, t, text_or
from .common.layout import how_it_works, intro, notice
from .context import StudioContext
from .common.galleries import DEFAULT_GALLERY, galleries_root, gallery_for, peek_gallery, visible_galleries
from .common.seen import seen_mark, seen_markdown

TITLE = "Search"  # the English tab name (tests select the tab by it); the page shows TITLE_KEY's
TITLE_KEY = "search.title"
MODE_KEYS = {"text": "search.mode.text", "image": "search.mode.image", "image+text": "search.mode.composed",
             "similar": "search.mode.similar"}
SAMPLE_DIR = Path(__file__).resolve().parent.parent / "assets" / "gallery"
SAMPLE_GALLERY = "sample"


# -- handlers: plain functions (the endpoints and the UI call these) -------------------
# Every handler takes the `owner` it acts for (components.visitor); plain callers (tests,
# scripts) are the operator, whose galleries are the shared ones (components.common.galleries).
def index_images(ctx: StudioContext, files: list[Any], gallery: str = DEFAULT_GALLERY, progress=None,
                 owner: Owner = OPERATOR) -> dict:
    """Add uploaded images or zips of images to `gallery`: {added, skipped, total, rejected, ...}."""
    paths = [file_path(f, "upload.image") for f in (files or [])]
    with gallery_for(ctx, owner, gallery, "add") as folder:
        return asdict(service.add_files(ctx.manager, folder, paths, progress=progress, quota=ctx.space.quota(owner),
                                        limits=ctx.upload_limits, galleries=ctx.galleries))


def index_server_folder(ctx: StudioContext, server_folder: str, gallery: str = DEFAULT_GALLERY, progress=None,
                        owner: Owner = OPERATOR) -> dict:
    with gallery_for(ctx, owner, gallery, "add") as folder:
        return asdict(service.add_folder(ctx.manager, folder, ctx.settings.gallery_root, server_folder, progress,
                                         quota=ctx.space.quota(owner), galleries=ctx.galleries))


def load_sample_gallery(ctx: StudioContext, progress=None) -> dict:
    """The sample photos into the shared `sample` gallery (the app's own photos: everyone's)."""
    folder = service.gallery_dir(galleries_root(ctx), SAMPLE_GALLERY)
    return asdict(service.add_files(ctx.manager, folder, sorted(SAMPLE_DIR.glob("*.jpg")), progress=progress,
                                    galleries=ctx.galleries))


def search_gallery(ctx: StudioContext, query: str = "", image: Any = None, k: int = 8,
                   gallery: str = DEFAULT_GALLERY, text_weight: float = 1.0, owner: Owner = OPERATOR) -> dict:
    """Top-k images for a text, an image, or an image + weighted text: {results, model, ...}."""
    image_file = upload_path(ctx, image, "upload.query_image", required=False)
    with gallery_for(ctx, owner, gallery) as folder:
        return asdict(service.search(ctx.manager, folder, query, image_file, k, text_weight, ctx.galleries))


def classify_image(ctx: StudioContext, image: Any, labels: str, templates: str = "") -> dict:
    """Zero-shot probabilities of comma-separated labels for an image: {scores, model, templates}."""
    return asdict(service.classify(ctx.manager, upload_path(ctx, image, "upload.image"), labels, templates or None))


def similar_images(ctx: StudioContext, item_id: Any, k: int = 8, gallery: str = DEFAULT_GALLERY,
                   owner: Owner = OPERATOR) -> dict:
    """"More like this": images like gallery image `item_id` (by its stored vector)."""
    with gallery_for(ctx, owner, gallery) as folder:
        return asdict(service.similar(ctx.manager, folder, parse_id(item_id), k, ctx.galleries))


def explain_hit(ctx: StudioContext, item_id: Any, gallery: str = DEFAULT_GALLERY,
                owner: Owner = OPERATOR) -> tuple[Image.Image, str]:
    """Grad-CAM of a gallery image's top ImageNet label, on its stored preview."""
    with gallery_for(ctx, owner, gallery) as folder:
        thumb = service.thumbnail_file(folder, parse_id(item_id))
        if thumb is None:
            raise InputError(t("search.no_id", gallery=gallery, id=item_id))
        cam = explain.gradcam(ctx.manager, thumb)
    return cam.overlay, t("search.looked_for", label=cam.label, p=f"{cam.probability:.0%}")


def reindex_gallery(ctx: StudioContext, gallery: str, progress=None, owner: Owner = OPERATOR) -> dict:
    """A copy of a label-bridge gallery in the engine answering now (CLIP): '<name>-clip',
    among the caller's own galleries. Visitors never write into the shared namespace: a
    shared gallery's copy is the visitor's own (within their quota); only the operator's
    copies of shared galleries are shared."""
    target_name = service.check_gallery_name(f"{service.check_gallery_name(gallery)[:59]}-clip")
    with gallery_for(ctx, owner, gallery) as folder:
        shared_copy = ctx.space.shared_folder("galleries") / target_name
        own_copy = ctx.space.folder(owner, "galleries") / target_name
        if own_copy != shared_copy and (shared_copy / "manifest.json").is_file() and not own_copy.exists():
            raise InputError(t("search.clip_copy_shared", target=target_name, gallery=gallery))
        with gallery_for(ctx, owner, target_name, "add") as target:
            return asdict(service.reindex(ctx.manager, folder, target, progress, quota=ctx.space.quota(owner),
                                          galleries=ctx.galleries))


def parse_id(value: Any) -> int:
    text = str(value if value is not None else "").strip().lstrip("#")
    if not text.isdigit():
        raise InputError(t("search.pick_first"))
    return int(text)


def remove_from_gallery(ctx: StudioContext, ids: str, gallery: str = DEFAULT_GALLERY,
                        owner: Owner = OPERATOR) -> dict:
    try:
        wanted = [int(part) for part in str(ids).replace(" ", ",").split(",") if part.strip()]
    except ValueError:
        raise InputError(t("search.bad_ids")) from None
    with gallery_for(ctx, owner, gallery, "change") as folder:
        return asdict(service.remove_images(folder, wanted, ctx.galleries))


# -- formatting for the UI -------------------------------------------------------------
def report_markdown(report: dict, lang: str | None = None) -> str:
    lines = [t("search.report", lang, added=report["added"], skipped=report["skipped"], gallery=report["gallery"],
               total=report["total"], seconds=f"{report['seconds']:.1f}")]
    lines += [t("search.rejected", lang, name=r["name"], reason=r["reason"]) for r in report["rejected"][:20]]
    if len(report["rejected"]) > 20:
        lines.append(t("search.more_rejected", lang, count=len(report["rejected"]) - 20))
    return "\n".join(lines)


def gallery_summary(ctx: StudioContext, gallery: str, owner: Owner | None = OPERATOR, lang: str | None = None) -> str:
    try:
        folder = peek_gallery(ctx, owner, gallery)
        info = service.gallery_info(folder)
    except InputError as exc:
        return str(exc)
    if not info.images:
        return t("search.empty", lang, gallery=info.gallery)
    index = t("search.index_exact" if info.index == "exact" else "search.index_ivf", lang)
    engine = t("search.engine_labels", lang) if info.engine == "labels" else "CLIP"
    text = t("search.summary", lang, gallery=info.gallery, images=info.images, index=index, engine=engine,
             model=info.model)
    if service.can_reindex_into_clip(ctx.manager, folder):
        text += t("search.can_reindex", lang)
    return text


def result_tiles(ctx: StudioContext, result: dict, owner: Owner | None = OPERATOR) -> list[tuple[Image.Image, str]]:
    folder = peek_gallery(ctx, owner, result["gallery"])
    tiles = []
    for hit in result["results"]:
        thumb = service.thumbnail_file(folder, hit["id"])
        label = f"{hit['score']:.3f} · {hit['name']} (#{hit['id']})" + (
            f" · {hit['caption']}" if hit.get("caption") else ""
        )
        if hit.get("seen"):  # the label bridge's reading: its words, marked sure or not
            label += f" · {seen_mark(hit['seen']['certainty'])} {hit['seen']['described']}"
        if thumb is None:
            continue
        try:
            with Image.open(thumb) as opened:
                tiles.append((opened.copy(), label))
        except OSError:  # no preview (e.g. lost in a power cut): show the rest
            continue
    return tiles


def tile_id(selected: Any) -> str:
    """The image id from a selected result tile ('0.312 · cat.jpg (#7)' -> '7')."""
    caption = selected.get("caption") if isinstance(selected, dict) else None
    found = re.search(r"\(#(\d+)\)", caption or "")
    return found.group(1) if found else ""


def how_markdown(ctx: StudioContext, lang: str | None = None) -> str:
    """How it works: the tab, whose galleries are whose, and which engine answers here (model_zoo's words)."""
    space = ctx.space
    parts = [t("search.how", lang)]
    if space.private:
        parts.append(t("search.how.private", lang, hours=f"{space.ttl_s / 3600:g}",
                       mb=f"{space.quota_bytes / 2**20:,.0f}"))
    parts.append(service.engine_banner(ctx.manager)[0])
    return "\n\n".join(parts)


def notice_key(ctx: StudioContext) -> str | None:
    """The line above the controls: no engine at all, or the label bridge answering for CLIP."""
    if service.engine_banner(ctx.manager)[1]:
        return "search.notice.no_engine"
    try:
        return "search.notice.labels" if vision_engine.mode(ctx.manager) == "labels" else None
    except ValueError:
        return None


# -- UI handlers (private events; visitor.for_caller gives each the owner it acts for) -------
def refreshed_choices(ctx: StudioContext, current: str, who: Owner | None) -> gr.Dropdown:
    return gr.Dropdown(choices=sorted({DEFAULT_GALLERY, SAMPLE_GALLERY, current, *visible_galleries(ctx, who)}),
                       value=current)


@visitor.for_caller
def gallery_changed(ctx: StudioContext, name: str, *, owner: Owner):
    try:
        offer = service.can_reindex_into_clip(ctx.manager, peek_gallery(ctx, owner, name))
    except InputError:
        offer = False
    return gallery_summary(ctx, name, owner), gr.Button(visible=offer)


@visitor.for_caller
def on_page_load(ctx: StudioContext, name: str, *, owner: Owner):
    """The visitor's own galleries join the list once the page knows who they are; what the
    page cannot translate itself (How it works, the examples' column names) comes in their language."""
    lang = language_of()
    headers = [t(key, lang) for key in ("search.query", "search.query_image")]
    return (refreshed_choices(ctx, name, owner), gallery_summary(ctx, name, owner, lang), how_markdown(ctx, lang),
            gr.Dataset(headers=headers), gr.Dataset(headers=[t(k, lang) for k in ("studio.image", "search.labels")]))


def shown(ctx: StudioContext, result: dict, who: Owner) -> tuple[list, str]:
    ms = result["timing"]
    mode = text_or(MODE_KEYS.get(result["mode"], ""), result["mode"])
    note = t("search.timing", count=len(result["results"]), mode=mode, encode=f"{ms['encode_ms']:.0f}",
             search=f"{ms['search_ms']:.1f}", model=result["model"])
    return result_tiles(ctx, result, who), note + (f"\n\n{result['note']}" if result.get("note") else "")


@user_facing
@visitor.for_caller
def ui_search(ctx: StudioContext, text: str, image: str | None, top_k: float, weight: float, name: str, *,
              owner: Owner):
    return shown(ctx, search_gallery(ctx, text, image, int(top_k), name, weight, owner=owner), owner)


@user_facing
@visitor.for_caller
def ui_similar(ctx: StudioContext, item: str, top_k: float, name: str, *, owner: Owner):
    return shown(ctx, similar_images(ctx, item, int(top_k), name, owner=owner), owner)


@user_facing
@visitor.for_caller
def ui_why(ctx: StudioContext, item: str, name: str, *, owner: Owner):
    return explain_hit(ctx, item, name, owner=owner)


@user_facing
@visitor.for_caller
def ui_add(ctx: StudioContext, files: list[str] | None, name: str, progress=gr.Progress(), *, owner: Owner):
    result = index_images(ctx, files or [], name, progress=lambda f, d: progress(f, desc=d), owner=owner)
    return (report_markdown(result), gallery_summary(ctx, name, owner), refreshed_choices(ctx, name, owner),
            gr.File(value=None))


@user_facing
@visitor.for_caller
def ui_add_folder(ctx: StudioContext, folder: str, name: str, progress=gr.Progress(), *, owner: Owner):
    result = index_server_folder(ctx, folder, name, progress=lambda f, d: progress(f, desc=d), owner=owner)
    return report_markdown(result), gallery_summary(ctx, name, owner), refreshed_choices(ctx, name, owner)


@user_facing
@visitor.for_caller
def ui_sample(ctx: StudioContext, progress=gr.Progress(), *, owner: Owner):
    result = load_sample_gallery(ctx, progress=lambda f, d: progress(f, desc=d))
    return (report_markdown(result), gallery_summary(ctx, SAMPLE_GALLERY, owner),
            refreshed_choices(ctx, SAMPLE_GALLERY, owner))


@user_facing
@visitor.for_caller
def ui_reindex(ctx: StudioContext, name: str, progress=gr.Progress(), *, owner: Owner):
    result = reindex_gallery(ctx, name, progress=lambda f, d: progress(f, desc=d), owner=owner)
    return (report_markdown(result), gallery_summary(ctx, result["gallery"], owner),
            refreshed_choices(ctx, result["gallery"], owner))


@user_facing
@visitor.for_caller
def ui_remove(ctx: StudioContext, ids: str, name: str, *, owner: Owner):
    info = remove_from_gallery(ctx, ids, name, owner=owner)
    return (t("search.removed", gallery=info["gallery"], images=info["images"]), gallery_summary(ctx, name, owner))


@user_facing
def ui_classify(ctx: StudioContext, image: str | None, label_text: str, template_text: str):
    result = classify_image(ctx, image, label_text, template_text)
    if not result["seen"]:
        return result["scores"], t("search.clip_answered", model=result["model"])
    saw = ", ".join(f"{s['label']} ({s['p']:.0%})" for s in result["seen"])
    return result["scores"], (f"{t('search.bridge_answered', described=result['described'])}\n\n"
                              f"{seen_markdown(result['objects'])}\n\n{t('search.top_labels', labels=saw)}")


def pick(event: gr.SelectData) -> tuple[str, str]:
    # the id is in the tile's caption; a gr.State would hold it too, but any State makes
    # the page keep a heartbeat connection open (the browser test waits for network idle)
    return tile_id(event.value), tile_id(event.value)


# -- JSON endpoints (docs/design.md contract) -------------------------------------------------------
# Each acts for the caller (visitor.for_caller): a gradio_client Client is a session of its own.
@user_facing
@visitor.for_caller(api=True, item="gallery")
def index_images_api(ctx: StudioContext, files: list[FileData], gallery: str = DEFAULT_GALLERY, *,
                     owner: Owner) -> dict:
    """Add images to a searchable gallery (made on first use): each is embedded, and the text written in it read,
    so the search tool can find it later by a description or by a similar image. Use it before searching your
    own pictures. An agent's gallery is private: keep the returned handle and pass it as `gallery` to search.
    Args:
        files: the images, each an http(s) URL or a data URI (data:image/jpeg;base64,..., or data:image/jpeg;name=cat.jpg;base64,... to keep its name); jpg, png, webp, gif or bmp, or a zip of them; duplicates are skipped.
        gallery: the gallery's name (letters, digits, '-', '_' or '.', up to 64; default "default"), or a handle (name@key) from an earlier call to add to that gallery.
    Returns:
        added, skipped (already there), total (images in the gallery now), gallery, handle (name@key: what search needs to find this gallery again; null for a browser or gradio_client session, whose own session reaches it), ids of the added images, rejected [{name, reason}], engine (clip or labels)
    """
    result = index_images(ctx, files, gallery, owner=owner)
    result["handle"] = visitor.handle(owner, result["gallery"])
    return result


@user_facing
@visitor.for_caller(api=True, item="gallery")
def search_api(ctx: StudioContext, query: str = "", image: FileData | None = None, k: int = 8,
               gallery: str = DEFAULT_GALLERY, text_weight: float = 1.0, *, owner: Owner) -> dict:
    """Find the images in a gallery that best match a text description, a query image ("more like this"), or
    both (the image moved toward the text, e.g. a photo plus "at night"). Use it after index_images, with the
    handle it returned, or on a shared gallery such as "sample".
    Args:
        query: what to look for, in words (e.g. "a cat on a sofa", or text written in the picture); "" (the default) to search by the image alone.
        image: optional query image: an http(s) URL or a data URI (data:image/jpeg;base64,...); omit or null to search by text alone. Give a query, an image or both.
        k: how many results, 1 to 100; default 8.
        gallery: the handle index_images returned (name@key), or the name of a shared gallery ("sample" where the operator loaded it); default "default".
        text_weight: with both an image and a query, how far the text moves the query, 0 to 3; default 1.0. Ignored otherwise.
    Returns:
        results [{id, name, score (higher is closer), caption, text (written in the image), seen}] best first, mode, model, engine (clip or labels), gallery, timing
    """
    return search_gallery(ctx, query, image, k, gallery, text_weight, owner=owner)


@user_facing
def classify_image_api(ctx: StudioContext, image: FileData, labels: str, templates: str = "") -> dict:
    """Zero-shot image classification: how well each label you give fits an image, as probabilities over
    your labels (no training). Use it to sort or tag a picture into categories you choose; for a
    free-form description use caption instead.
    Args:
        image: the picture: an http(s) URL or a data URI (data:image/jpeg;base64,...).
        labels: the candidate labels, comma-separated, 1 to 64 (e.g. "cat, dog, car"); a label naming a kind ("lizard", "vehicle") covers every class of that kind.
        templates: optional prompt templates, one per line, each with {} where the label goes (e.g. "a photo of a {}"); "" (the default) uses the engine's own.
    Returns:
        scores {label: probability} summing to 1, engine (clip or labels); with the label bridge also seen [{label, p}] (top ImageNet classes), described (what it sees, in words), certainty (sure, kind, guess or unclear) and objects
    """
    return classify_image(ctx, image, labels, templates)


@user_facing
@visitor.for_caller(api=True)
def galleries_api(ctx: StudioContext, *, owner: Owner) -> dict:
    """The galleries the caller can search: its own and the shared ones. Returns galleries [name], shared [name]."""
    return {"galleries": visible_galleries(ctx, owner), "shared": visible_galleries(ctx, None)}


@user_facing
@visitor.for_caller(api=True, item="gallery")
def remove_images_api(ctx: StudioContext, ids: str, gallery: str = DEFAULT_GALLERY, *, owner: Owner) -> dict:
    """Remove images by id (comma-separated) from one of the caller's galleries. Returns gallery, images, items."""
    return remove_from_gallery(ctx, ids, gallery, owner=owner)


# -- layout and wiring -----------------------------------------------------------------------
def build(ctx: StudioContext) -> None:
    intro("search.intro")
    notice(notice_key(ctx))
    names = sorted({DEFAULT_GALLERY, SAMPLE_GALLERY, *visible_galleries(ctx, visitor.page_owner(ctx))})
    with gr.Row():
        gallery = gr.Dropdown(names, value=SAMPLE_GALLERY, label=i18n("studio.gallery"), allow_custom_value=True,
                              scale=1, info=i18n("search.gallery_info"))
        summary = gr.Markdown(gallery_summary(ctx, SAMPLE_GALLERY, lang="en"))
    with gr.Row():
        sample = gr.Button(i18n("search.sample"), variant="secondary")
        reindex = gr.Button(i18n("search.reindex"), variant="secondary",
                            visible=service.can_reindex_into_clip(ctx.manager, peek_gallery(ctx, None, SAMPLE_GALLERY)))
    with gr.Tabs():
        find = _search_tab()
        edit = _add_or_remove_tab(ctx)
        zero_shot = _classify_tab(ctx)
    with how_it_works("search"):
        how = gr.Markdown(how_markdown(ctx, "en"))

    light = dict(api_visibility="private")
    private = dict(light, **ctx.queue_slot("vision"))
    bulk = dict(light, **ctx.queue_slot("vision", lane="bulk"))  # adding photos never holds every search slot
    me = visitor.inputs(ctx)  # the browser's visitor id, where the page keeps one
    gallery.change(bind(ctx, gallery_changed), [gallery, *me], [summary, reindex], **light)
    visitor.on_page_load(ctx, bind(ctx, on_page_load), [gallery, *me],
                         [gallery, summary, how, find.examples.dataset, zero_shot.examples.dataset])
    search_inputs = [find.query, find.query_image, find.k, find.text_weight, gallery, *me]
    find.run.click(bind(ctx, ui_search), search_inputs, [find.tiles, find.timing], **private)
    find.query.submit(bind(ctx, ui_search), search_inputs, [find.tiles, find.timing], **private)
    find.tiles.select(pick, None, [find.picked, edit.remove_ids], **light)
    find.more_like.click(bind(ctx, ui_similar), [find.picked, find.k, gallery, *me], [find.tiles, find.timing],
                         **private)
    find.why.click(bind(ctx, ui_why), [find.picked, gallery, *me], [find.why_image, find.why_text], **private)
    edit.add_uploads.click(bind(ctx, ui_add), [edit.uploads, gallery, *me],
                           [edit.report, summary, gallery, edit.uploads], **bulk)
    edit.add_folder.click(bind(ctx, ui_add_folder), [edit.server_folder, gallery, *me], [edit.report, summary, gallery],
                          **bulk)
    sample.click(bind(ctx, ui_sample), me, [edit.report, summary, gallery], **bulk)
    reindex.click(bind(ctx, ui_reindex), [gallery, *me], [edit.report, summary, gallery], **bulk)
    edit.remove.click(bind(ctx, ui_remove), [edit.remove_ids, gallery, *me], [edit.report, summary], **private)
    zero_shot.run.click(bind(ctx, ui_classify), [zero_shot.image, zero_shot.labels, zero_shot.templates],
                        [zero_shot.scores, zero_shot.seen], **private)

    gr.api(mcp_tool(bind(ctx, index_images_api)), api_name="index_images", **ctx.queue_slot("vision", lane="bulk"))
    gr.api(mcp_tool(bind(ctx, search_api)), api_name="search", **ctx.queue_slot("vision"))
    gr.api(mcp_tool(bind(ctx, classify_image_api)), api_name="classify_image", **ctx.queue_slot("vision"))
    gr.api(bind(ctx, galleries_api), api_name="galleries")
    gr.api(bind(ctx, remove_images_api), api_name="remove_images")


def _search_tab() -> SimpleNamespace:
    with gr.Tab(i18n("search.tab_search")):
        with gr.Row():
            with gr.Column():
                query = gr.Textbox(label=i18n("search.query"), placeholder=i18n("search.query_placeholder"), lines=1)
                query_image = gr.Image(label=i18n("search.query_image"), type="filepath", height=220)
                with gr.Row():
                    k = gr.Slider(1, service.MAX_K, value=8, step=1, label=i18n("search.k"))
                    text_weight = gr.Slider(0, 3, value=1.0, step=0.1, label=i18n("search.text_weight"),
                                            info=i18n("search.text_weight_info"))
                run = gr.Button(i18n("studio.search"), variant="primary")
            with gr.Column(scale=2):
                tiles = gr.Gallery(label=i18n("search.tiles"), columns=4, height=460, object_fit="contain",
                                   interactive=False)
                timing = gr.Markdown()
                with gr.Row():
                    picked = gr.Textbox(label=i18n("search.picked"), placeholder=i18n("search.picked_placeholder"),
                                        scale=1)
                    more_like = gr.Button(i18n("search.more_like"), scale=1)
                    why = gr.Button(i18n("search.why"), scale=1)
                with gr.Row():
                    why_image = gr.Image(label=i18n("search.why_image"), interactive=False, height=260)
                    why_text = gr.Markdown()
        examples = gr.Examples(
            [["a cat", None], ["a rocket on the launch pad", None], ["", str(SAMPLE_DIR / "astronaut.jpg")],
             ["black and white", str(SAMPLE_DIR / "coffee.jpg")]],
            inputs=[query, query_image], label=i18n("search.examples"),
        )
        examples.dataset.headers = [t(key, "en") for key in ("search.query", "search.query_image")]
    return SimpleNamespace(query=query, query_image=query_image, k=k, text_weight=text_weight, run=run, tiles=tiles,
                           timing=timing, picked=picked, more_like=more_like, why=why, why_image=why_image,
                           why_text=why_text, examples=examples)


def _add_or_remove_tab(ctx: StudioContext) -> SimpleNamespace:
    with gr.Tab(i18n("search.tab_edit")):
        uploads = gr.File(label=i18n("search.uploads"), file_count="multiple",
                          file_types=["image", ".zip"], type="filepath")
        add_uploads = gr.Button(i18n("studio.add_to_gallery"), variant="primary")
        with gr.Row():
            server_folder = gr.Textbox(label=i18n("search.server_folder"), info=str(ctx.settings.gallery_root),
                                       placeholder="gallery", scale=3)
            add_folder = gr.Button(i18n("search.add_folder"), scale=1)
        with gr.Row():
            remove_ids = gr.Textbox(label=i18n("search.remove_ids"), placeholder="3, 7", scale=3)
            remove = gr.Button(i18n("search.remove"), variant="stop", scale=1)
        report = gr.Markdown()
    return SimpleNamespace(uploads=uploads, add_uploads=add_uploads, server_folder=server_folder,
                           add_folder=add_folder, remove_ids=remove_ids, remove=remove, report=report)


def _classify_tab(ctx: StudioContext) -> SimpleNamespace:
    with gr.Tab(i18n("search.tab_classify")):
        with gr.Row():
            with gr.Column():
                image = gr.Image(label=i18n("studio.image"), type="filepath", height=260, elem_id="classify-image")
                labels = gr.Textbox(label=i18n("search.labels"), value="cat, dog, rocket, cup of coffee")
                templates = gr.Textbox(label=i18n("search.templates"), lines=4,
                                       value="\n".join(service.default_templates(ctx.manager)))
                run = gr.Button(i18n("search.classify"), variant="primary")
            with gr.Column():
                scores = gr.Label(label=i18n("search.probabilities"), num_top_classes=8)
                seen = gr.Markdown(elem_id="classify-seen")
        examples = gr.Examples(
            [[str(SAMPLE_DIR / "cat.jpg"), "cat, dog, rocket, cup of coffee"],
             [str(SAMPLE_DIR / "rocket.jpg"), "rocket, airplane, lighthouse, tree"],
             [str(SAMPLE_DIR / "temple.jpg"), "temple, beach, city street, forest"]],
            inputs=[image, labels], label=i18n("studio.try"),
        )
        examples.dataset.headers = [t(key, "en") for key in ("studio.image", "search.labels")]
    return SimpleNamespace(image=image, labels=labels, templates=templates, run=run, scores=scores, seen=seen,
                           examples=examples)
