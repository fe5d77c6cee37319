"""Build assets/video/example.mp4: public-domain / CC0 photos from scikit-image shown 5 s
each, over speech synthesised by espeak-ng that says what is shown (and, over the rocket,
a sentence about a budget that no picture shows, for the speech search).

    python -m scripts.video.make_example_video [--out assets/video/example.mp4]

Needs ffmpeg and espeak-ng on PATH (Debian: apt-get install ffmpeg espeak-ng). The photos
are public domain or CC0 (see assets/video/README.md); the speech is made here.
320x240, h264 + AAC, about 30 s and well under 1 MB."""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

SLOT_S = 5.0
# (photo, what is said over it): the slots run in this order from 0 s
SLOTS = (
    ("coffee", "Here is a cup of coffee."),
    ("chelsea", "Now a tabby cat."),
    ("rocket", "The mission budget was two million dollars."),
    ("astronaut", "An astronaut in a space suit."),
    ("hubble_deep_field", "And finally, thousands of distant galaxies."),
)


def photo(name: str):
    import skimage.data

    return getattr(skimage.data, name)()


def build(out: Path) -> Path:
    from PIL import Image

    with tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch)
        inputs: list[str] = []
        for n, (name, text) in enumerate(SLOTS):
            Image.fromarray(photo(name)).convert("RGB").save(work / f"{n}.png")
            speech = work / f"{n}.wav"
            subprocess.run(["espeak-ng", "-v", "en-us", "-s", "150", "-w", str(speech), text], check=True)
            inputs += ["-loop", "1", "-t", str(SLOT_S), "-i", str(work / f"{n}.png")]
        for n in range(len(SLOTS)):
            inputs += ["-i", str(work / f"{n}.wav")]
        k = len(SLOTS)
        video = "".join(f"[{n}:v]scale=320:240:force_original_aspect_ratio=decrease,pad=320:240:(ow-iw)/2:(oh-ih)/2,"
                        f"setsar=1,fps=10,format=yuv420p[v{n}];" for n in range(k))
        # each sentence starts 0.3 s into its slot and is padded with silence to the slot's end
        audio = "".join(f"[{k + n}:a]aresample=16000,adelay=300:all=1,apad=whole_dur={SLOT_S},atrim=0:{SLOT_S}[a{n}];"
                        for n in range(k))
        joined = "".join(f"[v{n}]" for n in range(k)) + f"concat=n={k}:v=1:a=0[v];" + \
            "".join(f"[a{n}]" for n in range(k)) + f"concat=n={k}:v=0:a=1[a]"
        out.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run(["ffmpeg", "-y", "-loglevel", "error", *inputs, "-filter_complex", video + audio + joined,
                        "-map", "[v]", "-map", "[a]", "-c:v", "libx264", "-crf", "30", "-preset", "slow",
                        "-g", "50", "-c:a", "aac", "-b:a", "32k", "-ac", "1", "-movflags", "+faststart",
                        "-metadata", "title=Multimodal Studio example (photos: scikit-image, public domain / CC0; "
                        "speech: espeak-ng)", str(out)], check=True)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m scripts.video.make_example_video",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parents[2] / "assets/video/example.mp4")
    out = build(parser.parse_args(argv).out)
    print(f"{out} ({out.stat().st_size / 1024:.0f} KB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
