"""Malformed inputs, made on the fly: what users (and attackers) upload by mistake."""
from __future__ import annotations

import io
import struct
import subprocess
import wave
import zlib
from pathlib import Path

import numpy as np
from PIL import Image


def write_wav(path: Path, samples: np.ndarray, rate: int = 16000) -> Path:
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes((np.clip(samples, -1, 1) * 32767).astype("<i2").tobytes())
    return path


def speech_wav(path: Path, text: str, voice: str = "en") -> Path:
    subprocess.run(["espeak-ng", "-v", voice, "-w", str(path), text], check=True)
    return path


def bad_audio(folder: Path) -> dict[str, Path]:
    """name -> file. Each must be refused with a clear message."""
    folder.mkdir(parents=True, exist_ok=True)
    files = {}
    files["empty.wav"] = folder / "empty.wav"
    files["empty.wav"].write_bytes(b"")
    files["text-as.wav"] = folder / "text-as.wav"
    files["text-as.wav"].write_text("this is a shopping list, not audio\n" * 20)
    good = write_wav(folder / "tone.wav", 0.3 * np.sin(np.linspace(0, 2000 * np.pi, 32000)))
    data = good.read_bytes()
    files["truncated-header.wav"] = folder / "truncated-header.wav"
    files["truncated-header.wav"].write_bytes(data[:30])
    files["garbage-header.wav"] = folder / "garbage-header.wav"
    files["garbage-header.wav"].write_bytes(b"RIFF" + struct.pack("<I", 999999) + b"WAVEfmt " + b"\xff" * 64)
    files["zero-seconds.wav"] = write_wav(folder / "zero-seconds.wav", np.zeros(0))
    files["silence.wav"] = write_wav(folder / "silence.wav", np.zeros(16000 * 3))
    files["png-as.mp3"] = folder / "png-as.mp3"
    Image.new("RGB", (8, 8)).save(files["png-as.mp3"], format="PNG")
    return files


def too_long_audio(folder: Path, seconds: float) -> Path:
    """Low noise for `seconds` as 8 kHz 8-bit WAV (small enough for half an hour: 14 MB)."""
    import wave

    folder.mkdir(parents=True, exist_ok=True)
    out = folder / f"long-{int(seconds)}s.wav"
    noise = np.random.default_rng(0).integers(126, 131, int(8000 * seconds), dtype=np.uint8)
    with wave.open(str(out), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(1)
        wav.setframerate(8000)
        wav.writeframes(noise.tobytes())
    return out


def bad_images(folder: Path) -> dict[str, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    files = {}
    files["empty.jpg"] = folder / "empty.jpg"
    files["empty.jpg"].write_bytes(b"")
    files["notes.png"] = folder / "notes.png"
    files["notes.png"].write_text("not an image at all\n" * 10)
    buffer = io.BytesIO()
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (256, 256, 3), dtype=np.uint8)).save(buffer, "JPEG")
    files["truncated.jpg"] = folder / "truncated.jpg"
    files["truncated.jpg"].write_bytes(buffer.getvalue()[: len(buffer.getvalue()) // 3])
    files["huge.png"] = folder / "huge.png"
    files["huge.png"].write_bytes(png_header_only(100_000, 100_000))
    files["wav-as.jpg"] = folder / "wav-as.jpg"
    write_wav(files["wav-as.jpg"], np.zeros(1600))
    return files


def png_header_only(width: int, height: int) -> bytes:
    """A tiny PNG that declares enormous dimensions (a decompression-bomb shape)."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00" * 64)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
