"""Named image galleries: a FAISS index of unit-norm embeddings plus its metadata, on disk.

Layout of a gallery folder:
  manifest.json         model name, dim, items, index kind and the index file it uses
  index-<gen>.faiss     faiss.serialize_index bytes (never pickle)
  visual-<gen>.faiss    optional second index of the same items in a visual space (the
                        label bridge's classifier features: image-to-image search)
  thumbs/<id>.jpg       small previews for the results
Each item may carry the text read in its image (`text`, model_zoo.vision.ocr.service): "" when
none was found, None when it was never read (galleries indexed before text reading; they
load and work as before, and get it when their images are added again).
Every write is atomic (model_zoo.core.storage). A save writes a new index file, then the
manifest that names it (the commit point), then deletes the old file, so a kill at any
moment leaves the previous gallery or the new one, never a mix.

The index is exact (IndexFlatIP behind an IndexIDMap2) up to `exact_limit` vectors and
IVF beyond it, converted once when the gallery grows past the limit. Both take
incremental add_with_ids and remove_ids, so adding or removing never rebuilds. IVF rather
than HNSW, measured (benchmarks/models/search.py, clustered 512-d vectors, 1M): IVF2000 with
nprobe 67 reached recall@10 1.000 at p95 7 ms, HNSW (M=32, efConstruction 40) 0.82 at
efSearch 128 and 0.88 at 256, after a build 3-7x longer; and HNSW cannot remove vectors.

The model name is stored and checked: vectors from two embedding spaces never mix.

Several processes may share a gallery (replicas on one data dir). A change runs inside
`Gallery.writing()`: this process's lock, then an flock on the folder's `.lock` file, then
what another process committed meanwhile is read back (the manifest's stamp changed), so the
change merges into the latest gallery and its save carries the next generation. A read runs
inside `Gallery.reading()`: the manifest's stamp is checked (one stat) and a newer gallery is
read under a shared flock (never half a commit). Only a writer deletes superseded files."""
from __future__ import annotations

import json
import os
import threading
import time
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Iterator, Sequence

import faiss
import numpy as np

from model_zoo.core import storage
from model_zoo.core.errors import InputError
from model_zoo.core.ownership import NO_QUOTA, Unlimited
from model_zoo.vision.search.faiss_index import all_vectors, default_nprobe, exact_index, ivf_index, single_threaded

MANIFEST = "manifest.json"
FORMAT_VERSION = 1
EXACT_LIMIT = 50_000  # exact search stays well under 25 ms per query up to here on 2 cores


class GalleryMismatch(InputError):
    """The gallery was built with another embedding model."""


@dataclass
class GalleryItem:
    id: int
    name: str
    sha256: str
    caption: str | None = None
    added: float = field(default_factory=time.time)
    text: str | None = None  # the text read in the image ("" none; None: never read)
    seen: dict | None = None  # label bridge: what the classifier is sure of (seen.Seen.brief())


@dataclass
class NewItem:
    """What a caller adds: the vector comes separately, the id is assigned here."""

    name: str
    sha256: str
    thumbnail_jpeg: bytes | None = None
    caption: str | None = None
    text: str | None = None  # the text read in the image, None when not read
    seen: dict | None = None  # label bridge: what the classifier is sure of (seen.Seen.brief())


@dataclass
class Hit:
    id: int
    name: str
    score: float
    caption: str | None = None
    text: str | None = None
    seen: dict | None = None  # label bridge: {described, certainty, objects} of the image


_UNREAD = (-1, -1, -1)  # a stamp no file has: the next refresh reads the disk


