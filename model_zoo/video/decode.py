"""Opening a video with PyAV: what it holds (probe) and its frames at a fixed sampling rate
(sampled_frames). Every way a file can be unusable (empty, not a video, audio only,
truncated, too long, too big) becomes an InputError that says so; nothing here loads a
model."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import numpy as np
from PIL import Image

from model_zoo.core.errors import InputError

VIDEO_SUFFIXES = {".mp4", ".m4v", ".mov", ".mkv", ".webm", ".avi", ".mpg", ".mpeg", ".ogv"}
FRAME_SIDE = 384  # keyframes are kept at most this wide/high (the engines look at 224-260 px)


@dataclass
class VideoProbe:
    name: str
    duration_s: float
    has_video: bool
    has_audio: bool
    width: int = 0
    height: int = 0
    fps: float = 0.0


@dataclass
class SampledFrame:
    time_s: float
    tiny: np.ndarray  # (h, w, 3) float32 in [0, 1]: the tiny thumbnail scene changes are measured on
    frame: object  # the av.VideoFrame: converted to RGB only if it becomes a keyframe

    def image(self, side: int = FRAME_SIDE) -> Image.Image:
        image = self.frame.to_image()
        image.thumbnail((side, side))
        return image.convert("RGB")


def _open(path: Path):
    import av

    try:
        return av.open(str(path))
    except (av.error.FFmpegError, OSError, UnicodeDecodeError, ValueError):
        raise InputError(f"'{path.name}' could not be opened as a video: it is damaged, truncated or not a video "
                         "file (this app reads mp4, mov, mkv, webm, avi).") from None


def probe(path: str | Path, max_minutes: float, max_mb: float | None = None) -> VideoProbe:
    """What the file holds, or an InputError saying why it cannot be used."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"'{path.name}' could not be found on the server; please upload it again.")
    size = path.stat().st_size
    if size == 0:
        raise InputError(f"'{path.name}' is empty (0 bytes): nothing to index.")
    if max_mb is not None and size > max_mb * (1 << 20):
        raise InputError(f"'{path.name}' is {size / 2**20:.0f} MB: larger than the limit of {max_mb:g} MB "
                         "(--max-file-size-mb). Trim or re-encode it at a lower resolution.")
    with _open(path) as container:
        videos, audios = container.streams.video, container.streams.audio
        duration = _duration(container)
        probe = VideoProbe(path.name, duration, bool(videos), bool(audios))
        if videos:
            stream = videos[0]
            probe.width, probe.height = int(stream.width or 0), int(stream.height or 0)
            probe.fps = float(stream.average_rate or 0)
    if not probe.has_video:
        what = "an audio file" if probe.has_audio else "neither pictures nor sound"
        raise InputError(f"'{path.name}' has no video track ({what}; an mp3 renamed .mp4?). "
                         + ("Transcribe it in the Speech tab instead." if probe.has_audio else ""))
    if duration > max_minutes * 60:
        raise InputError(f"'{path.name}' is {duration / 60:.1f} min long: longer than the limit of {max_minutes:g} min "
                         "(--max-video-minutes). Trim it, or index it in parts.")
    return probe


def _duration(container) -> float:
    if container.duration:
        return float(container.duration) / 1e6
    for stream in (*container.streams.video, *container.streams.audio):
        if stream.duration and stream.time_base:
            return float(stream.duration * stream.time_base)
    return 0.0


def sampled_frames(path: str | Path, every_s: float, thumb: tuple[int, int] = (32, 24),
                   max_seconds: float | None = None) -> Iterator[SampledFrame]:
    """Frames at most every `every_s` seconds (the first one that reaches each sampling time),
    each with its tiny colour thumbnail. Stops quietly where a truncated file ends (the caller sees
    how far it got); raises InputError when not one frame decodes."""
    import av

    path = Path(path)
    yielded = 0
    with _open(path) as container:
        if not container.streams.video:
            raise InputError(f"'{path.name}' has no video track.")
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        next_time = 0.0
        try:
            for frame in container.decode(stream):
                t = float(frame.time) if frame.time is not None else next_time
                if max_seconds is not None and t > max_seconds:
                    raise InputError(f"'{path.name}' runs past the limit of {max_seconds / 60:g} min "
                                     "(--max-video-minutes). Trim it, or index it in parts.")
                if t + 1e-6 < next_time:
                    continue
                # colour, not grey: a cut between two colours of equal brightness (red to green) is a cut
                tiny = frame.to_ndarray(width=thumb[0], height=thumb[1], format="rgb24").astype(np.float32) / 255.0
                yield SampledFrame(t, tiny, frame)
                yielded += 1
                next_time = t + every_s
        except av.error.FFmpegError:
            if not yielded:
                raise InputError(f"'{path.name}' could not be decoded: it is damaged or truncated.") from None
    if not yielded:
        raise InputError(f"'{path.name}' holds no picture that could be decoded (damaged or truncated).")
