"""Transcribe (or translate) a folder tree of audio files, headless: the Speech tab for a
whole archive. Writes an SRT and a VTT per file and one CSV for all of them.

    python -m scripts.jobs.transcribe_folder DIR [--out transcripts] [--task transcribe] [--language auto]
    accelerate launch --multi_gpu --num_processes 2 -m scripts.jobs.transcribe_folder DIR --out transcripts

Each process runs its share of a round through model_zoo.speech.service.speech_translate (the
tab's code, the app's --whisper-backend); the main process writes OUT/<path under DIR>.srt
and .vtt (model_zoo.speech.service.to_srt / to_vtt) and OUT/transcripts.csv, atomically after every
round. A rerun skips files already in the CSV without an error, so an interrupted run
resumes. The last line reads `N files transcribed by P processes`."""
from __future__ import annotations

import argparse
import csv
import io
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from model_zoo.speech import service as speech
from model_zoo.core.storage import atomic_write_text
from scripts.jobs import sharding

PROG = "python -m scripts.jobs.transcribe_folder"
AUDIO_SUFFIXES = {".wav", ".mp3", ".flac", ".ogg", ".oga", ".opus", ".m4a", ".aac", ".webm", ".mp4", ".mkv"}
CSV_NAME = "transcripts.csv"
COLUMNS = ["file", "language", "language_probability", "duration_s", "text", "srt", "vtt", "model", "seconds", "error"]


def _arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("folder", type=Path, metavar="DIR", help="folder of audio files (searched recursively)")
    parser.add_argument("--out", type=Path, default=Path("transcripts"),
                        help=f"folder for the subtitles and {CSV_NAME} [transcripts]")
    parser.add_argument("--task", choices=[t for t in speech.TASK_CHOICES if t != "both"], default="transcribe",
                        help="transcribe (the spoken language) or translate (into English) [transcribe]")
    parser.add_argument("--language", default="auto", help="spoken language: a Whisper code such as en, or auto [auto]")
    parser.add_argument("--beam-size", type=int, default=5, help=f"beam width, 1 to {speech.MAX_BEAM} [5]")


@dataclass
class Heard:
    """One file's outcome, as a process sends it to the main process."""

    name: str
    result: dict | None  # SpeechResult.to_dict()
    seconds: float
    error: str = ""


def read_done(table: Path) -> list[dict]:
    """Rows of an earlier run's CSV that have no error."""
    if not table.is_file():
        return []
    rows = list(csv.DictReader(io.StringIO(table.read_text("utf-8"))))
    return [row for row in rows if not row.get("error") and row.get("file")]


def subtitle_paths(out: Path, name: str) -> tuple[Path, Path]:
    stem = out / Path(name).with_suffix("")
    return stem.with_name(stem.name + ".srt"), stem.with_name(stem.name + ".vtt")


def main(argv: list[str] | None = None) -> int:
    job = sharding.parse_job(argv, PROG, __doc__.split("\n\n")[0], _arguments,
                             settings=("whisper_backend", "max_audio_minutes", "speech_min_window_s"), round_size=20)
    from model_zoo.speech.whisper_common import DecodeOptions
    from model_zoo.core.errors import InputError, WeightsUnavailable

    args = job.args
    try:
        speech.check_request(args.task, args.language, args.beam_size)
        key = speech.model_key_for(job.settings.whisper_backend)
    except InputError as exc:
        raise SystemExit(f"error: {exc}") from None
    team, settings = sharding.start(job.settings)
    root, out = args.folder.resolve(), args.out
    table = out / CSV_NAME
    todo, kept = None, []
    if team.is_main:
        kept = read_done(table)
        done = {row["file"] for row in kept}
        todo = [p for p in sharding.list_files(root, AUDIO_SUFFIXES) if sharding.relative_name(p, root) not in done]
    todo = team.broadcast(todo)
    manager = sharding.manager_for(settings)
    missing = manager.weights_problem(key)
    if missing is not None and todo:
        print(f"error: {missing}", file=sys.stderr)
        return 2
    if todo:
        sharding.warm_up(team, manager, [key])
    options = DecodeOptions(min_window_s=settings.speech_min_window_s)
    rows, counts = list(kept), {"ok": 0, "failed": 0}

    def work(share: list[Path], tick: sharding.Tick) -> list[Heard]:
        heard = []
        for number, path in enumerate(share):
            started = time.perf_counter()
            name = sharding.relative_name(path, root)
            try:
                result = speech.speech_translate(manager, path, args.task, args.language, args.beam_size,
                                                 backend=settings.whisper_backend,
                                                 max_minutes=settings.max_audio_minutes, options=options)
                heard.append(Heard(name, result.to_dict(), time.perf_counter() - started))
            except InputError as exc:  # damaged, silent, too long: its own row, the others go on
                heard.append(Heard(name, None, time.perf_counter() - started, str(exc)))
            tick(number + 1)
        return heard

    def write(parts: list[list[Heard]]) -> None:
        for heard in (h for part in parts for h in part):
            rows.append(row_of(heard, out))
            counts["ok" if heard.result else "failed"] += 1
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, COLUMNS, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
        atomic_write_text(table, buffer.getvalue())

    try:
        seconds = sharding.run_rounds(team, todo, args.round_size, work, write, "transcribing")
    except WeightsUnavailable as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if team.is_main:
        print(f"{table}: {len(rows)} rows; this run {counts['ok']} transcribed, {counts['failed']} failed, "
              f"{len(kept)} kept from an earlier run; {len(todo)} files in {seconds:.1f} s")
        print(f"{counts['ok']} files transcribed by {team.processes()}")
    return 0


def row_of(heard: Heard, out: Path) -> dict:
    """The CSV row of one file; writes its SRT and VTT (atomically) when it was heard."""
    if heard.result is None:
        return {"file": heard.name, "seconds": f"{heard.seconds:.2f}", "error": heard.error}
    result = heard.result
    srt, vtt = subtitle_paths(out, heard.name)
    atomic_write_text(srt, speech.to_srt(result["segments"]))
    atomic_write_text(vtt, speech.to_vtt(result["segments"]))
    return {"file": heard.name, "language": result["language"], "language_probability": result["language_probability"],
            "duration_s": result["duration_s"], "text": result["transcript"] or result["translation"],
            "srt": srt.relative_to(out).as_posix(), "vtt": vtt.relative_to(out).as_posix(),
            "model": result["model"], "seconds": f"{heard.seconds:.2f}", "error": ""}


if __name__ == "__main__":
    sys.exit(main())
