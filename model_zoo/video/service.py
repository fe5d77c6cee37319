"""The video service: index a clip (index_video) and search inside it (search_video).

    report = index_video(manager, "clip.mp4", folder, options=VideoOptions(max_minutes=10))
    hits = search_video(manager, folder, "the moment the dog appears", k=5)

Indexing: probe the file (decode), pick keyframes at scene changes (keyframes), embed and
caption each keyframe with the image engine (model_zoo.vision), transcribe the audio track with
the speech service and translate it to English where it is not English (model_zoo.speech),
embed the English segments with the sentence encoder (model_zoo.text, the registry's "mpnet"),
and save it all atomically (store). A video without an audio track (or with a silent one) is
indexed by its pictures and says so. Search: see fusion for how the two rankings become one."""
from __future__ import annotations

import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from model_zoo.core.errors import InputError
from model_zoo.core.manager import ModelManager
from model_zoo.core.storage import sha256_file
from model_zoo.video import decode, fusion, store
from model_zoo.video.keyframes import KeyframePolicy, KeyframeSelector, scene_spans
from model_zoo.vision import engine as vision

TEXT_KEY = "mpnet"  # the sentence encoder for what is said
MAX_K = 50
Progress = Callable[[float, str], None]


@dataclass(frozen=True)
class VideoOptions:
    max_minutes: float = 10.0
    max_mb: float | None = None
    keyframes: KeyframePolicy = KeyframePolicy()
    beam_size: int = 5
    speech_backend: str = "faster-whisper"


@dataclass
class VideoReport:
    """The /index_video payload (asdict)."""

    video: str
    duration_s: float
    scenes: list[dict]  # [{start, end, caption}]
    transcript: str
    language: str
    segments: list[dict]  # [{start, end, text}]
    timing: dict  # decode_s, frames_s, speech_s, text_s, save_s, total_s, s_per_minute
    translation: str = ""
    engine: str = ""  # clip | labels
    notes: list[str] = field(default_factory=list)


@dataclass
class VideoHit:
    start: float
    end: float
    score: float  # fused z-score (fusion)
    caption: str  # the scene's caption at this time
    transcript: str  # what is said in this range
    seen: float
    said: float
    found_by: str  # seen | said
    scene: int  # the scene (keyframe) index at this time


@dataclass
class VideoSearchResult:
    """The /search_video payload (asdict)."""

    video: str
    query: str
    results: list[dict]
    timing: dict
    engine: str = ""


def _report(progress: Progress | None, fraction: float, what: str) -> None:
    if progress is not None:
        progress(min(max(fraction, 0.0), 1.0), what)


# -- indexing ------------------------------------------------------------------------
def index_video(manager: ModelManager, path: str | Path, folder: Path, options: VideoOptions = VideoOptions(),
                progress: Progress | None = None, source_name: str | None = None, quota=None,
                videos: store.VideoIndexCache | None = None) -> VideoReport:
    """Index the video at `path` into `folder` (replacing what was there), see the module
    docstring; `quota`: the owner's (model_zoo.core.ownership), which admits the saved index;
    `videos`: the process's read indexes (StudioContext.videos), which drop the old one."""
    built = build_index(manager, path, folder.name, options, progress, source_name)
    started = time.perf_counter()
    _report(progress, 0.97, "Saving the index")
    store.save_index(folder, built, quota, videos)
    built.timing["save_s"] = round(time.perf_counter() - started, 3)
    built.timing["total_s"] = round(built.timing["total_s"] + built.timing["save_s"], 3)
    return report_of(built)


