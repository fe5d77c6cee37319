"""Indexing images into a gallery: uploads, zips and folders are expanded and checked,
embedded in batches with the image engine (CLIP, or the label bridge with its visual
index), previewed as small JPEGs, and committed at once, so an interrupted job leaves the
gallery as it was. Where the OCR's weights are (registry `ocr`), each image's text is read and
stored with it, cheaply: the detector first, the recogniser only where it found a text box
(model_zoo.vision.ocr.service.read_if_any). Images already in a gallery whose text was never
read (an older gallery) get it when they are added again. Re-indexing a label-bridge
gallery into CLIP lives here too."""
from __future__ import annotations

import io
import logging
import tempfile
import time
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Callable, Mapping, Sequence

import numpy as np
from PIL import Image

from model_zoo.vision import engine as vision
from model_zoo.vision.ocr import service as ocr
from model_zoo.core.errors import InputError
from model_zoo.vision.images import load_image
from model_zoo.core.manager import ModelManager
from model_zoo.core import uploads
from model_zoo.core.ownership import Unlimited
from model_zoo.core.uploads import UploadLimits
from model_zoo.core.storage import sha256_file

from model_zoo.vision.search.galleries import (GalleryRegistry, commit_change, gallery_info, open_gallery,
                                              thumbnail_file)

if TYPE_CHECKING:
    from model_zoo.vision.search.gallery import Gallery


CLIP_KEY = vision.CLIP_KEY
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".gif", ".bmp", ".tif", ".tiff"}
THUMBNAIL_SIZE = (192, 192)
BATCH_SIZE = 32

Progress = Callable[[float, str], None]
log = logging.getLogger(__name__)


@dataclass
class IndexReport:
    added: int  # new images now in the gallery
    skipped: int  # duplicates (same bytes as an image already there or earlier in the batch)
    total: int  # images in the gallery afterwards
    gallery: str
    model: str | None
    rejected: list[dict] = field(default_factory=list)  # [{name, reason}] files that are not usable images
    ids: list[int] = field(default_factory=list)  # ids of the added images, in input order
    seconds: float = 0.0
    engine: str | None = None  # clip | labels: which engine embedded them
    with_text: int = 0  # added images (or images already there, read now) in which text was found
    note: str = ""  # the uploads refused before decoding, summed up in one sentence ("" when none)


@dataclass
class _Source:
    name: str
    file: Path
    caption: str | None = None
    text: str | None = None  # already read (re-indexing keeps it): not read again


Source = _Source  # public name: what embed_sources reads (a name to show, a file, a caption)

def add_files(
    manager: ModelManager,
    folder: Path,
    files: Sequence[str | Path],
    captions: Mapping[str, str] | None = None,
    progress: Progress | None = None,
    read_text: bool = True,
    quota: Unlimited | None = None,
    limits: UploadLimits | None = None,
    galleries: GalleryRegistry | None = None,
) -> IndexReport:
    """Add image files (or zips of images) to the gallery in `folder`. Stable entry point
    for other tabs: `captions` maps a file path as given to a caption stored with it.
    Duplicates (same bytes) are skipped; unreadable files are listed in `rejected`; if no
    file is usable the call fails with their reasons and the gallery is untouched. `quota`:
    the gallery owner's (model_zoo.core.ownership), admitting the save's bytes; `limits`: what
    the files may be (model_zoo.core.uploads, the reader every upload path shares); `galleries`:
    the process's open galleries (StudioContext.galleries; without it the gallery is read from
    disk for this call alone)."""
    captions = {str(k): v for k, v in (captions or {}).items()}
    with tempfile.TemporaryDirectory(prefix="mms-index-") as scratch:
        sources, read = _expand(files, Path(scratch), captions, limits or UploadLimits())
        return _index(manager, folder, sources, read.rejected, progress, read_text, quota, read.summary("file"),
                      galleries)


def add_folder(
    manager: ModelManager, folder: Path, root: Path, server_folder: str, progress: Progress | None = None,
    read_text: bool = True, quota: Unlimited | None = None, galleries: GalleryRegistry | None = None,
) -> IndexReport:
    """Add every image under `server_folder`, which must lie inside the allowlisted `root`."""
    files = folder_images(root, server_folder)
    return _index(manager, folder, [_Source(f.name, f) for f in files], [], progress, read_text, quota,
                  galleries=galleries)


