"""OwnerSpace: one data dir's namespaces, owner ids, use records and pins; its quota and
cleaning methods come from quota.QuotaLedger and cleaning.Cleaning; the Cleaner runs its sweeps."""
from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import threading
import time
from collections import Counter
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Callable, Iterator

from model_zoo.core import storage
from model_zoo.core.errors import InputError
from model_zoo.core.ownership.cleaning import Cleaning, log
from model_zoo.core.ownership.owners import (_BROWSER_ID, _ITEM_NAME, _KEY, _OWNER_ID, _SESSION, KEY_PREFIX, KINDS,
                                            LAST_USE_DIR, MODES, OPERATOR, OWNERS_DIR, PINS_DIR, SECRET_FILE, Owner)
from model_zoo.core.ownership.quota import QuotaLedger


class OwnerSpace(QuotaLedger, Cleaning):
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