def build_index(manager: ModelManager, path: str | Path, name: str, options: VideoOptions = VideoOptions(),
                progress: Progress | None = None, source_name: str | None = None) -> store.VideoIndex:
    """Everything index_video computes, not yet saved (scripts/jobs/index_videos.py builds on many processes)."""
    started = time.perf_counter()
    path = Path(path)
    info = decode.probe(path, options.max_minutes, options.max_mb)
    _report(progress, 0.0, "Decoding the video")
    times, images, last_time = _keyframes(path, info, options, progress)
    duration = max(info.duration_s, last_time)
    spans = scene_spans(times, duration)
    notes: list[str] = []
    if info.duration_s and last_time < info.duration_s - 2 * options.keyframes.max_gap_s:
        notes.append(f"The pictures stop at {last_time:.1f} s of {info.duration_s:.1f} s: the file looks truncated.")
    decoded = time.perf_counter()

    _report(progress, 0.3, f"Looking at {len(images)} keyframes")
    vectors, frame_model, kind, captions = _frames(manager, images)
    framed = time.perf_counter()

    speech = _speech(manager, path, info, options, progress, notes)
    heard = time.perf_counter()
    _report(progress, 0.92, "Embedding the transcript")
    search_segments = speech["search_segments"]
    with manager.use(TEXT_KEY) as encoder:
        texts = [s["text"] for s in search_segments]
        segment_vectors = _unit(encoder.embed_texts(texts)) if texts else np.zeros((0, 1), np.float32)
        text_model = getattr(encoder, "name", None) or manager.spec(TEXT_KEY).source
    done = time.perf_counter()
    minutes = max(duration / 60, 1e-9)
    timing = {"decode_s": decoded - started, "frames_s": framed - decoded, "speech_s": heard - framed,
              "text_s": done - heard, "total_s": done - started}
    timing = {key: round(value, 3) for key, value in timing.items()}
    timing["s_per_minute"] = round(timing["total_s"] / minutes, 3)
    return store.VideoIndex(
        name=name, source=source_name or path.name, sha256=sha256_file(path), duration_s=round(duration, 3),
        scenes=[store.Scene(s, e, c, t) for (s, e), c, t in zip(spans, captions, times)],
        frame_vectors=vectors, frame_model=frame_model, segments=speech["segments"],
        search_segments=search_segments, segment_vectors=segment_vectors, text_model=text_model,
        language=speech["language"], transcript=speech["transcript"], translation=speech["translation"],
        keyframes=[store.jpeg_bytes(image) for image in images], notes=notes, timing={**timing, "engine": kind})


def _keyframes(path: Path, info: decode.VideoProbe, options: VideoOptions, progress: Progress | None):
    policy = options.keyframes
    selector = KeyframeSelector(policy)
    times: list[float] = []
    images = []
    last = 0.0
    for sampled in decode.sampled_frames(path, policy.sample_every_s, policy.thumb, options.max_minutes * 60):
        last = sampled.time_s
        if selector.offer(sampled.time_s, sampled.tiny):
            times.append(round(sampled.time_s, 3))
            images.append(sampled.image())
        if info.duration_s:
            _report(progress, 0.3 * sampled.time_s / info.duration_s, f"Decoding: {sampled.time_s:.0f} s, "
                    f"{len(times)} keyframes")
    return times, images, last


def _frames(manager: ModelManager, images: list) -> tuple[np.ndarray, str, str, list[str]]:
    from model_zoo.vision.captioning import CaptionOptions, caption_image

    with vision.open_engine(manager) as engine:
        vectors = _unit(engine.embed_images(images))
        frame_model, kind = engine.name, engine.kind
    captions = []
    with tempfile.TemporaryDirectory(prefix="mms-video-") as scratch:
        for n, image in enumerate(images):
            file = Path(scratch) / f"{n}.jpg"
            image.save(file, "JPEG", quality=90)
            captions.append(caption_image(manager, file, CaptionOptions(num_candidates=1)).caption)
    return vectors, frame_model, kind, captions


def _speech(manager: ModelManager, path: Path, info: decode.VideoProbe, options: VideoOptions,
            progress: Progress | None, notes: list[str]) -> dict:
    from model_zoo.speech.service import speech_translate

    empty = {"segments": [], "search_segments": [], "language": "", "transcript": "", "translation": ""}
    if not info.has_audio:
        notes.append("This video has no audio track: it is searchable by what is seen only.")
        return empty
    scaled = lambda share, what: _report(progress, 0.4 + 0.5 * share, f"Speech: {what}")
    try:
        heard = speech_translate(manager, path, task="transcribe", beam_size=options.beam_size,
                                 backend=options.speech_backend, max_minutes=options.max_minutes, progress=scaled)
    except InputError as exc:  # a silent or unreadable audio track: the pictures still count
        notes.append(f"The audio track was not transcribed ({exc}) It is searchable by what is seen only.")
        return empty
    result = {"segments": _plain(heard.segments), "search_segments": _plain(heard.segments),
              "language": heard.language, "transcript": heard.transcript, "translation": ""}
    if heard.segments and heard.language != "en":
        english = speech_translate(manager, path, task="translate", language=heard.language,
                                   beam_size=options.beam_size, backend=options.speech_backend,
                                   max_minutes=options.max_minutes, progress=scaled)
        result["search_segments"], result["translation"] = _plain(english.segments), english.translation
        notes.append(f"Speech in '{heard.language}' is searched through its English translation.")
    if not heard.segments:
        notes.append("Whisper heard no speech in this video.")
    return result