def resolve_in_root(root: Path, requested: str) -> Path:
    """`requested` (relative to root, or absolute) as a real folder inside `root`: no `..`,
    and no symlink that leads outside."""
    root = Path(root).expanduser().resolve()
    requested = (requested or "").strip()
    if not requested:
        raise InputError(f"Give a folder inside {root}.")
    if ".." in Path(requested).parts:
        raise InputError("Folder paths may not contain '..'.")
    candidate = Path(requested).expanduser()
    real = (candidate if candidate.is_absolute() else root / candidate).resolve()
    if not real.is_relative_to(root):
        raise InputError(f"'{requested}' is outside the folder the server may index ({root}).")
    if not real.is_dir():
        raise InputError(f"'{requested}' is not a folder inside {root}.")
    return real


def folder_images(root: Path, requested: str) -> list[Path]:
    real_root = Path(root).expanduser().resolve()
    folder = resolve_in_root(real_root, requested)
    files = sorted(p for p in folder.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file()
                   and p.resolve().is_relative_to(real_root))  # a symlinked file may not escape either
    if not files:
        raise InputError(f"No images ({', '.join(sorted(IMAGE_SUFFIXES))}) in '{requested}'.")
    return files


def _expand(files: Sequence[str | Path], scratch: Path, captions: Mapping[str, str],
            limits: UploadLimits) -> tuple[list[_Source], uploads.Uploads]:
    """The images among the uploads (zips opened by model_zoo.core.uploads: its limits, its
    safe names, each refusal named), and what was read."""
    if not files:
        raise InputError("Choose one or more images (or a .zip of images) to add.")
    read = uploads.read_uploads(files, scratch, limits, members=IMAGE_SUFFIXES, what="image")
    # a zip member is shown by its own file name (its folders inside the zip are no part of it)
    return [_Source(PurePosixPath(f.name).name if f.archive else f.name, f.file, captions.get(f.given))
            for f in read.files], read


def _thumbnail_jpeg(image: Image.Image) -> bytes:
    thumb = image.copy()
    thumb.thumbnail(THUMBNAIL_SIZE)
    buffer = io.BytesIO()
    thumb.save(buffer, "JPEG", quality=85)
    return buffer.getvalue()


@dataclass
class Embedded:
    """Files embedded but not yet in a gallery: the half of indexing that can run anywhere
    (another process or machine, see scripts/jobs/index_folder.py); commit_embedded adds it."""

    items: list  # [gallery.NewItem] in input order, each with its thumbnail
    vectors: np.ndarray | None  # (len(items), d) in the engine's space
    visual: np.ndarray | None  # (len(items), d') label-bridge visual vectors, else None
    model: str | None  # the space's name (None: nothing embedded and the gallery was empty)
    kind: str | None  # clip | labels
    skipped: int = 0  # duplicates of known bytes, or of an earlier file here
    rejected: list[dict] = field(default_factory=list)  # [{name, reason}]
    known_texts: dict[str, str] = field(default_factory=dict)  # sha256 -> text read for images already there

    @classmethod
    def merged(cls, parts: Sequence["Embedded"]) -> "Embedded":
        """The parts one after another, as if one call had embedded all their files."""
        vectors = [p.vectors for p in parts if p.vectors is not None and len(p.items)]
        visual = [p.visual for p in parts if p.visual is not None and len(p.items)]
        spaces = [p for p in parts if p.items] or list(parts)
        return cls(items=[item for p in parts for item in p.items],
                   vectors=np.concatenate(vectors) if vectors else None,
                   visual=np.concatenate(visual) if visual else None,
                   model=spaces[0].model if spaces else None, kind=spaces[0].kind if spaces else None,
                   skipped=sum(p.skipped for p in parts), rejected=[r for p in parts for r in p.rejected],
                   known_texts={sha: text for p in parts for sha, text in p.known_texts.items()})


def can_read_text(manager: ModelManager) -> bool:
    """The OCR is in the registry and its weights are here (cheap: no load)."""
    return ocr.OCR_KEY in manager.status_keys() and manager.weights_problem(ocr.OCR_KEY) is None


