"""Index a folder tree of videos for the Video tab, headless: what its "Index the video"
button does, for a whole archive, into the operator's (shared) index.

    python -m scripts.jobs.index_videos DIR [--data-dir D] [--max-video-minutes 10]
    accelerate launch --multi_gpu --num_processes 2 -m scripts.jobs.index_videos DIR

Each video becomes <data dir>/videos/NAME, NAME from its path under DIR ('2019/Trip 1.mp4'
-> '2019-Trip-1'), where the app finds it (every visitor can search it, read-only). Each
process indexes its share of a round with model_zoo.video.service.build_index (the tab's
code: keyframes, the image engine, Whisper, the sentence encoder); the main process writes
each index atomically (model_zoo.video.store). A rerun skips videos whose index holds the same
bytes (sha256), so an interrupted run resumes; a bad file is reported and skipped. The last
line reads `N videos indexed by P processes`."""
from __future__ import annotations

import argparse
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

from scripts.jobs import sharding

PROG = "python -m scripts.jobs.index_videos"


def _arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("folder", type=Path, metavar="DIR", help="folder of videos (searched recursively)")


def index_name(relative: str) -> str:
    from model_zoo.video.store import name_from_file

    return name_from_file(re.sub(r"[\\/]+", "-", str(Path(relative).with_suffix(""))) + ".mp4")


@dataclass
class Totals:
    indexed: int = 0
    skipped: int = 0  # already indexed with the same bytes
    failed: list[str] = field(default_factory=list)


def main(argv: list[str] | None = None) -> int:
    job = sharding.parse_job(argv, PROG, __doc__.split("\n\n")[0], _arguments,
                             settings=("vision", "whisper_backend", "max_video_minutes"), round_size=4)
    from model_zoo.core.errors import StudioError
    from model_zoo.core.storage import sha256_file
    from model_zoo.video import decode, service, store
    from model_zoo.vision import engine as vision

    team, settings = sharding.start(job.settings)
    root = job.args.folder.resolve()
    files = team.broadcast(sharding.list_files(root, decode.VIDEO_SUFFIXES) if team.is_main else None)
    videos_root = settings.data_dir / "videos"
    manager = sharding.manager_for(settings)
    if files:
        keys = (*vision.engine_keys(manager), service.TEXT_KEY, "whisper-base" if settings.whisper_backend ==
                "faster-whisper" else "whisper-base-openai")
        sharding.warm_up(team, manager, keys)
    options = service.VideoOptions(max_minutes=settings.max_video_minutes, speech_backend=settings.whisper_backend)
    totals = Totals()

    def already(path: Path, name: str) -> bool:
        try:
            return store.load_index(videos_root / name).sha256 == sha256_file(path)
        except (StudioError, OSError, ValueError, KeyError):
            return False

    def work(share: list[Path], tick: sharding.Tick) -> list[tuple[str, object]]:
        done = []
        for n, path in enumerate(share):
            relative = sharding.relative_name(path, root)
            name = index_name(relative)
            if already(path, name):
                done.append((name, None))
            else:
                try:
                    done.append((name, service.build_index(manager, path, name, options, source_name=relative)))
                except StudioError as exc:
                    done.append((name, f"{relative}: {exc}"))
            tick(n + 1)
        return done

    def write(parts: list[list[tuple[str, object]]]) -> None:
        for name, built in (item for part in parts for item in part):
            if built is None:
                totals.skipped += 1
            elif isinstance(built, str):
                totals.failed.append(built)
            else:
                store.save_index(videos_root / name, built)
                totals.indexed += 1

    seconds = sharding.run_rounds(team, files, job.args.round_size, work, write, "indexing videos")
    if team.is_main:
        for failure in totals.failed:
            print(f"skipped {failure}", file=sys.stderr)
        print(f"{videos_root}: {totals.indexed} indexed, {totals.skipped} already there, "
              f"{len(totals.failed)} unreadable; {len(files)} files in {seconds:.1f} s")
        print(f"{totals.indexed} videos indexed by {team.processes()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
