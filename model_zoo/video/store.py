"""A video's index on disk: one folder per video (<owner's videos>/<name>/), written whole
and swapped in atomically (model_zoo.core.storage.atomic_directory), so a kill leaves the
old index or the new one. index.json holds the scenes (times, captions), the transcript and
its segments; frames.npy and speech.npy the scene and segment vectors; keyframes/NNNN.jpg a
small JPEG per scene. A `VideoIndexCache` (the app's context owns one and passes it in) keeps
indexes read, checked against the index file's stamp (inode, mtime, size) on every use, so an
index another process saved (replicas sharing a data dir) is read again, never served stale."""
from __future__ import annotations

import io
import json
import re
import threading
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from model_zoo.core.errors import InputError
from model_zoo.core.storage import atomic_directory, file_stamp

INDEX = "index.json"
FORMAT_VERSION = 1
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


@dataclass
class Scene:
    start: float
    end: float
    caption: str
    keyframe_s: float  # when its keyframe is


@dataclass
class VideoIndex:
    name: str
    source: str  # the file's name as uploaded
    sha256: str
    duration_s: float
    scenes: list[Scene]
    frame_vectors: np.ndarray  # (len(scenes), d) unit rows in frame_model's space
    frame_model: str  # the image engine's space (model_zoo.vision.engine names)
    segments: list[dict]  # [{start, end, text}] as spoken (subtitles)
    search_segments: list[dict]  # [{start, end, text}] in English: what the vectors embed
    segment_vectors: np.ndarray  # (len(search_segments), d') unit rows
    text_model: str
    language: str = ""
    transcript: str = ""
    translation: str = ""
    keyframes: list[bytes] = field(default_factory=list, repr=False)  # JPEG per scene
    notes: list[str] = field(default_factory=list)
    timing: dict = field(default_factory=dict)


def check_video_name(name: str) -> str:
    name = (name or "").strip()
    if not _NAME.match(name) or ".." in name:
        raise InputError(f"'{name}' is not a usable video name: up to 64 letters, digits, '-', '_' or '.', "
                         "starting with a letter or digit.")
    return name


def name_from_file(file_name: str) -> str:
    """A usable index name from an uploaded file's name ('My clip (2).mp4' -> 'My-clip-2')."""
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "-", Path(file_name).stem).strip("-._")[:64]
    return stem or "video"


def list_videos(root: Path) -> list[str]:
    if not root.is_dir():
        return []
    return sorted(p.name for p in root.iterdir() if (p / INDEX).is_file() and _NAME.match(p.name))


def save_index(folder: Path, index: VideoIndex, quota=None, cache: VideoIndexCache | None = None) -> None:
    """Write the index whole, aside, and swap it in; with the owner's `quota`
    (model_zoo.core.ownership) only if it fits there, measured once whole. `cache` drops
    what it held for `folder`."""
    meta = {key: value for key, value in asdict(index).items()
            if key not in ("frame_vectors", "segment_vectors", "keyframes")}
    meta["format"] = FORMAT_VERSION
    with atomic_directory(folder, admit=quota.admit if quota is not None else None) as staging:
        (staging / "keyframes").mkdir()
        for n, jpeg in enumerate(index.keyframes):
            (staging / "keyframes" / f"{n:04d}.jpg").write_bytes(jpeg)
        np.save(staging / "frames.npy", np.asarray(index.frame_vectors, np.float32))
        np.save(staging / "speech.npy", np.asarray(index.segment_vectors, np.float32))
        (staging / INDEX).write_text(json.dumps(meta, indent=1))
    if cache is not None:
        cache.forget(folder)


_READ_TRIES = 3  # a save swapping the folder in mid-read makes a read start again


class VideoIndexCache:
    """The video indexes one process has read, by folder, each with the stamp of the index
    file it was read from: an entry answers only while the file on disk still has that stamp.
    The app builds one (StudioContext.videos) and passes it to every read; a script that reads
    each index once needs none."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._held: dict[Path, tuple[tuple, VideoIndex]] = {}

    def get(self, folder: Path, stamp: tuple) -> VideoIndex | None:
        """The index held for `folder` if it was read from a file with `stamp`."""
        with self._lock:
            held = self._held.get(Path(folder).resolve())
        return held[1] if held and held[0] == stamp else None

    def put(self, folder: Path, stamp: tuple, index: VideoIndex) -> None:
        with self._lock:
            self._held[Path(folder).resolve()] = (stamp, index)

    def __contains__(self, folder: Path) -> bool:
        with self._lock:
            return Path(folder).resolve() in self._held

    def forget(self, folder: Path) -> None:
        """Drop what is held for `folder` (saved again, or deleted)."""
        with self._lock:
            self._held.pop(Path(folder).resolve(), None)


def load_index(folder: Path, cache: VideoIndexCache | None = None) -> VideoIndex:
    """The index in `folder` (keyframe JPEGs are read on demand: keyframe_file), from `cache`
    while the index file is the one it was read from (StudioContext.videos; without a cache
    it is read from disk)."""
    path = folder / INDEX
    for _ in range(_READ_TRIES):
        stamp = file_stamp(path)
        if stamp is None:
            raise InputError(f"No video named '{folder.name}' has been indexed here: index it first.")
        cached = cache.get(folder, stamp) if cache is not None else None
        if cached is not None:
            return cached
        try:
            index = _read_index(folder)
        except OSError:  # its files went with a folder swapped out meanwhile
            continue
        if file_stamp(path) == stamp:  # the meta and the vectors came from one save
            if cache is not None:
                cache.put(folder, stamp, index)
            return index
    raise InputError(f"Video '{folder.name}' is being indexed again right now: try again in a moment.")


def _read_index(folder: Path) -> VideoIndex:
    meta = json.loads((folder / INDEX).read_text())
    if meta.pop("format", None) != FORMAT_VERSION:
        raise InputError(f"Video '{folder.name}' was indexed by another version of this app: index it again.")
    meta["scenes"] = [Scene(**scene) for scene in meta["scenes"]]
    return VideoIndex(**meta, frame_vectors=np.load(folder / "frames.npy"),
                      segment_vectors=np.load(folder / "speech.npy"))


def keyframe_file(folder: Path, scene: int) -> Path | None:
    path = folder / "keyframes" / f"{int(scene):04d}.jpg"
    return path if path.is_file() else None


def jpeg_bytes(image, quality: int = 80) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=quality)
    return buffer.getvalue()
