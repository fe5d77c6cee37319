"""Captioning service: caption one image or a batch, rerank candidates by CLIP.

The captioner proposes N candidates (beam search or nucleus sampling); the shared CLIP,
when its weights are there, scores each against the image and the best match wins.
Without CLIP the candidates keep the captioner's own order (its confidence) and the
result says why. Torch and transformers stay behind the model manager: importing this
module is cheap."""
from __future__ import annotations

import csv
import io
import time
import zipfile
import zlib
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path, PurePosixPath
from typing import Any, Callable, Protocol, Sequence

import numpy as np
from PIL import Image

from . import images as image_io
from .errors import InputError, WeightsUnavailable
from .manager import ModelManager
from .storage import atomic_write_text

CLIP_KEY = "clip"
STRATEGIES = ("greedy", "beam", "nucleus")  # how the captioner decodes (backends.captioner)
MAX_CANDIDATES = 10
MAX_NEW_TOKENS = 100
WORKING_SIDE = 512  # batch images are kept at most this big: captioners see 384 px, CLIP 224
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".gif", ".bmp", ".tif", ".tiff"}

Progress = Callable[[int, int, str], None]  # (done, total, what is happening)


class Draft(Protocol):
    """A caption as the captioner proposes it (backends.captioner.Generated)."""

    text: str
    confidence: float


@dataclass(frozen=True)
class CaptionOptions:
    strategy: str = "beam"  # greedy | beam | nucleus
    num_candidates: int = 3
    max_new_tokens: int = 30
    num_beams: int = 3
    top_p: float = 0.9
    temperature: float = 1.0
    prompt: str = ""  # conditional captioning: the caption continues this text
    rerank: bool = True  # rerank candidates with CLIP when its weights are there

    def validated(self) -> "CaptionOptions":
        """The same options, checked; an InputError says which value is wrong."""
        if self.strategy not in STRATEGIES:
            raise InputError(f"Decoding must be one of {', '.join(STRATEGIES)} (got '{self.strategy}').")
        _check_range("Number of candidates", self.num_candidates, 1, MAX_CANDIDATES)
        _check_range("Maximum length", self.max_new_tokens, 1, MAX_NEW_TOKENS)
        _check_range("Beams", self.num_beams, 1, 16)
        _check_range("top-p", self.top_p, 0.01, 1.0)
        _check_range("Temperature", self.temperature, 0.05, 5.0)
        if len(self.prompt) > 200:
            raise InputError("The prompt is too long: keep it under 200 characters.")
        candidates = 1 if self.strategy == "greedy" else int(self.num_candidates)
        return replace(self, num_candidates=candidates, max_new_tokens=int(self.max_new_tokens),
                       num_beams=int(self.num_beams), prompt=self.prompt.strip())

    def generate_kwargs(self) -> dict[str, Any]:
        kwargs = asdict(self)
        kwargs.pop("rerank")
        return kwargs

    def describe(self) -> str:
        how = {"greedy": "greedy", "beam": f"beam search ({max(self.num_beams, self.num_candidates)} beams)",
               "nucleus": f"nucleus sampling (top-p {self.top_p}, temperature {self.temperature})"}[self.strategy]
        return f"{how}, up to {self.max_new_tokens} tokens" + (f", prompt '{self.prompt}'" if self.prompt else "")


def _check_range(name: str, value: float, low: float, high: float) -> None:
    if not isinstance(value, (int, float)) or not low <= value <= high:
        raise InputError(f"{name} must be between {low} and {high} (got {value!r}).")


@dataclass
class Candidate:
    text: str
    score: float  # what the candidates are ordered by: CLIP similarity, else captioner confidence
    confidence: float  # the captioner's geometric-mean token probability
    clip_similarity: float | None = None  # cosine of CLIP image and text embeddings
    clip_probability: float | None = None  # softmax over the candidates at CLIP's logit scale


@dataclass
class CaptionResult:
    caption: str
    candidates: list[Candidate]
    model: str
    scored_by: str  # "clip" or "captioner"
    decoding: str
    note: str = ""
    timing: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class BatchRow:
    name: str
    caption: str
    score: float | None
    candidates: list[Candidate]
    error: str = ""


@dataclass
class GalleryAdd:
    """What adding a captioned batch to a search gallery did."""

    gallery: str
    added: int
    skipped: int  # already in the gallery (same bytes)
    total: int  # images in the gallery afterwards
    note: str = ""  # why nothing was added, when nothing was


@dataclass
class BatchResult:
    rows: list[BatchRow]
    captioned: int
    failed: int
    model: str
    scored_by: str
    decoding: str
    seconds: float
    images_per_s: float
    note: str = ""
    gallery: GalleryAdd | None = None  # set when the batch was also added to a search gallery

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class ImageInput:
    name: str  # what the user calls it (file name, or member name inside a zip)
    file: Path