def _text_of(manager: ModelManager, image: Image.Image, name: str) -> str | None:
    """The image's text for the index; None (not read) if the OCR fails: indexing goes on."""
    try:
        return ocr.read_if_any(manager, image)
    except Exception:  # a failed reading never costs the image its place
        log.exception("reading the text in %s failed", name)
        return None


def embed_sources(manager: ModelManager, sources: Sequence[_Source], space: str | None,
                  known: Callable[[str], bool] = lambda sha: False,
                  check: Callable[[str, int], None] | None = None,
                  progress: Progress | None = None, batch_size: int = BATCH_SIZE, read_text: bool = True,
                  needs_text: Callable[[str], bool] = lambda sha: False) -> Embedded:
    """Hash, decode, thumbnail and embed `sources` in the gallery's space `space` (None: the
    engine answering now). Bytes `known` already, or seen earlier here, are skipped; the
    engine loads only when a first image needs it, and `check(name, dim)` may refuse it.
    With read_text (and the OCR here), each image's text is read too, and so is that of
    known images that `needs_text` (their text was never read)."""
    from model_zoo.vision.search.gallery import NewItem

    progress = progress or (lambda fraction, desc: None)
    seen: set[str] = set()
    skipped = 0
    rejected: list[dict] = []
    batch: list[tuple[_Source, str, Image.Image]] = []
    vectors: list[np.ndarray] = []
    visuals: list[np.ndarray] = []
    items: list[NewItem] = []
    known_texts: dict[str, str] = {}
    ocr_on = read_text and can_read_text(manager)
    model_name, kind = space, vision.space_engine(space)
    with ExitStack() as stack:
        engine = None

        def embed_batch() -> None:
            nonlocal engine, model_name, kind
            if engine is None:  # first usable image: only now is the model worth loading
                progress(len(items) / max(1, len(sources)), "Loading the image model")
                engine = stack.enter_context(vision.open_engine(manager, kind))
                if check is not None:
                    check(engine.name, engine.dim)
                model_name, kind = engine.name, engine.kind
            images = [image for _, _, image in batch]
            seen_in = [None] * len(images)
            if engine.kind == "labels":  # one forward pass: the text-space and the visual vectors
                reading = engine.read(images)
                vectors.append(reading.semantic)
                visuals.append(reading.visual)
                seen_in = [engine.seen(reading, number).brief() for number in range(len(images))]
            else:
                vectors.append(engine.embed_images(images))
            texts = [s.text if s.text is not None or not ocr_on else _text_of(manager, image, s.name)
                     for s, _, image in batch]
            items.extend(NewItem(s.name, sha, _thumbnail_jpeg(image), s.caption, text, seen)
                         for (s, sha, image), text, seen in zip(batch, texts, seen_in))
            batch.clear()
            log.info("indexing: embedded %d of %d images", len(items), len(sources))

        for number, source in enumerate(sources):
            progress(number / len(sources), f"Reading {source.name} ({number + 1}/{len(sources)})")
            try:
                sha = sha256_file(source.file)
            except OSError:
                rejected.append({"name": source.name, "reason": f"'{source.name}' could not be read."})
                continue
            if sha in seen or known(sha):
                skipped += 1
                if ocr_on and sha not in seen and sha not in known_texts and needs_text(sha):
                    try:
                        text = _text_of(manager, load_image(source.file), source.name)
                    except InputError:
                        text = None
                    if text is not None:
                        known_texts[sha] = text
                continue
            try:
                image = load_image(source.file)
            except InputError as exc:
                rejected.append({"name": source.name, "reason": str(exc)})
                continue
            seen.add(sha)
            batch.append((source, sha, image))
            if len(batch) == batch_size:
                embed_batch()
        if batch:
            embed_batch()
    return Embedded(items, np.concatenate(vectors) if vectors else None,
                    np.concatenate(visuals) if visuals else None, model_name, kind, skipped, rejected, known_texts)


