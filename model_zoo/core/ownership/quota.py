"""Quotas: what a writer is handed (`quota(owner)`), and how the bytes of an owner's items
are counted, reserved and admitted (OwnerSpace's quota methods, as a mixin)."""
from __future__ import annotations

import os
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from model_zoo.core import storage
from model_zoo.core.errors import InputError
from model_zoo.core.ownership.owners import KINDS, PINS_DIR, Owner


class QuotaExceeded(InputError):
    """The owner's folder is at its size limit."""


class Unlimited:
    """The quota of whoever has none (the operator, the shared data mode, scripts): every
    write is admitted. Writers take `quota or NO_QUOTA`."""

    def check(self, incoming: int = 0) -> None:
        return None

    @contextmanager
    def reserve(self, nbytes: int) -> Iterator[None]:
        yield

    @contextmanager
    def admit(self, staged: Path, replacing: Path | None = None) -> Iterator[None]:
        yield


NO_QUOTA = Unlimited()


class OwnerQuota(Unlimited):
    """One owner's quota as the writers of their items see it (see the module doc)."""

    def __init__(self, space: "QuotaLedger", owner: Owner) -> None:
        self.space, self.owner = space, owner

    def check(self, incoming: int = 0) -> None:
        """Refuse early, before any work, where the owner is full already."""
        self.space.check_quota(self.owner, incoming)

    def reserve(self, nbytes: int):
        """Hold `nbytes` of the quota while they are written (refused if they do not fit)."""
        return self.space.reserve(self.owner, nbytes)

    def admit(self, staged: Path, replacing: Path | None = None):
        """Admit an item built aside (it replaces `replacing`, if given) while the caller
        puts it in place; refused if the owner's folders would pass the quota."""
        return self.space.admit(self.owner, staged, replacing)


def _size(nbytes: int, whole: bool = False) -> str:
    """Bytes as a visitor reads them: MB, or KB below a tenth of one."""
    if nbytes < 0.1 * 2**20:
        return f"{nbytes / 1024:.0f} KB"
    return f"{nbytes / 2**20:.0f} MB" if whole else f"{nbytes / 2**20:.1f} MB"


def _in_flight(name: str) -> bool:
    """An atomic write's temp file or staging folder, or a folder it swapped out
    (model_zoo.core.storage): not an item, and gone once that write ends."""
    return name.startswith(".") and (name.endswith(storage.TMP_SUFFIX) or storage.OLD_MARK in name)


def tree_bytes(path: Path, committed: bool = False) -> int:
    """Bytes of a file or every file under a folder (symlinks not followed). committed:
    leave out what atomic writes under way (or killed) have there."""
    path = Path(path)
    try:
        if path.is_symlink() or path.is_file():
            return 0 if committed and _in_flight(path.name) else path.lstat().st_size
    except OSError:
        return 0
    total = 0
    for root, dirs, files in os.walk(path):
        if committed:
            dirs[:] = [name for name in dirs if not _in_flight(name)]
            files = [name for name in files if not _in_flight(name)]
        for name in files:
            try:
                total += os.lstat(os.path.join(root, name)).st_size
            except OSError:
                pass  # removed meanwhile
    return total


class QuotaLedger:
    """OwnerSpace's quota methods (needs its folder(), owners_root, private, quota_bytes,
    ttl_s, _lock, _reserved and _owner_locks)."""

    def limited(self, owner: Owner) -> bool:
        """Whether a quota applies to `owner` (not the operator, not the shared mode)."""
        return not owner.is_operator and self.private

    def quota(self, owner: Owner) -> Unlimited:
        """What a writer of `owner`'s items is handed (NO_QUOTA where none applies)."""
        return OwnerQuota(self, owner) if self.limited(owner) else NO_QUOTA

    def used_bytes(self, owner: Owner) -> int:
        """Bytes of the owner's items on disk (writes under way count by their reservation
        or, built aside, when admitted; see reserve and admit)."""
        if not self.limited(owner):
            return 0
        return sum(tree_bytes(self.folder(owner, kind), committed=True) for kind in KINDS)

    def reserved_bytes(self, owner: Owner) -> int:
        """Bytes held for the owner's writes under way (not yet on disk, or not yet released)."""
        with self._lock:
            return self._reserved.get(owner.id, 0)

    def _charged_bytes(self, owner: Owner) -> int:
        """What the owner's items count against the quota: reservations, then the disk.
        In that order: a writer puts its bytes on disk before it releases its reservation,
        so each write is seen in one reading or the other (read the disk first and a write
        that lands and releases in between is seen in neither)."""
        reserved = self.reserved_bytes(owner)
        return reserved + self.used_bytes(owner)

    @contextmanager
    def _owner_lock(self, owner: Owner) -> Iterator[None]:
        """The owner's quota lock: a thread lock and, for other processes, an flock."""
        with self._lock:
            lock = self._owner_locks.setdefault(owner.id, threading.Lock())
        with storage.file_lock(self.owners_root / PINS_DIR / f"{owner.id}.quota"), lock:
            yield

    def _full(self, owner: Owner, used: int, incoming: int) -> QuotaExceeded:
        after = (f"items you leave unused are deleted {self.ttl_s / 3600:g} h after their last use"
                 if owner.anonymous else "signed-in users' items are kept until they remove them")
        return QuotaExceeded(
            f"Your space is full: your galleries, heads and results take {_size(used)} of the "
            f"{_size(self.quota_bytes, whole=True)} each visitor may keep"
            + (f" (this would add {_size(incoming)})" if incoming else "")
            + f". Remove images from a gallery (Search tab, *Add or remove images*) and try again; {after}.")

    def check_quota(self, owner: Owner, incoming: int = 0) -> None:
        """Refuse a write that would take the owner past the quota (the operator has none).
        A check only: a write is admitted by reserve() or admit(), under the owner's lock."""
        if not self.limited(owner):
            return
        used = self._charged_bytes(owner)
        if used >= self.quota_bytes or used + incoming > self.quota_bytes:
            raise self._full(owner, used, incoming)

    @contextmanager
    def reserve(self, owner: Owner, nbytes: int) -> Iterator[None]:
        """Hold `nbytes` of the owner's quota for a write about to happen: checked and
        counted under the owner's lock (so concurrent writes see each other), released
        when the block ends (by then the bytes are on disk, or the write failed)."""
        nbytes = max(0, int(nbytes))
        if not self.limited(owner):
            yield
            return
        with self._owner_lock(owner):
            used = self._charged_bytes(owner)
            if used + nbytes > self.quota_bytes:
                raise self._full(owner, used, nbytes)
            with self._lock:
                self._reserved[owner.id] += nbytes
        try:
            yield
        finally:
            with self._lock:
                self._reserved[owner.id] -= nbytes
                if self._reserved[owner.id] <= 0:
                    del self._reserved[owner.id]

    @contextmanager
    def admit(self, owner: Owner, staged: Path, replacing: Path | None = None) -> Iterator[None]:
        """Admit an item built aside at `staged` (replacing `replacing`, if it exists): the
        caller puts it in place inside the block, which holds the owner's lock. Refused
        (QuotaExceeded, nothing moved) if the owner's items would then pass the quota."""
        if not self.limited(owner):
            yield
            return
        size = tree_bytes(staged)
        with self._owner_lock(owner):
            used = self._charged_bytes(owner)
            freed = tree_bytes(replacing, committed=True) if replacing is not None else 0
            if used - freed + size > self.quota_bytes:
                raise self._full(owner, used, size)
            yield