# -- one image ------------------------------------------------------------------------
def caption_image(
    manager: ModelManager, image_file: str | Path, options: CaptionOptions = CaptionOptions(),
    captioner_key: str = "captioner",
) -> CaptionResult:
    """Caption one image: validate it, generate candidates, rerank them by CLIP."""
    image = image_io.load_image(image_file)  # a bad image fails here, before any model loads
    options = options.validated()
    started = time.perf_counter()
    with manager.use(captioner_key) as captioner:
        loaded = time.perf_counter()
        generated = captioner.caption([image], **options.generate_kwargs())[0]
        model_name = captioner.name
    captioned = time.perf_counter()
    [candidates], scored_by, note = score_candidates(manager, [image], [generated], options.rerank)
    timing = {"model_s": loaded - started, "caption_s": captioned - loaded,
              "rerank_s": time.perf_counter() - captioned}
    return CaptionResult(
        caption=candidates[0].text if candidates else "",
        candidates=candidates,
        model=model_name,
        scored_by=scored_by,
        decoding=options.describe(),
        note=note,
        timing={k: round(v, 3) for k, v in timing.items()},
    )


# -- reranking --------------------------------------------------------------------------
def rerank(generated: Sequence[Draft], image_vector: np.ndarray, text_vectors: np.ndarray,
           logit_scale: float) -> list[Candidate]:
    """Candidates ordered by CLIP: cosine of unit-norm image and text embeddings, plus the
    softmax over candidates at CLIP's logit scale (how CLIP would pick among them)."""
    similarities = text_vectors @ image_vector
    logits = logit_scale * similarities
    probabilities = np.exp(logits - logits.max())
    probabilities /= probabilities.sum()
    candidates = [
        Candidate(text=g.text, score=round(float(s), 4), confidence=round(float(g.confidence), 4),
                  clip_similarity=round(float(s), 4), clip_probability=round(float(p), 4))
        for g, s, p in zip(generated, similarities, probabilities)
    ]
    return sorted(candidates, key=lambda c: c.score, reverse=True)


def by_confidence(generated: Sequence[Draft]) -> list[Candidate]:
    candidates = [Candidate(text=g.text, score=round(float(g.confidence), 4), confidence=round(float(g.confidence), 4))
                  for g in generated]
    return sorted(candidates, key=lambda c: c.score, reverse=True)


def score_candidates(
    manager: ModelManager, images: Sequence[Image.Image], groups: Sequence[Sequence[Draft]], use_clip: bool = True,
) -> tuple[list[list[Candidate]], str, str]:
    """(candidates per image, scored_by, note). CLIP reranks when asked and available;
    otherwise the captioner's confidence orders them and the note says why."""
    if not use_clip:
        return [by_confidence(g) for g in groups], "captioner", "CLIP reranking is off."
    try:
        with manager.use(CLIP_KEY) as clip:
            image_vectors = clip.embed_images(list(images))
            texts = [g.text for group in groups for g in group]
            text_vectors = clip.embed_texts(texts) if texts else np.zeros((0, clip.dim), np.float32)
            scale = clip.logit_scale
    except WeightsUnavailable as exc:
        note = (f"Not reranked: CLIP weights are not on this machine, so candidates are ordered by the "
                f"captioner's own confidence. To rerank: {exc.how_to_fix}")
        return [by_confidence(g) for g in groups], "captioner", note
    reranked, start = [], 0
    for image_vector, group in zip(image_vectors, groups):
        reranked.append(rerank(group, image_vector, text_vectors[start : start + len(group)], scale))
        start += len(group)
    return reranked, "clip", ""


# -- batches ----------------------------------------------------------------------------
def expand_uploads(files: Sequence[str | Path], workdir: Path, max_images: int) -> list[ImageInput]:
    """Uploaded files as images to caption: zips are opened (safely) into `workdir`.
    Non-image members of a zip are skipped; uploaded files are all kept so that each one
    gets its own row (and its own error if it is not an image)."""
    inputs: list[ImageInput] = []
    for file in map(Path, files):
        if file.suffix.lower() == ".zip":
            inputs.extend(_unzip_images(file, workdir / f"zip{len(inputs)}", max_images - len(inputs), max_images))
        else:
            inputs.append(ImageInput(file.name, file))
        if len(inputs) > max_images:
            raise _too_many(max_images)
    if not inputs:
        raise InputError("Please provide images (or a zip of images) to caption.")
    return inputs


def _too_many(max_images: int) -> InputError:
    return InputError(f"That is more than {max_images} images; caption at most {max_images} at a time "
                      "(the limit is the caption_max_images setting).")


