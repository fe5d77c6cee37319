"""Image-text search service: index images into named galleries, query them by text, by
image or by both, and classify an image zero-shot against labels. Everything the Search
tab and its endpoints do; no gradio here.

The engine (model_zoo.vision.engine) is CLIP where its weights are, else the label bridge. A
gallery keeps the space it was built in and is always searched in it. Label-bridge
galleries hold a second, visual index (the classifier's features): image queries and
"more like this" search it, so they find look-alikes; image + text fuses the visual
similarity with the text similarity (standardised, weighted).

Inputs are validated before any model loads (k, labels, the image itself, an empty
gallery), so a bad request gets its own error even where the CLIP weights are missing.
Imports faiss (via model_zoo.vision.gallery) lazily: importing this module stays cheap."""
from __future__ import annotations

import io
import json
import re
import tempfile
import time
import zipfile
from contextlib import ExitStack
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Callable, Mapping, Sequence

import numpy as np
from PIL import Image

from model_zoo.vision import engine as vision
from model_zoo.core.errors import InputError
from model_zoo.vision.images import MAX_BYTES, load_image
from model_zoo.core.manager import ModelManager
from model_zoo.core.storage import sha256_file

if TYPE_CHECKING:
    from model_zoo.vision.gallery import Gallery

CLIP_KEY = vision.CLIP_KEY
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".gif", ".bmp", ".tif", ".tiff"}
_GALLERY_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
MAX_K = 100
MAX_LABELS = 64
MAX_ZIP_MEMBERS = 5000
MAX_ZIP_TOTAL_BYTES = 2 << 30
THUMBNAIL_SIZE = (192, 192)
BATCH_SIZE = 32
# Prompt ensembling as in the CLIP paper: each label's text vector is the mean over templates.
DEFAULT_TEMPLATES = (
    "a photo of a {}.",
    "a close-up photo of a {}.",
    "a photo of the {}.",
    "a blurry photo of a {}.",
    "a black and white photo of a {}.",
    "a painting of a {}.",
)

Progress = Callable[[float, str], None]


# -- results ---------------------------------------------------------------------------
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


@dataclass
class SearchResult:
    results: list[dict]  # [{id, name, score, caption}] best first
    model: str
    gallery: str
    mode: str  # text | image | image+text | similar
    timing: dict  # {encode_ms, search_ms}
    engine: str = "clip"  # clip | labels
    note: str = ""


@dataclass
class ClassifyResult:
    scores: dict[str, float]  # label -> probability, best first
    model: str
    templates: list[str]
    engine: str = "clip"  # clip | labels
    seen: list[dict] = field(default_factory=list)  # labels engine: the classifier's top ImageNet labels [{label, p}]


@dataclass
class GalleryInfo:
    gallery: str
    images: int
    model: str | None
    index: str  # exact | ivf | empty
    items: list[dict]  # [{id, name, caption}]
    engine: str | None = None  # clip | labels | None (empty)


@dataclass
class _Source:
    name: str
    file: Path
    caption: str | None = None


Source = _Source  # public name: what embed_sources reads (a name to show, a file, a caption)


# -- galleries -------------------------------------------------------------------------
def check_gallery_name(name: str) -> str:
    """A gallery name is a single safe folder name: it can never point outside the root."""
    name = (name or "").strip()
    if not _GALLERY_NAME.match(name):
        raise InputError(f"'{name}' is not a usable gallery name: use letters, digits, '-', '_' or '.', "
                         "up to 64 characters, starting with a letter or digit.")
    return name


def gallery_dir(galleries_root: Path, name: str) -> Path:
    return Path(galleries_root) / check_gallery_name(name)


def list_galleries(galleries_root: Path) -> list[str]:
    root = Path(galleries_root)
    return sorted(p.parent.name for p in root.glob("*/manifest.json")) if root.is_dir() else []


def _open(folder: Path) -> "Gallery":
    from model_zoo.vision.gallery import open_gallery

    return open_gallery(folder)


