"""Indexing a video: the Video tab's pipeline (model_zoo.video.service.index_video) against
the bare library calls it is made of, on the same clip and the same loaded models.

    python -m benchmarks.models.video [--clip assets/video/example.mp4] [--repeats 3]
    python -m benchmarks.models.video --long [--repeats 1]   # a 2 min clip: 24 photos, 24 different sentences

  bare decode   PyAV: decode every frame, convert one every 0.5 s to RGB (what sampling needs)
  bare engine   the image engine on the keyframes, one batch (engine.embed_images)
  bare whisper  faster-whisper's own WhisperModel.transcribe(path, beam_size=5), segments drained
  pipeline      index_video: probe, keyframes, embed + caption each keyframe, speech service,
                sentence vectors of the segments, the atomic save
Figures: seconds per minute of video (median of --repeats, models loaded first) and the
overhead ratio pipeline / (decode + engine + whisper). Speed figures compare within one run
on one machine (docs/design.md)."""
from __future__ import annotations

import argparse
import os
import statistics
import tempfile
from pathlib import Path

from benchmarks.models.timing import median_seconds as timed

os.environ.setdefault("HF_HUB_OFFLINE", "1")
REPO = Path(__file__).resolve().parents[2]


def bare_decode(path: Path, every_s: float = 0.5) -> list:
    import av

    images, next_time = [], 0.0
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        for frame in container.decode(stream):
            if frame.time is not None and frame.time + 1e-6 >= next_time:
                images.append(frame.to_image())
                next_time = frame.time + every_s
    return images


LINES = ("The meeting starts at nine in the morning.", "We reviewed the sales figures for March.",
         "Our team grew by four people this year.", "The new office opens next spring.",
         "Please send the report by Friday.", "The weather was cold and rainy all week.",
         "She explained the plan to the committee.", "Traffic was heavy on the bridge today.",
         "The library closes early on Sundays.", "He ordered a sandwich and a glass of water.",
         "The train was twenty minutes late.", "We planted tomatoes in the garden.",
         "The concert was sold out in an hour.", "They painted the kitchen bright yellow.",
         "The museum has a new exhibition on ships.", "My brother is learning to play the violin.",
         "The river flooded the lower fields.", "The shop sells fresh bread every morning.",
         "The children built a castle of sand.", "We watched the sunset from the hill.",
         "The doctor said to rest for two days.", "The package arrived a day early.",
         "The lecture was about ancient Rome.", "Everyone agreed to meet again in June.")


def long_clip(out: Path) -> Path:
    """2 min like the example clip (scripts.video.make_example_video), each 5 s slot saying something else
    (a looped clip repeats its words, which sends Whisper's long-audio path into temperature fallbacks)."""
    from scripts.video import make_example_video as maker

    photos = [photo for photo, _ in maker.SLOTS]
    maker.SLOTS = tuple((photos[n % len(photos)], line) for n, line in enumerate(LINES))
    return maker.build(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.models.video", description=__doc__.split("\n\n")[0])
    parser.add_argument("--clip", type=Path, default=REPO / "assets" / "video" / "example.mp4")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--long", action="store_true", help="a 2 min clip made here instead of --clip")
    args = parser.parse_args(argv)
    if args.long:
        args.clip = long_clip(Path(tempfile.mkdtemp(prefix="mms-bench-video-")) / "long.mp4")

    from model_zoo.core.manager import ManagerConfig, ModelManager
    from model_zoo.video import decode, service, store
    from model_zoo.vision import engine as vision

    manager = ModelManager(ManagerConfig(device="cpu", cache_dir=Path(tempfile.gettempdir()) / "mms-bench-video",
                                         offline=True))
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch) / "clip"
        first = service.index_video(manager, args.clip, folder)  # loads every model once
        minutes = first.duration_s / 60
        keyframes = [store.keyframe_file(folder, n) for n in range(len(first.scenes))]
        from PIL import Image

        images = [Image.open(k).convert("RGB") for k in keyframes]
        with vision.open_engine(manager) as engine, manager.use("whisper-base") as recognizer:
            whisper = recognizer.model
            figures = {
                "bare decode": timed(lambda: bare_decode(args.clip), args.repeats),
                "bare engine": timed(lambda: engine.embed_images(images), args.repeats),
                "bare whisper": timed(lambda: list(whisper.transcribe(str(args.clip), beam_size=5)[0]), args.repeats),
            }
        runs = [service.index_video(manager, args.clip, folder) for _ in range(args.repeats)]
        figures["pipeline"] = statistics.median(r.timing["total_s"] for r in runs)
        steps = {key: statistics.median(r.timing[key] for r in runs)
                 for key in ("decode_s", "frames_s", "speech_s", "text_s", "save_s")}
    bare = figures["bare decode"] + figures["bare engine"] + figures["bare whisper"]
    info = decode.probe(args.clip, max_minutes=10**6)
    print(f"clip {args.clip.name}: {first.duration_s:.1f} s, {info.width}x{info.height} @ {info.fps:.0f} fps, "
          f"{len(first.scenes)} keyframes, {len(first.segments)} segments, engine {first.engine}")
    for name, seconds in figures.items():
        print(f"{name:13} {seconds:7.3f} s   {seconds / minutes:7.2f} s per minute of video")
    print("pipeline steps: " + ", ".join(f"{k} {v:.3f}" for k, v in steps.items()))
    print(f"overhead ratio pipeline / (decode + engine + whisper) = {figures['pipeline'] / bare:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
