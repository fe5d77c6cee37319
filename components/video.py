"""Video tab: index a clip by what is seen (keyframes at scene changes, embedded and captioned
by the image engine) and what is said (Whisper's timed transcript), then search inside it;
a hit jumps the player to its moment. Endpoints /index_video and /search_video (docs/design.md);
the logic lives in model_zoo.video. A visitor's indexed videos are theirs alone, kept like
their galleries (model_zoo.core.ownership, kind "videos")."""
from __future__ import annotations

import tempfile
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path
from typing import Any, Iterator

import gradio as gr
from gradio import FileData
from PIL import Image

from model_zoo.core.errors import InputError
from model_zoo.core.ownership import OPERATOR, Owner
from model_zoo.video import service, store
from model_zoo.vision import search as gallery_service

from . import visitor
from .common import bind, file_data, mcp_tool, upload_path, user_facing
from .common.galleries import gallery_for
from .common.i18n import i18n, language_of, t, text_or
from .common.layout import how_it_works, intro
from .common.subtitles import subtitle_files
from .context import StudioContext

TITLE = "Video"  # the English tab name (tests select the tab by it); the page shows TITLE_KEY's
TITLE_KEY = "videos.title"
HIT_COLUMNS = ["videos.col.start", "videos.col.end", "videos.col.score", "videos.col.found_by",
               "videos.col.caption", "videos.col.said"]
EXAMPLE = Path(__file__).resolve().parent.parent / "assets" / "video" / "example.mp4"
PLAYER_ID = "studio-video-player"


# -- handlers: plain functions (the endpoints and the UI call these) -------------------
def options(ctx: StudioContext) -> service.VideoOptions:
    s = ctx.settings
    return service.VideoOptions(max_minutes=s.max_video_minutes, max_mb=s.max_file_size_mb,
                                speech_backend=s.whisper_backend)


@contextmanager
def video_folder(ctx: StudioContext, owner: Owner, name: str, write: bool = False) -> Iterator[Path]:
    """The folder of video index `name` as `owner` sees it (own, else the operator's shared
    one for reading), pinned while in use; writing checks the owner's quota."""
    name = store.check_video_name(name)
    shared = ctx.space.shared_folder("videos") / name
    with ctx.space.using(owner, "videos", name) as own:
        if write:
            ctx.space.check_quota(owner)
            yield own
        elif (own / store.INDEX).is_file() or not (shared / store.INDEX).is_file():
            yield own
        else:
            yield shared


def visible_videos(ctx: StudioContext, owner: Owner | None) -> list[str]:
    own = store.list_videos(ctx.space.folder(owner, "videos")) if owner is not None else []
    return sorted({*own, *store.list_videos(ctx.space.shared_folder("videos"))})


def index_video(ctx: StudioContext, video: Any, name: str = "", progress=None, owner: Owner = OPERATOR) -> dict:
    """Index an uploaded video under `name` (default: from its file name): the /index_video payload."""
    path = upload_path(ctx, video, "upload.video")
    original = Path(video.get("orig_name") or path).name if isinstance(video, dict) else Path(path).name
    name = (name or "").strip() or store.name_from_file(original)
    with video_folder(ctx, owner, name, write=True) as folder:
        report = service.index_video(ctx.manager, path, folder, options(ctx), progress, source_name=original,
                                     quota=ctx.space.quota(owner), videos=ctx.videos)
    return asdict(report)


def search_video(ctx: StudioContext, query: str, name: str, k: int = 5, owner: Owner = OPERATOR) -> dict:
    """The best moments for `query` in video `name`: the /search_video payload."""
    if not (name or "").strip():
        raise InputError(t("videos.need_index"))
    with video_folder(ctx, owner, name) as folder:
        return asdict(service.search_video(ctx.manager, folder, query, k, ctx.videos))


def add_keyframes_to_gallery(ctx: StudioContext, name: str, gallery: str, owner: Owner = OPERATOR) -> dict:
    """Every keyframe of video `name`, with its caption, into the owner's image gallery `gallery`
    (the Search tab's gallery service, model_zoo.vision.search)."""
    with (gallery_for(ctx, owner, gallery, "add") as gallery_dir,  # a shared gallery is read-only here
          video_folder(ctx, owner, name) as folder,
          tempfile.TemporaryDirectory(prefix="mms-keyframes-") as scratch):
        index = store.load_index(folder, ctx.videos)
        files, captions = [], {}
        for n, scene in enumerate(index.scenes):
            source = store.keyframe_file(folder, n)
            if source is None:
                continue
            target = Path(scratch) / f"{index.name}-{scene.start:07.2f}s.jpg"
            target.write_bytes(source.read_bytes())
            files.append(target)
            captions[str(target)] = scene.caption
        if not files:
            raise InputError(t("videos.no_keyframes", name=index.name))
        return asdict(gallery_service.add_files(ctx.manager, gallery_dir, files, captions,
                                                quota=ctx.space.quota(owner), galleries=ctx.galleries))


# -- formatting for the UI -------------------------------------------------------------
def stamp(seconds: float) -> str:
    minutes, secs = divmod(float(seconds), 60)
    return f"{int(minutes)}:{secs:04.1f}"