def gallery_info(folder: Path) -> GalleryInfo:
    """What the gallery's manifest (its last committed state) says; reads JSON only, no faiss."""
    manifest_file = Path(folder) / "manifest.json"
    if not manifest_file.is_file():
        return GalleryInfo(Path(folder).name, 0, None, "empty", [])
    manifest = json.loads(manifest_file.read_text("utf-8"))
    items = [{"id": i["id"], "name": i["name"], "caption": i.get("caption")} for i in manifest["items"]]
    return GalleryInfo(Path(folder).name, len(items), manifest["model"], manifest["kind"] if items else "empty", items,
                       vision.space_engine(manifest["model"]))


def remove_images(folder: Path, ids: Sequence[int]) -> GalleryInfo:
    """Remove images by id (no model needed); unknown ids are an error, nothing changes."""
    gallery = _open(folder)
    wanted = [int(i) for i in ids]
    if not wanted:
        raise InputError("Give the id(s) of the image(s) to remove.")
    with gallery.lock:
        unknown = [i for i in wanted if i not in gallery.items]
        if unknown:
            raise InputError(f"Gallery '{gallery.name}' has no image with id {', '.join(map(str, unknown))}.")
        _commit(gallery, lambda: gallery.remove(wanted))
    return gallery_info(folder)


def thumbnail_file(folder: Path, item_id: int) -> Path | None:
    path = Path(folder) / "thumbs" / f"{int(item_id)}.jpg"
    return path if path.is_file() else None


def _commit(gallery: "Gallery", change: Callable[[], object]) -> object:
    """Apply a change and save; on failure forget the in-memory state so the next use
    reads the last good gallery from disk."""
    from model_zoo.vision.gallery import forget_open_galleries

    try:
        result = change()
        gallery.save()
        return result
    except BaseException:
        forget_open_galleries()
        raise


# -- indexing --------------------------------------------------------------------------
def add_files(
    manager: ModelManager,
    folder: Path,
    files: Sequence[str | Path],
    captions: Mapping[str, str] | None = None,
    progress: Progress | None = None,
) -> IndexReport:
    """Add image files (or zips of images) to the gallery in `folder`. Stable entry point
    for other tabs: `captions` maps a file path as given to a caption stored with it.
    Duplicates (same bytes) are skipped; unreadable files are listed in `rejected`; if no
    file is usable the call fails with their reasons and the gallery is untouched."""
    captions = {str(k): v for k, v in (captions or {}).items()}
    with tempfile.TemporaryDirectory(prefix="mms-index-") as scratch:
        sources, rejected = _expand(files, Path(scratch), captions)
        return _index(manager, folder, sources, rejected, progress)


def add_folder(
    manager: ModelManager, folder: Path, root: Path, server_folder: str, progress: Progress | None = None
) -> IndexReport:
    """Add every image under `server_folder`, which must lie inside the allowlisted `root`."""
    files = folder_images(root, server_folder)
    return _index(manager, folder, [_Source(f.name, f) for f in files], [], progress)


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


def _expand(files: Sequence[str | Path], scratch: Path, captions: Mapping[str, str]) -> tuple[list[_Source], list[dict]]:
    if not files:
        raise InputError("Choose one or more images (or a .zip of images) to add.")
    sources: list[_Source] = []
    rejected: list[dict] = []
    for given in files:
        path = Path(given)
        if path.suffix.lower() == ".zip":
            try:
                sources += _unzip(path, scratch / f"zip{len(sources)}")
            except InputError as exc:
                rejected.append({"name": path.name, "reason": str(exc)})
        else:
            sources.append(_Source(path.name, path, captions.get(str(given))))
    return sources, rejected


