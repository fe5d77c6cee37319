"""The Speech tab's Live mode: the microphone streams to the server in half-second chunks,
the transcript and its English translation grow on screen while the person speaks (pending
words greyed), and Stop saves the session as SRT/VTT like an uploaded clip. The streaming
policy is model_zoo.speech.live.LiveCaptioner; this module only wires it to Gradio.

One live session per Whisper model at a time (LiveSessions): a second visitor is told to
wait; a closed or refreshed page ends its session at once (the Blocks' unload event), a
silent one after LiveSessions' idle timeout."""
from __future__ import annotations

import html
from typing import Any

import gradio as gr
import numpy as np

from model_zoo.speech import service as speech
from model_zoo.speech.live import (
    LiveCaptioner,
    LiveOptions,
    LiveSession,
    LiveSessions,
    LiveUpdate,
    live_decode_options,
    read_stream_chunk,
    to_mono_16k,
)

from .. import visitor
from ..common import bind, file_path, user_facing
from ..common.i18n import i18n, language_of, t
from ..context import StudioContext
from ..common.subtitles import subtitle_files

STREAM_EVERY_S = 0.5  # the browser sends a chunk this often
TIME_LIMIT_S = 600  # one live session streams for at most 10 minutes


def sessions_for(ctx: StudioContext) -> LiveSessions:
    return ctx.live_sessions  # one set per app, made with its context


IDLE_HTML = "<div class='live-captions live-idle'>{}</div>"


def live_html(update: LiveUpdate | None, english_title: str | None = None, lang: str | None = None) -> str:
    """Committed text, then the pending words greyed (they may still change)."""
    lang = lang or language_of()
    if update is None:
        return IDLE_HTML.format(t("live.idle", lang))
    pending = f" <span class='live-pending'>{html.escape(update.pending)}</span>" if update.pending else ""
    english = ""
    if update.language and update.language != "en":
        title = english_title or t("live.english", lang)
        english = (f"<div class='live-label'>{html.escape(title)}</div>"
                   f"<div class='live-translation'>{html.escape(update.translation) or '…'}</div>")
    name = t(f"lang.{update.language}", lang) if update.language in speech.LANGUAGES else ""
    state = "final" if update.final else "listening"
    facts = [t("live.final" if update.final else "live.listening", lang),
             t("live.heard", lang, seconds=f"{update.audio_s:.1f}"), name,
             t("live.last_decode", lang, seconds=f"{update.decode_s:.1f}") if update.decode_s else "",
             t("live.silence", lang, seconds=f"{update.skipped_silence_s:.1f}") if update.skipped_silence_s else ""]
    return (f"<div class='live-captions' data-state='{state}'>"
            f"<div class='live-label'>{html.escape(t('live.transcript', lang))}</div>"
            f"<div class='live-transcript'>{html.escape(update.committed)}{pending}</div>{english}"
            f"<div class='live-facts'>{' · '.join(fact for fact in facts if fact)}</div></div>")


def take_chunk(ctx: StudioContext, chunk: Any, language: str, page: str) -> LiveUpdate | None:
    """Feed one browser chunk (sample rate, samples) to `page`'s session (opening it on
    the first chunk) and decode if it is time. Raises LiveBusy when someone else is live."""
    if chunk is None:
        return None
    # a file path, read past its header's size field (see read_stream_chunk); tuples for tests
    rate, samples = chunk if isinstance(chunk, tuple) else read_stream_chunk(file_path(chunk, "upload.mic_chunk"))
    key = speech.model_key_for(ctx.settings.whisper_backend)
    session = sessions_for(ctx).get(page, key)
    if session is None:
        if sessions_for(ctx).stopped_lately(page):
            return None  # a chunk that was on its way when the person pressed Stop
        session = open_session(ctx, language, page)
    if session.captioner.finished:
        return session.latest
    session.captioner.feed(to_mono_16k(int(rate), np.asarray(samples)))  # returns at once
    return session.latest  # what the session's worker decoded last


