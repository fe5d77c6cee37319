"""Speech service: audio file in, language + transcript + English translation +
timed segments out, through whichever Whisper backend the settings choose.

    result = speech_translate(manager, "clip.ogg", task="both")
    result.translation, to_srt(result.segments)

Input is validated and decoded (once, to 16 kHz mono) before any model loads, so a bad
file gets the file's error. Other tabs can call transcript_of(manager, path)."""
from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np

from model_zoo.speech.audio import SAMPLE_RATE, decode_audio
from model_zoo.speech.whisper_common import DecodeOptions, ProgressFn, Recognition, Segment, join_segments
from model_zoo.core.errors import InputError
from model_zoo.core.manager import ModelManager

# Backend setting (Settings.whisper_backend) -> registry key of the model it runs.
BACKENDS = {"faster-whisper": "whisper-base", "openai-whisper": "whisper-base-openai"}
DEFAULT_BACKEND = "faster-whisper"
TRANSLATOR_KEY = "translator"
TASK_CHOICES = ("translate", "transcribe", "both")
MAX_BEAM = 10
MIN_SECONDS = 0.1
SILENCE_PEAK = 1e-3  # below -60 dBFS everywhere: nothing Whisper could hear

# Whisper's 100 languages, code:name (same set as faster_whisper.tokenizer; a test checks).
_LANGUAGE_TABLE = (
    "en:english zh:chinese de:german es:spanish ru:russian ko:korean fr:french ja:japanese "
    "pt:portuguese tr:turkish pl:polish ca:catalan nl:dutch ar:arabic sv:swedish it:italian "
    "id:indonesian hi:hindi fi:finnish vi:vietnamese he:hebrew uk:ukrainian el:greek ms:malay "
    "cs:czech ro:romanian da:danish hu:hungarian ta:tamil no:norwegian th:thai ur:urdu "
    "hr:croatian bg:bulgarian lt:lithuanian la:latin mi:maori ml:malayalam cy:welsh sk:slovak "
    "te:telugu fa:persian lv:latvian bn:bengali sr:serbian az:azerbaijani sl:slovenian "
    "kn:kannada et:estonian mk:macedonian br:breton eu:basque is:icelandic hy:armenian "
    "ne:nepali mn:mongolian bs:bosnian kk:kazakh sq:albanian sw:swahili gl:galician "
    "mr:marathi pa:punjabi si:sinhala km:khmer sn:shona yo:yoruba so:somali af:afrikaans "
    "oc:occitan ka:georgian be:belarusian tg:tajik sd:sindhi gu:gujarati am:amharic "
    "yi:yiddish lo:lao uz:uzbek fo:faroese ht:haitian_creole ps:pashto tk:turkmen nn:nynorsk "
    "mt:maltese sa:sanskrit lb:luxembourgish my:myanmar bo:tibetan tl:tagalog mg:malagasy "
    "as:assamese tt:tatar haw:hawaiian ln:lingala ha:hausa ba:bashkir jw:javanese "
    "su:sundanese yue:cantonese "
)
LANGUAGES: dict[str, str] = dict(item.split(":") for item in _LANGUAGE_TABLE.split())

# Targets for the optional text-translation step (NLLB-200 codes), English source.
TEXT_TARGETS: dict[str, str] = {
    "fr": "fra_Latn", "de": "deu_Latn", "es": "spa_Latn", "it": "ita_Latn", "pt": "por_Latn",
    "nl": "nld_Latn", "pl": "pol_Latn", "sv": "swe_Latn", "tr": "tur_Latn", "ru": "rus_Cyrl",
    "uk": "ukr_Cyrl", "ar": "arb_Arab", "hi": "hin_Deva", "zh": "zho_Hans", "ja": "jpn_Jpan",
    "ko": "kor_Hang",
}


@dataclass
class SpeechResult:
    """The /speech_translate payload (asdict) and what the tab shows."""

    language: str
    language_probability: float
    duration_s: float
    transcript: str  # in the source language ("" when task is translate)
    translation: str  # English ("" when task is transcribe)
    segments: list[dict]  # [{start, end, text}] of the transcript, else of the translation
    timing: dict  # total_s, rtf, decode_s, model_load_s, asr_s, encoder_window_s
    model: str
    task: str
    target_language: str = ""  # optional text-translation step
    target_text: str = ""
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)


