"""The headless folder jobs (scripts.jobs.index_folder, caption_folder, transcribe_folder): one
process in this process, and two under `accelerate launch --multi_gpu --num_processes 2`
(a gloo group on CPU), which must give the same outputs as one. Images run on tiny random
models loaded through the real loaders; speech on the packaged Whisper base (slow)."""
from __future__ import annotations

import csv
import io
import os
import shutil
import subprocess
import sys
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import numpy as np
import pytest

from app.network import free_port
from tests.conftest import REPO

GALLERY_PHOTOS = sorted((REPO / "assets" / "gallery").glob("*.jpg"))


@pytest.fixture(scope="module")
def photos(tmp_path_factory) -> Path:
    """A photo tree: 12 photos in two folders, a byte-for-byte duplicate under another
    name, and a file that is not an image."""
    root = tmp_path_factory.mktemp("photos")
    for number, photo in enumerate(GALLERY_PHOTOS[:12]):
        target = root / ("2019" if number % 2 else "2020") / photo.name
        target.parent.mkdir(exist_ok=True)
        shutil.copy(photo, target)
    shutil.copy(GALLERY_PHOTOS[0], root / "2020" / "zz-copy-of-first.jpg")  # sorts last: a later round
    (root / "2020" / "broken.jpg").write_bytes(b"this is not a jpeg")
    return root


@pytest.fixture(scope="module")
def bridge_flags(tiny_bridge_overrides) -> list[str]:
    """The label bridge (EfficientNet-Lite0 + a sentence encoder) on tiny random weights."""
    models = [part for key, source in tiny_bridge_overrides.items() for part in ("--models", f"{key}={source}")]
    return ["--offline", "--vision", "labels", "--device", "cpu", *models]


@pytest.fixture(scope="module")
def indexed(photos, bridge_flags, tmp_path_factory) -> tuple[Path, str, str]:
    """index_folder, one process, in rounds of 5: (data dir, stdout, stderr)."""
    from scripts.jobs import index_folder

    data = tmp_path_factory.mktemp("index-data")
    code, out, err = run_main(index_folder, [str(photos), "--gallery", "one", "--data-dir", str(data),
                                             "--batch-size", "4", "--round-size", "5", *bridge_flags])
    assert code == 0, err
    return data, out, err


def run_main(module, argv: list[str]) -> tuple[int, str, str]:
    """A job's main() in this process (one process: accelerate's state is 'not distributed')."""
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = module.main(argv)
    return code, out.getvalue(), err.getvalue()


def launch_two(module: str, argv: list[str]) -> str:
    """`accelerate launch --multi_gpu --num_processes 2 -m MODULE ARGV` on this CPU-only
    machine; returns stdout (the main process's report)."""
    command = [sys.executable, "-m", "accelerate.commands.launch", "--multi_gpu", "--num_processes", "2",
               "--num_machines", "1", "--mixed_precision", "no", "--dynamo_backend", "no",
               "--main_process_port", str(free_port()), "-m", module, *argv]
    env = dict(os.environ, HF_HUB_OFFLINE="1", PYTHONUNBUFFERED="1")
    done = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-4000:]
    return done.stdout


def gallery_state(folder: Path) -> tuple[dict, np.ndarray, np.ndarray]:
    """(id -> (name, sha256), ids, vectors) as committed on disk."""
    from model_zoo.vision.search.gallery import Gallery, all_vectors

    gallery = Gallery(folder)
    ids, vectors = all_vectors(gallery.index)
    order = np.argsort(ids)
    return {i: (item.name, item.sha256) for i, item in gallery.items.items()}, ids[order], vectors[order]


