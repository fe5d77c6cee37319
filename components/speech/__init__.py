"""Speech tab: record or upload a clip; Whisper detects the language, transcribes it,
translates it to English (and optionally to another language), with timed segments and
subtitles. Endpoint: /speech_translate(audio, task, language, beam_size). The tab has parts,
so it is a package: this module exposes TITLE and build like every tab module and handles
whole clips; `live` is the Live mode (captions while the microphone streams); `subtitles`
writes the SRT / VTT downloads both offer. Imports point down (this module -> live ->
subtitles); no part imports this module or another tab."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import gradio as gr
from gradio import FileData

from model_zoo.speech import service as speech
from model_zoo.speech.whisper_common import DecodeOptions

from .. import visitor
from ..common import bind, file_data, mcp_tool, upload_path, user_facing
from ..common.i18n import i18n, language_of, t
from ..common.layout import how_it_works, intro, notice
from ..context import StudioContext
from . import live
from ..common.subtitles import subtitle_files

TITLE = "Speech"  # the English tab name (tests and scripts select the tab by it); the page shows TITLE_KEY's
TITLE_KEY = "speech.title"
ASSETS = Path(__file__).resolve().parents[2] / "assets" / "audio"
# Clips only: each runs with the task and language the visitor has picked (the default
# translates, which also reads the English clip back as English).
EXAMPLES = ["german_water_bread.ogg", "librivox_sense_and_sensibility.ogg", "english_quick_fox.ogg"]
SEGMENT_COLUMNS = ["#", "speech.col.start", "speech.col.end", "speech.col.text"]  # "#" is no key: it reads the same
NO_TARGET = "none"
TASK_KEYS = {"translate": "speech.task.translate", "transcribe": "speech.task.transcribe", "both": "speech.task.both"}


def model_key(ctx: StudioContext) -> str:
    return speech.model_key_for(ctx.settings.whisper_backend)


def decode_options(ctx: StudioContext) -> DecodeOptions:
    return DecodeOptions(min_window_s=ctx.settings.speech_min_window_s)


def run_speech(
    ctx: StudioContext,
    audio: Any,
    task: str = "translate",
    language: str = "auto",
    beam_size: int = 5,
    target_language: str = "",
    progress: Callable[[float, str], None] | None = None,
) -> speech.SpeechResult:
    """The tab's action as a plain function (the endpoint and the UI both call it)."""
    path = upload_path(ctx, audio, "upload.audio")
    return speech.speech_translate(
        ctx.manager,
        path,
        task=task,
        language=language,
        beam_size=beam_size,
        backend=ctx.settings.whisper_backend,
        max_minutes=ctx.settings.max_audio_minutes,
        options=decode_options(ctx),
        target_language="" if target_language in ("", NO_TARGET, None) else target_language,
        progress=progress,
    )


def language_name(code: str, lang: str | None = None) -> str:
    """A Whisper language code in words, in the visitor's language."""
    return t(f"lang.{code}", lang) if code in speech.LANGUAGES else code


def summary_markdown(result: speech.SpeechResult, lang: str | None = None) -> str:
    timing = result.timing
    lines = [t("speech.summary", lang, language=language_name(result.language, lang), code=result.language,
               p=f"{result.language_probability:.2f}", duration=f"{result.duration_s:.1f}",
               total=f"{timing['total_s']:.2f}", rtf=f"{timing['rtf']:.3f}", model=result.model)]
    lines += [f"*{note}*" for note in result.notes]
    return "\n\n".join(lines)


def segment_rows(result: speech.SpeechResult) -> list[list]:
    return [[i, s["start"], s["end"], s["text"]] for i, s in enumerate(result.segments, start=1)]


def table(rows: list[list], columns: list[str], lang: str | None = None):
    """Rows for a gr.Dataframe with its headers in the visitor's language (the page cannot
    translate a table's headers itself)."""
    import pandas as pd

    return pd.DataFrame(rows, columns=[t(c, lang) if "." in c else c for c in columns])


