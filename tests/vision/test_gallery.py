"""Galleries with vectors we control: ranking, add/remove without rebuild, dedup by hash,
persistence across a restart and a kill, the model check, the exact -> IVF switch."""
from __future__ import annotations

import json

import faiss
import numpy as np
import pytest

from model_zoo.core.errors import InputError
from model_zoo.vision.search.gallery import Gallery, GalleryMismatch, NewItem
from model_zoo.vision.search.galleries import GalleryRegistry, open_gallery
from model_zoo.vision.search import check_gallery_name

DIM = 8


def unit(*values: float) -> np.ndarray:
    vector = np.zeros(DIM, np.float32)
    vector[: len(values)] = values
    return vector / np.linalg.norm(vector)


def items(*names: str) -> list[NewItem]:
    return [NewItem(name, sha256=f"hash-{name}", thumbnail_jpeg=b"\xff\xd8jpeg") for name in names]


@pytest.fixture
def gallery(tmp_path) -> Gallery:
    g = Gallery(tmp_path / "g")
    g.add(np.stack([unit(1, 0), unit(0, 1), unit(1, 1)]), items("east", "north", "northeast"), "space-a")
    g.save()
    return g


def test_ranks_by_cosine(gallery):
    hits = gallery.search(unit(1, 0.1), k=3)
    assert [h.name for h in hits] == ["east", "northeast", "north"]
    assert hits[0].score == pytest.approx(float(unit(1, 0.1) @ unit(1, 0)), abs=1e-5)
    assert [h.name for h in gallery.search(unit(0, 1), k=1)] == ["north"]


def test_k_larger_than_gallery_returns_what_exists(gallery):
    assert len(gallery.search(unit(1, 0), k=50)) == 3


def test_add_and_remove_are_incremental(gallery):
    index_before = gallery.index
    new_ids = gallery.add(unit(-1, 0)[None], items("west"), "space-a")
    assert gallery.index is index_before  # same index object: added in place, no rebuild
    assert gallery.search(unit(-1, 0.05), k=1)[0].name == "west"
    east = next(h.id for h in gallery.search(unit(1, 0), k=1))
    assert gallery.remove([east, 999]) == [east]
    assert gallery.index is index_before and gallery.index.ntotal == 3
    assert "east" not in [h.name for h in gallery.search(unit(1, 0), k=4)]
    assert not gallery.has_hash("hash-east") and gallery.has_hash("hash-west")
    assert new_ids == [3]  # ids are never reused


def test_survives_restart_with_items_thumbnails_and_model(gallery, tmp_path):
    gallery.remove([0])
    gallery.save()
    reopened = Gallery(tmp_path / "g")
    assert reopened.model == "space-a" and reopened.dim == DIM and len(reopened) == 2
    assert [h.name for h in reopened.search(unit(1, 1), k=2)] == ["northeast", "north"]
    assert reopened.thumbnail_path(1).read_bytes().startswith(b"\xff\xd8")
    assert not reopened.thumbnail_path(0).exists()  # the removed image's thumbnail went too
    assert reopened.add(unit(0, -1)[None], items("south"), "space-a") == [3]


def test_a_kill_before_the_manifest_leaves_the_previous_gallery(gallery, tmp_path):
    folder = tmp_path / "g"
    gallery.add(unit(-1, 0)[None], items("west"), "space-a")
    # A kill after the new index file is written but before the manifest names it:
    (folder / "index-000099.faiss").write_bytes(faiss.serialize_index(gallery.index).tobytes())
    reopened = Gallery(folder)
    assert len(reopened) == 3 and not reopened.has_hash("hash-west")
    assert sorted(p.name for p in folder.glob("index-*")) == ["index-000001.faiss"]  # stray file dropped
    assert not reopened.thumbnail_path(3).exists()  # the unsaved image's thumbnail too