def open_session(ctx: StudioContext, language: str, page: str) -> LiveSession:
    """A new live session for `page` (loads Whisper on first use), or LiveBusy."""
    key = speech.model_key_for(ctx.settings.whisper_backend)
    code = speech.check_request("transcribe", language, 1)
    problem = ctx.manager.weights_problem(key)
    if problem is not None:
        raise problem
    base = speech.DecodeOptions(min_window_s=ctx.settings.speech_min_window_s)
    return sessions_for(ctx).open(page, key, code, live_decode_options(base), LiveOptions())


def stop_session(ctx: StudioContext, page: str) -> tuple[LiveUpdate | None, list[str]]:
    """Final decode, free the model, write the session's subtitle files."""
    key = speech.model_key_for(ctx.settings.whisper_backend)
    sessions = sessions_for(ctx)
    session = sessions.get(page, key)
    if session is None:
        return None, []
    update = sessions.stop(page, key)
    result = session.captioner.result(key)
    files = session_subtitles(session.captioner, result, f"live-{page[:8]}") if result.segments else []
    return update, files


# -- handlers: a live session belongs to one browser page (visitor.for_caller gives its `page`) --
@user_facing
@visitor.for_caller
def on_chunk(ctx: StudioContext, chunk, language_value, *, page: str):
    update = take_chunk(ctx, chunk, language_value, page)
    return gr.update() if update is None else live_html(update)


@user_facing
@visitor.for_caller
def on_start(ctx: StudioContext, language_value, progress=gr.Progress(), *, page: str):
    progress(0.1, desc=t("live.loading"))
    open_session(ctx, language_value, page)  # the model loads now, not on the first words
    return live_html(None), None


@user_facing
@visitor.for_caller
def on_stop(ctx: StudioContext, *, page: str):
    update, subtitle_paths = stop_session(ctx, page)
    if update is None:  # nothing live (already stopped): leave the page as it is
        return gr.update(), gr.update()
    return live_html(update), subtitle_paths


@visitor.for_caller
def on_unload(ctx: StudioContext, *, page: str) -> None:
    sessions_for(ctx).drop(page)  # the page went away: free the model now


# -- layout and wiring -----------------------------------------------------------------------
def build(ctx: StudioContext, language: gr.components.Component) -> None:
    """The Live mode's block; `language` is the tab's spoken-language dropdown."""
    with gr.Accordion(i18n("live.title"), open=True, elem_id="speech-live"):
        gr.Markdown(i18n("live.intro"))
        with gr.Row():
            with gr.Column(scale=2):
                mic = gr.Audio(sources=["microphone"], streaming=True, type="filepath", label=i18n("live.mic"),
                               elem_id="speech-live-mic")
                stop = gr.Button(i18n("live.stop"), variant="stop", elem_id="speech-live-stop")
            with gr.Column(scale=3):
                # the page translates the idle line (IDLE_HTML around the key); handlers write the rest
                view = gr.HTML(IDLE_HTML.format(i18n("live.idle")), elem_id="speech-live-text")
                files = gr.File(label=i18n("live.files"), file_count="multiple", interactive=False)

    mic.stream(bind(ctx, on_chunk), inputs=[mic, language], outputs=[view], stream_every=STREAM_EVERY_S,
               time_limit=TIME_LIMIT_S, show_progress="hidden", api_visibility="private",
               concurrency_id="live-captions", concurrency_limit=4)
    mic.start_recording(bind(ctx, on_start), inputs=[language], outputs=[view, files], api_visibility="private")
    for event in (mic.stop_recording, stop.click):
        event(bind(ctx, on_stop), outputs=[view, files], api_visibility="private")
    root = gr.context.Context.root_block
    if root is not None:
        root.unload(bind(ctx, on_unload))


def session_subtitles(captioner: LiveCaptioner, result: speech.SpeechResult, stem: str) -> list[str]:
    """The upload path's subtitle writer; a non-English session gets English files too."""
    files = subtitle_files(result.segments, stem)
    english = captioner.subtitles(english=True)
    if result.language not in ("", "en") and english:
        files += subtitle_files(english, f"{stem}-english")
    return files
