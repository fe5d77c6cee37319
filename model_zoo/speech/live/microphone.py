"""The browser microphone's streamed chunks as the live captioner's input: a WAV chunk read
whatever its header claims, then any rate and layout as 16 kHz mono float32."""
from __future__ import annotations

import struct
from pathlib import Path

import numpy as np

from model_zoo.speech.audio import SAMPLE_RATE
from model_zoo.core.errors import InputError


def read_stream_chunk(path: str | Path) -> tuple[int, np.ndarray]:
    """(rate, int16 samples, channels last) of a PCM WAV chunk, reading every sample after
    the header whatever its size field says. A browser's streamed chunks can carry more
    audio than their header declares (Gradio's recorder joins the chunks that waited while
    the server was busy under the first chunk's header); a WAV reader that trusts the
    size field would silently drop all but the first half second."""
    data = Path(path).read_bytes()
    if data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise InputError("The microphone sent audio that is not a WAV chunk.")
    fmt = data.find(b"fmt ")
    channels, rate = struct.unpack_from("<HI", data, fmt + 10)
    bits = struct.unpack_from("<H", data, fmt + 22)[0]
    start = data.find(b"data", fmt) + 8
    if fmt < 0 or start < 8 or bits != 16:
        raise InputError("The microphone sent audio in a format other than 16-bit PCM WAV.")
    body = data[start:]
    frames = len(body) // (2 * channels)
    samples = np.frombuffer(body[: frames * 2 * channels], dtype="<i2").reshape(frames, channels)
    return int(rate), samples if channels > 1 else samples[:, 0]


def to_mono_16k(rate: int, samples: np.ndarray) -> np.ndarray:
    """A browser chunk (any rate, int16 or float, mono or channels-last) as 16 kHz mono
    float32 in [-1, 1]."""
    data = np.asarray(samples)
    if np.issubdtype(data.dtype, np.integer):
        data = data.astype(np.float32) / float(np.iinfo(data.dtype).max + 1)
    data = data.astype(np.float32)
    if data.ndim == 2:
        data = data.mean(axis=1)
    if rate != SAMPLE_RATE and len(data):
        target = int(round(len(data) * SAMPLE_RATE / rate))
        data = np.interp(np.linspace(0, len(data) - 1, target), np.arange(len(data)), data).astype(np.float32)
    return data
