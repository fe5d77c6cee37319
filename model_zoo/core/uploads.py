"""One reader for every upload: images, zips of them, training tables (alone or zipped with
their media), audio and video. Every path that takes a visitor's files reads them here, under
the same limits, which come from the settings (`--max-file-size-mb`, `--max-expanded-mb`,
`--max-upload-files`; app.settings) and are handed down as UploadLimits:

- per file: no file, uploaded or unpacked from a zip, over `max_file_bytes`;
- in all: what one request unpacks stays under `max_total_bytes` (a zip bomb stops here: the
  sizes a zip declares are checked before anything is written, and what it really inflates
  to is counted while it is written, so a member that lies about its size stops too);
- entries: at most `max_files` files in one request, zip members included;
- names: nothing from an archive is used as a path unless it is a plain relative path inside
  the folder it unpacks to (no `..`, no absolute or drive path, no link, no control
  character); hidden files and macOS metadata (`__MACOSX/`, `._x`) are skipped silently.

Nothing is refused silently: each refusal is in `Uploads.rejected` as {name, reason} (the
reason a sentence naming the file), and `Uploads.summary()` sums them up in one sentence a
visitor can act on. Nothing here decodes a file; the decoders (images, audio, video, tables)
refuse what they cannot read in their own words."""
from __future__ import annotations

import re
import stat
import unicodedata
import zipfile
import zlib
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Collection, Sequence

from model_zoo.core.errors import InputError

MB = 1 << 20
_CHUNK = 1 << 20
_UNSAFE_CHARS = re.compile(r"[^A-Za-z0-9._ -]+")
MAX_NAME_BYTES = 200  # one part of a member's path kept as it is (file systems stop at 255)


@dataclass(frozen=True)
class UploadLimits:
    max_file_bytes: int = 200 * MB  # one file: an upload, or a member of a zip once unpacked
    max_total_bytes: int = 1024 * MB  # everything one request brings, zips unpacked
    max_files: int = 5000  # files in one request, zip members included

    @classmethod
    def from_mb(cls, file_mb: float, total_mb: float, files: int) -> "UploadLimits":
        return cls(int(float(file_mb) * MB), int(float(total_mb) * MB), int(files))

    def describe(self) -> str:
        return (f"files up to {_mb(self.max_file_bytes)} each, {_mb(self.max_total_bytes)} in all once unpacked, "
                f"{self.max_files:,} files at most")


@dataclass(frozen=True)
class Upload:
    """One usable file: `name` is what the visitor calls it (its file name, or its path inside
    the zip), `file` where it is on the server now, `given` the path as handed in (for an
    unzipped file: the upload itself)."""

    name: str
    file: Path
    size: int
    given: str = ""
    archive: str | None = None  # the zip it came out of


# Why a file was refused: (kind, what the visitor can do about it), for the summary sentence.
_WHY = {
    "missing": ("could not be found on the server", "upload them again"),
    "empty": ("empty", "check the files"),
    "large": ("over the size limit", "shrink or split them"),
    "total": ("over the limit of what one upload may unpack to", "send fewer files at a time"),
    "count": ("over the number of files one upload may hold", "send fewer files at a time"),
    "name": ("named with a path that leads outside the archive", "zip the files again with plain names"),
    "link": ("links, not files", "zip the files themselves"),
    "locked": ("password-protected", "zip them without a password"),
    "kind": ("of a kind this tab does not read", "leave them out"),
    "nested": ("zips inside a zip", "unzip them first"),
    "damaged": ("damaged or unreadable", "zip them again"),
}


@dataclass
class Uploads:
    files: list[Upload] = field(default_factory=list)
    rejected: list[dict] = field(default_factory=list)  # [{name, reason}], one per refused file, in order
    kinds: Counter = field(default_factory=Counter, repr=False)  # refusals by kind (see _WHY)
    limits: UploadLimits = field(default_factory=UploadLimits, repr=False)

    @property
    def bytes(self) -> int:
        return sum(upload.size for upload in self.files)

    def refuse(self, name: str, reason: str, kind: str) -> None:
        self.rejected.append({"name": name, "reason": reason})
        self.kinds[kind] += 1

    def summary(self, what: str = "file", listed: bool = True) -> str:
        """The refusals in one sentence a visitor can act on ("" when there are none).
        listed: the result carries `rejected` (each file and why), and the sentence says so."""
        if not self.rejected:
            return ""
        total = len(self.rejected)
        kinds = [kind for kind, _ in self.kinds.most_common()]
        parts = [f"{self.kinds[kind]} {_WHY[kind][0]}" for kind in kinds]
        advice = "; ".join(dict.fromkeys(_WHY[kind][1] for kind in kinds))
        limits = f"; the limits: {self.limits.describe()}" if {"large", "total", "count"} & set(kinds) else ""
        read = f", {len(self.files)} read" if self.files else ""
        where = " (each is listed under 'rejected' with why)" if listed else ""
        return (f"{total} {what}{'s were' if total != 1 else ' was'} refused{read}: {', '.join(parts)}{limits}. "
                f"To fix: {advice}{where}.")


