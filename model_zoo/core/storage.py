"""Atomic writes: temp file in the same folder, fsync, rename. A kill leaves the old
file or the new one, never half of either. Everything the app writes goes through here.

A write in progress holds an advisory lock (flock) on its temp file or staging folder; the
kernel drops it when the writer dies, however it dies. So `clean_debris` can tell what a
killed write left (a hidden `.<name>.<random>.tmp`, unlocked) from a write under way in
this or another process (locked), and remove only the former. A temp file exists for an
instant before its writer locks it: the cleaner removes an entry while holding its lock, and
a writer that finds its new temp file claimed (locked by a cleaner, or gone) makes another.

Several app processes may share one data dir (replicas behind a balancer): `file_lock` is
the cross-process lock a store takes around read-merge-write (and, shared, around a read that
must not see a half-committed change), and `file_stamp` is how a process notices that another
one replaced a file since it last read it."""
from __future__ import annotations

import ctypes
import errno
import hashlib
import os
import shutil
import tempfile
import uuid
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import BinaryIO, Callable, ContextManager, Iterator

try:
    import fcntl
except ImportError:  # not POSIX: no locks, so debris is never judged dead (and never removed)
    fcntl = None

_CHUNK = 1 << 20
TMP_SUFFIX = ".tmp"  # temp files and staging folders: .<name>.<random>.tmp
OLD_MARK = ".old-"  # a folder swapped out by two renames: .<name>.old-<id>
_RENAME_EXCHANGE = 2  # linux/fs.h
_AT_FDCWD = -100


@contextmanager
def atomic_file(path: Path | str, durable: bool = True) -> Iterator[BinaryIO]:
    """Open a temp file for writing; on clean exit it replaces `path` atomically.
    durable=False skips the fsyncs (~4 ms each here): still never half-written after a
    process kill, but may be lost on power loss; for derived files such as thumbnails."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    while True:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=TMP_SUFFIX)
        lock = os.dup(fd)  # held until the rename: closing the handle must not drop the lock
        if _lock_new(lock, Path(tmp)):
            break
        os.close(fd)  # a cleaner took it for a killed write's (it is removing it): start again
        os.close(lock)
    try:
        with os.fdopen(fd, "wb") as handle:
            yield handle
            handle.flush()
            if durable:
                os.fsync(handle.fileno())
        os.replace(tmp, path)
        if durable:
            fsync_dir(path.parent)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    finally:
        os.close(lock)


def atomic_write_bytes(path: Path | str, data: bytes, durable: bool = True) -> None:
    with atomic_file(path, durable) as handle:
        handle.write(data)


def atomic_write_text(path: Path | str, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


LOCK_FILE = ".lock"  # a store's lock file in the folder it guards (empty; never removed)


@contextmanager
def file_lock(path: Path | str, shared: bool = False) -> Iterator[None]:
    """Hold an flock on `path` (created if missing): exclusive for writers, `shared` for
    readers. It is per open file, so two threads or two processes exclude each other alike,
    and the kernel drops it when the holder dies. Where locks are missing it does nothing."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        if fcntl is None:
            break
        try:
            fcntl.flock(fd, fcntl.LOCK_SH if shared else fcntl.LOCK_EX)
        except OSError as exc:  # a file system without locks: go on, unprotected
            if exc.errno not in (errno.ENOLCK, errno.EOPNOTSUPP, errno.ENOTSUP, errno.EINVAL):
                os.close(fd)
                raise
            break
        if _same_file(fd, path):
            break
        os.close(fd)  # removed (remove_lock_file) while we waited: lock the file there now
    try:
        yield
    finally:
        os.close(fd)  # drops the lock


def try_file_lock(path: Path | str) -> int | None:
    """An exclusive flock on `path` taken without waiting: its descriptor (close it to
    release), or None when another holder has it, shared or not."""
    if fcntl is None:
        return None
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        return None
    if not _same_file(fd, path):  # removed meanwhile: someone else is cleaning up
        os.close(fd)
        return None
    return fd


def release_lock_file(fd: int, path: Path | str, remove: bool = True) -> None:
    """Release a lock taken by try_file_lock, removing its file first (`remove`): a process
    waiting on the removed file notices (file_lock checks) and locks a new one."""
    try:
        if remove:
            Path(path).unlink(missing_ok=True)
    finally:
        os.close(fd)


def remove_lock_file(path: Path | str) -> bool:
    """Remove a lock file nobody holds; False (and kept) when someone does."""
    fd = try_file_lock(path)
    if fd is None:
        return False
    release_lock_file(fd, path)
    return True


def _same_file(fd: int, path: Path) -> bool:
    try:
        return os.fstat(fd).st_ino == os.stat(path).st_ino
    except OSError:
        return False


def file_stamp(path: Path | str) -> tuple[int, int, int] | None:
    """(inode, mtime ns, size) of a file, None if missing. An atomic write gives the file a
    new inode, so the stamp changes with every replacement even within one clock tick."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_ino, st.st_mtime_ns, st.st_size


def sha256_file(path: Path | str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(_CHUNK):
            digest.update(block)
    return digest.hexdigest()


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def fsync_dir(folder: Path) -> None:
    """Make a rename durable (POSIX); a no-op where folders cannot be opened."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


