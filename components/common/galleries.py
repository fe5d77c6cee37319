"""Galleries as a visitor sees them, shared by every tab that touches search galleries
(Search, Captioning's batch, Imagine's "Add to gallery"): which galleries an owner may pick
(their own and the shared ones), and the folder of one gallery for reading, adding or changing,
pinned meanwhile so the cleaner waits (model_zoo.core.ownership). Not a tab: the tabs import
it, it imports no tab. Galleries themselves (index, manifest, previews) are
model_zoo.vision.search.gallery's; search over them is model_zoo.vision.search's."""
from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from model_zoo.core.errors import InputError
from model_zoo.core.ownership import OPERATOR, Owner
from model_zoo.vision import search as service

from ..context import StudioContext
from .i18n import t

DEFAULT_GALLERY = "default"


# Plain callers (tests, scripts) are the operator, whose galleries are the shared ones.
def galleries_root(ctx: StudioContext, owner: Owner = OPERATOR) -> Path:
    folder = ctx.space.folder(owner, "galleries")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def visible_galleries(ctx: StudioContext, owner: Owner | None) -> list[str]:
    """The owner's galleries and the shared ones (only the shared ones for owner None)."""
    shared = service.list_galleries(ctx.space.shared_folder("galleries"))
    own = service.list_galleries(ctx.space.folder(owner, "galleries")) if owner is not None else []
    return sorted({*shared, *own})


def gallery_choices(ctx: StudioContext, owner: Owner | None, default: str = DEFAULT_GALLERY) -> list[str]:
    """What a gallery dropdown offers `owner`: the tab's default gallery, theirs and the shared ones."""
    return sorted({default, *visible_galleries(ctx, owner)})


@contextmanager
def gallery_for(ctx: StudioContext, owner: Owner, name: str, use: str = "read") -> Iterator[Path]:
    """The folder of gallery `name` as `owner` sees it, pinned while the caller uses it.
    use: "read" (own, else shared, else no such gallery), "add" (own; quota checked; a
    shared name is read-only) or "change" (own or refused; no quota: removing frees space)."""
    name = service.check_gallery_name(name)
    own_dir = ctx.space.folder(owner, "galleries")
    shared_dir = ctx.space.shared_folder("galleries")
    with ctx.space.using(owner, "galleries", name) as own:  # pinned: the cleaner waits
        if own_dir != shared_dir and not _exists(own) and _exists(shared_dir / name):
            if use != "read":
                raise InputError(t("error.shared_gallery", name=name))
            yield shared_dir / name
            return
        if use != "add" and not _exists(own):
            raise InputError(t("error.no_gallery", name=name))
        if use == "add":
            ctx.space.check_quota(owner)
        yield own


def _exists(folder: Path) -> bool:
    return (folder / "manifest.json").is_file()


def peek_gallery(ctx: StudioContext, owner: Owner | None, name: str) -> Path:
    """Where `name` is for `owner` (own, else shared), to read its manifest or previews;
    a gallery not there yet is the owner's (empty). Not pinned: for a glance only."""
    name = service.check_gallery_name(name)
    shared = ctx.space.shared_folder("galleries") / name
    if owner is None:
        return shared
    own = ctx.space.folder(owner, "galleries") / name
    return shared if not _exists(own) and _exists(shared) else own
