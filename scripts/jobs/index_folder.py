"""Index a folder tree of images into a search gallery, headless: what the Search tab's
upload does, for 100,000 photos.

    python -m scripts.jobs.index_folder DIR --gallery NAME [--data-dir D] [--batch-size 32]
    accelerate launch --multi_gpu --num_processes 2 -m scripts.jobs.index_folder DIR --gallery NAME

The gallery is <data dir>/galleries/NAME, where the app finds it. Images are embedded by
the app's engine (model_zoo.vision.engine: CLIP where its weights are, else the label bridge; a
gallery keeps the space it was built in) through model_zoo.vision.search.embed_sources, the same
code as the tab: hash, decode, thumbnail, embed, skip bytes the gallery already holds. Each
process embeds its share of a round; the main process adds the round to the FAISS index
and saves it (model_zoo.vision.search.commit_embedded: exact, IVF past the gallery's exact limit;
atomic). A rerun skips every file already in the gallery, by content hash, so an
interrupted run resumes. Ids follow the file order: one process or many give the same
gallery. The last line reads `N files indexed by P processes`."""
from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass, field
from pathlib import Path

from scripts.jobs import sharding

PROG = "python -m scripts.jobs.index_folder"


def _arguments(parser: argparse.ArgumentParser) -> None:
    from model_zoo.vision.search import BATCH_SIZE

    parser.add_argument("folder", type=Path, metavar="DIR", help="folder of images (searched recursively)")
    parser.add_argument("--gallery", required=True, help="gallery name (letters, digits, '-', '_', '.')")
    parser.add_argument("--batch-size", type=int, default=BATCH_SIZE,
                        help=f"images per forward pass of the image model [{BATCH_SIZE}]")


@dataclass
class Totals:
    added: int = 0
    skipped: int = 0  # already in the gallery, or a duplicate of an earlier file
    rejected: list[dict] = field(default_factory=list)


def main(argv: list[str] | None = None) -> int:
    job = sharding.parse_job(argv, PROG, __doc__.split("\n\n")[0], _arguments, settings=("vision",))
    from model_zoo.vision import search
    from model_zoo.vision import engine as vision
    from model_zoo.core.errors import InputError, WeightsUnavailable

    args = job.args
    if args.batch_size < 1:
        raise SystemExit("error: --batch-size must be at least 1")
    try:
        folder = search.gallery_dir(job.settings.data_dir / "galleries", args.gallery)
    except InputError as exc:
        raise SystemExit(f"error: {exc}") from None
    team, settings = sharding.start(job.settings)
    root = args.folder.resolve()
    files = team.broadcast(sharding.list_files(root, search.IMAGE_SUFFIXES) if team.is_main else None)
    manager = sharding.manager_for(settings)
    gallery = search.open_gallery(folder)  # every process: what is committed (its hashes, its space)
    kind = vision.space_engine(gallery.model) or vision.mode(manager)
    missing = vision.problem(manager, kind)
    if missing is not None:
        print(f"error: the image engine ({kind}) cannot run here: {missing.detail} How to fix: {missing.how_to_fix}",
              file=sys.stderr)
        return 2
    if files:
        sharding.warm_up(team, manager, vision.engine_keys(manager, kind))
    totals = Totals()

    def work(share: list[Path], tick: sharding.Tick) -> search.Embedded:
        sources = [search.Source(sharding.relative_name(path, root), path) for path in share]
        return search.embed_sources(manager, sources, gallery.model, gallery.has_hash, gallery.check_model,
                                    progress=lambda fraction, what: tick(round(fraction * len(share))),
                                    batch_size=args.batch_size)

    def write(parts: list[search.Embedded]) -> None:
        merged = search.Embedded.merged(parts)
        ids, raced = search.commit_embedded(gallery, merged)
        totals.added += len(ids)
        totals.skipped += merged.skipped + raced
        totals.rejected += merged.rejected

    try:
        seconds = sharding.run_rounds(team, files, args.round_size, work, write, f"indexing into '{gallery.name}'")
    except (InputError, WeightsUnavailable) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if team.is_main:
        report(gallery, files, totals, seconds, team)
    return 0


def report(gallery, files: list[Path], totals: Totals, seconds: float, team: sharding.Team) -> None:
    from model_zoo.vision import engine as vision

    for rejected in totals.rejected[:20]:
        print(f"skipped {rejected['name']}: {rejected['reason']}", file=sys.stderr)
    if len(totals.rejected) > 20:
        print(f"... and {len(totals.rejected) - 20} more unreadable files", file=sys.stderr)
    embedded = len(files) - totals.skipped - len(totals.rejected)
    print(f"gallery '{gallery.name}' ({gallery.folder}): {totals.added} added, {totals.skipped} already there "
          f"or duplicates, {len(totals.rejected)} unreadable; {len(gallery)} images, {gallery.kind} index, "
          f"engine {vision.space_engine(gallery.model)} ({gallery.model})")
    print(f"{len(files)} files in {seconds:.1f} s: {embedded / max(seconds, 1e-9):.1f} images/s embedded")
    print(f"{totals.added} files indexed by {team.processes()}")


if __name__ == "__main__":
    sys.exit(main())