def test_a_save_survives_another_replica_opening_the_gallery_as_each_temp_file_is_made(gallery, tmp_path,
                                                                                       monkeypatch):
    """Another replica's first open of a gallery (Gallery.__init__) removes what killed saves
    left: hidden temp files nobody holds a lock on. A save's temp file exists for an instant
    before its writer locks it; an open landing there took it for debris and deleted it, and
    the save failed at its rename (FileNotFoundError). Forced here for every file of a save;
    the save makes a new temp file and commits. A killed save's file still goes."""
    from model_zoo.core import storage

    folder = tmp_path / "g"
    dead = folder / ".manifest.json.killed.tmp"  # a killed save's: nobody holds its lock
    dead.write_bytes(b"{}")
    real_mkstemp, claimed = storage.tempfile.mkstemp, {}

    def mkstemp_then_another_replica_cleans(*args, **kwargs):
        made = real_mkstemp(*args, **kwargs)
        if kwargs["prefix"] not in claimed:  # the first temp file of each target: the next one is locked in time
            claimed[kwargs["prefix"]] = storage.clean_debris(kwargs["dir"])  # what that open runs first
        return made

    monkeypatch.setattr(storage.tempfile, "mkstemp", mkstemp_then_another_replica_cleans)
    with gallery.writing():
        gallery.add(unit(-1, 0)[None], items("west"), "space-a")
        gallery.save()
    monkeypatch.undo()
    # each file's first temp file claimed (and the dead one, beside the index)
    assert claimed == {".3.jpg.": 1, ".index-000002.faiss.": 2, ".manifest.json.": 1}
    assert not dead.exists()
    reopened = Gallery(folder)
    assert reopened.generation == 2 and reopened.has_hash("hash-west") and reopened.thumbnail_path(3).is_file()
    assert [p.name for p in folder.rglob(".*") if p.name != storage.LOCK_FILE] == []  # no temp file left


def test_manifest_is_plain_json_with_the_model(gallery, tmp_path):
    manifest = json.loads((tmp_path / "g" / "manifest.json").read_text())
    assert manifest["model"] == "space-a" and manifest["kind"] == "exact"
    assert [i["name"] for i in manifest["items"]] == ["east", "north", "northeast"]


def test_refuses_another_embedding_space(gallery):
    with pytest.raises(GalleryMismatch, match="space-a"):
        gallery.add(unit(1, 0)[None], items("x"), "space-b")
    with pytest.raises(GalleryMismatch):
        gallery.check_model("space-a", DIM + 1)
    assert len(gallery) == 3


def test_switches_to_ivf_past_the_exact_limit_and_keeps_add_remove(tmp_path):
    rng = np.random.default_rng(0)
    centres = rng.normal(size=(8, DIM))
    vectors = centres[rng.integers(0, 8, 400)] + 0.05 * rng.normal(size=(400, DIM))
    vectors = (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)
    g = Gallery(tmp_path / "big", exact_limit=300)
    g.add(vectors[:300], items(*map(str, range(300))), "space-a")
    assert g.kind == "exact"
    g.add(vectors[300:], items(*map(str, range(300, 400))), "space-a")
    assert g.kind == "ivf" and g.index.ntotal == 400
    assert g.search(vectors[42], k=1)[0].name == "42"
    g.remove([42])
    assert g.index.ntotal == 399 and all(h.name != "42" for h in g.search(vectors[42], k=5))
    g.save()
    reopened = Gallery(tmp_path / "big")
    assert reopened.kind == "ivf" and reopened.index.nprobe >= 8
    assert reopened.search(vectors[7], k=1)[0].name == "7"


def test_a_registry_shares_one_instance_until_forgotten(tmp_path):
    galleries = GalleryRegistry()
    first = galleries.open(tmp_path / "shared")
    assert galleries.open(tmp_path / "shared" / ".." / "shared") is first and tmp_path / "shared" in galleries
    assert GalleryRegistry().open(tmp_path / "shared") is not first  # another registry: its own instance
    assert open_gallery(tmp_path / "shared") is not first  # none: a fresh instance for one call
    galleries.forget(tmp_path / "shared")
    assert tmp_path / "shared" not in galleries and galleries.open(tmp_path / "shared") is not first
    second = galleries.open(tmp_path / "shared")
    galleries.clear()
    assert galleries.open(tmp_path / "shared") is not second


@pytest.mark.parametrize("name", ["", "../etc", "a/b", ".hidden", "x" * 65])
def test_gallery_names_cannot_escape(name):
    with pytest.raises(InputError):
        check_gallery_name(name)
