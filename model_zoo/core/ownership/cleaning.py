"""Expiry: the sweep that moves expired, unpinned items to the trash and removes them,
the operator's disk report (OwnerSpace's methods, as a mixin); the Cleaner that runs
sweeps is in space.py."""
from __future__ import annotations

import logging
import os
import shutil
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from model_zoo.core import storage
from model_zoo.core.ownership.owners import _OWNER_ID, KINDS, TRANSIENT_KINDS, TRASH_DIR, Owner
from model_zoo.core.ownership.quota import tree_bytes

log = logging.getLogger("studio.ownership")


@dataclass
class SweepReport:
    deleted: list[str] = field(default_factory=list)  # "<owner>/<kind>/<name>" (ids, never user names)
    in_use: int = 0  # expired but pinned: kept for the next sweep
    freed_bytes: int = 0


@dataclass
class DiskReport:
    """For the operator: sizes by kind and owner counts, no names."""

    owners_anonymous: int
    owners_signed_in: int
    owner_bytes: dict[str, int]  # kind -> bytes over all owners
    shared_bytes: dict[str, int]  # kind -> bytes in the operator's (shared) folders
    trash_bytes: int
    in_use: int


class Cleaning:
    """OwnerSpace's sweep and report (needs its folders, use records, pins and _lock)."""

    def _owner_folders(self) -> list[Path]:
        root = self.owners_root
        return sorted(p for p in root.iterdir() if p.is_dir() and _OWNER_ID.match(p.name)) if root.is_dir() else []

    def _expired(self, owner: Owner, kind: str, name: str, now: float) -> bool:
        if name.startswith("."):  # an atomic write's temp file or folder: debris once a day old
            try:
                return now - (self.folder(owner, kind) / name).lstat().st_mtime > max(self.ttl_s, 86400)
            except OSError:
                return False
        if not (owner.anonymous or kind in TRANSIENT_KINDS):
            return False
        used = self.last_use(owner, kind, name)
        return used is not None and now - used > self.ttl_s

    def _to_trash(self, path: Path) -> Path:
        trash = self.owners_root / TRASH_DIR
        trash.mkdir(parents=True, exist_ok=True)
        target = trash / uuid.uuid4().hex
        os.replace(path, target)  # atomic: the item is whole here or whole there
        storage.fsync_dir(path.parent)
        return target

    def sweep(self, now: float | None = None) -> SweepReport:
        """Delete expired items that no request is using, then empty owners' folders."""
        now = self.clock() if now is None else now
        report = SweepReport()
        if not self.private:
            self.empty_trash()
            return report
        for folder in self._owner_folders():
            owner = Owner(folder.name)
            for kind in KINDS:
                kind_dir = folder / kind
                entries = sorted(kind_dir.iterdir()) if kind_dir.is_dir() else []
                for item in entries:
                    with self._lock:  # a request cannot pin it between this check and the rename
                        if not self._expired(owner, kind, item.name, now):
                            continue
                        held = None if self.pinned(owner, kind, item.name) else storage.try_file_lock(
                            self._pin_files(owner, kind, item.name)[1])  # None: pinned in some process
                        if held is None:
                            report.in_use += 1
                            continue
                        try:
                            size = tree_bytes(item)
                            trashed = self._to_trash(item)
                        finally:
                            storage.release_lock_file(held, self._pin_files(owner, kind, item.name)[1])
                    for forget in self.on_delete:
                        forget(kind, item)
                    if self.safe_name(item.name):
                        self._record(owner, kind, item.name).unlink(missing_ok=True)
                    self._remove(trashed)
                    report.deleted.append(f"{owner.id}/{kind}/{item.name}")
                    report.freed_bytes += size
            self._drop_if_empty(owner, folder)
        self._drop_stale_pins()
        if report.deleted:
            log.info("cleaner: deleted %d expired items (%.1f MB)", len(report.deleted), report.freed_bytes / 2**20)
        return report

    def _drop_if_empty(self, owner: Owner, folder: Path) -> None:
        """An owner left with no items has nothing to keep (its use records go too)."""
        with self._lock:
            if any(k[0] == owner.id for k in self._pins):
                return
            held = storage.try_file_lock(self._pin_files(owner)[0])  # None: a request elsewhere
            if held is None:
                return
            try:
                if any(any((folder / kind).iterdir()) for kind in KINDS if (folder / kind).is_dir()):
                    return
                trashed = self._to_trash(folder)
            finally:
                storage.release_lock_file(held, self._pin_files(owner)[0], remove=not folder.exists())
        self._remove(trashed)

    def _remove(self, trashed: Path) -> None:
        if trashed.is_dir() and not trashed.is_symlink():
            shutil.rmtree(trashed, ignore_errors=True)
        else:
            trashed.unlink(missing_ok=True)

    def empty_trash(self) -> int:
        """Remove what an interrupted sweep left in the trash; returns entries removed."""
        trash = self.owners_root / TRASH_DIR
        entries = list(trash.iterdir()) if trash.is_dir() else []
        for entry in entries:
            self._remove(entry)
        return len(entries)

    # -- the operator's view -----------------------------------------------------------------
    def report(self) -> DiskReport:
        anonymous = signed_in = 0
        owner_bytes = dict.fromkeys(KINDS, 0)
        for folder in self._owner_folders():
            owner = Owner(folder.name)
            anonymous += owner.anonymous
            signed_in += owner.signed_in
            for kind in KINDS:
                owner_bytes[kind] += tree_bytes(folder / kind)
        shared = {kind: tree_bytes(self.shared_folder(kind)) for kind in KINDS}
        with self._lock:
            in_use = len(self._pins)
        return DiskReport(anonymous, signed_in, owner_bytes, shared, tree_bytes(self.owners_root / TRASH_DIR), in_use)