def _unzip(archive: Path, into: Path) -> list[_Source]:
    """Image members of a zip, extracted under flat safe names (no path from the archive
    is used as a path), within member-count and size limits checked before extraction."""
    try:
        with zipfile.ZipFile(archive) as zf:
            members = [m for m in zf.infolist() if not m.is_dir()
                       and PurePosixPath(m.filename).suffix.lower() in IMAGE_SUFFIXES
                       and not PurePosixPath(m.filename).name.startswith(".")]
            if not members:
                raise InputError(f"'{archive.name}' holds no images.")
            if len(members) > MAX_ZIP_MEMBERS:
                raise InputError(f"'{archive.name}' holds {len(members)} images; up to {MAX_ZIP_MEMBERS} per zip.")
            if sum(m.file_size for m in members) > MAX_ZIP_TOTAL_BYTES:
                raise InputError(f"'{archive.name}' unpacks to more than {MAX_ZIP_TOTAL_BYTES >> 30} GB; refused.")
            into.mkdir(parents=True)
            sources = []
            for number, member in enumerate(members):
                name = PurePosixPath(member.filename).name
                if member.file_size > MAX_BYTES:
                    continue  # load_image would refuse it anyway; don't unpack it
                target = into / f"{number:05d}{PurePosixPath(name).suffix.lower()}"
                with zf.open(member) as src, open(target, "wb") as dst:
                    dst.write(src.read(MAX_BYTES + 1))
                sources.append(_Source(name, target))
            return sources
    except zipfile.BadZipFile:
        raise InputError(f"'{archive.name}' is not a valid zip file.") from None


def _thumbnail_jpeg(image: Image.Image) -> bytes:
    thumb = image.copy()
    thumb.thumbnail(THUMBNAIL_SIZE)
    buffer = io.BytesIO()
    thumb.save(buffer, "JPEG", quality=85)
    return buffer.getvalue()


@dataclass
class Embedded:
    """Files embedded but not yet in a gallery: the half of indexing that can run anywhere
    (another process or machine, see scripts/index_folder.py); commit_embedded adds it."""

    items: list  # [gallery.NewItem] in input order, each with its thumbnail
    vectors: np.ndarray | None  # (len(items), d) in the engine's space
    visual: np.ndarray | None  # (len(items), d') label-bridge visual vectors, else None
    model: str | None  # the space's name (None: nothing embedded and the gallery was empty)
    kind: str | None  # clip | labels
    skipped: int = 0  # duplicates of known bytes, or of an earlier file here
    rejected: list[dict] = field(default_factory=list)  # [{name, reason}]

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
                   skipped=sum(p.skipped for p in parts), rejected=[r for p in parts for r in p.rejected])


def embed_sources(manager: ModelManager, sources: Sequence[_Source], space: str | None,
                  known: Callable[[str], bool] = lambda sha: False,
                  check: Callable[[str, int], None] | None = None,
                  progress: Progress | None = None, batch_size: int = BATCH_SIZE) -> Embedded:
    """Hash, decode, thumbnail and embed `sources` in the gallery's space `space` (None: the
    engine answering now). Bytes `known` already, or seen earlier here, are skipped; the
    engine loads only when a first image needs it, and `check(name, dim)` may refuse it."""
    from model_zoo.vision.gallery import NewItem

    progress = progress or (lambda fraction, desc: None)
    seen: set[str] = set()
    skipped = 0
    rejected: list[dict] = []
    batch: list[tuple[_Source, str, Image.Image]] = []
    vectors: list[np.ndarray] = []
    visuals: list[np.ndarray] = []
    items: list[NewItem] = []
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
            if engine.kind == "labels":  # one forward pass: the text-space and the visual vectors
                reading = engine.read(images)
                vectors.append(reading.semantic)
                visuals.append(reading.visual)
            else:
                vectors.append(engine.embed_images(images))
            items.extend(NewItem(s.name, sha, _thumbnail_jpeg(image), s.caption) for s, sha, image in batch)
            batch.clear()

        for number, source in enumerate(sources):
            progress(number / len(sources), f"Reading {source.name} ({number + 1}/{len(sources)})")
            try:
                sha = sha256_file(source.file)
            except OSError:
                rejected.append({"name": source.name, "reason": f"'{source.name}' could not be read."})
                continue
            if sha in seen or known(sha):
                skipped += 1
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
                    np.concatenate(visuals) if visuals else None, model_name, kind, skipped, rejected)


