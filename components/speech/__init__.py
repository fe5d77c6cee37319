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

from ..common import bind, file_data, mcp_tool, upload_path, user_facing
from ..context import StudioContext
from . import live
from ..common.subtitles import subtitle_files

TITLE = "Speech"
ASSETS = Path(__file__).resolve().parents[2] / "assets" / "audio"
EXAMPLES = [
    ["german_water_bread.ogg", "both", "auto"],
    ["librivox_sense_and_sensibility.ogg", "translate", "auto"],
    ["english_quick_fox.ogg", "transcribe", "en"],
]
SEGMENT_COLUMNS = ["#", "start (s)", "end (s)", "text"]
NO_TARGET = "none"


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
    path = upload_path(ctx, audio, "recording or audio file")
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


def summary_markdown(result: speech.SpeechResult) -> str:
    name = speech.LANGUAGES.get(result.language, result.language).replace("_", " ").title()
    timing = result.timing
    lines = [
        f"**Language:** {name} (`{result.language}`, p = {result.language_probability:.2f}) · "
        f"**Duration:** {result.duration_s:.1f} s · **Processing:** {timing['total_s']:.2f} s · "
        f"**Real-time factor:** {timing['rtf']:.3f} · **Model:** {result.model}"
    ]
    lines += [f"*{note}*" for note in result.notes]
    return "\n\n".join(lines)


def segment_rows(result: speech.SpeechResult) -> list[list]:
    return [[i, s["start"], s["end"], s["text"]] for i, s in enumerate(result.segments, start=1)]


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
    ax.set_xlabel("seconds")
    ax.set_title("Loudness over time; shaded: the recognised segments (numbers as in the table)", fontsize=9)
    fig.tight_layout()
    return fig


def banner(ctx: StudioContext) -> str:
    """Cheap (no model load): what is missing on this machine, if anything."""
    problems = [speech.missing_weights(ctx.manager, model_key(ctx))]
    lines = [f"⚠️ {p}" for p in problems if p]
    if speech.missing_weights(ctx.manager, speech.TRANSLATOR_KEY):
        lines.append("ℹ️ Translation to languages other than English needs the optional "
                     f"`{speech.TRANSLATOR_KEY}` model (NLLB-200), which is not on this machine: "
                     f"{ctx.manager.spec(speech.TRANSLATOR_KEY).how_to_get}")
    return "\n\n".join(lines)


# -- handlers: plain functions of the context (the event and the endpoint call these) ------
@user_facing
def on_run(ctx: StudioContext, audio_value, task_value, language_value, beam_value, target_value,
           progress=gr.Progress()):
    def report(fraction: float, what: str) -> None:
        progress(fraction, desc=what)

    result = run_speech(ctx, audio_value, task_value, language_value, int(beam_value), target_value, report)
    return (
        summary_markdown(result),
        result.transcript,
        result.translation,
        gr.update(value=result.target_text, visible=bool(result.target_language),
                  label=f"Translation to {speech.LANGUAGES.get(result.target_language, '').title()}"),
        timeline_figure(str(audio_value), result),
        segment_rows(result),
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
    key = model_key(ctx)
    spec = ctx.manager.spec(key)
    gr.Markdown(
        f"Speak or upload a clip (wav, mp3, flac, ogg, m4a, webm; up to {ctx.settings.max_audio_minutes:g} min): "
        f"Whisper detects the language, writes what was said and translates it to English, with timed "
        f"segments and subtitles. Model: **{spec.description}** (`{key}`, backend `{ctx.settings.whisper_backend}`)."
    )
    gr.Markdown(banner(ctx), elem_classes=["speech-banner"])
    with gr.Row():
        with gr.Column(scale=3):
            audio = gr.Audio(sources=["upload", "microphone"], type="filepath", label="Audio")
            run = gr.Button("Transcribe and translate", variant="primary")
        with gr.Column(scale=2):
            task = gr.Radio(list(speech.TASK_CHOICES), value="translate", label="Task",
                            info="translate: English text · transcribe: the spoken language · both")
            language = gr.Dropdown(
                [("auto-detect", "auto")] + [(f"{name.replace('_', ' ').title()} ({code})", code)
                                             for code, name in speech.LANGUAGES.items()],
                value="auto", label="Spoken language",
            )
            beam = gr.Slider(1, speech.MAX_BEAM, value=5, step=1, label="Beam size",
                             info="1 is fastest (greedy); 5 is Whisper's default")
            target = gr.Dropdown(
                [("no", NO_TARGET)] + [(speech.LANGUAGES[c].title(), c) for c in speech.TEXT_TARGETS],
                value=NO_TARGET, label="Also translate the English text to",
                info="optional NLLB-200 step after Whisper",
            )
    summary = gr.Markdown()
    with gr.Row():
        transcript = gr.Textbox(label="Transcript (spoken language)", lines=4, buttons=["copy"])
        translation = gr.Textbox(label="English translation", lines=4, buttons=["copy"], elem_id="speech-translation")
        target_text = gr.Textbox(label="Text translation", lines=4, buttons=["copy"], visible=False)
    timeline = gr.Plot(label="Timeline")
    segments = gr.Dataframe(headers=SEGMENT_COLUMNS, label="Segments", interactive=False, wrap=True)
    subtitles = gr.File(label="Subtitles (SRT, VTT)", file_count="multiple", interactive=False)

    outputs = [summary, transcript, translation, target_text, timeline, segments, subtitles]
    run.click(bind(ctx, on_run), inputs=[audio, task, language, beam, target], outputs=outputs,
              api_visibility="private", **ctx.queue_slot("whisper"))
    examples = [[str(ASSETS / name), t, lang] for name, t, lang in EXAMPLES if (ASSETS / name).is_file()]
    if examples:
        gr.Examples(examples, inputs=[audio, task, language], label="Examples (click one, then run)")
    live.build(ctx, language)  # Live mode: captions while the person speaks
    gr.api(mcp_tool(bind(ctx, speech_translate)), api_name="speech_translate", **ctx.queue_slot("whisper"))