def scene_tiles(ctx: StudioContext, name: str, owner: Owner) -> list[tuple[Image.Image, str]]:
    with video_folder(ctx, owner, name) as folder:
        index = store.load_index(folder, ctx.videos)
        tiles = []
        for n, scene in enumerate(index.scenes):
            keyframe = store.keyframe_file(folder, n)
            if keyframe is not None:
                with Image.open(keyframe) as opened:
                    tiles.append((opened.copy(), f"{stamp(scene.start)}–{stamp(scene.end)} · {scene.caption}"))
    return tiles


def report_markdown(report: dict, lang: str | None = None) -> str:
    t_ = report["timing"]
    language = t("videos.report_language", lang, code=report["language"]) if report["language"] else ""
    lines = [t("videos.report", lang, video=report["video"], duration=f"{report['duration_s']:.1f}",
               scenes=len(report["scenes"]), segments=len(report["segments"]), language=language),
             t("videos.timing", lang, total=f"{t_['total_s']:.1f}", per_minute=f"{t_['s_per_minute']:.1f}",
               decode=f"{t_['decode_s']:.1f}", frames=f"{t_['frames_s']:.1f}", speech=f"{t_['speech_s']:.1f}",
               text=f"{t_['text_s']:.1f}", engine=report["engine"])]
    lines += [f"- {note}" for note in report["notes"]]
    return "\n\n".join(lines[:2]) + ("\n" + "\n".join(lines[2:]) if len(lines) > 2 else "")


def hit_rows(result: dict, lang: str | None = None) -> list[list]:
    return [[stamp(h["start"]), stamp(h["end"]), round(h["score"], 2),
             text_or(f"videos.found.{h['found_by']}", h["found_by"], lang), h["caption"], h["transcript"]]
            for h in result["results"]]


def table(rows: list[list], lang: str | None = None):
    """Hits with their headers in the visitor's language (the page cannot translate a table's headers)."""
    import pandas as pd

    return pd.DataFrame(rows, columns=[t(key, lang) for key in HIT_COLUMNS])


def how_markdown(ctx: StudioContext, lang: str | None = None) -> str:
    s = ctx.settings
    return t("videos.how", lang, minutes=f"{s.max_video_minutes:g}", mb=s.max_file_size_mb)


# -- UI handlers (private events; visitor.for_caller gives each the owner it acts for) -------
@user_facing
@visitor.for_caller
def ui_index(ctx: StudioContext, video: str | None, index_name: str, progress=gr.Progress(), *, owner: Owner):
    if not video:
        raise InputError(t("videos.need_video"))
    report = index_video(ctx, {"path": video, "orig_name": Path(video).name}, index_name,
                         progress=lambda f, d: progress(f, desc=d), owner=owner)
    srt_file, vtt_file = subtitle_files(report["segments"], report["video"]) or (None, None)
    lang = language_of()
    text = report["transcript"] + (f"\n\n{t('videos.english_tag', lang)} {report['translation']}"
                                   if report["translation"] else "")
    shown = gr.Video(value=video, subtitles=vtt_file) if vtt_file else gr.skip()  # subtitles on the player
    return (report_markdown(report, lang), report["video"], scene_tiles(ctx, report["video"], owner), text,
            srt_file, vtt_file, shown)


@user_facing
@visitor.for_caller
def ui_search(ctx: StudioContext, text: str, top_k: float, index_name: str, *, owner: Owner):
    lang = language_of()
    return table(hit_rows(search_video(ctx, text, index_name, int(top_k), owner=owner), lang), lang)


@user_facing
@visitor.for_caller
def ui_add(ctx: StudioContext, index_name: str, gallery_name: str, *, owner: Owner):
    report = add_keyframes_to_gallery(ctx, index_name, gallery_name, owner=owner)
    return t("videos.added", added=report["added"], skipped=report["skipped"], gallery=report["gallery"],
             total=report["total"])


def picked(event: gr.SelectData, rows) -> float:
    try:
        start = rows.iloc[event.index[0], 0] if hasattr(rows, "iloc") else rows[event.index[0]][0]
        minutes, secs = str(start).split(":")
        return int(minutes) * 60 + float(secs)
    except (TypeError, ValueError, IndexError, KeyError):
        return 0.0


def example_clip() -> tuple[str, str]:
    return str(EXAMPLE), "example"