def commit_embedded(gallery: "Gallery", embedded: Embedded) -> tuple[list[int], int]:
    """Add embedded items to the gallery and save it (atomically). Items whose bytes the
    gallery holds by now (another request, another process) or that `embedded` holds twice
    are left out. Returns (ids added, in order; items left out)."""
    if not embedded.items:
        return [], 0
    with gallery.lock:
        fresh, hashes = [], set()
        for n, item in enumerate(embedded.items):
            if not gallery.has_hash(item.sha256) and item.sha256 not in hashes:
                fresh.append(n)
                hashes.add(item.sha256)
        ids: list[int] = []
        if fresh:
            matrix = embedded.vectors[fresh]
            visual = embedded.visual[fresh] if embedded.visual is not None else None
            ids = _commit(gallery, lambda: gallery.add(matrix, [embedded.items[n] for n in fresh],
                                                       embedded.model, visual))
    return ids, len(embedded.items) - len(fresh)


def _index(manager: ModelManager, folder: Path, sources: list[_Source], rejected: list[dict],
           progress: Progress | None) -> IndexReport:
    started = time.perf_counter()
    progress = progress or (lambda fraction, desc: None)
    gallery = _open(folder)
    embedded = embed_sources(manager, sources, gallery.model, gallery.has_hash, gallery.check_model, progress)
    rejected.extend(embedded.rejected)
    if not embedded.items and rejected and not embedded.skipped:
        raise InputError("No image was added: " + " ".join(r["reason"] for r in rejected))
    if embedded.items:
        progress(1.0, "Saving the index")
    ids, raced = commit_embedded(gallery, embedded)  # raced: duplicates added meanwhile
    return IndexReport(added=len(ids), skipped=embedded.skipped + raced, total=len(gallery), gallery=gallery.name,
                       model=gallery.model or embedded.model, rejected=rejected, ids=ids,
                       seconds=round(time.perf_counter() - started, 3),
                       engine=vision.space_engine(gallery.model) or embedded.kind)


# -- queries ---------------------------------------------------------------------------
def check_k(k: int) -> int:
    if isinstance(k, bool) or not isinstance(k, (int, float)) or int(k) != k or not 1 <= k <= MAX_K:
        raise InputError(f"k (the number of results) must be a whole number from 1 to {MAX_K}; got {k!r}.")
    return int(k)


def compose_query(image_vector: np.ndarray | None, text_vector: np.ndarray | None, text_weight: float = 1.0) -> np.ndarray:
    """The query vector: image, text, or the image vector plus the weighted text vector
    (an edit: 'this photo, but at night'), renormalised onto the unit sphere."""
    if image_vector is None and text_vector is None:
        raise InputError("Type a text query, upload a query image, or both.")
    if image_vector is None:
        vector = np.asarray(text_vector, np.float32)
    elif text_vector is None:
        vector = np.asarray(image_vector, np.float32)
    else:
        vector = np.asarray(image_vector, np.float32) + float(text_weight) * np.asarray(text_vector, np.float32)
    norm = float(np.linalg.norm(vector))
    if norm < 1e-8:
        raise InputError("The text and image cancel each other out at this weight; change the text weight.")
    return vector / norm


def search(
    manager: ModelManager,
    folder: Path,
    query: str = "",
    image_file: str | Path | None = None,
    k: int = 8,
    text_weight: float = 1.0,
) -> SearchResult:
    k = check_k(k)
    query = (query or "").strip()
    if not query and not image_file:
        raise InputError("Type a text query, upload a query image, or both.")
    if not 0 <= text_weight <= 10:
        raise InputError(f"The text weight must be between 0 and 10; got {text_weight}.")
    image = load_image(image_file) if image_file else None
    gallery = _nonempty(folder)
    mode = "image+text" if image is not None and query else ("image" if image is not None else "text")
    started = time.perf_counter()
    with vision.open_engine(manager, vision.space_engine(gallery.model)) as engine:
        gallery.check_model(engine.name, engine.dim)
        text_vector = engine.embed_texts([query])[0] if query else None
        image_vector = visual_vector = None
        if image is not None and engine.kind == "labels":
            reading = engine.read([image])
            image_vector, visual_vector = reading.semantic[0], reading.visual[0]
        elif image is not None:
            image_vector = engine.embed_images([image])[0]
        model_name, kind = engine.name, engine.kind
    encoded = time.perf_counter()
    with gallery.lock:
        if visual_vector is not None and gallery.has_visual:
            hits = _visual_hits(gallery, visual_vector, text_vector, text_weight, k)
        else:
            hits = gallery.search(compose_query(image_vector, text_vector, text_weight), k)
    timing = {"encode_ms": round((encoded - started) * 1e3, 2), "search_ms": round((time.perf_counter() - encoded) * 1e3, 2)}
    return SearchResult([asdict(hit) for hit in hits], model_name, gallery.name, mode, timing, kind,
                        _search_note(kind, mode))


