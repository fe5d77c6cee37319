"""Latency of live captions: each clip is fed in real time (a chunk every --chunk-s seconds
of wall clock) through the same LiveCaptioner the Speech tab's Live mode runs.

    python -m benchmarks.models.live_captions [--clips FILES_OR_DIRS ...] [--chunk-s 0.5] [--join]

Per clip and as medians over clips:
  lag         wall time at which a segment's text is committed minus the segment's end
              time in the audio (both from the session's start)
  first text  wall time until the first committed word shows
  WER         of the final committed transcript against the reference (a .txt beside the
              clip, the LibriVox convention of pocketsphinx's test data) and against the
              offline transcript of the whole clip (the tab's upload path: beam 5)
Clips: the LibriVox example in assets/audio and an espeak-ng paragraph; --join also plays
all clips back to back with 0.6 s pauses as one session (a reader going on). The last line
reads `median lag X s; first text Y s; final WER Z` for other tools."""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np

from benchmarks.serving.apps import cpu_name
from model_zoo.speech.wer import word_error_rate

REPO = Path(__file__).resolve().parents[2]
LIBRIVOX_TEXT = ("and mister john dashwood had then leisure to consider how much there might be "
                 "prudently in his power to do for them")
ESPEAK_TEXT = ("The weather is nice today. I would like a glass of water and a piece of bread. "
               "Please call me tomorrow morning. The train to the city leaves at seven o'clock, "
               "and the next one an hour later.")
AUDIO = (".wav", ".ogg", ".mp3", ".flac")


@dataclass
class Clip:
    name: str
    samples: np.ndarray
    reference: str


@dataclass
class ClipFigures:
    name: str
    duration_s: float
    median_lag_s: float
    max_lag_s: float
    first_text_s: float
    wer_reference: float | None
    wer_offline: float
    offline_wer_reference: float | None
    decodes: int
    transcript: str


def load_clips(items: list[str], join: bool, folder: Path) -> list[Clip]:
    from model_zoo.speech.audio import decode_audio

    paths: list[Path] = []
    references: dict[Path, str] = {}
    if not items:
        asset = REPO / "assets" / "audio" / "librivox_sense_and_sensibility.ogg"
        paths.append(asset)
        references[asset] = LIBRIVOX_TEXT
        spoken = folder / "espeak_en.wav"
        subprocess.run(["espeak-ng", "-v", "en-us", "-w", str(spoken), ESPEAK_TEXT], check=True, capture_output=True)
        paths.append(spoken)
        references[spoken] = ESPEAK_TEXT
    for item in items:
        path = Path(item)
        paths += sorted(p for p in path.iterdir() if p.suffix in AUDIO) if path.is_dir() else [path]
    clips = []
    for path in paths:
        text = references.get(path)
        if text is None and path.with_suffix(".txt").is_file():
            text = path.with_suffix(".txt").read_text().strip()
        clips.append(Clip(path.name, decode_audio(path).samples, text or ""))
    if join and len(clips) > 1:
        pause = np.zeros(int(0.6 * 16_000), dtype=np.float32)
        samples = np.concatenate([part for c in clips for part in (c.samples, pause)])
        reference = " ".join(c.reference for c in clips) if all(c.reference for c in clips) else ""
        clips.append(Clip(f"joined ({len(clips)} clips)", samples, reference))
    return clips