# -- JSON endpoints (docs/design.md contract): each acts for the caller (a gradio_client Client is a
# session of its own) ---------------------------------------------------------------------------
@user_facing
@visitor.for_caller(api=True, item="name")
def index_video_api(ctx: StudioContext, video: FileData, name: str = "", *, owner: Owner) -> dict:
    """Index a video clip by what is seen (keyframes at scene changes, each captioned) and what is said (a timed
    Whisper transcript), so search_video can find moments in it. Use it once per clip, then search_video with
    the returned handle. Also returns the scenes, the transcript and subtitles.
    Args:
        video: the clip: an http(s) URL or a data URI (data:video/mp4;base64,...); mp4, webm, mov or mkv, up to 10 minutes.
        name: a name for the index (letters, digits, '-', '_' or '.', up to 64); "" (the default) takes it from the file name.
    Returns:
        video (the index name), handle (name@key: what search_video needs; null for a browser or gradio_client session), duration_s, scenes [{start, end, caption}] in seconds, transcript, translation (English, when not spoken in English), language, segments [{start, end, text}], subtitles {srt, vtt} (file URLs, null without speech), engine, timing, notes
    """
    result = index_video(ctx, video, name, owner=owner)
    result["handle"] = visitor.handle(owner, result["video"])
    files = subtitle_files(result["segments"], result["video"])  # [srt, vtt], or [] when nothing was said
    result["subtitles"] = {"srt": file_data(files[0]), "vtt": file_data(files[1])} if files else None
    return result


@user_facing
@visitor.for_caller(api=True, item="name")
def search_video_api(ctx: StudioContext, query: str, name: str, k: int = 5, *, owner: Owner) -> dict:
    """Find the moments in an indexed video that match a description, by what is seen and what is said (e.g.
    "a cat", "where they talk about the budget"). Use it after index_video, with the handle it returned.
    Args:
        query: what to look for, in words.
        name: the handle index_video returned (name@key), or the name of a shared video index.
        k: how many moments, 1 to 50; default 5.
    Returns:
        results [{start, end (seconds into the video), score, caption, transcript, found_by (seen or said), scene}] best first
    """
    return search_video(ctx, query, name, k, owner=owner)


# -- layout and wiring -----------------------------------------------------------------------
def on_page_load(ctx: StudioContext):
    """What the page cannot translate itself: How it works (with this app's limits), the hits' headers."""
    lang = language_of()
    return how_markdown(ctx, lang), table([], lang)


def build(ctx: StudioContext) -> None:
    intro("videos.intro")
    with gr.Row():
        with gr.Column():
            player = gr.Video(label=i18n("videos.video"), sources=["upload"], elem_id=PLAYER_ID, height=300)
            with gr.Row():
                name = gr.Textbox(label=i18n("videos.name"), placeholder=i18n("videos.name_placeholder"), scale=2)
                example = gr.Button(i18n("videos.example"), scale=1)
            run = gr.Button(i18n("videos.run"), variant="primary")
            summary = gr.Markdown()
        with gr.Column():
            query = gr.Textbox(label=i18n("videos.query"), placeholder=i18n("videos.query_placeholder"))
            with gr.Row():
                k = gr.Slider(1, 10, value=5, step=1, label=i18n("studio.results"), scale=2)
                find = gr.Button(i18n("studio.search"), variant="primary", scale=1)
            hits = gr.Dataframe(value=table([], "en"), label=i18n("videos.hits"), interactive=False, wrap=True,
                                elem_id="studio-video-hits")
            jump = gr.Number(visible=False)  # the second a picked hit starts at (the player jumps there)
    scenes = gr.Gallery(label=i18n("videos.scenes"), columns=6, height=220, object_fit="contain",
                        interactive=False)
    with gr.Row():
        transcript = gr.Textbox(label=i18n("videos.transcript"), lines=5, interactive=False, scale=3)
        with gr.Column(scale=1):
            srt = gr.File(label=i18n("videos.srt"), interactive=False)
            vtt = gr.File(label=i18n("videos.vtt"), interactive=False)
    with gr.Row():
        gallery = gr.Textbox(label=i18n("videos.gallery"), value="video-keyframes", scale=3)
        add = gr.Button(i18n("videos.add"), scale=1)
    added = gr.Markdown()
    with how_it_works("videos"):
        how = gr.Markdown(how_markdown(ctx, "en"))
    visitor.on_page_load(ctx, bind(ctx, on_page_load), [], [how, hits])

    light = dict(api_visibility="private")
    private = dict(light, **ctx.queue_slot("video"))
    bulk = dict(light, **ctx.queue_slot("video", lane="bulk"))  # indexing a video never holds every search slot
    me = visitor.inputs(ctx)
    example.click(example_clip, None, [player, name], queue=False, **light)
    run.click(bind(ctx, ui_index), [player, name, *me], [summary, name, scenes, transcript, srt, vtt, player],
              **bulk)
    find.click(bind(ctx, ui_search), [query, k, name, *me], [hits], **private)
    query.submit(bind(ctx, ui_search), [query, k, name, *me], [hits], **private)
    add.click(bind(ctx, ui_add), [name, gallery, *me], [added], **private)
    hits.select(picked, [hits], [jump], queue=False, **light)
    jump.change(None, [jump], None, js=f"""(t) => {{
        const v = document.querySelector('#{PLAYER_ID} video');
        if (v && t !== null && t !== undefined) {{ v.currentTime = t; v.play(); }}
        return [];
    }}""", **light)

    gr.api(mcp_tool(bind(ctx, index_video_api)), api_name="index_video", **ctx.queue_slot("video", lane="bulk"))
    gr.api(mcp_tool(bind(ctx, search_video_api)), api_name="search_video", **ctx.queue_slot("video"))