def similar(manager: ModelManager, folder: Path, item_id: int, k: int = 8) -> SearchResult:
    """"More like this": the gallery's own stored vector of one image as the query (the
    visual index where the gallery has one). No model loads."""
    k = check_k(k)
    gallery = _nonempty(folder)
    started = time.perf_counter()
    with gallery.lock:
        space = "visual" if gallery.has_visual else "main"
        hits = gallery.search(gallery.vector(int(item_id), space), k + 1, space)
    hits = [hit for hit in hits if hit.id != int(item_id)][:k]
    kind = vision.space_engine(gallery.model) or "clip"
    timing = {"encode_ms": 0.0, "search_ms": round((time.perf_counter() - started) * 1e3, 2)}
    return SearchResult([asdict(hit) for hit in hits], gallery.model or "", gallery.name, "similar", timing, kind,
                        _search_note(kind, "image"))


def _nonempty(folder: Path) -> "Gallery":
    gallery = _open(folder)
    if not len(gallery):
        raise InputError(f"Gallery '{gallery.name}' is empty: add images to it first (or load the sample gallery).")
    return gallery


def _visual_hits(gallery: "Gallery", visual_vector: np.ndarray, text_vector: np.ndarray | None,
                 text_weight: float, k: int) -> list:
    """Image query on a label-bridge gallery: look-alikes by the visual index; with text,
    the visual and the text similarities fused. Their cosines live on different scales,
    so each is standardised over the candidates (z-scores) and weighted: an image that
    stands out in one ranking (the query photo itself, the one photo of what the text
    names) is not drowned by images that are middling in both, as rank fusion would."""
    if text_vector is None or text_weight == 0:
        return gallery.search(visual_vector, k, "visual")
    depth = min(len(gallery), max(10 * k, 1000))
    by_image = {hit.id: hit for hit in gallery.search(visual_vector, depth, "visual")}
    by_text = {hit.id: hit for hit in gallery.search(text_vector, depth, "main")}
    hits = by_image | by_text
    candidates = list(hits)
    fused = (standardised([by_image[i].score if i in by_image else None for i in candidates])
             + float(text_weight) * standardised([by_text[i].score if i in by_text else None for i in candidates]))
    fused /= 1.0 + float(text_weight)
    best = np.argsort(-fused)[:k]
    return [replace(hits[candidates[n]], score=round(float(fused[n]), 4)) for n in best]


def standardised(scores: Sequence[float | None]) -> np.ndarray:
    """z-scores of a score list; a missing score (beyond the search depth) counts as the lowest seen."""
    known = [s for s in scores if s is not None]
    values = np.array([min(known) if s is None else s for s in scores], np.float64)
    spread = values.std()
    return (values - values.mean()) / spread if spread > 1e-12 else np.zeros_like(values)


def _search_note(kind: str, mode: str) -> str:
    if kind != "labels":
        return ""
    if mode == "text":
        return "Answered by the label bridge: your words are matched against the ImageNet labels seen in each photo."
    if mode == "image":
        return "Answered by the label bridge: look-alikes by the image classifier's visual features."
    return "Answered by the label bridge: visual look-alikes and the text's label matches, each standardised, then weighed together."


def parse_labels(labels: str) -> list[str]:
    parsed = list(dict.fromkeys(part.strip() for part in (labels or "").split(",") if part.strip()))
    if len(parsed) < 2:
        raise InputError("Give at least two comma-separated labels, e.g. 'cat, dog, rocket'.")
    if len(parsed) > MAX_LABELS:
        raise InputError(f"Up to {MAX_LABELS} labels at a time; got {len(parsed)}.")
    return parsed


