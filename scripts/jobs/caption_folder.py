"""Caption a folder tree of images into a CSV, headless: the Captioning tab's batch mode
(/caption_batch) for a whole photo library.

    python -m scripts.jobs.caption_folder DIR [--out captions.csv] [--captioner captioner] [--batch-size 8]
    accelerate launch --multi_gpu --num_processes 2 -m scripts.jobs.caption_folder DIR --out captions.csv

Each process captions its share of a round through model_zoo.vision.captioning.caption_batch (the
tab's code: the captioner, reranked by the image engine, or label-based captions where no
captioner's weights are); the main process writes the CSV (model_zoo.vision.captioning.batch_csv's
columns, one row per file named by its path under DIR), atomically after every round. A
rerun keeps the rows already captioned and captions only the rest (and the files that
failed), so an interrupted run resumes. The last line reads `N files captioned by P processes`."""
from __future__ import annotations

import argparse
import csv
import io
import sys
from pathlib import Path

from scripts.jobs import sharding

PROG = "python -m scripts.jobs.caption_folder"


def _arguments(parser: argparse.ArgumentParser) -> None:
    from model_zoo.vision.captioning import STRATEGIES

    parser.add_argument("folder", type=Path, metavar="DIR", help="folder of images (searched recursively)")
    parser.add_argument(
        "--out", type=Path, default=Path("captions.csv"), help="CSV to write (and resume) [captions.csv]"
    )
    parser.add_argument("--batch-size", type=int, default=None,
                        help="images per generate call [the app's --caption-batch-size, 8]")
    parser.add_argument("--decoding", choices=STRATEGIES, default="beam", help="how the captioner decodes [beam]")
    parser.add_argument("--candidates", type=int, default=3, help="candidates per image, reranked [3]")
    parser.add_argument("--max-length", type=int, default=30, help="most tokens per caption [30]")


def read_done(out: Path) -> tuple[list[str], list[list[str]]]:
    """(header, rows captioned without error) of an earlier run's CSV, if any."""
    if not out.is_file():
        return [], []
    rows = list(csv.reader(io.StringIO(out.read_text("utf-8"))))
    if not rows or rows[0][:2] != ["file", "caption"]:
        raise SystemExit(f"error: '{out}' exists and is not a captions CSV; choose another --out")
    error = rows[0].index("error")
    return rows[0], [row for row in rows[1:] if len(row) == len(rows[0]) and not row[error]]


def write_csv(out: Path, header: list[str], rows: list[list[str]]) -> None:
    from model_zoo.core.storage import atomic_write_text

    buffer = io.StringIO()
    csv.writer(buffer).writerows([header, *rows])
    atomic_write_text(out, buffer.getvalue())


def main(argv: list[str] | None = None) -> int:
    job = sharding.parse_job(argv, PROG, __doc__.split("\n\n")[0], _arguments,
                             settings=("vision", "captioner", "caption_batch_size"), round_size=500)
    from model_zoo.vision import captioning
    from model_zoo.vision import engine as vision
    from model_zoo.core.errors import InputError, WeightsUnavailable

    args = job.args
    options = captioning.CaptionOptions(strategy=args.decoding, num_candidates=args.candidates,
                                        max_new_tokens=args.max_length)
    try:
        options.validated()
    except InputError as exc:
        raise SystemExit(f"error: {exc}") from None
    batch_size = args.batch_size or job.settings.caption_batch_size
    team, settings = sharding.start(job.settings)
    root = args.folder.resolve()
    todo, header, kept = None, [], []
    if team.is_main:
        header, kept = read_done(args.out)
        done = {row[0] for row in kept}
        todo = [p for p in sharding.list_files(root, captioning.IMAGE_SUFFIXES)
                if sharding.relative_name(p, root) not in done]
    todo = team.broadcast(todo)
    manager = sharding.manager_for(settings)
    key = settings.captioner
    if key not in captioning.captioner_keys(manager):
        print(f"error: unknown captioner '{key}'; one of {', '.join(captioning.captioner_keys(manager))}",
              file=sys.stderr)
        return 2
    state = {"captioned": 0, "failed": 0, "header": header, "rows": list(kept), "how": ""}

    def work(share: list[Path], tick: sharding.Tick) -> captioning.BatchResult | None:
        inputs = [captioning.ImageInput(sharding.relative_name(path, root), path) for path in share]
        if not inputs:
            return None
        try:
            return captioning.caption_batch(
                manager,
                inputs,
                options,
                key,
                batch_size,
                on_progress=lambda done, total, what: tick(done * len(share) // max(total, 1)),
            )
        except InputError as exc:  # not one image in this share could be read
            rows = [captioning.BatchRow(item.name, "", None, [], str(exc)) for item in inputs]
            return captioning.BatchResult(rows, 0, len(rows), "", "", "", 0.0, 0.0)

    def write(parts: list[captioning.BatchResult | None]) -> None:
        for part in filter(None, parts):
            lines = list(csv.reader(io.StringIO(captioning.batch_csv(part))))
            state["header"] = state["header"] or lines[0]
            state["rows"] += lines[1:]
            state["captioned"] += part.captioned
            state["failed"] += part.failed
            if part.model:
                state["how"] = f"{part.model}, scored by {part.scored_by}, {part.decoding}"
        write_csv(args.out, state["header"], state["rows"])

    if todo:  # the captioner and the engine reranking it, else the classifier of label-based captions
        has_captioner = manager.weights_problem(key) is None
        sharding.warm_up(team, manager, [key, *vision.engine_keys(manager)] if has_captioner
                         else [captioning.CLASSIFIER_KEY])
    try:
        seconds = sharding.run_rounds(team, todo, args.round_size, work, write, "captioning")
    except WeightsUnavailable as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if team.is_main:
        print(f"{args.out}: {len(state['rows'])} rows; this run {state['captioned']} captioned, {state['failed']} "
              f"unreadable, {len(kept)} kept from an earlier run ({state['how'] or 'nothing to caption'})")
        print(f"{len(todo)} files in {seconds:.1f} s: {state['captioned'] / max(seconds, 1e-9):.2f} images/s")
        print(f"{state['captioned']} files captioned by {team.processes()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