def _plain(segments: list[dict]) -> list[dict]:
    return [{"start": round(float(s["start"]), 3), "end": round(float(s["end"]), 3), "text": s["text"].strip()}
            for s in segments if s["text"].strip()]


def _unit(matrix) -> np.ndarray:
    matrix = np.asarray(matrix, np.float32)
    return matrix / np.maximum(np.linalg.norm(matrix, axis=1, keepdims=True), 1e-12)


def report_of(index: store.VideoIndex) -> VideoReport:
    return VideoReport(
        video=index.name, duration_s=index.duration_s,
        scenes=[{"start": s.start, "end": s.end, "caption": s.caption} for s in index.scenes],
        transcript=index.transcript, language=index.language, segments=index.segments,
        timing={k: v for k, v in index.timing.items() if k != "engine"}, translation=index.translation,
        engine=str(index.timing.get("engine", vision.space_engine(index.frame_model) or "")), notes=index.notes)


# -- search --------------------------------------------------------------------------
def check_k(k: int) -> int:
    if isinstance(k, bool) or not isinstance(k, (int, float)) or int(k) != k or not 1 <= k <= MAX_K:
        raise InputError(f"k (the number of results) must be a whole number from 1 to {MAX_K}; got {k!r}.")
    return int(k)


def _cosines(vectors: np.ndarray, query: np.ndarray) -> np.ndarray:
    """Inner products with every stored vector, through a flat FAISS index (as galleries do)."""
    if not len(vectors):
        return np.zeros(0, np.float32)
    import faiss

    from model_zoo.vision.search.gallery import single_threaded

    index = faiss.IndexFlatIP(vectors.shape[1])
    index.add(np.ascontiguousarray(vectors, np.float32))
    with single_threaded():
        scores, ids = index.search(np.ascontiguousarray(query.reshape(1, -1), np.float32), len(vectors))
    out = np.zeros(len(vectors), np.float32)
    out[ids[0]] = scores[0]
    return out


def search_video(manager: ModelManager, folder: Path, query: str, k: int = 5,
                 videos: store.VideoIndexCache | None = None) -> VideoSearchResult:
    """The best k moments for `query`, seen or said. `videos`: the process's read indexes
    (StudioContext.videos; without it the index is read from disk for this call alone)."""
    k = check_k(k)
    query = (query or "").strip()
    if not query:
        raise InputError("Type what to look for: something seen (\"a cat\") or said (\"the budget\").")
    index = store.load_index(folder, videos)
    started = time.perf_counter()
    seen = said = np.zeros(0, np.float32)
    kind = vision.space_engine(index.frame_model) or ""
    if index.scenes:
        with vision.open_engine(manager, kind or None) as engine:
            if engine.name != index.frame_model or engine.dim != index.frame_vectors.shape[1]:
                raise InputError(f"Video '{index.name}' was indexed by another image engine ({index.frame_model}); "
                                 "index it again.")
            seen = _cosines(index.frame_vectors, _unit(engine.embed_texts([query]))[0])
    if index.search_segments:
        with manager.use(TEXT_KEY) as encoder:
            said = _cosines(index.segment_vectors, _unit(encoder.embed_texts([query]))[0])
    encoded = time.perf_counter()
    scenes = [(s.start, s.end) for s in index.scenes]
    segments = [(s["start"], s["end"]) for s in index.search_segments]
    hits = [asdict(_hit(index, h)) for h in fusion.fuse(scenes, seen, segments, said, k)]
    timing = {
        "encode_ms": round((encoded - started) * 1e3, 2),
        "rank_ms": round((time.perf_counter() - encoded) * 1e3, 2),
    }
    return VideoSearchResult(index.name, query, hits, timing, kind)


def _hit(index: store.VideoIndex, hit: fusion.FusedHit) -> VideoHit:
    span = (hit.start, hit.end)
    scene = (
        hit.index
        if hit.found_by == "seen"
        else max(
            range(len(index.scenes)),
            key=lambda n: fusion.overlap(span, (index.scenes[n].start, index.scenes[n].end)),
            default=-1,
        )
    )
    spoken = [s["text"] for s in index.segments if fusion.overlap(span, (s["start"], s["end"])) > 0]
    if hit.found_by == "said" and not spoken:
        spoken = [index.search_segments[hit.index]["text"]]
    return VideoHit(start=round(hit.start, 3), end=round(hit.end, 3), score=round(hit.score, 4),
                    caption=index.scenes[scene].caption if scene >= 0 else "", transcript=" ".join(spoken),
                    seen=round(hit.seen, 4), said=round(hit.said, 4), found_by=hit.found_by, scene=scene)