@contextmanager
def atomic_directory(path: Path | str,
                     admit: Callable[[Path, Path], ContextManager[object]] | None = None) -> Iterator[Path]:
    """Build a folder aside (a locked temp sibling) and put it in place on clean exit. An
    existing folder is swapped with the new one in one step (renameat2 RENAME_EXCHANGE, on
    Linux) and removed after; where that is not available it is first renamed to a locked
    `.<name>.old-<id>` (a kill between the two renames leaves it there, and `clean_debris`
    puts it back). A kill leaves the old folder or the new one, plus at worst a temp
    folder that clean_debris removes. `admit(staging, path)`, if given, is entered once the
    folder is whole and held while it is put in place (an owner's quota: it may refuse, and
    then nothing changes)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    clean_debris(path.parent, path.name)  # what a killed write of this folder left (it can be big)
    while True:
        staging = Path(tempfile.mkdtemp(dir=path.parent, prefix=f".{path.name}.", suffix=TMP_SUFFIX))
        lock = _open_folder(staging)
        if lock is None and not staging.is_dir():
            continue  # a cleaner took it for a killed write's and removed it already: start again
        if lock is None or _lock_new(lock, staging):
            break
        _close(lock)  # a cleaner took it for a killed write's (it is removing it): start again
    try:
        yield staging
        with admit(staging, path) if admit is not None else nullcontext():
            _put_in_place(staging, path)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    finally:
        _close(lock)


def _put_in_place(staging: Path, path: Path) -> None:
    if path.exists() and _exchange(staging, path):
        fsync_dir(path.parent)
        shutil.rmtree(staging, ignore_errors=True)  # the old folder, now under the temp name
        return
    old, old_lock = None, None
    if path.exists():
        old = path.with_name(f".{path.name}{OLD_MARK}{uuid.uuid4().hex[:12]}")
        old_lock = _open_locked(path)
        os.replace(path, old)
    try:
        os.replace(staging, path)
        fsync_dir(path.parent)
    except BaseException:
        if old is not None and not path.exists():
            os.replace(old, path)
        raise
    finally:
        if old is not None and path.exists():
            shutil.rmtree(old, ignore_errors=True)
        _close(old_lock)


def _lock(fd: int) -> bool:
    """Lock a write's own entry without waiting; False only when another holder has it."""
    if fcntl is not None:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        except OSError:  # a file system without locks: the write goes on, unprotected
            pass
    return True


def _lock_new(fd: int, path: Path) -> bool:
    """Lock a temp file or staging folder just made. False when a cleaner claimed it in the
    instant before (clean_debris holds its lock while it removes it, or has removed it)."""
    return _lock(fd) and (fcntl is None or _same_file(fd, path))


def _open_folder(folder: Path) -> int | None:
    """An open descriptor of a folder, to lock (None where folders cannot be opened or locked)."""
    if fcntl is None:
        return None
    try:
        return os.open(folder, os.O_RDONLY)
    except OSError:
        return None


def _open_locked(folder: Path) -> int | None:
    """An open, locked descriptor of a folder (None where folders cannot be opened or locked)."""
    fd = _open_folder(folder)
    if fd is not None:
        _lock(fd)
    return fd


def _close(fd: int | None) -> None:
    if fd is not None:
        os.close(fd)


def _claim_dead(path: Path) -> int | None:
    """The entry's lock, taken without waiting, if no live process holds it (its writer was
    killed, or has just made it and not locked it yet); None otherwise. The caller removes the
    entry before closing it, so a writer cannot lock it in between (it makes a new one)."""
    if fcntl is None:
        return None
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except OSError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:  # held by a writer (or no locks here): leave it
        os.close(fd)
        return None
    if not _same_file(fd, path):  # removed meanwhile (another cleaner, or the write ended)
        os.close(fd)
        return None
    return fd


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths in one step; False where the system or file system cannot."""
    renameat2 = getattr(_libc(), "renameat2", None)
    if renameat2 is None:
        return False
    if renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP, errno.ENOTSUP, errno.EPERM):
        return False
    raise OSError(code, os.strerror(code), str(a), None, str(b))


_LIBC: list = []


def _libc():
    if not _LIBC:
        try:
            _LIBC.append(ctypes.CDLL(None, use_errno=True) if os.name == "posix" else None)
        except OSError:
            _LIBC.append(None)
    return _LIBC[0]


def clean_debris(folder: Path | str, name: str | None = None) -> int:
    """Remove what killed atomic writes left directly in `folder` (of `name` only, if given):
    unlocked hidden temp files and staging folders; a swapped-out `.<name>.old-<id>` folder
    goes back to `<name>` if that is missing (the kill fell between the two renames), else
    it goes. Writes under way (locked) are left alone. Returns the entries removed or restored."""
    prefix = f".{name}." if name else "."
    try:
        entries = [e for e in os.scandir(folder) if e.name.startswith(prefix)
                   and (e.name.endswith(TMP_SUFFIX) or OLD_MARK in e.name)]
    except OSError:
        return 0
    done = 0
    for entry in entries:
        path = Path(entry.path)
        held = _claim_dead(path)
        if held is None:
            continue
        try:  # removed (or restored) while its lock is held: no writer can take it meanwhile
            if not entry.name.endswith(TMP_SUFFIX):  # .<name>.old-<id>
                original = path.with_name(entry.name[1:].rsplit(OLD_MARK, 1)[0])
                if not original.exists():
                    try:
                        os.replace(path, original)
                        fsync_dir(path.parent)
                        done += 1
                        continue
                    except OSError:
                        pass
            if entry.is_dir(follow_symlinks=False):
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)
            done += 1
        finally:
            os.close(held)
    return done
