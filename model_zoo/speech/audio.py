"""Audio decoding for every tab: any container/codec ffmpeg reads (wav, mp3, flac, ogg,
m4a, webm), any rate and channel count, decoded once to 16 kHz mono float32 by PyAV.
Bad files raise InputError with a message a person can act on."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from model_zoo.core.errors import InputError

SAMPLE_RATE = 16_000


@dataclass
class DecodedAudio:
    samples: np.ndarray  # float32, mono, SAMPLE_RATE
    source_rate: int
    channels: int

    @property
    def duration_s(self) -> float:
        return len(self.samples) / SAMPLE_RATE


def decode_audio(path: str | Path, max_seconds: float | None = None) -> DecodedAudio:
    import av

    path = Path(path)
    name = path.name
    if not path.is_file():
        raise InputError(f"'{name}' could not be found; please upload it again.")
    if path.stat().st_size == 0:
        raise InputError(f"'{name}' is empty (0 bytes).")
    try:
        container = av.open(str(path))
    except (av.error.FFmpegError, OSError, UnicodeDecodeError):
        raise InputError(
            f"'{name}' could not be opened as audio: it is damaged, truncated or not an audio file "
            "(this app reads wav, mp3, flac, ogg, m4a, webm)."
        ) from None
    with container:
        if not container.streams.audio:
            raise InputError(f"'{name}' has no audio track.")
        stream = container.streams.audio[0]
        resampler = av.AudioResampler(format="flt", layout="mono", rate=SAMPLE_RATE)
        chunks: list[np.ndarray] = []
        total = 0
        limit = None if max_seconds is None else int(max_seconds * SAMPLE_RATE)
        try:
            for frame in container.decode(stream):
                for out in resampler.resample(frame):
                    chunks.append(out.to_ndarray().reshape(-1))
                    total += chunks[-1].size
                if limit is not None and total > limit:
                    raise InputError(
                        f"'{name}' is longer than the limit of {max_seconds / 60:g} min; "
                        "trim it or raise --max-audio-minutes."
                    )
            for out in resampler.resample(None):
                chunks.append(out.to_ndarray().reshape(-1))
        except InputError:
            raise
        except (av.error.FFmpegError, ValueError) as exc:
            raise InputError(f"'{name}' is damaged and cannot be decoded ({exc}).") from None
        rate = stream.codec_context.sample_rate or SAMPLE_RATE
        channels = stream.codec_context.channels or 1
    samples = np.concatenate(chunks).astype(np.float32) if chunks else np.zeros(0, np.float32)
    if samples.size == 0:
        raise InputError(f"'{name}' contains no audio (0 seconds).")
    return DecodedAudio(samples=samples, source_rate=int(rate), channels=int(channels))
