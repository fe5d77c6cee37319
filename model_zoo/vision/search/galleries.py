"""Named galleries in a folder: their names, what each holds, removing images, previews,
`commit_change`, the one way a change reaches disk (apply, save atomically, or forget the
in-memory state so the next use reads the last good gallery), and `GalleryRegistry`, the
galleries a process holds open (built once by the app's context and passed in)."""
from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Sequence


from model_zoo.vision import engine as vision
from model_zoo.core.errors import InputError

if TYPE_CHECKING:
    from model_zoo.core.ownership import Unlimited
    from model_zoo.vision.search.gallery import Gallery

_GALLERY_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


@dataclass
class GalleryInfo:
    gallery: str
    images: int
    model: str | None
    index: str  # exact | ivf | empty
    items: list[dict]  # [{id, name, caption}]
    engine: str | None = None  # clip | labels | None (empty)


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


class GalleryRegistry:
    """The galleries one process holds open, one instance per folder (so every request shares
    its index and lock), each checked against disk when opened: a gallery another process
    changed or deleted is read again, never served stale. The app builds one
    (StudioContext.galleries) and hands it to every call that opens a gallery; a script makes
    its own. It imports faiss only when it first opens a gallery."""

    def __init__(self) -> None:
        self._open: dict[Path, "Gallery"] = {}
        self._lock = threading.Lock()

    def open(self, folder: Path, exact_limit: int | None = None) -> "Gallery":
        """The instance for `folder`, at the latest committed version."""
        from model_zoo.vision.search.gallery import EXACT_LIMIT, Gallery

        key = Path(folder).resolve()
        with self._lock:
            gallery = self._open.get(key)
            if gallery is None:
                gallery = self._open[key] = Gallery(key, EXACT_LIMIT if exact_limit is None else exact_limit)
                return gallery
        gallery.refresh()
        return gallery

    def __contains__(self, folder: Path) -> bool:
        with self._lock:
            return Path(folder).resolve() in self._open

    def forget(self, folder: Path) -> None:
        """Drop one instance (its folder was deleted: a new gallery there starts empty)."""
        with self._lock:
            self._open.pop(Path(folder).resolve(), None)

    def clear(self) -> None:
        """Drop every instance: the next open reads from disk (as after a restart)."""
        with self._lock:
            self._open.clear()


def open_gallery(folder: Path, galleries: GalleryRegistry | None = None) -> "Gallery":
    """The gallery in `folder` at its latest committed version: the instance `galleries` holds
    (the app's StudioContext.galleries), or without one a fresh instance read from disk for
    this call alone."""
    return (galleries if galleries is not None else GalleryRegistry()).open(folder)


def gallery_info(folder: Path) -> GalleryInfo:
    """What the gallery's manifest (its last committed state) says; reads JSON only, no faiss."""
    manifest_file = Path(folder) / "manifest.json"
    if not manifest_file.is_file():
        return GalleryInfo(Path(folder).name, 0, None, "empty", [])
    manifest = json.loads(manifest_file.read_text("utf-8"))
    items = [{"id": i["id"], "name": i["name"], "caption": i.get("caption")} for i in manifest["items"]]
    return GalleryInfo(Path(folder).name, len(items), manifest["model"], manifest["kind"] if items else "empty", items,
                       vision.space_engine(manifest["model"]))


def remove_images(folder: Path, ids: Sequence[int], galleries: GalleryRegistry | None = None) -> GalleryInfo:
    """Remove images by id (no model needed); unknown ids are an error, nothing changes.
    `galleries`: the process's open galleries (see open_gallery)."""
    gallery = open_gallery(folder, galleries)
    wanted = [int(i) for i in ids]
    if not wanted:
        raise InputError("Give the id(s) of the image(s) to remove.")
    with gallery.writing():  # the ids checked are those the change sees
        unknown = [i for i in wanted if i not in gallery.items]
        if unknown:
            raise InputError(f"Gallery '{gallery.name}' has no image with id {', '.join(map(str, unknown))}.")
        commit_change(gallery, lambda: gallery.remove(wanted))
    return gallery_info(folder)


def thumbnail_file(folder: Path, item_id: int) -> Path | None:
    path = Path(folder) / "thumbs" / f"{int(item_id)}.jpg"
    return path if path.is_file() else None


def commit_change(gallery: "Gallery", change: Callable[[], object], quota: "Unlimited | None" = None) -> object:
    """Apply a change and save (the bytes it adds reserved in the owner's `quota`, if given),
    holding the gallery against other threads and processes (Gallery.writing: the change
    applies to the latest committed gallery). On failure (a quota refusal included) the
    in-memory state is marked stale, so the next use reads the last good gallery from disk."""
    with gallery.writing():
        result = change()
        gallery.save(quota)
    return result