def _mb(nbytes: float) -> str:
    return f"{nbytes / MB:,.0f} MB" if nbytes >= MB else f"{nbytes / 1024:,.0f} KB"


def shown_name(name: str, limit: int = 120) -> str:
    """A name from a visitor (or an archive) fit to show: control characters out, cut short."""
    cleaned = "".join(c if unicodedata.category(c)[0] != "C" else "?" for c in str(name))
    return cleaned if len(cleaned) <= limit else cleaned[: limit - 1] + "…"


def check_file(path: str | Path, limits: UploadLimits, what: str = "file") -> Path:
    """One uploaded file, checked like any other (it exists, is not empty, is within the
    per-file limit), or InputError saying which rule it broke."""
    found = Uploads(limits=limits)
    _plain(Path(path), found, what, str(path))
    if found.rejected:
        raise InputError(found.rejected[0]["reason"])
    return Path(path)


def read_uploads(paths: Sequence[str | Path], into: Path, limits: UploadLimits,
                 members: Collection[str] | None = None, keep_folders: bool = False,
                 what: str = "file") -> Uploads:
    """The files of one request, zips opened into `into` (which must be empty or new),
    within `limits`. `members`: the suffixes read out of a zip (None: any); a plain upload is
    kept whatever its suffix, for its decoder to judge. keep_folders: members keep their
    relative path (a table naming its media); else each lands in a numbered folder of its own
    under its (made safe) base name. `what` names a file in the refusals ("image")."""
    found = Uploads(limits=limits)
    into = Path(into)
    for number, given in enumerate(paths):
        path = Path(given)
        if path.suffix.lower() == ".zip":
            _unzip(path, into / f"zip{number}", found, members, keep_folders, what)
        else:
            _plain(path, found, what, str(given))
    return found


def _room(found: Uploads, size: int, name: str, what: str) -> bool:
    """Whether one more file of `size` fits the per-file, count and total limits (else refused)."""
    limits = found.limits
    if size > limits.max_file_bytes:
        found.refuse(
            name, f"'{name}' is {_mb(size)}; {what}s up to {_mb(limits.max_file_bytes)} are accepted.", "large"
        )
    elif len(found.files) >= limits.max_files:
        found.refuse(name, f"'{name}' is one file too many: up to {limits.max_files:,} files in one upload.", "count")
    elif found.bytes + size > limits.max_total_bytes:
        found.refuse(name, f"'{name}' would take this upload past {_mb(limits.max_total_bytes)} in all.", "total")
    else:
        return True
    return False


def _plain(path: Path, found: Uploads, what: str, given: str) -> None:
    name = shown_name(path.name)
    try:
        info = path.stat()
    except OSError:
        found.refuse(name, f"'{name}' could not be found on the server; please upload it again.", "missing")
        return
    if not stat.S_ISREG(info.st_mode):
        found.refuse(name, f"'{name}' is not a file.", "kind")
    elif info.st_size == 0:
        found.refuse(name, f"'{name}' is empty (0 bytes).", "empty")
    elif _room(found, info.st_size, name, what):
        found.files.append(Upload(name, path, info.st_size, given))


def _skipped(parts: tuple[str, ...]) -> bool:
    """OS metadata and hidden files: not the visitor's files, left out without a word."""
    return any(part.startswith(".") or part == "__MACOSX" for part in parts[:-1]) or parts[-1].startswith((".", "._"))


def _safe_parts(filename: str) -> tuple[str, ...] | None:
    """The member's path as plain relative parts, or None if it could lead anywhere else."""
    if "\x00" in filename or any(unicodedata.category(c)[0] == "C" for c in filename):
        return None
    unified = filename.replace("\\", "/")
    if unified.startswith("/") or re.match(r"^[A-Za-z]:", unified):
        return None
    parts = tuple(p for p in PurePosixPath(unified).parts if p not in ("", "."))
    if not parts or any(p == ".." for p in parts):
        return None
    return parts


def _is_link(member: zipfile.ZipInfo) -> bool:
    return stat.S_ISLNK(member.external_attr >> 16)


