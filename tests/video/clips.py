"""Small videos made on the fly with ffmpeg for the video tests."""
from __future__ import annotations

import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "assets" / "video" / "example.mp4"


def ffmpeg(*args: str) -> None:
    subprocess.run(["ffmpeg", "-y", "-loglevel", "error", *args], check=True)


def colour_clip(path: Path, colours=("red", "green", "blue"), seconds: float = 2.0, audio: bool = False) -> Path:
    """Solid colours, `seconds` each, 160x120 at 10 fps; a sine tone if `audio`."""
    inputs: list[str] = []
    for colour in colours:
        inputs += ["-f", "lavfi", "-i", f"color=c={colour}:s=160x120:r=10:d={seconds}"]
    graph = "".join(f"[{n}:v]" for n in range(len(colours))) + f"concat=n={len(colours)}:v=1:a=0[v]"
    extra: list[str] = []
    if audio:
        inputs += ["-f", "lavfi", "-i", f"sine=frequency=440:duration={seconds * len(colours)}"]
        extra = ["-map", f"{len(colours)}:a", "-c:a", "aac"]
    ffmpeg(*inputs, "-filter_complex", graph, "-map", "[v]", *extra, "-c:v", "libx264", "-pix_fmt", "yuv420p",
           str(path))
    return path


def bad_videos(folder: Path) -> dict[str, Path]:
    """name -> file; each must be refused with a clear InputError."""
    folder.mkdir(parents=True, exist_ok=True)
    files = {"empty.mp4": folder / "empty.mp4"}
    files["empty.mp4"].write_bytes(b"")
    mp3 = folder / "tone.mp3"
    ffmpeg("-f", "lavfi", "-i", "sine=frequency=440:duration=2", str(mp3))
    files["mp3-named.mp4"] = folder / "mp3-named.mp4"
    files["mp3-named.mp4"].write_bytes(mp3.read_bytes())
    whole = colour_clip(folder / "whole.mp4")  # no faststart: the index (moov) is at the end
    files["truncated.mp4"] = folder / "truncated.mp4"
    files["truncated.mp4"].write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    files["text.mp4"] = folder / "text.mp4"
    files["text.mp4"].write_text("not a video at all\n" * 50)
    return files