def timeline_figure(audio_path: str, result: speech.SpeechResult):
    """The clip's loudness over time with each recognised segment shaded and numbered as
    in the table: where in the recording each line was heard, and the silences between."""
    import numpy as np
    from matplotlib.figure import Figure  # not pyplot: no global figure registry to leak into

    from model_zoo.speech.audio import SAMPLE_RATE, decode_audio

    samples = decode_audio(audio_path).samples
    hop = SAMPLE_RATE // 50  # 20 ms frames
    frames = samples[: len(samples) // hop * hop].reshape(-1, hop)
    loudness = np.sqrt((frames.astype(np.float64) ** 2).mean(axis=1)) if len(frames) else np.zeros(1)
    times = np.arange(len(loudness)) * hop / SAMPLE_RATE
    peak = float(loudness.max()) or 1.0
    fig = Figure(figsize=(9, 2.4))
    ax = fig.subplots()
    ax.fill_between(times, -loudness, loudness, color="#6366f1", linewidth=0)
    for i, segment in enumerate(result.segments, start=1):
        ax.axvspan(segment["start"], segment["end"], color="#f472b6" if i % 2 else "#fbbf24", alpha=0.3)
        ax.text((segment["start"] + segment["end"]) / 2, peak * 1.02, str(i), ha="center", va="bottom", fontsize=8)
        starts = [word["start"] for word in segment.get("words", ())]  # openai-whisper times each word
        if starts:
            ax.vlines(starts, -peak, peak, color="#1e293b", linewidth=0.5, alpha=0.45)
    ax.set_xlim(0, max(result.duration_s, float(times[-1]) if len(times) else 0.0) or 1.0)
    ax.set_ylim(-peak * 1.05, peak * 1.3)
    ax.set_yticks([])
    ax.set_xlabel("s")  # the words are the plot's label (speech.timeline), in the visitor's language
    fig.tight_layout()
    return fig


def banner(ctx: StudioContext, lang: str | None = None) -> str:
    """Cheap (no model load): what is missing on this machine, if anything, and how to get it
    (the end of How it works)."""
    problems = [speech.missing_weights(ctx.manager, model_key(ctx))]
    lines = [f"⚠️ {p}" for p in problems if p]
    if speech.missing_weights(ctx.manager, speech.TRANSLATOR_KEY):
        lines.append("ℹ️ " + t("speech.how.no_translator", lang, key=speech.TRANSLATOR_KEY,
                                how=ctx.manager.spec(speech.TRANSLATOR_KEY).how_to_get))
    return "\n\n".join(lines)


def how_markdown(ctx: StudioContext, lang: str | None = None) -> str:
    key = model_key(ctx)
    text = t("speech.how", lang, model=ctx.manager.spec(key).description, key=key,
             backend=ctx.settings.whisper_backend, minutes=f"{ctx.settings.max_audio_minutes:g}")
    return "\n\n".join(part for part in (text, banner(ctx, lang)) if part)


def on_page_load(ctx: StudioContext):
    """What the page cannot translate itself, in the visitor's language: How it works and
    the segments table's headers."""
    lang = language_of()
    return how_markdown(ctx, lang), table([], SEGMENT_COLUMNS, lang)


# -- handlers: plain functions of the context (the event and the endpoint call these) ------
@user_facing
def on_run(ctx: StudioContext, audio_value, task_value, language_value, beam_value, target_value,
           progress=gr.Progress()):
    def report(fraction: float, what: str) -> None:
        progress(fraction, desc=what)

    result = run_speech(ctx, audio_value, task_value, language_value, int(beam_value), target_value, report)
    lang = language_of()
    return (
        summary_markdown(result, lang),
        result.transcript,
        result.translation,
        gr.update(value=result.target_text, visible=bool(result.target_language),
                  label=t("speech.target_label", lang, language=language_name(result.target_language, lang))),
        timeline_figure(str(audio_value), result),
        table(segment_rows(result), SEGMENT_COLUMNS, lang),
        subtitle_files(result.segments, Path(str(audio_value)).stem),
    )


@user_facing
def speech_translate(ctx: StudioContext, audio: FileData, task: str = "translate", language: str = "auto",
                     beam_size: int = 5) -> dict:
    """Transcribe speech in an audio clip and/or translate it to English (Whisper base, on this server). Use it
    for what someone says in a recording, a voice memo or a video's soundtrack, in any of Whisper's 99 languages.
    Args:
        audio: the recording: an http(s) URL or a data URI (data:audio/ogg;base64,...); wav, mp3, flac, ogg, m4a or webm, up to 30 minutes.
        task: "translate" (English text, the default), "transcribe" (the words in the spoken language) or "both".
        language: the spoken language as a Whisper code such as en, de, fr, es, zh, or a name such as German; "auto" (the default) detects it.
        beam_size: beam search width, a whole number from 1 (fastest, greedy) to 10; default 5 (Whisper's own).
    Returns:
        language, language_probability, duration_s, transcript (spoken language), translation (English), segments [{start, end, text}] in seconds, subtitles {srt, vtt} (file URLs, null without speech), timing {total_s, rtf}, model
    """
    result = run_speech(ctx, audio, task, language, beam_size)
    answer = result.to_dict()
    answer["subtitles"] = subtitle_links(result, audio)
    return answer


def subtitle_links(result: speech.SpeechResult, audio: Any) -> dict | None:
    """The SRT and VTT of a result as files in the JSON answer (URLs for an MCP client)."""
    name = (audio.get("orig_name") or audio.get("path") or "speech") if isinstance(audio, dict) else str(audio)
    files = subtitle_files(result.segments, Path(str(name)).stem)
    return {Path(f).suffix[1:]: file_data(f) for f in files} or None


# -- layout and wiring -----------------------------------------------------------------------
def build(ctx: StudioContext) -> None:
    intro("speech.intro")
    notice("speech.notice.no_whisper" if speech.missing_weights(ctx.manager, model_key(ctx)) else None)
    with gr.Row():
        with gr.Column(scale=3):
            audio = gr.Audio(sources=["upload", "microphone"], type="filepath", label=i18n("speech.audio"))
            run = gr.Button(i18n("speech.run"), variant="primary")
        with gr.Column(scale=2):
            task, language, beam, target = _options(ctx)
    summary = gr.Markdown()
    with gr.Row():
        transcript = gr.Textbox(label=i18n("speech.transcript"), lines=4, buttons=["copy"])
        translation = gr.Textbox(label=i18n("studio.english_translation"), lines=4, buttons=["copy"],
                                 elem_id="speech-translation")
        target_text = gr.Textbox(label=i18n("speech.target_text"), lines=4, buttons=["copy"], visible=False)
    timeline = gr.Plot(label=i18n("speech.timeline"))
    segments = gr.Dataframe(value=table([], SEGMENT_COLUMNS, "en"), label=i18n("speech.segments"),
                            interactive=False, wrap=True)
    subtitles = gr.File(label=i18n("speech.subtitles"), file_count="multiple", interactive=False)

    outputs = [summary, transcript, translation, target_text, timeline, segments, subtitles]
    run.click(bind(ctx, on_run), inputs=[audio, task, language, beam, target], outputs=outputs,
              api_visibility="private", **ctx.queue_slot("whisper"))
    examples = [[str(ASSETS / name)] for name in EXAMPLES if (ASSETS / name).is_file()]
    if examples:
        gr.Examples(examples, inputs=[audio], label=i18n("speech.examples"))
    live.build(ctx, language)  # Live mode: captions while the person speaks
    with how_it_works("speech"):
        how = gr.Markdown(how_markdown(ctx, "en"))
    visitor.on_page_load(ctx, bind(ctx, on_page_load), [], [how, segments])
    gr.api(mcp_tool(bind(ctx, speech_translate)), api_name="speech_translate", **ctx.queue_slot("whisper"))


def _options(ctx: StudioContext) -> tuple:
    """Task, spoken language, beam size and the optional text translation."""
    task = gr.Radio([(i18n(TASK_KEYS[name]), name) for name in speech.TASK_CHOICES], value="translate",
                    label=i18n("speech.task"))
    spoken = [(i18n(f"lang.{code}"), code) for code in speech.LANGUAGES]
    language = gr.Dropdown([(i18n("speech.auto"), "auto"), *spoken], value="auto", label=i18n("speech.language"))
    beam = gr.Slider(1, speech.MAX_BEAM, value=5, step=1, label=i18n("speech.beam"), info=i18n("speech.beam_info"))
    missing = speech.missing_weights(ctx.manager, speech.TRANSLATOR_KEY)
    target = gr.Dropdown(
        [(i18n("speech.target_none"), NO_TARGET)] + [(i18n(f"lang.{code}"), code) for code in speech.TEXT_TARGETS],
        value=NO_TARGET, label=i18n("speech.target"),
        info=i18n("speech.target_info_missing" if missing else "speech.target_info"),
    )
    return task, language, beam, target