def commit_embedded(gallery: "Gallery", embedded: Embedded, quota: Unlimited | None = None) -> tuple[list[int], int]:
    """Add embedded items to the gallery and save it (atomically). Items whose bytes the
    gallery holds by now (another request, another process) or that `embedded` holds twice
    are left out. Text read for images already there is stored with them. Returns (ids
    added, in order; items left out). `quota`: the owner's, admitting each save's bytes."""
    if embedded.known_texts:
        commit_change(gallery, lambda: gallery.set_texts(embedded.known_texts), quota)
    if not embedded.items:
        return [], 0
    with gallery.writing():  # what other processes committed is read first: dedup sees it
        fresh, hashes = [], set()
        for n, item in enumerate(embedded.items):
            if not gallery.has_hash(item.sha256) and item.sha256 not in hashes:
                fresh.append(n)
                hashes.add(item.sha256)
        ids: list[int] = []
        if fresh:
            matrix = embedded.vectors[fresh]
            visual = embedded.visual[fresh] if embedded.visual is not None else None
            ids = commit_change(gallery, lambda: gallery.add(matrix, [embedded.items[n] for n in fresh],
                                                       embedded.model, visual), quota)
    return ids, len(embedded.items) - len(fresh)


def _index(manager: ModelManager, folder: Path, sources: list[_Source], rejected: list[dict],
           progress: Progress | None, read_text: bool = True, quota: Unlimited | None = None,
           refused: str = "", galleries: GalleryRegistry | None = None) -> IndexReport:
    started = time.perf_counter()
    progress = progress or (lambda fraction, desc: None)
    gallery = open_gallery(folder, galleries)
    embedded = embed_sources(manager, sources, gallery.model, gallery.has_hash, gallery.check_model, progress,
                             read_text=read_text, needs_text=gallery.needs_text)
    rejected.extend(embedded.rejected)
    if not embedded.items and not embedded.skipped and (rejected or not sources):
        raise InputError(_nothing_added(rejected, refused))
    if embedded.items:
        progress(1.0, "Saving the index")
    ids, raced = commit_embedded(gallery, embedded, quota)  # raced: duplicates added meanwhile
    return IndexReport(added=len(ids), skipped=embedded.skipped + raced, total=len(gallery), gallery=gallery.name,
                       model=gallery.model or embedded.model, rejected=rejected, ids=ids,
                       seconds=round(time.perf_counter() - started, 3),
                       engine=vision.space_engine(gallery.model) or embedded.kind,
                       with_text=sum(1 for item in embedded.items if item.text)
                       + sum(1 for text in embedded.known_texts.values() if text),
                       note=refused)


def _nothing_added(rejected: list[dict], refused: str) -> str:
    """Why not one image was added, in a few sentences: the summary, then the first reasons."""
    if not rejected:
        return "No image was added: the upload held no files."
    shown = " ".join(r["reason"] for r in rejected[:5])
    more = f" ... and {len(rejected) - 5} more (see 'rejected')." if len(rejected) > 5 else ""
    return f"No image was added. {refused + ' ' if refused else ''}{shown}{more}"


def can_reindex_into_clip(manager: ModelManager, folder: Path) -> bool:
    """A label-bridge gallery, and CLIP can load here: the tab offers to re-index it."""
    info = gallery_info(folder)
    return info.engine == "labels" and info.images > 0 and manager.weights_problem(CLIP_KEY) is None


def reindex(manager: ModelManager, folder: Path, target: Path, progress: Progress | None = None,
            quota: Unlimited | None = None, galleries: GalleryRegistry | None = None) -> IndexReport:
    """Build gallery `target` from `folder`'s images (their stored previews) in the engine
    answering now, captions and text kept (text never read is read from the previews). The
    source gallery is left as it is."""
    info = gallery_info(folder)
    if not info.images:
        raise InputError(f"Gallery '{info.gallery}' is empty: nothing to re-index.")
    if Path(target).resolve() == Path(folder).resolve():
        raise InputError("Re-index into a new gallery name; the original stays as it is.")
    sources = []
    for item in info.items:
        thumb = thumbnail_file(folder, item["id"])
        if thumb is not None:
            sources.append(_Source(item["name"], thumb, item.get("caption"), item.get("text")))
    if not sources:
        raise InputError(f"Gallery '{info.gallery}' has no stored previews to re-index from.")
    return _index(manager, target, sources, [], progress, quota=quota, galleries=galleries)