def model_key_for(backend: str) -> str:
    try:
        return BACKENDS[backend]
    except KeyError:
        raise InputError(f"Unknown speech backend '{backend}'; choose one of: {', '.join(BACKENDS)}.") from None


def check_request(task: str, language: str, beam_size: int) -> str | None:
    """Validate the options; return the language code, None for auto-detection."""
    if task not in TASK_CHOICES:
        raise InputError(f"task must be one of {', '.join(TASK_CHOICES)} (got '{task}').")
    try:
        beam = int(beam_size)
    except (TypeError, ValueError):
        raise InputError(f"beam_size must be a whole number from 1 to {MAX_BEAM} (got '{beam_size}').") from None
    if not 1 <= beam <= MAX_BEAM or beam != beam_size:
        raise InputError(f"beam_size must be a whole number from 1 to {MAX_BEAM} (got {beam_size}).")
    code = (language or "auto").strip().lower()
    if code == "auto":
        return None
    if code not in LANGUAGES:
        by_name = {name: c for c, name in LANGUAGES.items()}
        if code.replace(" ", "_") in by_name:
            return by_name[code.replace(" ", "_")]
        raise InputError(f"Unknown language '{language}': use 'auto' or a Whisper code such as en, de, fr.")
    return code


def load_clip(path: str | Path, max_minutes: float) -> np.ndarray:
    """Decoded 16 kHz mono samples, or an InputError saying what is wrong with the file."""
    decoded = decode_audio(path, max_seconds=max_minutes * 60)
    name = Path(path).name
    if decoded.duration_s < MIN_SECONDS:
        raise InputError(f"'{name}' is only {decoded.duration_s * 1000:.0f} ms long: too short to contain speech.")
    if float(np.max(np.abs(decoded.samples))) < SILENCE_PEAK:
        raise InputError(f"'{name}' is silent ({decoded.duration_s:.1f} s with no sound): nothing to transcribe.")
    return decoded.samples


def tasks_for(task: str) -> tuple[str, ...]:
    """Whisper tasks to run for a requested task."""
    return ("transcribe", "translate") if task == "both" else (task,)


def speech_translate(
    manager: ModelManager,
    audio_path: str | Path,
    task: str = "translate",
    language: str = "auto",
    beam_size: int = 5,
    *,
    backend: str = DEFAULT_BACKEND,
    max_minutes: float = 30.0,
    options: DecodeOptions | None = None,
    target_language: str = "",
    progress: ProgressFn | None = None,
) -> SpeechResult:
    started = time.perf_counter()
    code = check_request(task, language, beam_size)
    key = model_key_for(backend)
    if target_language:
        check_text_target(manager, target_language)
    samples = load_clip(audio_path, max_minutes)
    duration = len(samples) / SAMPLE_RATE
    decode_s = time.perf_counter() - started
    options = replace(options or DecodeOptions(), beam_size=int(beam_size))
    _report(progress, 0.02, f"loading {key}")
    waited = time.perf_counter()
    with manager.use(key) as recognizer:
        load_s = time.perf_counter() - waited  # ~0 once resident; the load itself on first use
        asr_started = time.perf_counter()
        recognition = recognizer.recognize(samples, tasks_for(task), code, options, _scaled(progress, 0.05, 0.9))
        asr_s = time.perf_counter() - asr_started
        model_name = recognizer.name
    result = _result(recognition, task, duration, model_name)
    if target_language:
        _report(progress, 0.95, f"translating the text to {LANGUAGES[target_language]}")
        result.target_language = target_language
        result.target_text = translate_text(manager, result.translation or result.transcript, target_language)
    if not result.segments:
        result.notes.append("Whisper heard no speech in this clip.")
    if load_s > 0.5:
        result.notes.append(f"This included {load_s:.1f} s to load the model (first use); later requests skip it.")
    total = time.perf_counter() - started
    result.timing = {"total_s": round(total, 3), "rtf": round(total / duration, 4), "decode_s": round(decode_s, 3),
                     "model_load_s": round(load_s, 3), "asr_s": round(asr_s, 3),
                     "encoder_window_s": recognition.encoder_window_s}
    _report(progress, 1.0, "done")
    return result