def _unzip(archive: Path, into: Path, found: Uploads, suffixes: Collection[str] | None, keep_folders: bool,
           what: str) -> None:
    label = shown_name(archive.name)
    try:
        zipped = zipfile.ZipFile(archive)
    except FileNotFoundError:
        found.refuse(label, f"'{label}' could not be found on the server; please upload it again.", "missing")
        return
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError, NotImplementedError) as exc:
        found.refuse(label, f"'{label}' is not a readable zip archive ({_short(exc)}).", "damaged")
        return
    with zipped:
        entries = [m for m in zipped.infolist() if not m.is_dir()]
        named = []
        for member in entries:
            parts = _safe_parts(member.filename)
            if parts is not None and _skipped(parts):
                continue
            named.append((member, parts))
        limits = found.limits
        if len(found.files) + len(named) > limits.max_files:
            found.refuse(label, f"'{label}' holds {len(named):,} files; up to {limits.max_files:,} files in one upload "
                                "are accepted.", "count")
            return
        declared = sum(m.file_size for m, _ in named)
        if found.bytes + declared > limits.max_total_bytes and all(m.file_size <= limits.max_file_bytes
                                                                  for m, _ in named):
            found.refuse(label, f"'{label}' unpacks to {_mb(declared)}; up to {_mb(limits.max_total_bytes)} in all "
                                "are accepted in one upload.", "total")
            return
        into.mkdir(parents=True, exist_ok=True)
        taken: set[tuple[str, ...]] = set()
        for number, (member, parts) in enumerate(named):
            _member(zipped, member, parts, number, into, found, suffixes, keep_folders, what, label, taken)


def _member(zipped: zipfile.ZipFile, member: zipfile.ZipInfo, parts: tuple[str, ...] | None, number: int,
            into: Path, found: Uploads, suffixes: Collection[str] | None, keep_folders: bool, what: str,
            label: str, taken: set) -> None:
    name = shown_name(member.filename)
    where = f"'{name}' in {label}"
    if parts is None:
        found.refuse(name, f"{where} has a name that leads outside the archive (an absolute path, '..' or a "
                           "control character): skipped.", "name")
        return
    suffix = PurePosixPath(parts[-1]).suffix.lower()
    if _is_link(member):
        found.refuse(name, f"{where} is a link, not a file: skipped.", "link")
    elif member.flag_bits & 0x1:
        found.refuse(name, f"{where} is password-protected: skipped.", "locked")
    elif suffix == ".zip":
        found.refuse(name, f"{where} is a zip inside the zip; unzip it and upload its files.", "nested")
    elif suffixes is not None and suffix not in suffixes:
        kinds = ", ".join(sorted(suffixes))
        found.refuse(name, f"{where} is not a {what} this tab reads ({kinds}): skipped.", "kind")
    elif member.file_size == 0:
        found.refuse(name, f"{where} is empty (0 bytes).", "empty")
    elif keep_folders and any(len(part.encode("utf-8")) > MAX_NAME_BYTES for part in parts):
        found.refuse(name, f"{where} has a name too long for a file (over {MAX_NAME_BYTES} bytes in one part): "
                           "skipped.", "name")
    elif parts in taken:
        found.refuse(name, f"{where} appears twice in the archive: the first one was kept.", "name")
    elif _room(found, member.file_size, name, what):
        target = into.joinpath(*parts) if keep_folders else into / f"{number:05d}" / _safe_file_name(parts[-1])
        if not target.resolve().is_relative_to(into.resolve()):  # belt and braces: never outside `into`
            found.refuse(name, f"{where} has a name that leads outside the archive: skipped.", "name")
            return
        size = _extract(zipped, member, target, found, name, where)
        if size is not None:
            taken.add(parts)
            found.files.append(Upload(name, target, size, archive=label))


def _extract(zipped: zipfile.ZipFile, member: zipfile.ZipInfo, target: Path, found: Uploads, name: str,
             where: str) -> int | None:
    """Copy one member out, counting what it really inflates to; None (and refused) if it
    breaks a limit or is damaged."""
    limits = found.limits
    cap = min(member.file_size, limits.max_file_bytes, limits.max_total_bytes - found.bytes)
    written = 0
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        with zipped.open(member) as source, open(target, "xb") as out:
            while block := source.read(_CHUNK):
                written += len(block)
                if written > cap:
                    raise _TooBig
                out.write(block)
    except _TooBig:
        _discard(target)
        found.refuse(name, f"{where} unpacks to more than it declares or the limits allow (a zip bomb?): "
                           "refused.", "large")
        return None
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, RuntimeError, NotImplementedError, ValueError) as exc:
        _discard(target)
        found.refuse(name, f"{where} is damaged and cannot be unpacked ({_short(exc)}).", "damaged")
        return None
    return written


class _TooBig(Exception):
    pass


def _discard(target: Path) -> None:
    """Remove what a refused member left (its name may be one the file system refused too)."""
    try:
        target.unlink(missing_ok=True)
    except OSError:
        pass


def _safe_file_name(name: str) -> str:
    """A base name safe on any file system, its suffix kept (it tells the decoders the kind)."""
    path = PurePosixPath(name)
    stem = _UNSAFE_CHARS.sub("-", path.stem).strip(" .-")[:80] or "file"
    suffix = _UNSAFE_CHARS.sub("", path.suffix)[:10]
    return stem + suffix


def _short(exc: BaseException) -> str:
    """An exception's own words for a visitor: no path (the file is named already), kept short."""
    text = str(exc) or "unreadable"
    text = re.sub(r"(?<![\w.:/])~?/\S+", "", text).strip(" :'\"") or "unreadable"
    return text[:120]
