"""Captioning many images: `batch_size` per generate call, a row per file (a bad file gets
an error row and the others carry on), label-based where the captioner has no weights;
the batch as CSV, and its images with their best captions into a search gallery."""
from __future__ import annotations

import csv
import io
import time
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Sequence

from PIL import Image

from model_zoo.vision import images as image_io
from model_zoo.vision.captioning.labels import label_captions, label_count, label_decoding, label_note
from model_zoo.vision.captioning.options import CaptionOptions
from model_zoo.vision.captioning.rerank import Draft, score_candidates
from model_zoo.vision.captioning.results import BatchResult, BatchRow, Candidate, GalleryAdd
from model_zoo.vision.captioning.uploads import ImageInput
from model_zoo.core.errors import InputError, WeightsUnavailable
from model_zoo.core.manager import ModelManager
from model_zoo.core.ownership import NO_QUOTA, Unlimited
from model_zoo.core.storage import atomic_write_bytes

if TYPE_CHECKING:
    from model_zoo.vision.search.galleries import GalleryRegistry

WORKING_SIDE = 512  # batch images are kept at most this big: captioners see 384 px, CLIP 224

Progress = Callable[[int, int, str], None]  # (done, total, what is happening)


def caption_batch(
    manager: ModelManager,
    inputs: Sequence[ImageInput],
    options: CaptionOptions = CaptionOptions(),
    captioner_key: str = "captioner",
    batch_size: int = 8,
    on_progress: Progress | None = None,
) -> BatchResult:
    """Caption many images, `batch_size` per generate call. A bad file gets an error row
    and the others carry on; if none is readable, nothing is loaded and InputError says why.
    Without the captioner's weights the captions are label-based (see caption_image)."""
    labels_wanted = label_count(options)
    options = options.validated()
    report = on_progress or (lambda done, total, what: None)
    decoded, errors = _decode_all(inputs, report)
    if not decoded:
        first = next(iter(errors.values()))
        raise InputError(f"None of the {len(inputs)} files could be read as an image: {first}")
    missing = manager.weights_problem(captioner_key)
    if missing is None:
        try:
            return _batch_with_captioner(manager, inputs, decoded, errors, options, captioner_key, batch_size, report)
        except WeightsUnavailable as exc:  # listed as present, but it would not load
            if exc.model_key != captioner_key:
                raise
            missing = exc
    started = time.perf_counter()
    report(0, len(decoded), "Captioning from ImageNet labels")
    captions = label_captions(
        manager, [image for _, image in decoded], labels_wanted, missing, batch_size=max(int(batch_size), 1),
        on_chunk=lambda done: report(done, len(decoded), "Captioning from ImageNet labels"))
    ranked, model_name = captions.groups, captions.model
    seconds = time.perf_counter() - started
    return _batch_result(inputs, decoded, errors, ranked, model=model_name, scored_by="labels",
                         decoding=label_decoding(labels_wanted), seconds=seconds,
                         note=label_note(manager, captioner_key, missing, options), engine="labels",
                         captions_from="labels")


def _batch_with_captioner(manager: ModelManager, inputs: Sequence[ImageInput], decoded: list[tuple[int, Image.Image]],
                          errors: dict[int, str], options: CaptionOptions, captioner_key: str, batch_size: int,
                          report: Progress) -> BatchResult:
    started = time.perf_counter()
    groups: list[list[Draft]] = []
    with manager.use(captioner_key) as captioner:
        model_name = captioner.name
        report(0, len(decoded), "Captioning")
        for start in range(0, len(decoded), batch_size):
            chunk = [image for _, image in decoded[start : start + batch_size]]
            groups.extend(captioner.caption(chunk, **options.generate_kwargs()))
            report(len(groups), len(decoded), "Captioning")
    seconds = time.perf_counter() - started
    report(len(decoded), len(decoded), "Scoring candidates")
    ranked, scored_by, note = score_candidates(manager, [image for _, image in decoded], groups, options.rerank)
    return _batch_result(inputs, decoded, errors, ranked, model=model_name, scored_by=scored_by,
                         decoding=options.describe(), seconds=seconds, note=note, engine=scored_by,
                         captions_from="captioner")


