"""Who owns what on disk: per-owner namespaces, last-use records, expiry, quotas, the cleaner.

On a public demo every visitor gets a folder of their own under `<data dir>/owners/<id>/`
(galleries/, heads/, batches/, videos/); the operator's items (the sample gallery, galleries built by
the command-line scripts, `<data dir>/heads`) stay where they always were and are shared,
read-only to visitors. An owner id is never typed by anyone: it is an HMAC, under a secret
kept in the data dir, of who the server says the visitor is ("u-..." for a signed-in user,
whose items are kept; "a-..." for an anonymous browser or API session, or for a caller holding
an owner key (an agent over MCP: see `keyed`), whose items expire `ttl` after their last
use). In the "shared" data mode (a trusted local install) everyone is the operator: one
namespace, nothing expires, no quota.

Deleting is crash-safe: an expired item is first renamed into `owners/.trash/` (atomic),
then removed; a kill in between leaves the item or trash, never half an item, and the next
start empties the trash. An item a request is using is pinned and never deleted (the
ModelManager's pinning idea, for files). Time comes from an injectable clock so tests
control it. No gradio here.

Quotas hold under concurrency: a write is admitted under its owner's lock, never checked
first and written later. Code that writes an owner's items is handed the owner's `quota`
(`OwnerSpace.quota(owner)`) and either reserves the exact bytes it is about to add
(`quota.reserve(n)`, held until the bytes are on disk: galleries, result files) or builds the
item aside and puts it in place inside `quota.admit(staged, target)` (heads, video indexes:
the size is measured when the item is whole). Either way the check and the write cannot be
split by another request of the same owner, and what is reserved or staged counts as used
meanwhile, so six writes at once see each other.

Several app processes may share one data dir (replicas): a pin is also a shared flock on a
file in `owners/.pins/` (one per item, one per owner), which a sweep in any process must take
exclusively, without waiting, before it deletes the item (or drops the owner's folder); an
owner's quota is checked under an flock as well as a thread lock (exact across processes for
items admitted whole; a reservation is seen by other processes once its bytes are on disk:
with sticky sessions one visitor's writes reach one replica); the data dir's secret is
made once, under a lock, whoever starts first."""
from __future__ import annotations

import hashlib
import hmac
import logging
import os
import re
import secrets
import shutil
import threading
import time
import uuid
from collections import Counter
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

from model_zoo.core import storage
from model_zoo.core.errors import InputError

log = logging.getLogger("studio.ownership")

MODES = ("private", "shared")
KINDS = ("galleries", "heads", "batches", "videos")  # what an owner can have
TRANSIENT_KINDS = ("batches",)  # results to download: expire for signed-in owners too
OWNERS_DIR = "owners"
TRASH_DIR = ".trash"
LAST_USE_DIR = ".last-use"
SECRET_FILE = ".secret"
PINS_DIR = ".pins"  # flock files: <owner id> and <owner id>.<kind>.<name> (pins), <owner id>.quota
_OWNER_ID = re.compile(r"^[ua]-[0-9a-f]{32}$")
_BROWSER_ID = re.compile(r"^[0-9a-f]{32}$")  # what new_browser_id issues, nothing else
_SESSION = re.compile(r"^[A-Za-z0-9_-]{8,128}$")  # gradio session hashes (uuid4 from gradio_client)
# An owner key: what a caller with no browser session (an MCP client) holds to reach its items.
# Long enough to be unguessable when random (22 url-safe characters: 132 bits; new_key issues 32).
KEY_PREFIX = "mms_"
_KEY = re.compile(r"^mms_[A-Za-z0-9_-]{22,128}$")
_ITEM_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")  # one folder name: never '..' or a path


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

    def __init__(self, space: "OwnerSpace", owner: "Owner") -> None:
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


@dataclass(frozen=True)
class Owner:
    """Whose items a request sees. id "" is the operator (the shared namespace). `key`: the
    owner key a keyed owner was reached with (OwnerSpace.keyed), so a handler can hand it back
    in a handle; never part of the identity, never shown."""

    id: str = ""
    key: str | None = field(default=None, compare=False, repr=False)

    @property
    def is_operator(self) -> bool:
        return not self.id

    @property
    def signed_in(self) -> bool:
        return self.id.startswith("u-")

    @property
    def anonymous(self) -> bool:
        return self.id.startswith("a-")


OPERATOR = Owner("")


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