def _result(recognition: Recognition, task: str, duration: float, model_name: str) -> SpeechResult:
    source = recognition.segments.get("transcribe")
    english = recognition.segments.get("translate")
    if english is None and recognition.language == "en":
        english = source  # backends transcribe English once instead of "translating" it
    transcript = join_segments(source or []) if task != "translate" else ""
    translation = join_segments(english or []) if task != "transcribe" else ""
    shown = source if task != "translate" else english
    return SpeechResult(
        language=recognition.language,
        language_probability=round(recognition.language_probability, 4),
        duration_s=round(duration, 3),
        transcript=transcript,
        translation=translation,
        segments=[_segment_dict(s) for s in shown or []],
        timing={},
        model=model_name,
        task=task,
    )


def _segment_dict(segment: Segment) -> dict:
    """{start, end, text}, plus words [{word, start, end}] where the backend timed them."""
    out = asdict(segment)
    if not segment.words:
        del out["words"]
    return out


def transcript_of(manager: ModelManager, audio_path: str, backend: str = DEFAULT_BACKEND) -> str:
    """English text of a clip (Whisper's translate task; English speech is transcribed).
    Stable helper for other tabs (the sentiment tab's audio modality)."""
    return speech_translate(manager, audio_path, task="translate", backend=backend, beam_size=1).translation


# -- optional text translation after ASR -----------------------------------------------
def check_text_target(manager: ModelManager, target: str) -> None:
    """Before any model runs: the target is offered and the translator's weights exist."""
    if target not in TEXT_TARGETS:
        raise InputError(f"Text translation to '{target}' is not offered; choose one of {', '.join(TEXT_TARGETS)}.")
    problem = manager.weights_problem(TRANSLATOR_KEY)
    if problem is not None:
        raise problem


def translate_text(manager: ModelManager, text: str, target: str) -> str:
    if not text.strip():
        return ""
    with manager.use(TRANSLATOR_KEY) as translator:
        return translator.translate(text, source="eng_Latn", target=TEXT_TARGETS[target])


def missing_weights(manager: ModelManager, key: str) -> str | None:
    """Why `key` cannot load here, as a message for the tab's banner, or None."""
    problem = manager.weights_problem(key)
    return None if problem is None else str(problem)


# -- subtitles ----------------------------------------------------------------------------
def _stamp(seconds: float, separator: str) -> str:
    millis = int(round(seconds * 1000))
    hours, millis = divmod(millis, 3_600_000)
    minutes, millis = divmod(millis, 60_000)
    secs, millis = divmod(millis, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}{separator}{millis:03d}"


SUBTITLE_LINE_CHARS = 42  # the usual broadcast limit for one subtitle line


def subtitle_cues(segments: list[dict], max_chars: int = SUBTITLE_LINE_CHARS) -> list[dict]:
    """Segments as subtitle cues: a segment with word times (openai-whisper) is cut into
    lines of at most `max_chars`, each timed by its own words, instead of one block that
    stays on screen for up to 30 s; a segment without word times is one cue."""
    cues = []
    for segment in segments:
        words = segment.get("words") or []
        if not words or len(segment["text"]) <= max_chars:
            cues.append({"start": segment["start"], "end": segment["end"], "text": segment["text"]})
            continue
        line: list[dict] = []
        for word in words:
            if line and len(" ".join(w["word"] for w in line + [word])) > max_chars:
                cues.append(_cue(line))
                line = []
            line.append(word)
        cues.append(_cue(line))
    return cues


def _cue(words: list[dict]) -> dict:
    return {"start": words[0]["start"], "end": max(words[-1]["end"], words[0]["start"]),
            "text": " ".join(w["word"] for w in words)}


def to_srt(segments: list[dict]) -> str:
    blocks = [
        f"{i}\n{_stamp(s['start'], ',')} --> {_stamp(s['end'], ',')}\n{s['text']}\n"
        for i, s in enumerate(subtitle_cues(segments), start=1)
    ]
    return "\n".join(blocks)


def to_vtt(segments: list[dict]) -> str:
    cues = [f"{_stamp(s['start'], '.')} --> {_stamp(s['end'], '.')}\n{s['text']}\n" for s in subtitle_cues(segments)]
    return "WEBVTT\n\n" + "\n".join(cues)


def _report(progress: ProgressFn | None, fraction: float, what: str) -> None:
    if progress is not None:
        progress(fraction, what)


def _scaled(progress: ProgressFn | None, low: float, high: float) -> ProgressFn | None:
    if progress is None:
        return None
    return lambda fraction, what: progress(low + (high - low) * fraction, what)