def _batch_result(inputs: Sequence[ImageInput], decoded: list[tuple[int, Image.Image]], errors: dict[int, str],
                  ranked: Sequence[list[Candidate]], *, model: str, scored_by: str, decoding: str, seconds: float,
                  note: str, engine: str, captions_from: str) -> BatchResult:
    by_index = {index: candidates for (index, _), candidates in zip(decoded, ranked)}
    rows = [_row(item, by_index.get(index), errors.get(index, "")) for index, item in enumerate(inputs)]
    return BatchResult(rows=rows, captioned=len(decoded), failed=len(errors), model=model, scored_by=scored_by,
                       decoding=decoding, seconds=round(seconds, 3),
                       images_per_s=round(len(decoded) / max(seconds, 1e-9), 3), note=note, engine=engine,
                       captions_from=captions_from)


def _decode_all(inputs: Sequence[ImageInput], report: Progress) -> tuple[list[tuple[int, Image.Image]], dict[int, str]]:
    """Every readable image (downsized to a working copy), and an error per unreadable one."""
    decoded, errors = [], {}
    for index, item in enumerate(inputs):
        report(index, len(inputs), "Reading images")
        if item.file is None:  # refused by the upload reader: its reason is the row's error
            errors[index] = item.error or f"'{item.name}' was not read."
            continue
        try:
            image = image_io.load_image(item.file)
        except InputError as exc:
            errors[index] = str(exc).replace(f"'{item.file.name}'", f"'{item.name}'")
            continue
        image.thumbnail((WORKING_SIDE, WORKING_SIDE))
        decoded.append((index, image))
    return decoded, errors


def _row(item: ImageInput, candidates: list[Candidate] | None, error: str) -> BatchRow:
    if not candidates:
        return BatchRow(item.name, "", None, [], error or "no caption was generated")
    return BatchRow(item.name, candidates[0].text, candidates[0].score, candidates)


def batch_csv(result: BatchResult) -> str:
    """The batch as CSV: one row per file, best caption first, the other candidates after."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["file", "caption", "score", "scored_by", "other_candidates", "error"])
    for row in result.rows:
        others = " | ".join(c.text for c in row.candidates[1:])
        score = "" if row.score is None else f"{row.score:.4f}"
        writer.writerow([row.name, row.caption, score, result.scored_by if row.candidates else "", others, row.error])
    return buffer.getvalue()


def write_batch_csv(result: BatchResult, target: Path, quota: Unlimited | None = None) -> Path:
    """The batch as a CSV at `target`, its bytes admitted by the owner's `quota` if given."""
    data = batch_csv(result).encode("utf-8")
    with (quota or NO_QUOTA).reserve(len(data)):
        atomic_write_bytes(target, data)
    return target


def add_to_gallery(
    manager: ModelManager, gallery_folder: Path, inputs: Sequence[ImageInput], result: BatchResult,
    on_progress: Progress | None = None, quota: Unlimited | None = None, galleries: GalleryRegistry | None = None,
) -> GalleryAdd:
    """The captioned images, each with its best caption, into a search gallery (through
    the search tab's service, so it embeds them with the shared image engine: CLIP, else
    the label bridge). Call it while the input files still exist. Where no engine can
    run, or the gallery was built in another space, nothing is added and the note says
    why; the captions stand either way. `galleries`: the process's open galleries
    (model_zoo.vision.search.add_files)."""
    from model_zoo.vision import search

    captioned = [(item, row) for item, row in zip(inputs, result.rows) if row.candidates and item.file is not None]
    captions = {str(item.file): row.caption for item, row in captioned}
    report = on_progress or (lambda done, total, what: None)
    try:
        added = search.add_files(manager, gallery_folder, list(captions), captions,
                                 progress=lambda fraction, what: report(round(fraction * len(captions)),
                                                                        len(captions), what), quota=quota,
                                 galleries=galleries)
    except WeightsUnavailable as exc:
        return GalleryAdd(gallery_folder.name, 0, 0, 0, f"Not added to the gallery: the image engine cannot run on "
                                                        f"this machine: {exc.detail} To add: {exc.how_to_fix}")
    except InputError as exc:  # e.g. a gallery built with another engine or model
        return GalleryAdd(gallery_folder.name, 0, 0, 0, f"Not added to the gallery: {exc}")
    return GalleryAdd(added.gallery, added.added, added.skipped, added.total)