class OwnerSpace:
    """Namespaces, use records and limits for one data dir."""

    def __init__(self, data_dir: Path, mode: str = "private", ttl_hours: float = 24.0, quota_mb: float = 500.0,
                 clock: Callable[[], float] = time.time) -> None:
        if mode not in MODES:
            raise ValueError(f"data mode must be one of {MODES}, not {mode!r}")
        self.data_dir = Path(data_dir)
        self.mode = mode
        self.ttl_s = float(ttl_hours) * 3600
        self.quota_bytes = int(float(quota_mb) * (1 << 20))
        self.clock = clock
        # (kind, path) after an item is deleted: whoever caches items in memory drops its copy
        # (core knows no capability: components.context adds the open galleries' hook)
        self.on_delete: list[Callable[[str, Path], None]] = []
        self._lock = threading.Lock()
        self._pins: Counter = Counter()
        self._secret: bytes | None = None
        self._owner_locks: dict[str, threading.Lock] = {}  # owner id -> the lock its writes are admitted under
        self._reserved: Counter = Counter()  # owner id -> bytes reserved by writes under way

    # -- where things are -------------------------------------------------------------
    @property
    def private(self) -> bool:
        return self.mode == "private"

    @property
    def owners_root(self) -> Path:
        return self.data_dir / OWNERS_DIR

    def shared_folder(self, kind: str) -> Path:
        """The operator's folder of a kind (everyone's, in the shared mode)."""
        return self.data_dir / kind

    def folder(self, owner: Owner, kind: str) -> Path:
        """Where `owner` keeps items of `kind` (not created here)."""
        if kind not in KINDS:
            raise ValueError(f"unknown kind {kind!r}")
        if owner.is_operator or not self.private:
            return self.shared_folder(kind)
        if not _OWNER_ID.match(owner.id):  # ids are made here; anything else is a bug
            raise ValueError("malformed owner id")
        return self.owners_root / owner.id / kind

    # -- who is who (ids derived server-side, never taken from input) ---------------------
    @property
    def secret(self) -> bytes:
        """The HMAC key, made once per data dir (so a restart keeps everyone's folders)."""
        if self._secret is None:
            # one secret for all replicas, whoever starts first
            with self._lock, storage.file_lock(self.owners_root / PINS_DIR / f"{SECRET_FILE}.lock"):
                path = self.owners_root / SECRET_FILE
                if not path.is_file():
                    storage.atomic_write_text(path, secrets.token_hex(32))
                    os.chmod(path, 0o600)
                self._secret = path.read_text().strip().encode()
        return self._secret

    def _digest(self, text: str) -> str:
        return hmac.new(self.secret, text.encode("utf-8"), hashlib.sha256).hexdigest()[:32]

    def user(self, provider: str, username: str) -> Owner:
        """A signed-in user (provider "hf" for OAuth, "auth" for --auth): items are kept."""
        if not self.private:
            return OPERATOR
        if not username:
            raise ValueError("empty username")
        return Owner("u-" + self._digest(f"user\0{provider}\0{username}"))

    def anonymous(self, source: str, token: str) -> Owner | None:
        """An anonymous browser ("browser", an id this server issued) or API session
        ("session", gradio's session hash). None when the token is malformed."""
        if not self.private:
            return OPERATOR
        pattern = _BROWSER_ID if source == "browser" else _SESSION
        if not isinstance(token, str) or not pattern.match(token):
            return None
        return Owner("a-" + self._digest(f"anon\0{source}\0{token}"))

    def keyed(self, key: str) -> Owner:
        """The owner a caller reaches by presenting an owner key (an MCP client has no browser
        session: it sends the key in a header, or inside a handle such as 'holiday@mms_...').
        Anyone holding the key is this owner; the key itself is never stored (only its HMAC).
        Anonymous: its items expire `ttl` after their last use. Raises InputError for a key that
        is not one (too short to be unguessable, or other characters)."""
        if not self.valid_key(key):
            raise InputError(f"An owner key is '{KEY_PREFIX}' followed by 22 to 128 letters, digits, '-' or '_' "
                             f"(make one with: python -c \"import secrets; print('{KEY_PREFIX}' + "
                             "secrets.token_urlsafe(24))\"), or use the handle a tool returned.")
        if not self.private:
            return OPERATOR
        return Owner("a-" + self._digest(f"anon\0key\0{key}"), key=key)

    @staticmethod
    def new_key() -> str:
        """A fresh owner key (32 url-safe random characters after the prefix)."""
        return KEY_PREFIX + secrets.token_urlsafe(24)

    @staticmethod
    def valid_key(value: object) -> bool:
        return isinstance(value, str) and bool(_KEY.match(value))

    @staticmethod
    def new_browser_id() -> str:
        return secrets.token_hex(16)

    @staticmethod
    def valid_browser_id(value: object) -> bool:
        return isinstance(value, str) and bool(_BROWSER_ID.match(value))

    # -- use: pins and last-use records -----------------------------------------------
    @staticmethod
    def safe_name(name: object) -> bool:
        return isinstance(name, str) and bool(_ITEM_NAME.match(name)) and ".." not in name

    def _record(self, owner: Owner, kind: str, name: str) -> Path:
        if not self.safe_name(name):
            raise InputError(f"'{name}' is not a usable name: letters, digits, '-', '_' or '.', starting with a "
                             "letter or digit.")
        return self.owners_root / owner.id / LAST_USE_DIR / f"{kind}.{name}"

    def touch(self, owner: Owner, kind: str, name: str) -> None:
        """Record a use now (by the clock). Only anonymous items expire by last use."""
        if owner.is_operator or not self.private:
            return
        record = self._record(owner, kind, name)
        record.parent.mkdir(parents=True, exist_ok=True)
        record.touch()
        now = self.clock()
        os.utime(record, (now, now))

    def last_use(self, owner: Owner, kind: str, name: str) -> float | None:
        """When the item was last used (its record, else its own modification time)."""
        records = [self._record(owner, kind, name)] if self.safe_name(name) else []
        for path in (*records, self.folder(owner, kind) / name):
            try:
                return path.stat().st_mtime
            except OSError:
                continue
        return None

    @contextmanager
    def using(self, owner: Owner, kind: str, name: str) -> Iterator[Path]:
        """Pin an item for the length of a request (the cleaner skips it) and record the
        use at both ends; yields the item's path."""
        key = (owner.id, kind, name)
        self._record(owner, kind, name)  # the name is checked before anything is pinned
        with self._lock:
            self._pins[key] += 1
        path = self.folder(owner, kind) / name
        pins = ExitStack()
        try:
            if self.private and not owner.is_operator:  # seen by sweeps in other processes too
                for pin in self._pin_files(owner, kind, name):
                    pins.enter_context(storage.file_lock(pin, shared=True))
            if path.exists():  # a record only for what exists: reads of unknown names leave nothing
                self.touch(owner, kind, name)
            yield path
        finally:
            try:
                if path.exists():
                    self.touch(owner, kind, name)
            finally:
                pins.close()
                with self._lock:
                    self._pins[key] -= 1
                    if self._pins[key] <= 0:
                        del self._pins[key]

    def pinned(self, owner: Owner, kind: str, name: str) -> bool:
        """Pinned by a request of this process (other processes' pins: their flocks)."""
        return self._pins.get((owner.id, kind, name), 0) > 0

    def _pin_files(self, owner: Owner, kind: str | None = None, name: str | None = None) -> list[Path]:
        """The owner's pin file, and the item's if named."""
        pins = self.owners_root / PINS_DIR
        return [pins / owner.id] + ([pins / f"{owner.id}.{kind}.{name}"] if kind else [])

    def _drop_stale_pins(self) -> None:
        """Pin files of items and owners that are gone, once no process holds them."""
        pins = self.owners_root / PINS_DIR
        for path in sorted(pins.iterdir()) if pins.is_dir() else []:
            parts = path.name.split(".", 2)
            if not _OWNER_ID.match(parts[0]) or len(parts) == 2:
                continue  # the secret's lock, a quota lock
            target = self.owners_root.joinpath(*parts)  # <owner>/<kind>/<name>, or the owner's folder
            if not target.exists():
                storage.remove_lock_file(path)

    # -- quota -----------------------------------------------------------------------------
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

    # -- cleaning --------------------------------------------------------------------------
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


class Cleaner:
    """Runs `space.sweep()` now and then on a daemon thread until stopped."""

    def __init__(self, space: OwnerSpace, interval_s: float = 600.0) -> None:
        self.space = space
        self.interval_s = interval_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.sweeps = 0

    def start(self) -> "Cleaner":
        """Empty the trash a killed sweep left (before any request), then sweep in the background."""
        self.space.empty_trash()
        self._thread = threading.Thread(target=self._run, name="mms-cleaner", daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        while True:  # a first sweep at start-up, then one every interval
            try:
                self.space.sweep()
            except Exception:  # a bad folder must not end the cleaner
                log.exception("cleaner: sweep failed")
            self.sweeps += 1
            if self._stop.wait(self.interval_s):
                return

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()