def feed_in_real_time(captioner, samples: np.ndarray, chunk_s: float):
    """Chunks arrive every chunk_s of wall clock; while a decode runs, later chunks pile
    up and the next step takes them all (what the browser's stream does)."""
    chunk = int(chunk_s * 16_000)
    start = time.monotonic()
    fed, decodes, first_text = 0, 0, None
    while fed < len(samples):
        arrived = min(len(samples), int((time.monotonic() - start) / chunk_s) * chunk + chunk)
        if arrived <= fed:
            time.sleep(max(0.0, start + (fed // chunk) * chunk_s - time.monotonic() + 0.001))
            continue
        wait = start + (arrived / 16_000) - time.monotonic()  # the chunk's last sample is spoken
        if wait > 0:
            time.sleep(wait)
        captioner.feed(samples[fed:arrived])
        fed = arrived
        update = captioner.step()
        decodes += update.decoded
        if first_text is None and update.committed:
            first_text = time.monotonic() - start
    final = captioner.finish()
    if first_text is None:
        first_text = time.monotonic() - start
    return final, decodes, first_text


def run_clip(recognizer, clip: Clip, chunk_s: float, options, live_options) -> ClipFigures:
    from model_zoo.speech.whisper_common import DecodeOptions
    from model_zoo.speech.live import LiveCaptioner, RecognizerDecoder

    decoder = RecognizerDecoder(recognizer, options)
    offline = recognizer.recognize(clip.samples, ("transcribe",), None, DecodeOptions())  # the upload path
    offline_text = " ".join(s.text for s in offline.segments.get("transcribe", []))
    captioner = LiveCaptioner(decoder, None, live_options)
    final, decodes, first_text = feed_in_real_time(captioner, clip.samples, chunk_s)
    lags = [s.committed_at - s.end for s in final.segments] or [float("nan")]
    return ClipFigures(
        name=clip.name,
        duration_s=round(len(clip.samples) / 16_000, 2),
        median_lag_s=round(statistics.median(lags), 2),
        max_lag_s=round(max(lags), 2),
        first_text_s=round(first_text, 2),
        wer_reference=round(word_error_rate(clip.reference, final.committed), 3) if clip.reference else None,
        wer_offline=round(word_error_rate(offline_text, final.committed), 3),
        offline_wer_reference=round(word_error_rate(clip.reference, offline_text), 3) if clip.reference else None,
        decodes=decodes,
        transcript=final.committed,
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clips", nargs="*", default=[], help="audio files or folders (a .txt beside = reference)")
    parser.add_argument(
        "--chunk-s", type=float, default=0.5, help="seconds of audio per chunk (the browser's stream_every)"
    )
    parser.add_argument("--join", action="store_true", help="also play all clips back to back as one session")
    parser.add_argument("--cache-dir", default=None)
    args = parser.parse_args(argv)

    from model_zoo.speech.whisper_common import DecodeOptions
    from model_zoo.speech.live import LiveOptions, live_decode_options
    from model_zoo.core.manager import ManagerConfig, ModelManager

    cache = Path(args.cache_dir) if args.cache_dir else Path(tempfile.gettempdir()) / "multimodal-studio-bench-cache"
    manager = ModelManager(ManagerConfig(device="cpu", cache_dir=cache, offline=True))
    options = live_decode_options(DecodeOptions())  # what the Speech tab's Live mode runs
    with tempfile.TemporaryDirectory() as tmp, manager.use("whisper-base") as recognizer:
        clips = load_clips(args.clips, args.join, Path(tmp))
        recognizer.recognize(clips[0].samples[:16_000], ("transcribe",), "en", options)  # warm up
        load = os.getloadavg()[0]
        print(f"CPU: {cpu_name()}, {os.cpu_count()} cores, load average {load:.1f}; chunk {args.chunk_s} s, "
              f"encoder window >= {options.min_window_s:g} s, greedy")
        results = []
        for clip in clips:
            figures = run_clip(recognizer, clip, args.chunk_s, options, LiveOptions())
            results.append(figures)
            print(f"{figures.name}: {figures.duration_s:.1f} s audio, {figures.decodes} decodes, "
                  f"lag median {figures.median_lag_s:.2f} s (max {figures.max_lag_s:.2f}), first text "
                  f"{figures.first_text_s:.2f} s, WER vs reference {figures.wer_reference} "
                  f"(offline {figures.offline_wer_reference}), WER vs offline {figures.wer_offline}")
            print(f"    {figures.transcript}")
    lag = statistics.median(r.median_lag_s for r in results)
    first = statistics.median(r.first_text_s for r in results)
    wers = [r.wer_reference for r in results if r.wer_reference is not None]
    offline = [r.offline_wer_reference for r in results if r.offline_wer_reference is not None]
    wer = statistics.median(wers) if wers else statistics.median(r.wer_offline for r in results)
    if offline:
        print(f"offline (whole clip) median WER vs reference {statistics.median(offline):.3f}; "
              f"load average now {os.getloadavg()[0]:.1f}")
    print(f"median lag {lag:.2f} s; first text {first:.2f} s; final WER {wer:.3f}")


if __name__ == "__main__":
    main()