# -- index_folder ------------------------------------------------------------------------------
def test_index_folder_one_process_resumes_and_is_searchable(indexed, photos, bridge_flags, tiny_bridge_overrides,
                                                            tmp_path):
    from model_zoo.vision import search
    from model_zoo.core.manager import ManagerConfig, ModelManager
    from scripts.jobs import index_folder

    data, out, err = indexed
    assert out.strip().splitlines()[-1] == "12 files indexed by 1 process"
    assert "broken.jpg" in err and "1 unreadable" in out and "1 already there or duplicates" in out
    folder = data / "galleries" / "one"
    items, ids, _ = gallery_state(folder)
    assert list(ids) == list(range(12))
    assert {name for name, _ in items.values()} == {f"{'2019' if n % 2 else '2020'}/{p.name}"
                                                     for n, p in enumerate(GALLERY_PHOTOS[:12])}
    # the app's search service finds an indexed photo by itself, and answers text queries
    manager = ModelManager(ManagerConfig(device="cpu", cache_dir=tmp_path / "cache", offline=True, vision="labels",
                                         overrides=tiny_bridge_overrides))
    query = photos / "2019" / GALLERY_PHOTOS[1].name
    found = search.search(manager, folder, image_file=query, k=3)
    assert found.results[0]["name"] == f"2019/{GALLERY_PHOTOS[1].name}" and found.results[0]["score"] > 0.99
    assert found.engine == "labels" and search.search(manager, folder, query="a photo of a cat", k=3).results

    # a rerun skips every file by its bytes; a new file is all it adds (on a copy of the gallery)
    shutil.copytree(folder, tmp_path / "data" / "galleries" / "resumed")
    argv = [str(photos), "--gallery", "resumed", "--data-dir", str(tmp_path / "data"), *bridge_flags]
    code, out, _ = run_main(index_folder, argv)
    assert code == 0 and out.strip().splitlines()[-1] == "0 files indexed by 1 process"
    assert "12 images" in out
    shutil.copy(GALLERY_PHOTOS[12], photos / "2020" / "new.jpg")
    try:
        code, out, _ = run_main(index_folder, argv)
    finally:
        (photos / "2020" / "new.jpg").unlink()
    assert code == 0 and out.strip().splitlines()[-1] == "1 files indexed by 1 process"
    assert gallery_state(tmp_path / "data" / "galleries" / "resumed")[0][12][0] == "2020/new.jpg"


def test_two_processes_build_the_same_gallery_as_one(indexed, photos, bridge_flags):
    """Rounds of 5 split between 2 processes under accelerate launch: the same ids, items
    and vectors, in the main and the visual index, as one process. The duplicate falls to
    the second process in the last round; only the main process's commit knows its
    original (added two rounds before), and leaves it out."""
    from model_zoo.vision.search.gallery import Gallery, all_vectors

    data = indexed[0]
    out = launch_two("scripts.jobs.index_folder", [str(photos), "--gallery", "two", "--data-dir", str(data),
                                              "--round-size", "5", "--batch-size", "2", *bridge_flags])
    assert out.strip().splitlines()[-1] == "12 files indexed by 2 processes"
    one, two = data / "galleries" / "one", data / "galleries" / "two"
    items_one, ids_one, vectors_one = gallery_state(one)
    items_two, ids_two, vectors_two = gallery_state(two)
    assert items_one == items_two and list(ids_one) == list(ids_two) == list(range(12))
    np.testing.assert_allclose(vectors_one, vectors_two, atol=1e-5)
    visual_one, visual_two = (all_vectors(Gallery(g).visual) for g in (one, two))
    np.testing.assert_allclose(visual_one[1][np.argsort(visual_one[0])], visual_two[1][np.argsort(visual_two[0])],
                               atol=1e-5)


# -- caption_folder ----------------------------------------------------------------------------
def read_csv(path: Path) -> list[dict]:
    return list(csv.DictReader(io.StringIO(path.read_text("utf-8"))))


def test_caption_folder_writes_a_csv_and_resumes(photos, bridge_flags, tmp_path):
    """Tiny BLIP captions, reranked by the label bridge, through the tab's batch path."""
    from scripts.jobs import caption_folder
    from model_zoo.testing.captioner import save_tiny_blip

    blip = save_tiny_blip(tmp_path / "blip")
    out_csv = tmp_path / "captions.csv"
    argv = [str(photos), "--out", str(out_csv), "--data-dir", str(tmp_path / "data"), "--decoding", "greedy",
            "--max-length", "6", "--batch-size", "4", "--models", f"captioner={blip}", *bridge_flags]
    code, out, err = run_main(caption_folder, argv)
    assert code == 0, err
    assert out.strip().splitlines()[-1] == "13 files captioned by 1 process"
    rows = {row["file"]: row for row in read_csv(out_csv)}
    assert len(rows) == 14 and rows["2020/broken.jpg"]["error"] and not rows["2020/broken.jpg"]["caption"]
    good = [row for name, row in rows.items() if name != "2020/broken.jpg"]
    assert all(row["caption"] and row["scored_by"] == "labels" and not row["error"] for row in good)
    # a rerun keeps the captioned rows and tries only the file that failed
    code, out, _ = run_main(caption_folder, argv)
    assert code == 0 and out.strip().splitlines()[-1] == "0 files captioned by 1 process"
    again = {row["file"]: row for row in read_csv(out_csv)}
    assert again.keys() == rows.keys() and all(again[r["file"]] == r for r in good)