class Gallery:
    """One gallery, held in memory and persisted on save(). Get it from the process's
    `GalleryRegistry` (galleries.py), which holds one instance per folder so every request
    sees the same index and lock. Change it inside writing(), read it inside reading() (both
    check the disk: see the module's notes)."""

    def __init__(self, folder: Path, exact_limit: int = EXACT_LIMIT) -> None:
        self.folder = Path(folder)
        self.exact_limit = exact_limit
        self.lock = threading.RLock()
        self.model: str | None = None
        self.dim: int | None = None
        self.items: dict[int, GalleryItem] = {}
        self.index: faiss.Index | None = None
        self.visual: faiss.Index | None = None  # same ids, visual space (label-bridge galleries)
        self.next_id = 0
        self.generation = 0
        self._hashes: dict[str, int] = {}
        self._thumbs: dict[int, bytes] = {}  # previews of items added since the last save (written by save)
        self._stamp: tuple | None = _UNREAD  # file_stamp of the manifest held in memory
        self._writers = 0  # depth of writing() in the thread holding self.lock
        for folder in (self.folder, self.folder / "thumbs"):  # what a killed save left
            storage.clean_debris(folder)
        self.refresh()
        self._drop_debris()

    def _drop_debris(self) -> None:
        """Index files and previews a killed save left, removed only while no writer (in any
        process) holds the folder: a save under way has files that its manifest will name."""
        if not (self.folder / MANIFEST).is_file():
            return
        fd = storage.try_file_lock(self.lock_file)
        if fd is None:
            return
        try:
            with self.lock:
                if self.stale():  # committed meanwhile: the next writer drops what is stale
                    return
                self._drop_stale_files(keep={self._index_file("index"), self._index_file("visual")})
        finally:
            os.close(fd)

    def _index_file(self, kind: str) -> str | None:
        held = self.index if kind == "index" else self.visual
        return f"{kind}-{self.generation:06d}.faiss" if held is not None else None

    # -- coherence with disk (other processes) -----------------------------------------
    @property
    def lock_file(self) -> Path:
        return self.folder / storage.LOCK_FILE

    def stale(self) -> bool:
        """Whether the committed gallery on disk differs from the one in memory (one stat)."""
        return storage.file_stamp(self.folder / MANIFEST) != self._stamp

    def invalidate(self) -> None:
        """Forget that memory matches disk (a change failed half-way): the next use rereads."""
        self._stamp = _UNREAD

    def refresh(self) -> bool:
        """Read the gallery again if another process committed a newer one; True if it did.
        Readers take the folder's lock shared (a writer's commit is never seen half-way)."""
        with self.lock:
            if not self.stale():
                return False
            if not (self.folder / MANIFEST).is_file():
                self._reset()  # deleted (or never saved): empty, and no folder is made for a read
            elif self._writers:
                self._reset_and_read()  # the exclusive lock is held already
            else:
                with storage.file_lock(self.lock_file, shared=True):
                    self._reset_and_read()
            return True

    @contextmanager
    def writing(self) -> Iterator["Gallery"]:
        """Hold the gallery for a change and its save(): other threads and other processes
        wait; the latest committed gallery is read first. Re-entrant in one thread. On an
        error memory is marked stale, so the next use reads the last good gallery."""
        with self.lock:
            if self._writers:
                self._writers += 1
                try:
                    yield self
                finally:
                    self._writers -= 1
                return
            self.folder.mkdir(parents=True, exist_ok=True)
            with storage.file_lock(self.lock_file):
                self._writers = 1
                try:
                    self.refresh()
                    yield self
                except BaseException:
                    self.invalidate()
                    raise
                finally:
                    self._writers = 0
                    if not (self.folder / MANIFEST).is_file():  # nothing committed (a refused first save)
                        self._remove_empty_folder()

    def _remove_empty_folder(self) -> None:
        """Leave no folder for a gallery never saved; called holding its lock, so a process
        waiting on the lock file notices it went (storage.file_lock) and locks a new one."""
        self.lock_file.unlink(missing_ok=True)
        for folder in (self.folder / "thumbs", self.folder):
            try:
                folder.rmdir()
            except OSError:  # not empty, or not there
                pass

    @contextmanager
    def reading(self) -> Iterator["Gallery"]:
        """Hold the gallery for a read, at the latest committed version."""
        with self.lock:
            self.refresh()
            yield self

    # -- facts --------------------------------------------------------------------
    @property
    def name(self) -> str:
        return self.folder.name

    @property
    def kind(self) -> str:
        return "ivf" if isinstance(self.index, faiss.IndexIVF) else "exact"

    def __len__(self) -> int:
        return len(self.items)

    def has_hash(self, sha256: str) -> bool:
        return sha256 in self._hashes

    def thumbnail_path(self, item_id: int) -> Path:
        return self.folder / "thumbs" / f"{int(item_id)}.jpg"

    def check_model(self, model: str, dim: int) -> None:
        """Refuse to mix embedding spaces: the gallery keeps the model it was built with."""
        if self.model is not None and (self.model != model or self.dim != dim):
            raise GalleryMismatch(
                f"Gallery '{self.name}' was built with the model {self.model} ({self.dim}-d) but the current "
                f"model is {model} ({dim}-d); vectors from two models cannot be compared. Use another "
                f"gallery name, or remove this gallery's images and index them again."
            )

    # -- changes (callers hold self.lock, then save()) ------------------------------
    @property
    def has_visual(self) -> bool:
        return self.visual is not None

    def add(self, vectors: np.ndarray, new_items: Sequence[NewItem], model: str,
            visual: np.ndarray | None = None) -> list[int]:
        """Add items with their vectors (and, for a gallery with a visual index, their
        visual vectors: a gallery has one for all its items or for none)."""
        vectors = np.ascontiguousarray(vectors, np.float32)
        if vectors.ndim != 2 or len(vectors) != len(new_items):
            raise ValueError(f"{len(new_items)} items but vectors of shape {vectors.shape}")
        self.check_model(model, vectors.shape[1])
        if self.index is None:
            self.model, self.dim, self.index = model, vectors.shape[1], exact_index(vectors.shape[1])
            if visual is not None:
                self.visual = exact_index(visual.shape[1])
        if (visual is None) != (self.visual is None) or (visual is not None and len(visual) != len(new_items)):
            raise ValueError("a gallery's items all have visual vectors or none do")
        ids = np.arange(self.next_id, self.next_id + len(new_items), dtype=np.int64)
        self.index.add_with_ids(vectors, ids)
        if visual is not None:
            self.visual.add_with_ids(np.ascontiguousarray(visual, np.float32), ids)
        for item_id, new in zip(ids.tolist(), new_items):
            self.items[item_id] = GalleryItem(item_id, new.name, new.sha256, new.caption, text=new.text, seen=new.seen)
            self._hashes[new.sha256] = item_id
            if new.thumbnail_jpeg:
                self._thumbs[item_id] = new.thumbnail_jpeg
        self.next_id += len(new_items)
        if self.kind == "exact" and self.index.ntotal > self.exact_limit:
            ids_held, vectors_held = all_vectors(self.index)
            self.index = ivf_index(vectors_held, ids_held)
            if self.visual is not None:
                ids_held, vectors_held = all_vectors(self.visual)
                self.visual = ivf_index(vectors_held, ids_held)
        return ids.tolist()

    def remove(self, ids: Sequence[int]) -> list[int]:
        """Remove the given ids; returns those that existed."""
        present = [int(i) for i in dict.fromkeys(ids) if int(i) in self.items]
        if present and self.index is not None:
            for index in (self.index, self.visual):
                if index is not None:
                    index.remove_ids(np.asarray(present, dtype=np.int64))
            for item_id in present:
                item = self.items.pop(item_id)
                self._hashes.pop(item.sha256, None)
        return present

    def search(self, query: np.ndarray, k: int, space: str = "main") -> list[Hit]:
        """Top-k items by inner product in the main index or, space="visual", the visual one."""
        index = self.visual if space == "visual" else self.index
        if index is None or not len(self):
            return []
        query = np.ascontiguousarray(query, np.float32).reshape(1, -1)
        if query.shape[1] != index.d:
            raise GalleryMismatch(f"A {query.shape[1]}-d query cannot search gallery '{self.name}' ({index.d}-d).")
        with single_threaded():
            scores, ids = index.search(query, min(k, len(self)))
        return [self.hit(int(i), float(s)) for s, i in zip(scores[0], ids[0]) if i >= 0 and int(i) in self.items]

    def hit(self, item_id: int, score: float) -> Hit:
        item = self.items[int(item_id)]
        return Hit(item.id, item.name, float(score), item.caption, item.text, item.seen)

    def texts(self) -> dict[int, str]:
        """{id: text} of the items whose image holds text."""
        return {item_id: item.text for item_id, item in self.items.items() if item.text}

    def needs_text(self, sha256: str) -> bool:
        """The image with these bytes is here but its text was never read."""
        item_id = self._hashes.get(sha256)
        return item_id is not None and self.items[item_id].text is None

    def set_texts(self, by_hash: dict[str, str]) -> int:
        """Store text read later for images already here (by their bytes); returns how many changed."""
        changed = 0
        for sha256, text in by_hash.items():
            item_id = self._hashes.get(sha256)
            if item_id is not None and self.items[item_id].text != text:
                self.items[item_id].text = text
                changed += 1
        return changed

    def vector(self, item_id: int, space: str = "main") -> np.ndarray:
        """The stored vector of one item (for "more like this")."""
        if int(item_id) not in self.items:
            raise InputError(f"Gallery '{self.name}' has no image with id {item_id}.")
        index = self.visual if space == "visual" else self.index
        if isinstance(index, faiss.IndexIVF) and index.direct_map.type == faiss.DirectMap.NoMap:
            index.set_direct_map_type(faiss.DirectMap.Hashtable)  # ids are not 0..n-1
        return index.reconstruct(int(item_id))

    # -- persistence ----------------------------------------------------------------
    def save(self, quota: Unlimited | None = None) -> None:
        """Write the new previews and the index, then the manifest naming it (the commit),
        then drop old files. With an owner's `quota`, the bytes the save adds (what it
        writes less what it replaces) are reserved first, exactly: a save that does not fit
        writes nothing and raises QuotaExceeded. Runs inside writing() (entered here if not)."""
        with self.writing():
            self._save(quota)

    def _save(self, quota: Unlimited | None) -> None:
        generation = self.generation + 1
        index_file = f"index-{generation:06d}.faiss"
        visual_file = f"visual-{generation:06d}.faiss" if self.visual is not None else None
        index_bytes = faiss.serialize_index(self.index).tobytes() if self.index is not None else b""
        visual_bytes = faiss.serialize_index(self.visual).tobytes() if visual_file else b""
        manifest = {
            "version": FORMAT_VERSION,
            "model": self.model,
            "dim": self.dim,
            "kind": self.kind,
            "index_file": index_file if self.index is not None else None,
            "visual_file": visual_file,
            "next_id": self.next_id,
            "generation": generation,
            "items": [asdict(item) for item in self.items.values()],
        }
        manifest_bytes = json.dumps(manifest, indent=1).encode("utf-8")
        thumbs = {item_id: jpeg for item_id, jpeg in self._thumbs.items() if item_id in self.items}
        written = len(index_bytes) + len(visual_bytes) + len(manifest_bytes) + sum(map(len, thumbs.values()))
        with (quota or NO_QUOTA).reserve(written - self._replaced_bytes()):
            self.folder.mkdir(parents=True, exist_ok=True)
            for item_id, jpeg in thumbs.items():
                # a preview, re-creatable: skip the per-file fsync (the manifest commit is durable)
                storage.atomic_write_bytes(self.thumbnail_path(item_id), jpeg, durable=False)
            if self.index is not None:
                storage.atomic_write_bytes(self.folder / index_file, index_bytes)
            if visual_file:
                storage.atomic_write_bytes(self.folder / visual_file, visual_bytes)
            storage.atomic_write_bytes(self.folder / MANIFEST, manifest_bytes)
            self.generation = generation
            self._stamp = storage.file_stamp(self.folder / MANIFEST)  # ours: the lock is held
            self._thumbs.clear()
            self._drop_stale_files(keep={index_file, visual_file})

    def _replaced_bytes(self) -> int:
        """Bytes on disk that the next save replaces or drops: the manifest, the index
        files and the previews of removed items."""
        stale = [self.folder / MANIFEST, *self.folder.glob("index-*.faiss"), *self.folder.glob("visual-*.faiss")]
        stale += [
            p for p in (self.folder / "thumbs").glob("*.jpg") if p.stem.isdigit() and int(p.stem) not in self.items
        ]
        total = 0
        for path in stale:
            try:
                total += path.stat().st_size
            except OSError:
                pass
        return total

    def _reset(self) -> None:
        self.model = self.dim = self.index = self.visual = None
        self.items, self._hashes, self._thumbs = {}, {}, {}
        self.next_id = self.generation = 0
        self._stamp = None

    def _reset_and_read(self) -> None:
        self._reset()
        self._read()

    def _read(self) -> None:
        """Read the committed gallery (the caller holds the folder's lock, shared or not)."""
        stamp = storage.file_stamp(self.folder / MANIFEST)
        manifest = json.loads((self.folder / MANIFEST).read_text("utf-8"))
        if manifest.get("version") != FORMAT_VERSION:
            raise InputError(f"Gallery '{self.name}' was written by an incompatible version of the app.")
        self.model, self.dim, self.next_id = manifest["model"], manifest["dim"], manifest["next_id"]
        self.items = {item["id"]: GalleryItem(**item) for item in manifest["items"]}
        self._hashes = {item.sha256: item.id for item in self.items.values()}
        index_file = manifest.get("index_file")
        if index_file:
            raw = np.fromfile(self.folder / index_file, dtype=np.uint8)
            self.index = faiss.deserialize_index(raw)
        # older manifests name their generation in the index file's name only
        self.generation = int(manifest.get("generation") or (index_file or "-0.").split("-")[1].split(".")[0])
        visual_file = manifest.get("visual_file")
        if visual_file:
            self.visual = faiss.deserialize_index(np.fromfile(self.folder / visual_file, dtype=np.uint8))
        for index in (self.index, self.visual):
            if isinstance(index, faiss.IndexIVF):
                index.nprobe = default_nprobe(index.nlist)
        self._stamp = stamp  # superseded files are left to the next writer (it holds the lock)

    def _drop_stale_files(self, keep: set[str | None]) -> None:
        """Index files the manifest does not name (superseded, or left by a kill), and
        thumbnails of removed items."""
        for path in [*self.folder.glob("index-*.faiss"), *self.folder.glob("visual-*.faiss")]:
            if path.name not in keep:
                path.unlink(missing_ok=True)
        for path in (self.folder / "thumbs").glob("*.jpg"):
            if path.stem.isdigit() and int(path.stem) not in self.items:
                path.unlink(missing_ok=True)