def _unzip_images(archive: Path, into: Path, room: int, max_images: int) -> list[ImageInput]:
    """Image members of a zip, extracted as `into/<number>/<base name>` (no folder from
    the archive reaches the file system), each within the image size limit,
    and no more than `room` of them (counted before anything is written)."""
    try:
        with zipfile.ZipFile(archive) as zipped:
            members = [m for m in zipped.infolist() if _is_image_member(m)]
            if len(members) > room:
                raise _too_many(max_images)
            into.mkdir(parents=True, exist_ok=True)
            inputs = []
            for number, member in enumerate(members):
                if member.file_size > image_io.MAX_BYTES:
                    raise InputError(f"'{member.filename}' in {archive.name} is {member.file_size / 2**20:.0f} MB; "
                                     f"images up to {image_io.MAX_BYTES / 2**20:.0f} MB are accepted.")
                target = into / f"{number:05d}" / PurePosixPath(member.filename).name  # flat, name kept
                target.parent.mkdir()
                with zipped.open(member) as source:
                    target.write_bytes(source.read(image_io.MAX_BYTES + 1))
                inputs.append(ImageInput(member.filename, target))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, EOFError, OSError, RuntimeError) as exc:
        raise InputError(f"'{archive.name}' is not a readable zip archive ({exc}).") from None
    if not inputs:
        raise InputError(f"'{archive.name}' holds no images (looked for {', '.join(sorted(IMAGE_SUFFIXES))}).")
    return inputs


def _is_image_member(member: zipfile.ZipInfo) -> bool:
    path = PurePosixPath(member.filename)
    hidden = any(part.startswith((".", "__MACOSX")) for part in path.parts)
    return not member.is_dir() and not hidden and path.suffix.lower() in IMAGE_SUFFIXES


def caption_batch(
    manager: ModelManager,
    inputs: Sequence[ImageInput],
    options: CaptionOptions = CaptionOptions(),
    captioner_key: str = "captioner",
    batch_size: int = 8,
    on_progress: Progress | None = None,
) -> BatchResult:
    """Caption many images, `batch_size` per generate call. A bad file gets an error row
    and the others carry on; if none is readable, nothing is loaded and InputError says why."""
    options = options.validated()
    report = on_progress or (lambda done, total, what: None)
    decoded, errors = _decode_all(inputs, report)
    if not decoded:
        first = next(iter(errors.values()))
        raise InputError(f"None of the {len(inputs)} files could be read as an image: {first}")
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
    by_index = {index: candidates for (index, _), candidates in zip(decoded, ranked)}
    rows = [_row(item, by_index.get(index), errors.get(index, "")) for index, item in enumerate(inputs)]
    return BatchResult(rows=rows, captioned=len(decoded), failed=len(errors), model=model_name,
                       scored_by=scored_by, decoding=options.describe(), seconds=round(seconds, 3),
                       images_per_s=round(len(decoded) / max(seconds, 1e-9), 3), note=note)


def _decode_all(inputs: Sequence[ImageInput], report: Progress) -> tuple[list[tuple[int, Image.Image]], dict[int, str]]:
    """Every readable image (downsized to a working copy), and an error per unreadable one."""
    decoded, errors = [], {}
    for index, item in enumerate(inputs):
        report(index, len(inputs), "Reading images")
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


def write_batch_csv(result: BatchResult, target: Path) -> Path:
    atomic_write_text(target, batch_csv(result))
    return target


def add_to_gallery(
    manager: ModelManager, gallery_folder: Path, inputs: Sequence[ImageInput], result: BatchResult,
    on_progress: Progress | None = None,
) -> GalleryAdd:
    """The captioned images, each with its best caption, into a search gallery (through
    the search tab's service, so it embeds them with the shared CLIP). Call it while the
    input files still exist. Without CLIP, or with a gallery of another model, nothing is
    added and the note says why; the captions stand either way."""
    from . import search

    captioned = [(item, row) for item, row in zip(inputs, result.rows) if row.candidates]
    captions = {str(item.file): row.caption for item, row in captioned}
    report = on_progress or (lambda done, total, what: None)
    try:
        added = search.add_files(manager, gallery_folder, list(captions), captions,
                                 progress=lambda fraction, what: report(round(fraction * len(captions)),
                                                                        len(captions), what))
    except WeightsUnavailable as exc:
        return GalleryAdd(gallery_folder.name, 0, 0, 0, f"Not added to the gallery: CLIP weights are not on this "
                                                        f"machine. To add: {exc.how_to_fix}")
    except InputError as exc:  # e.g. a gallery built with another CLIP model
        return GalleryAdd(gallery_folder.name, 0, 0, 0, f"Not added to the gallery: {exc}")
    return GalleryAdd(added.gallery, added.added, added.skipped, added.total)


# -- what the tab shows before anything loads -------------------------------------------
def missing_weights(manager: ModelManager, key: str) -> WeightsUnavailable | None:
    """Cheaply (no torch, no transformers): why `key` cannot load here, or None."""
    return manager.weights_problem(key)


def captioner_keys(manager: ModelManager) -> list[str]:
    """Registry keys of every captioner (the tab lets people pick one)."""
    return [key for key in manager.status_keys() if manager.spec(key).role == "captioner"]