def test_caption_folder_two_processes_match_one(photos, tmp_path, tiny_efficientnet_file):
    """Label-based captions (no captioner weights offline) are deterministic: the CSV of
    two processes is the CSV of one."""
    from scripts.jobs import caption_folder

    flags = [
        "--offline",
        "--device",
        "cpu",
        "--models",
        f"efficientnet-lite0=efficientnet-lite0:{tiny_efficientnet_file}",
        "--round-size",
        "6",
        "--data-dir",
        str(tmp_path / "data"),
    ]
    code, _, err = run_main(caption_folder, [str(photos), "--out", str(tmp_path / "one.csv"), *flags])
    assert code == 0, err
    out = launch_two("scripts.jobs.caption_folder", [str(photos), "--out", str(tmp_path / "two.csv"), *flags])
    assert out.strip().splitlines()[-1] == "13 files captioned by 2 processes"
    one, two = read_csv(tmp_path / "one.csv"), read_csv(tmp_path / "two.csv")
    assert [r["file"] for r in one] == [r["file"] for r in two] and len(one) == 14
    for a, b in zip(one, two):
        assert (a["caption"], a["other_candidates"], a["error"]) == (b["caption"], b["other_candidates"], b["error"])
        assert a["score"] == pytest.approx(b["score"], abs=2e-4) if a["score"] else not b["score"]
    assert all(r["scored_by"] == "labels" for r in one if not r["error"])


# -- transcribe_folder -------------------------------------------------------------------------
@pytest.mark.slow
def test_transcribe_folder_writes_subtitles_and_a_csv(tmp_path, shared_cache):
    """The packaged Whisper base (faster-whisper) over a tree of clips and one damaged file.
    (A tiny random Whisper never stops: it babbles through every temperature fallback.)"""
    from model_zoo.speech.wer import word_error_rate
    from scripts.jobs import transcribe_folder
    from tests.speech_clips import GERMAN

    clips = tmp_path / "clips"
    (clips / "day2").mkdir(parents=True)
    shutil.copy(REPO / "assets" / "audio" / "english_quick_fox.ogg", clips / "fox.ogg")
    shutil.copy(REPO / "assets" / "audio" / "german_water_bread.ogg", clips / "day2" / "bread.ogg")
    (clips / "day2" / "damaged.wav").write_bytes(b"RIFF\x00\x00\x00\x00WAVEfmt ")
    data = tmp_path / "data"
    data.mkdir()
    (data / "cache").symlink_to(shared_cache)  # the session's packs, joined once
    out = tmp_path / "out"
    argv = [str(clips), "--out", str(out), "--data-dir", str(data), "--offline", "--device", "cpu",
            "--beam-size", "1"]
    code, stdout, err = run_main(transcribe_folder, argv)
    assert code == 0, err
    assert stdout.strip().splitlines()[-1] == "2 files transcribed by 1 process"
    rows = {row["file"]: row for row in read_csv(out / "transcripts.csv")}
    assert set(rows) == {"fox.ogg", "day2/bread.ogg", "day2/damaged.wav"}
    assert rows["day2/damaged.wav"]["error"] and not rows["day2/damaged.wav"]["srt"]
    assert rows["fox.ogg"]["language"] == "en" and "glass of water" in rows["fox.ogg"]["text"]
    # Greedy Whisper base hears "Stück Rot" on some CPUs (int8 kernels differ by instruction set): score the
    # whole sentence, not one word
    assert rows["day2/bread.ogg"]["language"] == "de"
    assert word_error_rate(GERMAN, rows["day2/bread.ogg"]["text"]) <= 0.2, rows["day2/bread.ogg"]["text"]
    for row in (rows["fox.ogg"], rows["day2/bread.ogg"]):
        assert not row["error"] and "faster-whisper" in row["model"] and float(row["duration_s"]) > 3
        srt, vtt = (out / row["srt"]).read_text(), (out / row["vtt"]).read_text()
        assert srt.startswith("1\n00:00:0") and " --> " in srt and vtt.startswith("WEBVTT")
    assert rows["day2/bread.ogg"]["srt"] == "day2/bread.srt"
    code, stdout, _ = run_main(transcribe_folder, argv)  # resumes: only the damaged file is tried again
    assert code == 0 and stdout.strip().splitlines()[-1] == "0 files transcribed by 1 process"
    assert "2 kept from an earlier run" in stdout