def parse_templates(templates: str | Sequence[str] | None, default: Sequence[str] = DEFAULT_TEMPLATES) -> list[str]:
    """Prompt templates, one per line, each with a '{}' where the label goes; empty -> `default`."""
    if isinstance(templates, str):
        templates = templates.splitlines()
    parsed = [t.strip() for t in (templates or ()) if t.strip()] or list(default)
    bad = [t for t in parsed if t.count("{}") != 1]
    if bad:
        raise InputError(f"Each prompt template needs exactly one '{{}}' for the label: {bad[0]!r}.")
    return parsed


def default_templates(manager: ModelManager) -> tuple[str, ...]:
    """The prompt templates the current engine reads labels best with: CLIP's ensemble, or
    the label bridge's own class-name templates (its labels live in a sentence space)."""
    return DEFAULT_TEMPLATES if vision.mode(manager) == "clip" else vision.RECIPE.templates


def classify(manager: ModelManager, image_file: str | Path, labels: str,
             templates: str | Sequence[str] | None = None) -> ClassifyResult:
    """Zero-shot: with CLIP, a softmax over the image's similarity to each label's
    prompt-ensembled text vector; with the label bridge, the classifier's class
    probabilities carried over to the labels (LabelBridge.label_probabilities)."""
    names = parse_labels(labels)
    image = load_image(image_file)
    seen: list[dict] = []
    with vision.open_engine(manager) as engine:
        prompts = parse_templates(templates, DEFAULT_TEMPLATES if engine.kind == "clip" else engine.recipe.templates)
        text = engine.embed_texts([t.format(name) for name in names for t in prompts])
        label_vectors = vision.unit_rows(text.reshape(len(names), len(prompts), -1).mean(axis=1))
        if engine.kind == "labels":
            reading = engine.read([image])
            probabilities = engine.label_probabilities(reading.probabilities[0], label_vectors)
            seen = [{"label": label, "p": round(p, 4)} for label, p in reading.top_labels[0]]
        else:
            logits = engine.logit_scale * (label_vectors @ engine.embed_images([image])[0])
            probabilities = np.exp(logits - logits.max())
            probabilities /= probabilities.sum()
        model_name, kind = engine.name, engine.kind
    order = np.argsort(-probabilities)
    return ClassifyResult({names[i]: round(float(probabilities[i]), 6) for i in order}, model_name, prompts, kind, seen)


# -- engines and re-indexing -------------------------------------------------------------
def engine_banner(manager: ModelManager) -> tuple[str, bool]:
    """(markdown, is_problem) for the tab: which engine answers and what CLIP would add,
    or, when no engine can run, what is missing and how to fix it. Cheap (no model loads)."""
    problem = vision.problem(manager)
    if problem is not None:
        return (f"**No image model can run here:** `{problem.model_key}`: {problem.detail} "
                f"How to fix: {problem.how_to_fix}"), True
    text = vision.describe(manager)
    if vision.mode(manager) == "labels":
        clip = manager.weights_problem(CLIP_KEY)
        if clip is not None:
            text += f" To use CLIP: {clip.how_to_fix}"
    return text, False


def can_reindex_into_clip(manager: ModelManager, folder: Path) -> bool:
    """A label-bridge gallery, and CLIP can load here: the tab offers to re-index it."""
    info = gallery_info(folder)
    return info.engine == "labels" and info.images > 0 and manager.weights_problem(CLIP_KEY) is None


def reindex(manager: ModelManager, folder: Path, target: Path, progress: Progress | None = None) -> IndexReport:
    """Build gallery `target` from `folder`'s images (their stored previews) in the engine
    answering now, captions kept. The source gallery is left as it is."""
    info = gallery_info(folder)
    if not info.images:
        raise InputError(f"Gallery '{info.gallery}' is empty: nothing to re-index.")
    if Path(target).resolve() == Path(folder).resolve():
        raise InputError("Re-index into a new gallery name; the original stays as it is.")
    sources = []
    for item in info.items:
        thumb = thumbnail_file(folder, item["id"])
        if thumb is not None:
            sources.append(_Source(item["name"], thumb, item.get("caption")))
    if not sources:
        raise InputError(f"Gallery '{info.gallery}' has no stored previews to re-index from.")
    return _index(manager, target, sources, [], progress)

